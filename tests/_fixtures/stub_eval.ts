// Evaluating a package directory the way Flox does, with real `nix-instantiate --eval --strict`
// against tests/_fixtures/stub_nixpkgs.nix (the stand-in nixpkgs), for tests that read what the
// stub reports of each file: its derivation, dependencies, platforms and closure's torches.
import { join } from "node:path";
import { ROOT, run, tmp } from "../_helpers.ts";
import { KNOWN_LICENSE_ATTRS } from "../../lib/python/license.ts";
import { KIT_ROOT, NIXPKGS_INDEX } from "../../lib/repo/paths.ts";
import { readNixpkgsIndex } from "../../lib/nix/nixpkgs_index.ts";

const STUB = join(ROOT, "tests", "_fixtures", "stub_nixpkgs.nix");
/** The kit's own offline index. */
const DEFAULT_INDEX_FILE = `${KIT_ROOT}/${NIXPKGS_INDEX}`;

/** A torch in a closure, with its CUDA setting. */
export interface Torch {
  name: string;
  path: string;
  cuda: boolean;
}

/** What the stub reports for one package file. */
export interface Evaluated {
  name: string;
  available: boolean;
  /** A buildPythonPackage/Application (false: a node pack, a folder of files). */
  python: boolean;
  path: string;
  torches: Torch[];
  closure: {
    name: string;
    path: string;
    pname: string | null;
    torches: boolean[];
  }[];
  drvName: string;
  version: string;
  format: string;
  warnings: string[];
  env: Record<string, string>;
  dependencyNames: string[];
  buildSystemNames: string[];
  platforms: string[];
  application: boolean;
  launcher: string | null;
  pythonEnvModules: string[] | null;
  /** comfyui.nix's node packs: folder name, derivation name, Python dependencies. */
  customNodes:
    | { name: string; drvName: string; pythonDependencies: string[] }[]
    | null;
}

/**
 * Evaluates every file of `pkgsDir` for `system`; the stub's own error on failure. `extra` adds
 * python3Packages to the kit's offline index; `broken` names those nixpkgs marks broken.
 */
export async function evaluate(
  pkgsDir: string,
  system: string,
  strictFormats = true,
  opts: { extra?: Record<string, string>; broken?: string[] } = {},
): Promise<
  { ok: true; pkgs: Record<string, Evaluated> } | { ok: false; error: string }
> {
  const index = await readNixpkgsIndex(DEFAULT_INDEX_FILE);
  await using scratch = await tmp();
  const data = join(scratch.path, "data.json");
  await Deno.writeTextFile(
    data,
    JSON.stringify({
      pythonPackages: { ...index.python3Packages, ...opts.extra },
      licenseNames: KNOWN_LICENSE_ATTRS,
      brokenModules: opts.broken ?? [],
    }),
  );
  const expr = `let d = builtins.fromJSON (builtins.readFile ${
    JSON.stringify(data)
  }); in import ${JSON.stringify(STUB)} {
    system = ${JSON.stringify(system)};
    pkgsDir = /. + ${JSON.stringify(pkgsDir)};
    pythonVersion = ${JSON.stringify(index.python ?? "3.13")};
    inherit (d) pythonPackages licenseNames brokenModules;
    strictFormats = ${strictFormats};
  }`;
  const r = await run("nix-instantiate", [
    "--eval",
    "--strict",
    "--json",
    "-E",
    expr,
  ]);
  if (r.code !== 0) return { ok: false, error: r.stderr };
  return { ok: true, pkgs: JSON.parse(r.stdout) };
}
