// The benchmarks start and finish a short run under their deno.json permissions (issue 16 #13:
// `deno task bench` died on INIT_CWD, `deno task bench-freeze` on run access to an npm-installed
// deno). bench-freeze's own run is bench_freeze_test.ts (through an npm-style launcher).
import assert from "node:assert/strict";
import { haveTool, run, tmp } from "../_helpers.ts";
import { parseSummaries } from "../../bench/_summary.ts";

Deno.test("deno task bench runs a short benchmark (BENCH_QUICK=1) to the end", async () => {
  const r = await run("deno", ["task", "-q", "bench"], {
    env: { BENCH_QUICK: "1", BENCH_ROUNDS: "1" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Flat SHA-256 of a 16 MiB file/);
  assert.match(r.stdout, /checksum \/ sha256sum +\d/);
  assert.match(r.stdout, /deno task checksum --help +\d+ ms/);
});

Deno.test("deno task bench-nar runs a short benchmark to the end, the kit's hash equal to nix-hash's", async () => {
  if (!haveTool("nix-hash")) return;
  const r = await run("deno", ["task", "-q", "bench-nar"], {
    env: { BENCH_QUICK: "1", BENCH_ROUNDS: "1" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /checksum \/ nix-hash +[\d.]+x/);
  assert.match(r.stdout, /--allow-read=DIR +[\d.]+ µs\/file/);
});

Deno.test("deno task bench-startup times --help and a usage error beside the floor", async () => {
  const r = await run("deno", ["task", "-q", "bench-startup"], {
    env: { BENCH_ROUNDS: "1", BENCH_TASKS: "checksum,sbom" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /floor: deno task running deno eval '' +\d+ ms/);
  assert.match(r.stdout, /sbom --help +\d+ ms/);
  assert.match(r.stdout, /checksum --no-such-option +\d+ ms/);
});

Deno.test("bench-suite reads passed, failed and ignored from a real deno test run's summary", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(
    `${dir.path}/sample_test.ts`,
    `Deno.test("a", () => {});
Deno.test("b", async (t) => { await t.step("s", () => {}); });
Deno.test({ name: "c", ignore: true, fn: () => {} });
Deno.test("d", () => { throw new Error("no"); });
`,
  );
  const r = await run(
    Deno.execPath(),
    ["test", "--no-check", "sample_test.ts"],
    {
      cwd: dir.path,
      env: { NO_COLOR: "" },
    },
  );
  assert.equal(r.code, 1, r.stderr);
  const [s, ...rest] = parseSummaries(r.stdout + r.stderr);
  assert.deepEqual(rest, []);
  assert.deepEqual({ ...s, duration: typeof s?.duration }, {
    passed: 2,
    failed: 1,
    ignored: 1,
    duration: "string",
  });
  assert.match(s!.duration, /^(\d+m)?\d+(ms|s)$/);
});
