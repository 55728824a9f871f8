// The package files under .flox/pkgs/ as fix-build sees them: parsed, with the attribute each
// file defines (its name, when that is a valid Nix attribute) and lookups from what a log names
// (a derivation, a wheel, a path, an import name) to the file.
import { basename, join, relative } from "node:path";
import { parseNix } from "../nix/parse.ts";
import { type PackageInfo, readPackage } from "../nix/query.ts";
import { normalizeName } from "../python/names.ts";
import { packageFileRefs, readText } from "./hash.ts";
import { packageOfDerivation } from "./findings.ts";
import { fileAttrOf, isMainVariant } from "../repo/paths.ts";

/** One package file. */
export interface PackageFile {
  /** Absolute path. */
  abs: string;
  /** Relative to the root: `.flox/pkgs/spandrel.nix`. */
  file: string;
  text: string;
  info: PackageInfo;
  /** The attribute Flox builds it as, or undefined when the file name is no valid attribute. */
  attr: string | undefined;
}

const ATTR = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** Whether `name` is an attribute Flox can build (letters, digits, `_`, `'`, `-`; no path). */
export function isAttrName(name: string): boolean {
  return ATTR.test(name);
}

/** The attribute `.flox/pkgs/NAME.nix` defines, or undefined when NAME cannot be one (`my pkg`). */
function attrOfFile(path: string): string | undefined {
  const stem = basename(path).replace(/\.nix$/, "");
  return ATTR.test(stem) ? stem : undefined;
}

/** Reads and parses every package file under .flox/pkgs/ (a syntax error is a KitError naming it). */
export async function loadPackages(root: string): Promise<PackageFile[]> {
  const out: PackageFile[] = [];
  for (const p of await packageFileRefs(root)) {
    if (isMainVariant(p.attr)) continue;
    out.push(await loadPackage(root, p.abs, p));
  }
  return out;
}

/**
 * Reads and parses one package file; `found` (from the folder's listing) gives the name Flox
 * sees it under and its attribute, which a link or `NAME/default.nix` does not show in `abs`.
 */
export async function loadPackage(
  root: string,
  abs: string,
  found?: { file: string; attr: string },
): Promise<PackageFile> {
  const file = found?.file ?? relative(root, abs);
  const text = await readText(abs, file);
  return {
    abs,
    file,
    text,
    info: readPackage(parseNix(text, file)),
    attr: found
      ? (ATTR.test(found.attr) ? found.attr : undefined)
      : attrOfFile(abs),
  };
}

const norm = (s: string) => normalizeName(s);

/** The file building `pname` (by its pname binding, else by its attribute). */
export function byPname(
  pkgs: PackageFile[],
  pname: string,
  version?: string,
): PackageFile | undefined {
  // A variant build (comfyui-cuda) is comfyui.nix built again: its fixes go there.
  const n = norm(fileAttrOf(pname));
  const hits = pkgs.filter((p) =>
    (p.info.pname !== undefined && norm(p.info.pname) === n) ||
    (p.attr !== undefined && norm(p.attr) === n)
  );
  return hits.find((p) => version && p.info.version === version) ?? hits[0];
}

/** The file a derivation name (`python3.12-whispers-2.3.0`, `viu-3.1.0`) is built from. */
export function byDerivation(
  pkgs: PackageFile[],
  drv: string | undefined,
): PackageFile | undefined {
  if (!drv) return undefined;
  const { pname, version } = packageOfDerivation(drv);
  return byPname(pkgs, pname, version);
}

/** The file a Nix position (`/nix/store/…-source/.flox/pkgs/comfyui.nix:33`) points at. */
export function byPosition(
  pkgs: PackageFile[],
  root: string,
  at: string | undefined,
): PackageFile | undefined {
  const m = at?.match(/(?:^|\/)(\.flox\/pkgs\/.+?\.nix)(?::\d+)*$/);
  if (!m) return undefined;
  const abs = join(root, m[1]!);
  return pkgs.find((p) => p.abs === abs);
}

/** Files whose pythonImportsCheck names `module` (or its top-level package). */
export function byImportName(
  pkgs: PackageFile[],
  module: string,
): PackageFile[] {
  const top = module.split(".")[0]!;
  return pkgs.filter((p) =>
    (p.info.pythonImportsCheck ?? []).some((m) =>
      m === module || m === top || m.split(".")[0] === top
    )
  );
}

/** The dependency list a package adds run-time dependencies to. */
export function dependencyBinding(p: PackageFile): string {
  if (p.info.lists.has("dependencies")) return "dependencies";
  return "propagatedBuildInputs";
}
