// The vendored-source set (lib/repo/staged_sources.ts) as remove-package, bump-comfyui and
// new-package see it: which package file uses a source (a `${pname}-${version}` path counts,
// a comment does not), the staged manifest write, and remove-package run as users run it.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  copyTree,
  haveTool,
  ROOT,
  run,
  runTaskProcess,
  tmp,
} from "../_helpers.ts";
import { Changeset } from "../../lib/kit/changeset.ts";
import {
  sourceUsers,
  stageSourceDrop,
  usesSource,
  vendoredFileOf,
} from "../../lib/repo/staged_sources.ts";

const SPANDREL = "spandrel-0.4.0.tar.gz";

/** A fresh copy of the whole repository (its .git left out), as a clone would give it. */
async function repoCopy(to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(ROOT)) {
    // bench/ holds bench/data (git-ignored; up to 1 GiB after `deno task bench`), which
    // bench_test.ts writes while the suite runs in parallel: not part of a clone; nor is the
    // download cache cache_dir_test.ts keeps in .cache-test-* meanwhile.
    if (
      e.name === ".git" || e.name.startsWith(".scratch-") ||
      e.name.startsWith(".cache-test-") || e.name === "bench"
    ) continue;
    const from = join(ROOT, e.name);
    if (e.isDirectory) await copyTree(from, join(to, e.name));
    else if (e.isFile) await Deno.copyFile(from, join(to, e.name));
  }
}

/** A package file that takes spandrel's sdist through an interpolated path. */
const UPSCALER = `{ lib, python3 }:

python3.pkgs.buildPythonPackage rec {
  pname = "upscaler";
  version = "0.4.0";
  pyproject = true;

  src = ../../.flox/sources/spandrel-\${version}.tar.gz;

  meta.license = lib.licenses.mit;
}
`;

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);

