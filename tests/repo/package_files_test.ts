// The one package-file discovery (lib/repo/package_files.ts): what Flox builds from .flox/pkgs/.
import assert from "node:assert/strict";
import {
  discoverPackageFiles,
  type DiscoveryProblems,
} from "../../lib/repo/package_files.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { neededBy, readPackageSet } from "../../lib/repo/package_set.ts";
import { tmp } from "../_helpers.ts";

Deno.test("discoverPackageFiles() finds NAME.nix, NAME/default.nix and symlinks; skips the rest", async () => {
  await using dir = await tmp();
  const pkgs = `${dir.path}/.flox/pkgs`;
  await Deno.mkdir(`${pkgs}/folder`, { recursive: true });
  await Deno.mkdir(`${pkgs}/no-default`);
  await Deno.mkdir(`${dir.path}/elsewhere`);
  await Deno.writeTextFile(`${pkgs}/plain.nix`, "{ }: { }\n");
  await Deno.writeTextFile(`${pkgs}/folder/default.nix`, "{ }: { }\n");
  await Deno.writeTextFile(`${pkgs}/no-default/other.nix`, "{ }: { }\n");
  await Deno.writeTextFile(`${pkgs}/README.md`, "not a package\n");
  await Deno.writeTextFile(`${dir.path}/elsewhere/linked.nix`, "{ }: { }\n");
  await Deno.symlink("../../elsewhere/linked.nix", `${pkgs}/linked.nix`);
  const found = await discoverPackageFiles(dir.path);
  assert.deepEqual(found.map((p) => [p.attr, p.file]), [
    ["folder", ".flox/pkgs/folder/default.nix"],
    ["linked", ".flox/pkgs/linked.nix"],
    ["plain", ".flox/pkgs/plain.nix"],
  ]);
  assert.equal(
    found[1]!.abs,
    await Deno.realPath(`${dir.path}/elsewhere/linked.nix`),
  );
});

Deno.test("discoverPackageFiles() reports a dangling link and a name defined twice, or refuses them", async () => {
  await using dir = await tmp();
  const pkgs = `${dir.path}/.flox/pkgs`;
  await Deno.mkdir(`${pkgs}/twice`, { recursive: true });
  await Deno.writeTextFile(`${pkgs}/twice.nix`, "{ }: { }\n");
  await Deno.writeTextFile(`${pkgs}/twice/default.nix`, "{ }: { }\n");
  await Deno.symlink("gone.nix", `${pkgs}/dangling.nix`);
  const problems: DiscoveryProblems = { dangling: [], duplicates: [] };
  await discoverPackageFiles(dir.path, problems);
  assert.deepEqual(problems, {
    dangling: [".flox/pkgs/dangling.nix"],
    duplicates: [{
      attr: "twice",
      files: [".flox/pkgs/twice.nix", ".flox/pkgs/twice/default.nix"],
    }],
  });
  await assert.rejects(
    discoverPackageFiles(dir.path),
    (e: Error) =>
      e instanceof KitError &&
      e.message ===
        ".flox/pkgs/dangling.nix is a dangling symlink: point it at a package file, or remove it",
  );
  await Deno.remove(`${pkgs}/dangling.nix`);
  await assert.rejects(
    discoverPackageFiles(dir.path),
    (e: Error) =>
      e instanceof KitError &&
      e.message ===
        '.flox/pkgs/twice.nix and .flox/pkgs/twice/default.nix both define "twice": Flox cannot tell which to build; remove one',
  );
  await assert.rejects(
    discoverPackageFiles(`${dir.path}/nowhere`),
    /\.flox\/pkgs not found under/,
  );
});

Deno.test("neededBy() follows the arguments a package uses, not unwired or unused ones", async () => {
  await using dir = await tmp();
  const pkgs = `${dir.path}/.flox/pkgs`;
  await Deno.mkdir(`${pkgs}/a`, { recursive: true });
  await Deno.writeTextFile(
    `${dir.path}/sources-manifest.json`,
    '{ "version": 1, "sources": [] }\n',
  );
  const pkg = (args: string[], deps: string[]) =>
    `{ lib, python3${args.map((a) => `, ${a}`).join("")} }:\n` +
    `python3.pkgs.buildPythonPackage {\n  pname = "x";\n  version = "1";\n` +
    `  dependencies = [ ${deps.join(" ")} ];\n}\n`;
  // comfyui takes a and b but uses only a; a (a folder) takes c; d is in no one's arguments.
  await Deno.writeTextFile(`${pkgs}/comfyui.nix`, pkg(["a", "b"], ["a"]));
  await Deno.writeTextFile(`${pkgs}/a/default.nix`, pkg(["c"], ["c"]));
  for (const name of ["b", "c", "d"]) {
    await Deno.writeTextFile(`${pkgs}/${name}.nix`, pkg([], []));
  }
  const set = await readPackageSet(dir.path);
  assert.deepEqual(set.packages.map((p) => [p.attr, p.isMain]), [
    ["a", false],
    ["b", false],
    ["c", false],
    ["comfyui", true],
    ["d", false],
  ]);
  assert.deepEqual(neededBy(set, ["comfyui"]), ["a", "c"]);
  assert.deepEqual(neededBy(set, ["d"]), []);
});
