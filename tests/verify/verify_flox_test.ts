// verify's Flox rules (issue 12): env.json, manifest.toml's toplevel group and catalog entries,
// the lock, and git-tracked package files and sources — each with a seeded defect.
import assert from "node:assert/strict";
import { envPointerProblem } from "../../lib/verify/flox.ts";
import { verifyRepo } from "../../lib/verify/run.ts";
import { haveTool, run, tmp } from "../_helpers.ts";
import {
  entry,
  errors,
  makeRepo,
  pick,
  runCommand,
  WHEEL,
} from "./verify_helpers.ts";

const FLOX_LOCK_PATH = ".flox/env/manifest.lock";

Deno.test("envPointerProblem() accepts Flox's path and managed pointers only", () => {
  assert.equal(envPointerProblem({ name: "comfyui", version: 1 }), undefined);
  assert.equal(
    envPointerProblem({
      owner: "acme",
      name: "comfyui",
      floxhub_url: "https://hub.flox.dev",
      version: 1,
    }),
    undefined,
  );
  assert.match(
    envPointerProblem({ name: "comfyui" })!,
    /"version": expected 1/,
  );
  assert.match(
    envPointerProblem({ name: "my env", version: 1 })!,
    /has a space or a "\/"/,
  );
  assert.match(envPointerProblem([1])!, /expected a JSON object/);
  assert.match(
    envPointerProblem({ name: "x", version: 1, path: "." })!,
    /unknown field "path"/,
  );
});

Deno.test("verifyRepo() reports a missing or malformed .flox/env.json with the fix", async () => {
  await using dir = await tmp();
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, { envJson: null }),
    runCommand,
  });
  const e = pick(fs, "error", /env\.json/)[0]!;
  assert.equal(e.where, ".flox/env.json");
  assert.match(
    e.message,
    /^missing: Flox refuses a \.flox directory without it$/,
  );
  assert.match(e.fix!, /\{"name": "comfyui", "version": 1\}/);
  await using dir2 = await tmp();
  const bad = await verifyRepo({
    root: await makeRepo(dir2.path, {
      envJson: '{"name": "comfyui", "version": 2}',
    }),
  });
  assert.deepEqual(errors(bad), [
    '.flox/env.json: field "version": expected 1, found 2',
  ]);
});

Deno.test("verifyRepo() requires a toplevel group and no catalog entry for a package .flox/pkgs builds", async () => {
  await using dir = await tmp();
  const manifest = [
    "version = 1",
    "",
    "[install]",
    "# the package built here, wrongly asked of the catalog",
    'comfyui.pkg-path = "comfyui"',
    'comfyui.pkg-group = "app"',
    'deno.pkg-path = "deno"',
    'deno.pkg-group = "tools"',
    "",
  ].join("\n");
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, { floxManifest: manifest }),
  });
  assert.deepEqual(errors(fs), [
    ".flox/env/manifest.toml:3: the toplevel package group is empty: flox build then uses whatever nixpkgs the catalog calls stable on the day",
    '.flox/env/manifest.toml:5: [install] comfyui asks the catalog for "comfyui", which .flox/pkgs builds',
  ]);
  assert.match(
    pick(fs, "error", /toplevel/)[0]!.fix!,
    /flox install deno python3/,
  );
  assert.match(
    pick(fs, "error", /asks the catalog/)[0]!.fix!,
    /flox uninstall comfyui/,
  );
  // A catalog entry without pkg-group is in toplevel: the group is then not empty.
  await using dir2 = await tmp();
  const ok = await verifyRepo({
    root: await makeRepo(dir2.path, {
      floxManifest: 'version = 1\n[install]\ndeno.pkg-path = "deno"\n',
    }),
  });
  assert.deepEqual(errors(ok), []);
  assert.equal(
    pick(ok, "ok", /toplevel group: deno/)[0]!.where,
    ".flox/env/manifest.toml:3",
  );
});

Deno.test("verifyRepo() reports a manifest.toml that does not parse, with its line", async () => {
  await using dir = await tmp();
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, {
      floxManifest:
        'version = 1\n[install]\ndeno.pkg-path = "deno"\nnot a key value\n[vars]\n',
    }),
  });
  const e = pick(fs, "error", /invalid TOML/)[0]!;
  assert.equal(e.where, ".flox/env/manifest.toml:4");
  assert.equal(e.section, "Flox environment");
});

Deno.test("verifyRepo() wants manifest.lock: a warning, an error under --release", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { lock: false });
  const fs = await verifyRepo({ root, runCommand });
  const w = pick(fs, "warning", /manifest\.lock/)[0]!;
  assert.equal(w.where, ".flox/env/manifest.lock");
  assert.match(
    w.fix!,
    /^flox activate -- true \(or flox build, which locks first\)/,
  );
  assert.deepEqual(errors(fs), []);
  const rel = await verifyRepo({ root, runCommand, release: true });
  assert.equal(pick(rel, "error", /manifest\.lock missing/).length, 1);
});

