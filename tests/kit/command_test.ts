import assert from "node:assert/strict";
import { capture, onPath, stream } from "../../lib/kit/command.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { ROOT, tmp } from "../_helpers.ts";

Deno.test("stream() passes output on line by line as it arrives and returns it all", async () => {
  const lines: string[] = [];
  let text = "";
  const r = await stream("sh", [
    "-c",
    "echo one; echo two >&2; printf three; exit 3",
  ], {
    echo: false,
    onLine: (l) => lines.push(l),
    onText: (t) => void (text += t),
  });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, "one\nthree");
  assert.equal(r.stderr, "two\n");
  assert.deepEqual(lines.sort(), ["one", "three", "two"]);
  assert.equal(text.length, r.output.length);
  assert.equal(r.output.length, "one\nthree".length + "two\n".length);
});

Deno.test("stream() adds env on top of the inherited environment and runs in cwd", async () => {
  await using dir = await tmp();
  const r = await stream("sh", ["-c", 'echo "$KIT_X $PATH"; pwd'], {
    echo: false,
    cwd: dir.path,
    env: { KIT_X: "x" },
  });
  assert.match(r.stdout, /^x \S+\n/);
  assert.equal(r.stdout.trim().split("\n")[1], Deno.realPathSync(dir.path));
});

Deno.test("stream() makes a missing tool a KitError; capture() returns undefined; onPath() knows", async () => {
  await assert.rejects(
    () => stream("no-such-tool-comfykit", [], { echo: false }),
    (e: unknown) =>
      e instanceof KitError &&
      e.message === '"no-such-tool-comfykit" not found on PATH',
  );
  assert.equal(await capture("no-such-tool-comfykit", []), undefined);
  assert.equal(onPath("sh"), true);
  assert.equal(onPath("no-such-tool-comfykit"), false);
  assert.equal(onPath("sh", () => "/nonexistent"), false);
});

Deno.test("an interrupt kills a streamed child, removes registered paths and exits 130", async () => {
  await using dir = await tmp();
  const pidFile = `${dir.path}/pid`;
  const spill = `${dir.path}/spill`;
  const script = `
    import { stream } from "${ROOT}/lib/kit/command.ts";
    import { removeOnInterrupt } from "${ROOT}/lib/kit/cleanup.ts";
    Deno.mkdirSync("${spill}");
    removeOnInterrupt("${spill}");
    await stream("sh", ["-c", "echo $$ > ${pidFile}; exec sleep 30"], { echo: false });
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let pid = "";
  for (let i = 0; i < 200 && !pid; i++) {
    await new Promise((r) => setTimeout(r, 50));
    pid = await Deno.readTextFile(pidFile).catch(() => "");
  }
  assert.ok(pid, "the child started");
  const started = performance.now();
  child.kill("SIGINT");
  const r = await child.output();
  assert.equal(r.code, 130);
  assert.ok(performance.now() - started < 5000);
  await assert.rejects(() => Deno.stat(spill), Deno.errors.NotFound);
  // The sleep was killed, not orphaned.
  let alive = true;
  for (let i = 0; i < 40 && alive; i++) {
    alive = (await new Deno.Command("kill", { args: ["-0", pid.trim()] })
      .output()).success;
    if (alive) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(alive, false);
});
