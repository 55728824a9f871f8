// The benchmarks start and finish a short run under their deno.json permissions (issue 16 #13:
// `deno task bench` died on INIT_CWD, `deno task bench-freeze` on run access to an npm-installed
// deno).
import assert from "node:assert/strict";
import { ROOT, run } from "./_helpers.ts";

Deno.test("deno task bench runs a short benchmark (BENCH_QUICK=1) to the end", async () => {
  const r = await run("deno", ["task", "-q", "bench"], {
    env: { BENCH_QUICK: "1", BENCH_ROUNDS: "1" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Flat SHA-256 of a 16 MiB file/);
  assert.match(r.stdout, /checksum \/ sha256sum +\d/);
  assert.match(r.stdout, /deno task checksum --help +\d+ ms/);
});

Deno.test("deno task bench-freeze runs one round on the fixture index to the end", async () => {
  const r = await run("deno", [
    "task",
    "-q",
    "bench-freeze",
    "--runs",
    "1",
    "--index",
    `file://${ROOT}/no-such-mirror`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /freeze-deps benchmark: the fixture index/);
  assert.match(r.stdout, /kit's own overhead: [\d.]+%/);
});
