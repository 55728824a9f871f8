// bench-outdated runs to the end (one run, no timing asserted: figures live in bench/README.md):
// `deno task outdated` with every endpoint on a name that never resolves says "unreachable" on
// every upstream row (issue 23).
import assert from "node:assert/strict";
import { ROOT, run } from "../_helpers.ts";

Deno.test("deno task bench-outdated runs outdated with no network and reports every row unreachable", async () => {
  const r = await run(Deno.execPath(), [
    "task",
    "-q",
    "bench-outdated",
    "--runs",
    "1",
  ], {
    cwd: ROOT,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^outdated, no network: \d+\.\d\d s median of 1, worst \d+\.\d\d s \(target <= 2 s: (met|missed)\); (\d+)\/\2 upstream rows unreachable$/m,
  );
  assert.match(r.stdout, /reason shown: .* is unreachable \(no network\?\): /);
  assert.doesNotMatch(r.stdout, /NOT every upstream row/);
});
