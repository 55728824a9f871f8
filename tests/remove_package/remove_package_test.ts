// remove-package as a subprocess on a temporary copy of the repository's package set; every
// .nix file left behind is re-parsed with the real nix-instantiate --parse.
import assert from "node:assert/strict";
import {
  copyTree,
  haveTool,
  ROOT,
  run,
  runTaskProcess,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { addListItem, removeListItem } from "../../lib/nix/edit_list.ts";
import { addFormal } from "../../lib/nix/edit_formals.ts";
import { Changeset } from "../../lib/kit/changeset.ts";
import { stageSourceDrop } from "../../lib/repo/staged_sources.ts";
import { readManifest, renderSha256Sums } from "../../lib/repo/manifest.ts";

const HAVE_NIX = haveTool("nix-instantiate");

/** A scratch copy of .flox/ and the manifest. */
async function scratch() {
  const dir = await tmp();
  await copyTree(`${ROOT}/.flox`, `${dir.path}/.flox`);
  await Deno.copyFile(
    `${ROOT}/sources-manifest.json`,
    `${dir.path}/sources-manifest.json`,
  );
  return {
    root: dir.path,
    task: (args: string[]) =>
      runTaskProcess("remove_package.ts", ["--root", dir.path, ...args]),
    read: (f: string) => Deno.readTextFile(`${dir.path}/${f}`),
    has: (f: string) =>
      Deno.lstat(`${dir.path}/${f}`).then(() => true, () => false),
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/**
 * Wires nunchaku into the scratch copy's comfyui.nix (the repository keeps it unwired: its
 * Requires-Python excludes nixpkgs' python3) and returns the new text.
 */
async function wireNunchaku(root: string): Promise<string> {
  const path = `${root}/.flox/pkgs/comfyui.nix`;
  const opts = { path: ".flox/pkgs/comfyui.nix" };
  const text = addListItem(
    addFormal(await Deno.readTextFile(path), "nunchaku", opts),
    "propagatedBuildInputs",
    "nunchaku",
    opts,
  );
  await Deno.writeTextFile(path, text);
  return text;
}

/** Every file under `dir` with its bytes, to prove nothing changed. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else out.set(p, new TextDecoder().decode(await Deno.readFile(p)));
    }
  };
  await walk(dir);
  return out;
}

function mentions(
  text: string,
  attr: string,
): { formal: boolean; listed: boolean } {
  const info = readPackage(parseNix(text));
  return {
    formal: info.formals.some((f) => f.name === attr),
    listed: [...info.lists.values()].some((l) =>
      [l.main, ...l.blocks].some((b) => b?.items.some((i) => i.name === attr))
    ),
  };
}

async function nixParsesAll(root: string): Promise<void> {
  if (!HAVE_NIX) return;
  for await (const e of Deno.readDir(`${root}/.flox/pkgs`)) {
    const r = await run("nix-instantiate", [
      "--parse",
      `${root}/.flox/pkgs/${e.name}`,
    ]);
    assert.equal(r.code, 0, `${e.name}: ${r.stderr}`);
  }
}

Deno.test("remove-package --yes unwires, deletes the file and drops the unused source", async () => {
  await using s = await scratch();
  const before = await s.read(".flox/pkgs/comfyui.nix");
  assert.deepEqual(mentions(before, "spandrel"), {
    formal: true,
    listed: true,
  });
  const r = await s.task(["spandrel", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-, spandrel$/m);
  assert.match(
    r.stdout,
    /^deleted file \.flox\/sources\/spandrel-0\.4\.0\.tar\.gz$/m,
  );
  const after = await s.read(".flox/pkgs/comfyui.nix");
  assert.deepEqual(mentions(after, "spandrel"), {
    formal: false,
    listed: false,
  });
  // Surgical: exactly the two lines went.
  assert.equal(
    after,
    before.replace(", spandrel\n", "").replace("    spandrel\n", ""),
  );
  assert.equal(await s.has(".flox/pkgs/spandrel.nix"), false);
  assert.equal(await s.has(".flox/sources/spandrel-0.4.0.tar.gz"), false);
  const m = await readManifest(`${s.root}/sources-manifest.json`);
  assert.ok(!m.sources.some((e) => e.name === "spandrel"));
  assert.equal(
    await s.read(".flox/sources/SHA256SUMS.txt"),
    renderSha256Sums(m),
  );
  await nixParsesAll(s.root);
});

Deno.test("remove-package --dry-run prints the diff and changes nothing", async () => {
  await using s = await scratch();
  const before = await snapshot(s.root);
  const r = await s.task(["spandrel", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^--- a\/\.flox\/pkgs\/spandrel\.nix\n\+\+\+ \/dev\/null$/m,
  );
  assert.match(
    r.stdout,
    /^spandrel: would be deleted \.flox\/pkgs\/spandrel\.nix; /m,
  );
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("remove-package refuses a package another one still needs, naming it; --force unwires both", async () => {
  await using s = await scratch();
  const before = await snapshot(s.root);
  const r = await s.task(["comfyui-workflow-templates-core", "--yes"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: comfyui-workflow-templates-core is still needed by comfyui-workflow-templates \(\.flox\/pkgs\/comfyui-workflow-templates\.nix\): remove it first, or pass --force/m,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
  assert.deepEqual(await snapshot(s.root), before);

  const f = await s.task([
    "comfyui-workflow-templates-core",
    "--yes",
    "--force",
  ]);
  assert.equal(f.code, 0, f.stderr);
  for (const file of ["comfyui.nix", "comfyui-workflow-templates.nix"]) {
    const text = await s.read(`.flox/pkgs/${file}`);
    assert.deepEqual(mentions(text, "comfyui-workflow-templates-core"), {
      formal: false,
      listed: false,
    }, file);
  }
  assert.equal(
    await s.has(
      ".flox/sources/comfyui_workflow_templates_core-0.3.10-py3-none-any.whl",
    ),
    false,
  );
  await nixParsesAll(s.root);
});

Deno.test("remove-package refuses the main package and an unknown name", async () => {
  await using s = await scratch();
  const main = await s.task(["comfyui", "--yes"]);
  assert.equal(main.code, 1);
  assert.match(
    main.stderr,
    /^error: comfyui is the main package \(\.flox\/pkgs\/comfyui\.nix\): it cannot be removed$/m,
  );
  const unknown = await s.task(["nope", "--yes"]);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /^error: No package "nope" in \.flox\/pkgs\/: one of: .*spandrel/m,
  );
  const none = await s.task([]);
  assert.equal(none.code, 2);
});

Deno.test("remove-package --keep-file keeps file and source; --keep-source keeps the source", async () => {
  await using s = await scratch();
  const r = await s.task(["nunchaku", "--yes", "--keep-file"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await s.has(".flox/pkgs/nunchaku.nix"), true);
  assert.equal(
    await s.has(".flox/sources/nunchaku-0.16.1-py3-none-any.whl"),
    true,
  );
  assert.deepEqual(
    mentions(await s.read(".flox/pkgs/comfyui.nix"), "nunchaku"),
    {
      formal: false,
      listed: false,
    },
  );
  const k = await s.task([
    "controlnet-aux",
    "--yes",
    "--keep-source",
    "--json",
  ]);
  assert.equal(k.code, 0, k.stderr);
  const j = JSON.parse(k.stdout);
  assert.equal(j.action, "removed");
  assert.deepEqual(j.sources, []);
  assert.equal(await s.has(".flox/pkgs/controlnet-aux.nix"), false);
  assert.equal(
    await s.has(".flox/sources/controlnet_aux-0.0.10-py3-none-any.whl"),
    true,
  );
  const m = await readManifest(`${s.root}/sources-manifest.json`);
  assert.ok(m.sources.some((e) => e.name === "controlnet-aux"));
});

Deno.test("remove-package keeps a source another package uses and refuses a leftover use", async () => {
  await using s = await scratch();
  const other = (await s.read(".flox/pkgs/spandrel.nix"))
    .replace('pname = "spandrel"', 'pname = "spandrel-twin"');
  await Deno.writeTextFile(`${s.root}/.flox/pkgs/spandrel-twin.nix`, other);
  const r = await s.task(["spandrel", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /kept: \.flox\/sources\/spandrel-0\.4\.0\.tar\.gz is also used by \.flox\/pkgs\/spandrel-twin\.nix/,
  );
  assert.equal(await s.has(".flox/sources/spandrel-0.4.0.tar.gz"), true);

  const main = await wireNunchaku(s.root);
  await Deno.writeTextFile(
    `${s.root}/.flox/pkgs/comfyui.nix`,
    main.replace(
      "dontBuild = true;",
      'dontBuild = true;\n  NUNCHAKU = "${nunchaku}";',
    ),
  );
  const before = await snapshot(s.root);
  const left = await s.task(["nunchaku", "--yes"]);
  assert.equal(left.code, 1);
  assert.match(
    left.stderr,
    /^error: \.flox\/pkgs\/comfyui\.nix:\d+: still uses "nunchaku" after unwiring: edit that line by hand/m,
  );
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("remove-package without --yes off a terminal asks for it (exit 2) and changes nothing", async () => {
  await using s = await scratch();
  const before = await snapshot(s.root);
  const r = await s.task(["spandrel"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /error: Remove spandrel .*: stdin is not a terminal; pass --yes/,
  );
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("remove-package takes a package out of a platform block, and the emptied block with it", async () => {
  await using s = await scratch();
  const path = `${s.root}/.flox/pkgs/comfyui.nix`;
  const seed = await wireNunchaku(s.root);
  const opts = { path: ".flox/pkgs/comfyui.nix" };
  const linuxOnly = addListItem(
    removeListItem(seed, "propagatedBuildInputs", "nunchaku", opts),
    "propagatedBuildInputs",
    "nunchaku",
    { ...opts, systems: ["x86_64-linux", "aarch64-linux"] },
  );
  assert.match(
    linuxOnly,
    /lib\.optionals \(lib\.elem .*\) \[\n\s+nunchaku\n\s+\]/,
  );
  await Deno.writeTextFile(path, linuxOnly);
  const r = await s.task(["nunchaku", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  const after = await s.read(".flox/pkgs/comfyui.nix");
  assert.doesNotMatch(after, /lib\.optionals|nunchaku/);
  assert.equal(
    after,
    seed.replace(", nunchaku\n", "").replace("    nunchaku\n", ""),
  );
  await nixParsesAll(s.root);
});

Deno.test("remove-package with deno.json's permissions: --dry-run reads another root, a write there is refused first", async () => {
  await using s = await scratch();
  const before = await snapshot(s.root);
  const args = await taskArgs("remove-package", s.root);
  const dry = await run(Deno.execPath(), [
    ...args,
    "spandrel",
    "--dry-run",
    "--root",
    s.root,
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^spandrel: would be deleted/m);
  const r = await run(Deno.execPath(), [
    ...args,
    "spandrel",
    "--yes",
    "--root",
    s.root,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: No write access to ".*\/\.flox\/pkgs": the task may write only the current repository's/m,
  );
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("stageSourceDrop() drops a source no staged package names, and keeps one still named", async () => {
  await using s = await scratch();
  const kept = new Changeset(s.root);
  const still = await stageSourceDrop(kept, "spandrel-0.4.0.tar.gz");
  assert.deepEqual(still.usedBy, [".flox/pkgs/spandrel.nix"]);
  assert.equal(kept.size, 0);

  // As new-package --force at another version would stage it: the file names a new source.
  const cs = new Changeset(s.root);
  const text = await s.read(".flox/pkgs/spandrel.nix");
  cs.write(".flox/pkgs/spandrel.nix", text.replaceAll("0.4.0", "0.5.0"));
  const drop = await stageSourceDrop(cs, "spandrel-0.4.0.tar.gz");
  assert.deepEqual(drop.usedBy, []);
  assert.equal(drop.removed, ".flox/sources/spandrel-0.4.0.tar.gz");
  assert.deepEqual(drop.entries, ["spandrel 0.4.0 (spandrel-0.4.0.tar.gz)"]);
  await cs.apply();
  assert.equal(await s.has(".flox/sources/spandrel-0.4.0.tar.gz"), false);
  const m = await readManifest(`${s.root}/sources-manifest.json`);
  assert.ok(!m.sources.some((e) => e.file === "spandrel-0.4.0.tar.gz"));
  assert.equal(
    await s.read(".flox/sources/SHA256SUMS.txt"),
    renderSha256Sums(m),
  );
});

Deno.test("remove-package sees NAME/default.nix and symlinked package files, as Flox does", async () => {
  await using s = await scratch();
  const pkgs = `${s.root}/.flox/pkgs`;
  // comfyui-workflow-templates as a folder with default.nix (its source path one level deeper),
  // comfyui.nix as a symlink to a file kept elsewhere in the repository.
  const tpl = await s.read(".flox/pkgs/comfyui-workflow-templates.nix");
  await Deno.remove(`${pkgs}/comfyui-workflow-templates.nix`);
  await Deno.mkdir(`${pkgs}/comfyui-workflow-templates`);
  await Deno.writeTextFile(
    `${pkgs}/comfyui-workflow-templates/default.nix`,
    tpl.replace("../../.flox/sources/", "../../../.flox/sources/"),
  );
  await Deno.mkdir(`${s.root}/.flox/main`);
  await Deno.rename(`${pkgs}/comfyui.nix`, `${s.root}/.flox/main/comfyui.nix`);
  await Deno.symlink("../main/comfyui.nix", `${pkgs}/comfyui.nix`);

  const needed = await s.task(["comfyui-workflow-templates-core", "--yes"]);
  assert.equal(needed.code, 1);
  assert.match(
    needed.stderr,
    /^error: comfyui-workflow-templates-core is still needed by comfyui-workflow-templates \(\.flox\/pkgs\/comfyui-workflow-templates\/default\.nix\): remove it first/m,
  );
  assert.equal(
    await s.has(".flox/pkgs/comfyui-workflow-templates-core.nix"),
    true,
  );

  const main = await s.task(["comfyui", "--yes"]);
  assert.equal(main.code, 1);
  assert.match(main.stderr, /^error: comfyui is the main package/m);

  const r = await s.task(["spandrel", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  // Unwired through the link: the link stays, its target no longer takes spandrel.
  assert.equal((await Deno.lstat(`${pkgs}/comfyui.nix`)).isSymlink, true);
  assert.deepEqual(
    mentions(await s.read(".flox/main/comfyui.nix"), "spandrel"),
    {
      formal: false,
      listed: false,
    },
  );
  assert.equal(await s.has(".flox/pkgs/spandrel.nix"), false);
});