Deno.test("deno task remove-package spandrel --yes works in a fresh copy of the repository", async () => {
  await using dir = await tmp();
  const root = join(dir.path, "comfykit");
  await repoCopy(root);
  const r = await run("deno", [
    "task",
    "-q",
    "remove-package",
    "spandrel",
    "--yes",
  ], {
    cwd: root,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await exists(join(root, ".flox/pkgs/spandrel.nix")), false);
  assert.equal(await exists(join(root, ".flox/sources", SPANDREL)), false);
  const manifest = await Deno.readTextFile(join(root, "sources-manifest.json"));
  assert.ok(!manifest.includes(SPANDREL));
  // No temporary or saved copy left anywhere.
  const left: string[] = [];
  for (
    const d of [root, join(root, ".flox/pkgs"), join(root, ".flox/sources")]
  ) {
    for await (const e of Deno.readDir(d)) {
      if (e.name.endsWith(".tmp") || e.name === ".lock") left.push(e.name);
    }
  }
  assert.deepEqual(left, []);
});

Deno.test("remove-package keeps a source another package uses through a ${version} path", async () => {
  await using dir = await tmp();
  await copyTree(join(ROOT, ".flox"), join(dir.path, ".flox"));
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(dir.path, "sources-manifest.json"),
  );
  await Deno.writeTextFile(join(dir.path, ".flox/pkgs/upscaler.nix"), UPSCALER);
  const r = await runTaskProcess("remove_package.ts", [
    "spandrel",
    "--yes",
    "--root",
    dir.path,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /kept: \.flox\/sources\/spandrel-0\.4\.0\.tar\.gz is also used by \.flox\/pkgs\/upscaler\.nix/,
  );
  assert.ok(await exists(join(dir.path, ".flox/sources", SPANDREL)));
  assert.ok(
    (await Deno.readTextFile(join(dir.path, "sources-manifest.json")))
      .includes(SPANDREL),
  );
});

Deno.test("remove-package drops a source that only a comment names", async () => {
  await using dir = await tmp();
  await copyTree(join(ROOT, ".flox"), join(dir.path, ".flox"));
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(dir.path, "sources-manifest.json"),
  );
  const nunchaku = join(dir.path, ".flox/pkgs/nunchaku.nix");
  await Deno.writeTextFile(
    nunchaku,
    `# built once against ${SPANDREL}\n/* and ${SPANDREL} again */\n` +
      await Deno.readTextFile(nunchaku),
  );
  const r = await runTaskProcess("remove_package.ts", [
    "spandrel",
    "--yes",
    "--root",
    dir.path,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /kept:/);
  assert.equal(await exists(join(dir.path, ".flox/sources", SPANDREL)), false);
});

Deno.test("remove-package refuses a name two packages share as pname, naming both", async () => {
  await using dir = await tmp();
  await copyTree(join(ROOT, ".flox"), join(dir.path, ".flox"));
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(dir.path, "sources-manifest.json"),
  );
  const one = UPSCALER.replace('pname = "upscaler"', 'pname = "twin"');
  await Deno.writeTextFile(join(dir.path, ".flox/pkgs/twin-a.nix"), one);
  await Deno.writeTextFile(join(dir.path, ".flox/pkgs/twin-b.nix"), one);
  const r = await runTaskProcess("remove_package.ts", [
    "twin",
    "--yes",
    "--root",
    dir.path,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: "twin" is the pname of twin-a \(\.flox\/pkgs\/twin-a\.nix\) and twin-b \(\.flox\/pkgs\/twin-b\.nix\): name the one to remove by its file name$/m,
  );
  assert.ok(await exists(join(dir.path, ".flox/pkgs/twin-a.nix")));
  assert.ok(await exists(join(dir.path, ".flox/pkgs/twin-b.nix")));
});

Deno.test("two remove-package runs at once: one removes, the other fails with one line, never a crash", async () => {
  await using dir = await tmp();
  for (let i = 0; i < 4; i++) {
    const root = join(dir.path, `r${i}`);
    await copyTree(join(ROOT, ".flox"), join(root, ".flox"));
    await Deno.copyFile(
      join(ROOT, "sources-manifest.json"),
      join(root, "sources-manifest.json"),
    );
    const args = ["spandrel", "--yes", "--root", root];
    const [a, b] = await Promise.all([
      runTaskProcess("remove_package.ts", args),
      runTaskProcess("remove_package.ts", args),
    ]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 1 ? a : b;
    assert.doesNotMatch(loser.stderr, /Uncaught| {4}at /);
    // Either the other run had finished before this one read the tree (the package is gone),
    // or it finished while this one waited for the lock (the tree moved under it).
    assert.match(
      loser.stderr,
      /^error: (No package "spandrel" in \.flox\/pkgs\/|The repository changed while spandrel was being removed \(.*\): run again \(nothing was changed\)$)/m,
    );
  }
});

Deno.test("usesSource() and vendoredFileOf(): interpolated paths count, comments and other folders do not", () => {
  const pkg = ".flox/pkgs/upscaler.nix";
  assert.equal(vendoredFileOf(UPSCALER, pkg), SPANDREL);
  assert.equal(usesSource(UPSCALER, pkg, SPANDREL), true);
  assert.equal(usesSource(UPSCALER, pkg, "spandrel-0.4.1.tar.gz"), false);
  const commented = `# ${SPANDREL}\n{ lib }: { /* ${SPANDREL} */ x = "#"; }\n`;
  assert.equal(usesSource(commented, pkg, SPANDREL), false);
  const named =
    `{ fetchurl }: { src = fetchurl { url = "file:///x/${SPANDREL}"; }; }\n`;
  assert.equal(usesSource(named, pkg, SPANDREL), true);
  const elsewhere = UPSCALER.replace("../../.flox/sources/", "../../vendor/");
  assert.equal(vendoredFileOf(elsewhere, pkg), undefined);
  // A file that does not parse keeps any source its text names: never dropped on a guess.
  assert.equal(usesSource(`{ ${SPANDREL}`, pkg, SPANDREL), true);
});

Deno.test("bump's and new-package's drop keep a source a staged package still uses", async () => {
  await using dir = await tmp();
  await copyTree(join(ROOT, ".flox"), join(dir.path, ".flox"));
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(dir.path, "sources-manifest.json"),
  );
  const cs = new Changeset(dir.path);
  // spandrel.nix moves on to another release (as bump-comfyui's update stages it) …
  cs.write(
    ".flox/pkgs/spandrel.nix",
    (await Deno.readTextFile(join(dir.path, ".flox/pkgs/spandrel.nix")))
      .replaceAll("0.4.0", "0.4.1"),
  );
  // … while upscaler.nix still takes the old sdist through ${version}.
  cs.write(".flox/pkgs/upscaler.nix", UPSCALER);
  assert.deepEqual(await sourceUsers(cs, SPANDREL), [
    ".flox/pkgs/upscaler.nix",
  ]);
  const kept = await stageSourceDrop(cs, SPANDREL);
  assert.deepEqual(kept.usedBy, [".flox/pkgs/upscaler.nix"]);
  assert.ok(!cs.has(`.flox/sources/${SPANDREL}`));
  cs.remove(".flox/pkgs/upscaler.nix");
  const dropped = await stageSourceDrop(cs, SPANDREL);
  assert.deepEqual(dropped.usedBy, []);
  assert.equal(dropped.removed, `.flox/sources/${SPANDREL}`);
  assert.deepEqual(dropped.entries, [`spandrel 0.4.0 (${SPANDREL})`]);
  assert.ok(!(await cs.readText("sources-manifest.json"))!.includes(SPANDREL));
});

Deno.test("sourceUsers() reads a symlinked package's relative src from the link's target, as Nix does", async () => {
  await using dir = await tmp();
  await copyTree(join(ROOT, ".flox"), join(dir.path, ".flox"));
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(dir.path, "sources-manifest.json"),
  );
  const deep = join(dir.path, ".flox/pkgs/impl/deep");
  await Deno.mkdir(deep, { recursive: true });
  // From the target's folder ../../../sources is .flox/sources; from the link's, outside the root.
  const via = "../../../sources/";
  await Deno.writeTextFile(
    join(deep, "upscaler.nix"),
    UPSCALER.replace("../../.flox/sources/", via),
  );
  await Deno.symlink(
    "impl/deep/upscaler.nix",
    join(dir.path, ".flox/pkgs/upscaler.nix"),
  );
  if (haveTool("nix-instantiate")) {
    // The oracle: Nix 2.8 resolves a relative path in a symlinked file from the target's folder.
    await Deno.writeTextFile(
      join(deep, "probe.nix"),
      `builtins.toString ${via}x`,
    );
    const probe = join(dir.path, ".flox/pkgs/probe.nix");
    await Deno.symlink("impl/deep/probe.nix", probe);
    const r = await run("nix-instantiate", ["--eval", probe]);
    await Deno.remove(probe);
    assert.equal(
      r.stdout.trim(),
      JSON.stringify(`${await Deno.realPath(dir.path)}/.flox/sources/x`),
      r.stderr,
    );
  }
  const cs = new Changeset(dir.path);
  assert.deepEqual(await sourceUsers(cs, SPANDREL), [
    ".flox/pkgs/spandrel.nix",
    ".flox/pkgs/upscaler.nix",
  ]);
  // Dropping spandrel.nix's claim keeps the file: the symlinked package still uses it.
  cs.remove(".flox/pkgs/spandrel.nix");
  assert.deepEqual((await stageSourceDrop(cs, SPANDREL)).usedBy, [
    ".flox/pkgs/upscaler.nix",
  ]);
});
