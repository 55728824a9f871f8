// bench-freeze starts and finishes a short run under its deno.json permissions, also when the
// `deno` on PATH is a launcher (as npm installs it) rather than the binary itself.
import assert from "node:assert/strict";
import { haveTool, ROOT, run, tmp } from "../_helpers.ts";

Deno.test("bench-freeze --runs 1 runs freeze-deps when deno on PATH is a launcher", async () => {
  if (!haveTool("python3")) return;
  const pip = await run("python3", ["-m", "pip", "--version"]);
  if (pip.code !== 0) return;
  await using dir = await tmp();
  // npm's deno: a script on PATH that execs the real binary elsewhere.
  await Deno.writeTextFile(
    `${dir.path}/deno`,
    `#!/bin/sh\nexec "${Deno.execPath()}" "$@"\n`,
  );
  await Deno.chmod(`${dir.path}/deno`, 0o755);
  const r = await new Deno.Command(`${dir.path}/deno`, {
    args: ["task", "-q", "bench-freeze", "--runs", "1"],
    cwd: ROOT,
    env: {
      PATH: `${dir.path}:${Deno.env.get("PATH") ?? ""}`,
      COMFYKIT_BENCH_INDEX: `file://${dir.path}/no-mirror`,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  const stdout = new TextDecoder().decode(r.stdout);
  assert.doesNotMatch(stderr, /Requires run access/);
  assert.equal(r.code, 0, stderr);
  assert.match(stdout, /^freeze-deps benchmark: the fixture index/m);
  assert.match(stdout, /kit's own overhead: [\d.]+% of the resolver's time/);
});
