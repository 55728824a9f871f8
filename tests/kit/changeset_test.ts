import assert from "node:assert/strict";
import { join } from "node:path";
import { Changeset } from "../../lib/kit/changeset.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { ROOT, run, tmp } from "../_helpers.ts";

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string, prefix: string) {
    for await (const e of Deno.readDir(d)) {
      const rel = prefix + e.name;
      if (e.isDirectory) await walk(join(d, e.name), rel + "/");
      else out[rel] = await Deno.readTextFile(join(d, e.name));
    }
  }
  await walk(dir, "");
  return out;
}

Deno.test("Changeset.apply() writes, copies and removes, leaving no temp file", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(join(dir.path, "a.txt"), "old\n");
  await Deno.writeTextFile(join(dir.path, "gone.txt"), "bye\n");
  await Deno.writeTextFile(join(dir.path, "src.bin"), "payload");
  const cs = new Changeset(dir.path);
  cs.write("a.txt", "new\n");
  cs.write("sub/b.txt", "b\n");
  cs.copy("sub/c.bin", join(dir.path, "src.bin"));
  cs.remove("gone.txt");
  assert.equal(await cs.readText("a.txt"), "new\n");
  assert.equal(await cs.readText("gone.txt"), undefined);
  const diff = await cs.diff();
  assert.match(diff, /^--- a\/a\.txt\n\+\+\+ b\/a\.txt\n/m);
  assert.match(diff, /^-old$/m);
  assert.match(diff, /^\+new$/m);
  assert.match(diff, /^new file sub\/c\.bin$/m);
  assert.match(diff, /^--- a\/gone\.txt\n\+\+\+ \/dev\/null$/m);
  // Nothing is written before apply().
  assert.equal(await Deno.readTextFile(join(dir.path, "a.txt")), "old\n");
  const done = await cs.apply();
  assert.deepEqual(done.map((d) => `${d.kind} ${d.path}`), [
    "write a.txt",
    "write sub/b.txt",
    "copy sub/c.bin",
    "remove gone.txt",
  ]);
  assert.deepEqual(await tree(dir.path), {
    "a.txt": "new\n",
    "src.bin": "payload",
    "sub/b.txt": "b\n",
    "sub/c.bin": "payload",
  });
});

Deno.test("Changeset.apply() restores every file when a later write fails", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(join(dir.path, "a.txt"), "old\n");
  await Deno.writeTextFile(join(dir.path, "blocker"), "a file, not a folder\n");
  const before = await tree(dir.path);
  const cs = new Changeset(dir.path);
  cs.write("a.txt", "new\n");
  cs.write("fresh/x.txt", "x\n");
  cs.write("blocker/inside.txt", "cannot be\n");
  await assert.rejects(cs.apply(), (e: Error) => {
    assert.ok(e instanceof KitError);
    assert.match(
      e.message,
      /^Cannot write blocker\/inside\.txt: .*\(nothing was changed\)$/,
    );
    return true;
  });
  assert.deepEqual(await tree(dir.path), before);
});

Deno.test("Changeset.checkWritable() refuses before the first write when a target is not allowed", async () => {
  await using dir = await tmp();
  const allowed = join(dir.path, "allowed");
  const denied = join(dir.path, "denied");
  await Deno.mkdir(allowed);
  await Deno.mkdir(denied);
  const script = join(dir.path, "cs.ts");
  await Deno.writeTextFile(
    script,
    `import { Changeset } from "${ROOT}/lib/kit/changeset.ts";\n` +
      `const cs = new Changeset(${JSON.stringify(dir.path)});\n` +
      `cs.write("allowed/a.txt", "a");\n` +
      `cs.write("denied/b.txt", "b");\n` +
      `try { await cs.apply(); } catch (e) { console.log((e as Error).message); }\n`,
  );
  const r = await run(Deno.execPath(), [
    "run",
    "--no-prompt",
    `--allow-read`,
    `--allow-write=${allowed}`,
    script,
  ]);
  assert.equal(
    r.stdout.trim(),
    `Cannot write "denied": not allowed for this task (nothing was changed)`,
  );
  assert.deepEqual(await tree(allowed), {});
});

Deno.test("Changeset.apply() keeps a target's temporary copies in its tempDir folder", async () => {
  await using dir = await tmp();
  await Deno.mkdir(join(dir.path, "stage"));
  await Deno.writeTextFile(join(dir.path, "m.json"), "old\n");
  // A process allowed to write m.json and stage/ but not the folder m.json is in.
  const script = `
import { Changeset } from ${JSON.stringify(join(ROOT, "lib/kit/changeset.ts"))};
const cs = new Changeset(Deno.args[0]);
cs.write("m.json", "new\\n", { tempDir: "stage" });
cs.write("stage/s.txt", "s\\n");
await cs.apply();
`;
  await Deno.writeTextFile(join(dir.path, "..", "cs_script.ts"), script);
  const r = await run(Deno.execPath(), [
    "run",
    "--no-prompt",
    `--allow-read`,
    `--allow-write=${join(dir.path, "m.json")},${join(dir.path, "stage")}`,
    join(dir.path, "..", "cs_script.ts"),
    dir.path,
  ]);
  await Deno.remove(join(dir.path, "..", "cs_script.ts"));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await tree(dir.path), {
    "m.json": "new\n",
    "stage/s.txt": "s\n",
  });
});

Deno.test("Changeset.apply() with tempDir writes a file the task may write but not its folder", async () => {
  await using dir = await tmp();
  const side = join(dir.path, "side");
  await Deno.mkdir(side);
  await Deno.writeTextFile(join(dir.path, "m.json"), "old\n");
  const script = join(dir.path, "cs.ts");
  await Deno.writeTextFile(
    script,
    `import { Changeset } from "${ROOT}/lib/kit/changeset.ts";\n` +
      `const tempDir = Deno.args[0] === "side" ? "side" : undefined;\n` +
      `const cs = new Changeset(${JSON.stringify(dir.path)});\n` +
      `cs.write("m.json", "new\\n", tempDir ? { tempDir } : {});\n` +
      `try { await cs.apply(); console.log("ok"); } catch (e) { console.log((e as Error).message); }\n`,
  );
  const go = (arg: string) =>
    run(Deno.execPath(), [
      "run",
      "--no-prompt",
      "--allow-read",
      `--allow-write=${join(dir.path, "m.json")},${side}`,
      script,
      arg,
    ]);
  // Beside the file, the temp file is out of bounds; in tempDir it is not.
  const beside = await go("beside");
  assert.match(beside.stdout, /^Cannot write "\.": not allowed/, beside.stderr);
  assert.equal(await Deno.readTextFile(join(dir.path, "m.json")), "old\n");
  const r = await go("side");
  assert.equal(r.stdout.trim(), "ok", r.stderr);
  assert.equal(await Deno.readTextFile(join(dir.path, "m.json")), "new\n");
  assert.deepEqual(await tree(side), {});
});
