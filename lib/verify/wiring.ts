// Checklist section "Packages are wired into the main package": every custom package under
// .flox/pkgs is reached from the main package (argument and dependency-list entry, directly or
// through another wired package), and every argument names a package file or a nixpkgs name.
import { NIXPKGS_INDEX } from "../repo/paths.ts";
import { join } from "node:path";
import { readTextIfExists } from "../kit/fsutil.ts";
import { DEP_LISTS, type PackageInfo } from "../nix/query.ts";
import { type DepList, type ListItem } from "../nix/lists.ts";
import { type Add, MAIN_FILE, type PkgFile } from "./types.ts";

const S = "Packages are wired into the main package";

// Top-level nixpkgs names a package function commonly takes; anything else must be a package
// file under .flox/pkgs or a python3Packages attribute in nixpkgs-index.json.
const NIXPKGS_TOP = new Set([
  "lib",
  "stdenv",
  "pkgs",
  "config",
  "callPackage",
  "python3",
  "python3Packages",
  "python311",
  "python312",
  "python313",
  "python311Packages",
  "python312Packages",
  "python313Packages",
  "buildPythonPackage",
  "buildPythonApplication",
  "fetchFromGitHub",
  "fetchFromGitLab",
  "fetchPypi",
  "fetchurl",
  "fetchzip",
  "fetchgit",
  "makeWrapper",
  "makeBinaryWrapper",
  "symlinkJoin",
  "linkFarm",
  "linkFarmFromDrvs",
  "runCommand",
  "runCommandLocal",
  "writeShellScript",
  "writeShellScriptBin",
  "writeText",
  "writeTextFile",
  "writeTextDir",
  "newScope",
  "substituteAll",
  "replaceVars",
  "autoPatchelfHook",
  "cudaPackages",
  "cudaSupport",
  "rocmSupport",
  "git",
  "ffmpeg",
  "ffmpeg-headless",
  "nodejs",
  "cmake",
  "ninja",
  "pkg-config",
  "which",
  "gcc",
  "zlib",
  "libGL",
  "glib",
  "darwin",
]);

/** The python3Packages attribute names of the repository's nixpkgs-index.json (empty if none). */
export async function nixpkgsNames(root: string): Promise<Set<string>> {
  const text = await readTextIfExists(join(root, NIXPKGS_INDEX));
  if (!text) return new Set();
  try {
    const data = JSON.parse(text) as {
      python3Packages?: Record<string, string>;
    };
    return new Set(Object.keys(data.python3Packages ?? {}));
  } catch {
    return new Set();
  }
}

/** Python scopes of a dependency list (`with python3.pkgs; [ … ]`). */
export const PYTHON_SCOPE = /^python3\d*(\.pkgs|Packages)$/;

/** Every item of the package's dependency lists, with its list. */
export function* depItems(
  info: PackageInfo,
): Generator<{ list: DepList; item: ListItem }> {
  for (const k of DEP_LISTS) {
    const list = info.lists.get(k);
    if (!list) continue;
    for (const b of [list.main, ...list.blocks]) {
      for (const item of b?.items ?? []) yield { list, item };
    }
  }
}

/** Every name in the package's dependency lists. */
export function listNames(info: PackageInfo): Set<string> {
  return new Set([...depItems(info)].map((x) => x.item.name));
}

/** The custom packages reachable from `main` (argument + dependency-list entry, transitively). */
export function wiredFrom(
  main: PkgFile,
  custom: Map<string, PkgFile>,
): Set<string> {
  // Flox calls every .flox/pkgs file with the others in scope.
  const wired = new Set<string>();
  const queue: PkgFile[] = [main];
  while (queue.length) {
    const p = queue.shift()!;
    if (!p.info) continue;
    const formals = new Set(p.info.formals.map((f) => f.name));
    for (const n of listNames(p.info)) {
      const c = custom.get(n);
      if (c && formals.has(n) && !wired.has(n)) {
        wired.add(n);
        queue.push(c);
      }
    }
  }
  return wired;
}

