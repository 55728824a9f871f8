import assert from "node:assert/strict";
import { join } from "node:path";
import {
  KIT_ROOT,
  MAIN_PACKAGE,
  NIXPKGS_INDEX,
  nixpkgsIndexFor,
  packageFile,
  repoPaths,
  resolveRoot,
  SOURCES_DIR,
} from "../../lib/repo/paths.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { ROOT, run, tmp } from "../_helpers.ts";

Deno.test("repoPaths() joins every repository path to the root", () => {
  const p = repoPaths("/r");
  assert.equal(p.mainPackage, "/r/.flox/pkgs/comfyui.nix");
  assert.equal(p.sums, "/r/.flox/sources/SHA256SUMS.txt");
  assert.equal(p.lock, "/r/.flox/sources/.lock");
  assert.equal(p.manifest, "/r/sources-manifest.json");
  assert.equal(p.nixpkgsIndex, "/r/nixpkgs-index.json");
  assert.equal(p.floxManifest, "/r/.flox/env/manifest.toml");
  assert.equal(packageFile("comfyui"), MAIN_PACKAGE);
  assert.equal(join("/r", SOURCES_DIR), p.sourcesDir);
});

Deno.test("resolveRoot() prefers --root, then COMFYKIT_ROOT, then the working directory", async () => {
  await using dir = await tmp();
  const env = { COMFYKIT_ROOT: dir.path };
  assert.equal(await resolveRoot(undefined, {}), Deno.cwd());
  assert.equal(await resolveRoot(undefined, env), dir.path);
  assert.equal(await resolveRoot(ROOT, env), ROOT);
});

Deno.test("resolveRoot() names the source of a root that is missing or not a folder", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(join(dir.path, "f"), "");
  await assert.rejects(
    () => resolveRoot(undefined, { COMFYKIT_ROOT: join(dir.path, "gone") }),
    (e: unknown) =>
      e instanceof KitError &&
      /^COMFYKIT_ROOT ".*gone" does not exist$/.test(e.message),
  );
  await assert.rejects(
    () => resolveRoot(join(dir.path, "f"), {}),
    (e: unknown) =>
      e instanceof KitError &&
      /^--root ".*\/f" is not a directory$/.test(e.message),
  );
});

Deno.test("nixpkgsIndexFor() is the root's own nixpkgs-index.json, else the kit's", async () => {
  await using dir = await tmp();
  assert.equal(nixpkgsIndexFor(dir.path), `${KIT_ROOT}/${NIXPKGS_INDEX}`);
  await Deno.writeTextFile(`${dir.path}/${NIXPKGS_INDEX}`, "{}");
  assert.equal(nixpkgsIndexFor(dir.path), `${dir.path}/${NIXPKGS_INDEX}`);
  // A folder of that name is no index.
  await using other = await tmp();
  await Deno.mkdir(`${other.path}/${NIXPKGS_INDEX}`);
  assert.equal(nixpkgsIndexFor(other.path), `${KIT_ROOT}/${NIXPKGS_INDEX}`);
});

Deno.test("fix-build under --root DIR reads DIR's nixpkgs-index.json (nixpkgsIndexFor), not the kit's", async () => {
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/.flox/pkgs`, { recursive: true });
  await Deno.copyFile(
    `${ROOT}/tests/_fixtures/comfyui_seed.nix`,
    `${dir.path}/.flox/pkgs/comfyui.nix`,
  );
  await Deno.writeTextFile(
    `${dir.path}/.flox/pkgs/kde-material-you-colors.nix`,
    `{ lib, python3, fetchPypi }:

python3.pkgs.buildPythonPackage rec {
  pname = "kde-material-you-colors";
  version = "2.0.2";
  pyproject = true;
  src = fetchPypi {
    inherit pname version;
    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
  };
  dependencies = with python3.pkgs; [
    numpy
  ];
  meta.license = lib.licenses.mit;
}
`,
  );
  // A version no real nixpkgs has: the answer can only come from this index.
  await Deno.writeTextFile(
    `${dir.path}/${NIXPKGS_INDEX}`,
    JSON.stringify({
      description: "this root's index",
      nixpkgs: { rev: null, date: null, channel: null },
      python3Packages: { "python-magic": "9.9.9", numpy: "2.1.3" },
    }),
  );
  const r = await run(Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}/tasks/fix_build.ts`,
    `${ROOT}/tests/_fixtures/logs/runtime_deps_kde.log`,
    "--root",
    dir.path,
    "--dry-run",
  ], { cwd: dir.path, env: { PATH: "/usr/bin:/bin", NIX_PATH: "" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /add python-magic \(nixpkgs 9\.9\.9\)/);
});
