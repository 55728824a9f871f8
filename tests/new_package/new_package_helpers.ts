// Helpers for new-package's tests: golden files and the real-Nix oracle (parse + evaluation of
// a generated package file against stub arguments).
import assert from "node:assert/strict";
import { KNOWN_LICENSE_ATTRS } from "../../lib/python/license.ts";
import { haveTool, run } from "../_helpers.ts";

// The golden-file helper is the shared one (tests/_helpers.ts), re-exported for these tests.
export { assertGolden, GOLDEN_DIR } from "../_helpers.ts";

/** What evaluating a package file against stubs shows. */
export interface EvaluatedPackage {
  pname: string;
  version: string;
  src: unknown;
  /** "wheel", or "pyproject" for `pyproject = true`. */
  format: string;
  dependencies: string[];
  buildSystem: string[];
  pythonImportsCheck: string[];
  description: string;
  homepage: string;
  license: string | string[];
  /** null when the file sets none (a pure-Python package). */
  platforms: string[] | null;
  args: string[];
}

/** True when the Nix oracle can run (throws in CI when nix-instantiate is missing). */
export function haveNix(): boolean {
  return haveTool("nix-instantiate");
}

/**
 * A Nix `buildPythonPackage` stub (a let binding) that enforces what nixpkgs'
 * mk-python-derivation.nix enforces at evaluation: `pyproject` and `format` exclusive, one of
 * them set (nixpkgs' default `format = "setuptools"` is deprecated). It returns the arguments
 * with `format` ("wheel" | "pyproject"), `dependencies` and `buildSystem` normalised.
 */
export const BUILD_PYTHON_PACKAGE_STUB = `buildPythonPackage = a:
    if a ? pyproject && a ? format then throw "pyproject and format are mutually exclusive"
    else if !(a ? pyproject || a ? format) then throw "set pyproject = true (or format = \\"wheel\\")"
    else a // {
      format = if a ? pyproject then (if a.pyproject then "pyproject" else "other") else a.format;
      dependencies = a.dependencies or a.propagatedBuildInputs or [ ];
      buildSystem = a.build-system or a.nativeBuildInputs or [ ];
    };`;

/**
 * `nix-instantiate --parse` the file, then `--eval --strict` it applied to stub arguments: a
 * `buildPythonPackage` that returns its attribute set, `python3.pkgs` holding each of `names`
 * as a string, a stub `lib` (optionals, elem, licenses, platforms) and fetchers returning their
 * arguments. `system` picks the host platform the conditionals see.
 */
export async function evalPackage(
  file: string,
  names: readonly string[],
  system = "x86_64-linux",
): Promise<EvaluatedPackage> {
  const parse = await run("nix-instantiate", ["--parse", file]);
  assert.equal(
    parse.code,
    0,
    `nix-instantiate --parse ${file}: ${parse.stderr}`,
  );
  const list = (xs: readonly string[]) =>
    `[ ${xs.map((x) => JSON.stringify(x)).join(" ")} ]`;
  const expr = `
let
  strings = ns: builtins.listToAttrs (map (n: { name = n; value = n; }) ns);
  stubPkgs = strings ${list(names)};
  lib = {
    optionals = c: l: if c then l else [ ];
    elem = builtins.elem;
    licenses = strings ${list(KNOWN_LICENSE_ATTRS)};
    platforms = {
      linux = [ "aarch64-linux" "x86_64-linux" ];
      darwin = [ "aarch64-darwin" "x86_64-darwin" ];
    };
  };
  python3 = {
    pkgs = stubPkgs // { inherit buildPythonPackage; };
    stdenv.hostPlatform.system = ${JSON.stringify(system)};
  };
  ${BUILD_PYTHON_PACKAGE_STUB}
  f = import ${JSON.stringify(file)};
  given = { inherit lib python3; fetchPypi = a: a // { fetcher = "fetchPypi"; };
            fetchFromGitHub = a: a // { fetcher = "fetchFromGitHub"; }; } // stubPkgs;
  r = f (builtins.intersectAttrs (builtins.functionArgs f) given);
in {
  inherit (r) pname version format dependencies buildSystem pythonImportsCheck;
  src = if builtins.isAttrs r.src then r.src else toString r.src;
  inherit (r.meta) description homepage license;
  platforms = r.meta.platforms or null;
  args = builtins.attrNames (builtins.functionArgs f);
}`;
  const res = await run("nix-instantiate", [
    "--eval",
    "--strict",
    "--json",
    "-E",
    expr,
  ]);
  assert.equal(res.code, 0, `nix-instantiate --eval ${file}: ${res.stderr}`);
  return JSON.parse(res.stdout) as EvaluatedPackage;
}
