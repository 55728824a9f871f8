// Helpers for new-package's tests: golden files and the real-Nix oracle (parse + evaluation of
// a generated package file against stub arguments).
import assert from "node:assert/strict";
import { KNOWN_LICENSE_ATTRS } from "../lib/python/license.ts";
import { haveTool, run } from "./_helpers.ts";

// The golden-file helper is the shared one (tests/_helpers.ts), re-exported for these tests.
export { assertGolden, GOLDEN_DIR } from "./_helpers.ts";

/** What evaluating a package file against stubs shows. */
export interface EvaluatedPackage {
  pname: string;
  version: string;
  format: string;
  src: unknown;
  propagatedBuildInputs: string[];
  nativeBuildInputs: string[];
  pythonImportsCheck: string[];
  description: string;
  homepage: string;
  license: string | string[];
  platforms: string[];
  args: string[];
}

/** True when the Nix oracle can run (throws in CI when nix-instantiate is missing). */
export function haveNix(): boolean {
  return haveTool("nix-instantiate");
}

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
    pkgs = stubPkgs // { buildPythonPackage = a: a; };
    stdenv.hostPlatform.system = ${JSON.stringify(system)};
  };
  f = import ${JSON.stringify(file)};
  given = { inherit lib python3; fetchPypi = a: a // { fetcher = "fetchPypi"; };
            fetchFromGitHub = a: a // { fetcher = "fetchFromGitHub"; }; } // stubPkgs;
  r = f (builtins.intersectAttrs (builtins.functionArgs f) given);
in {
  inherit (r) pname version format propagatedBuildInputs nativeBuildInputs pythonImportsCheck;
  src = if builtins.isAttrs r.src then r.src else toString r.src;
  inherit (r.meta) description homepage license platforms;
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