Deno.test("verifyRepo() errs on a package file or vendored source git does not track", async () => {
  if (!haveTool("git")) return;
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  await run("git", [
    "rm",
    "-q",
    "--cached",
    ".flox/sources/foo-1.2.3-py3-none-any.whl",
  ], { cwd: root });
  await run("git", ["rm", "-q", "--cached", ".flox/pkgs/foo.nix"], {
    cwd: root,
  });
  const fs = await verifyRepo({ root, runCommand });
  const errs = pick(fs, "error", /not tracked by git/);
  assert.deepEqual(errs.map((e) => e.where), [
    ".flox/pkgs/foo.nix",
    ".flox/sources/foo-1.2.3-py3-none-any.whl",
  ]);
  assert.equal(errs[0]!.fix, "git add .flox/pkgs/foo.nix");
  assert.equal(errs[0]!.section, "Flox environment");
  // Tracked again: no error.
  await run("git", ["add", "."], { cwd: root });
  const ok = await verifyRepo({ root, runCommand });
  assert.deepEqual(errors(ok), []);
  assert.equal(pick(ok, "ok", /tracked by git/).length, 1);
});

Deno.test("verify --release refuses a manifest.lock that is not JSON or pins no toplevel nixpkgs (#22.14)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const lock = `${root}/.flox/env/manifest.lock`;
  // A real Flox lock (lockfile-version 1, the toplevel group's packages with their nixpkgs rev).
  const good = await verifyRepo({ root, runCommand, release: true });
  assert.equal(pick(good, "ok", /manifest\.lock.*pinned/).length, 1);
  assert.deepEqual(pick(good, "error", /manifest\.lock/), []);

  await Deno.writeTextFile(lock, "<<<<<<< HEAD\n{}\n");
  for (const release of [true, false]) {
    const fs = await verifyRepo({ root, runCommand, release });
    const e = fs.filter((f) =>
      f.level === "error" && f.where === ".flox/env/manifest.lock"
    );
    assert.equal(e.length, 1, JSON.stringify(fs));
    assert.match(e[0]!.message, /^not valid JSON/);
    assert.equal(e[0]!.where, ".flox/env/manifest.lock");
    assert.deepEqual(pick(fs, "ok", /pinned/), []);
  }
  // JSON, but no toplevel package with a nixpkgs revision: not pinned.
  await Deno.writeTextFile(lock, "{}\n");
  const rel = await verifyRepo({ root, runCommand, release: true });
  assert.equal(
    pick(rel, "error", /pins no nixpkgs revision for the toplevel group/)[0]!
      .where,
    ".flox/env/manifest.lock",
  );
  assert.deepEqual(pick(rel, "ok", /pinned/), []);
  const dev = await verifyRepo({ root, runCommand });
  assert.equal(pick(dev, "warning", /pins no nixpkgs revision/).length, 1);
});

Deno.test("verify --release errs on missing wired vendored files and untracked Flox files (#22.20)", async () => {
  if (!haveTool("git")) return;
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    entries: [
      entry("foo-1.2.3-py3-none-any.whl", WHEEL),
      entry("baz-1.2.3-py3-none-any.whl", WHEEL, "baz"),
    ],
    sources: {},
  });
  for (
    const f of [".flox/env.json", ".flox/env/manifest.toml", FLOX_LOCK_PATH]
  ) await run("git", ["rm", "-q", "--cached", f], { cwd: root });
  const dev = await verifyRepo({ root, runCommand });
  // Without --release: missing files are warnings (fetch-source --all restores them).
  assert.equal(
    pick(dev, "warning", /foo-1\.2\.3-py3-none-any\.whl missing/).length,
    1,
  );
  const fs = await verifyRepo({ root, runCommand, release: true });
  // The wired package's file is an error; the unused entry's stays a warning.
  assert.deepEqual(
    pick(fs, "error", /missing/).map((f) => f.where),
    [".flox/sources/foo-1.2.3-py3-none-any.whl"],
  );
  assert.equal(
    pick(fs, "warning", /baz-1\.2\.3-py3-none-any\.whl missing/).length,
    1,
  );
  // Flox's own files and the wired vendored file, missing or not, must be tracked.
  assert.deepEqual(
    pick(fs, "error", /not tracked by git/).map((f) => f.where).sort(),
    [
      ".flox/env.json",
      ".flox/env/manifest.lock",
      ".flox/env/manifest.toml",
      ".flox/sources/foo-1.2.3-py3-none-any.whl",
    ],
  );
  assert.equal(
    pick(fs, "error", /env\.json.*not tracked/)[0]!.fix,
    "git add .flox/env.json",
  );
});