/** Runs the section's checks. */
export function checkWiring(
  pkgs: PkgFile[],
  add: Add,
  pyNames: Set<string>,
): void {
  const main = pkgs.find((p) => p.rel === MAIN_FILE);
  if (!main) {
    add(
      S,
      "error",
      `no main package ${MAIN_FILE}`,
      MAIN_FILE,
      "restore it from git",
    );
    return;
  }
  if (!main.info) return;
  const custom = new Map(
    pkgs.filter((p) => p !== main).map((p) => [p.name, p]),
  );
  const wired = wiredFrom(main, custom);
  if (custom.size === 0) {
    add(S, "ok", "no custom packages besides the main package", MAIN_FILE);
  }
  const mainFormals = new Set(main.info.formals.map((f) => f.name));
  const mainLists = listNames(main.info);
  for (const [name, p] of custom) {
    if (wired.has(name)) {
      add(S, "ok", `${name} is wired in`, p.rel);
      continue;
    }
    const missing = [
      mainFormals.has(name) ? "" : "an argument",
      mainLists.has(name) ? "" : "a dependency-list entry",
    ].filter(Boolean).join(" and ");
    // A warning: a package kept for history but deliberately not wired (nunchaku) builds fine.
    add(
      S,
      "warning",
      `${name} is not used: ${MAIN_FILE} lacks ${missing || "a path to it"}`,
      p.rel,
      `add "${name}" to the arguments and to ${
        main.info.lists.has("dependencies")
          ? "dependencies"
          : "propagatedBuildInputs"
      } of ${MAIN_FILE}, or remove the file`,
    );
  }
  for (const p of pkgs) checkArguments(p, custom, pyNames, add);
  if (pyNames.size > 0) {
    for (const p of pkgs) checkDependencyNames(p, custom, pyNames, add);
  }
}

/**
 * Each name in a `with python3.pkgs; [ … ]` dependency list is a package file or an attribute
 * the nixpkgs index knows (a warning otherwise: the index lists only the names the kit uses).
 */
function checkDependencyNames(
  p: PkgFile,
  custom: Map<string, PkgFile>,
  pyNames: Set<string>,
  add: Add,
): void {
  if (!p.info) return;
  for (const { list, item: i } of depItems(p.info)) {
    if (!PYTHON_SCOPE.test(list.with ?? "")) continue;
    if (i.isString || custom.has(i.name) || pyNames.has(i.name)) continue;
    if (p.name === i.name) continue;
    add(
      S,
      "warning",
      `dependency ${i.name} is not in the nixpkgs index (nixpkgs-index.json)`,
      `${p.rel}:${i.line}`,
      `check the spelling; if nixpkgs has it: deno task update-nixpkgs-index --add ${i.name}`,
    );
  }
}

/** Each argument of a package file is a package file, a nixpkgs name, or has a default. */
export function checkArguments(
  p: PkgFile,
  custom: Map<string, PkgFile>,
  pyNames: Set<string>,
  add: Add,
): void {
  if (!p.info) return;
  const lists = listNames(p.info);
  for (const f of p.info.formals) {
    if (
      custom.has(f.name) || NIXPKGS_TOP.has(f.name) || f.default !== undefined
    ) continue;
    if (pyNames.has(f.name) && !lists.has(f.name)) continue;
    const where = `${p.rel}:${f.line}`;
    if (lists.has(f.name)) {
      add(
        S,
        "error",
        `argument ${f.name} has no package file .flox/pkgs/${f.name}.nix`,
        where,
        `create it (deno task new-package ${f.name}) or drop the argument to use python3.pkgs.${f.name}`,
      );
    } else {
      add(
        S,
        "warning",
        `argument ${f.name} is neither a package file nor a known nixpkgs name`,
        where,
        `check the name, or create .flox/pkgs/${f.name}.nix`,
      );
    }
  }
}
