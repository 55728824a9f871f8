// The benchmarks start and finish a short run under their deno.json permissions (issue 16 #13:
// `deno task bench` died on INIT_CWD, `deno task bench-freeze` on run access to an npm-installed
// deno).
import assert from "node:assert/strict";
import { haveTool, ROOT, run } from "../_helpers.ts";

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
