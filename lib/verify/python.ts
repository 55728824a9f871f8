// Checklist section "Python packages": every buildPythonPackage/Application has a
// pythonImportsCheck (ComfyUI's script-only application aside) and a licence, and every platform
// list names real Nix systems.
import { NIXPKGS_LICENSES } from "../repo/paths.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTextIfExists } from "../kit/fsutil.ts";
import { findSystemLists } from "../nix/lists.ts";
import { licenseAttrs, licenseWhere } from "./python_meta.ts";
import type { Add, LicenseList, LicenseProblem, PkgFile } from "./types.ts";

const S = "Python packages";

/** Nix systems nixpkgs knows (lib.systems.doubles, the common part). */
const NIX_SYSTEMS = new Set([
  "x86_64-linux",
  "aarch64-linux",
  "i686-linux",
  "armv6l-linux",
  "armv7l-linux",
  "armv7a-linux",
  "riscv64-linux",
  "powerpc64le-linux",
  "s390x-linux",
  "loongarch64-linux",
  "mipsel-linux",
  "x86_64-darwin",
  "aarch64-darwin",
  "x86_64-freebsd",
  "aarch64-freebsd",
  "i686-freebsd",
  "x86_64-netbsd",
  "x86_64-openbsd",
  "x86_64-windows",
  "i686-windows",
  "wasm32-wasi",
  "wasm64-wasi",
]);

/** Runs the section's checks over every parsed package file. */
export function checkPython(
  pkgs: PkgFile[],
  add: Add,
  licenses?: LicenseList | LicenseProblem,
): void {
  const list = licenses && "names" in licenses ? licenses : undefined;
  if (licenses && "problem" in licenses) {
    add(
      S,
      licenses.level,
      licenses.problem,
      NIXPKGS_LICENSES,
      "regenerate it with deno task update-nixpkgs-index, or restore it from git",
    );
  }
  for (const p of pkgs) {
    if (!p.info || !p.file) continue;
    checkImportsAndLicense(p, add);
    if (list) checkLicenseNames(p, list, add);
    checkSystems(p, add);
  }
}

/** The kit's own copy of nixpkgs-licenses.json. */
const KIT_LICENSES = fileURLToPath(
  new URL("../../nixpkgs-licenses.json", import.meta.url),
);

/**
 * Reads nixpkgs-licenses.json (the repository's, else the kit's own copy at `kitCopy`); when
 * neither is usable, why (licence names then go unchecked, which verify must say).
 */
export async function readLicenseList(
  root: string,
  kitCopy = KIT_LICENSES,
): Promise<LicenseList | LicenseProblem> {
  const text = await readTextIfExists(join(root, NIXPKGS_LICENSES)) ??
    await readTextIfExists(kitCopy);
  if (text === undefined) {
    return {
      level: "warning",
      problem: "missing: licence names are not checked",
    };
  }
  let d: { licenses?: unknown; deprecated?: unknown };
  try {
    d = JSON.parse(text);
  } catch {
    return {
      level: "error",
      problem: "not valid JSON: licence names are not checked",
    };
  }
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  const names = strings(d?.licenses);
  if (names.length === 0) {
    return {
      level: "error",
      problem:
        'no "licenses" list of names (nixpkgs\' lib.licenses): licence names are not checked',
    };
  }
  return { names: new Set(names), deprecated: new Set(strings(d.deprecated)) };
}

/** Every `licenses.X` in meta.license is an attribute of nixpkgs' lib.licenses. */
function checkLicenseNames(
  p: PkgFile,
  list: LicenseList,
  add: Add,
): void {
  const expr = p.info?.license;
  if (!expr) return;
  const where = licenseWhere(p);
  for (const a of licenseAttrs(expr)) {
    if (!list.names.has(a)) {
      const near = [...list.names].find((n) =>
        n.toLowerCase() === a.toLowerCase()
      );
      add(
        S,
        "error",
        `licenses.${a} is not a nixpkgs licence`,
        where,
        near
          ? `use licenses.${near}`
          : "use an attribute of nixpkgs' lib/licenses.nix (see nixpkgs-licenses.json)",
      );
    } else if (list.deprecated.has(a)) {
      add(
        S,
        "warning",
        `licenses.${a} is a deprecated alias`,
        where,
        `use licenses.${a}Only or licenses.${a}Plus, as the licence notice says`,
      );
    }
  }
}

/** pythonImportsCheck present (or exempt), meta.license present. */
export function checkImportsAndLicense(p: PkgFile, add: Add): void {
  const info = p.info;
  if (!info) return;
  const builder = info.builder ?? "";
  if (!/build(Python(Package|Application))$/.test(builder)) return;
  const line = info.attrs.get("pythonImportsCheck")?.line;
  const where = line ? `${p.rel}:${line}` : p.rel;
  const checks = info.pythonImportsCheck ?? [];
  // An application with format = "other" (today's spelling: pyproject = false) installs
  // scripts, not an importable module: ComfyUI's main.py is run, never imported, so it is exempt.
  const exempt = /buildPythonApplication$/.test(builder) &&
    (info.format === "other" || info.pyproject === false);
  if (checks.length > 0) {
    add(S, "ok", `pythonImportsCheck: ${checks.join(", ")}`, where);
  } else if (exempt) {
    add(
      S,
      "ok",
      `pythonImportsCheck not required (application with ${
        info.pyproject === false ? "pyproject = false" : 'format = "other"'
      })`,
      where,
    );
  } else {
    add(
      S,
      "error",
      "no pythonImportsCheck",
      where,
      `add pythonImportsCheck = [ "${
        (info.pname ?? p.name).replace(/-/g, "_")
      }" ];`,
    );
  }
  if (info.license === undefined) {
    add(
      S,
      "warning",
      "no meta.license",
      p.rel,
      "add meta.license (deno task new-package reads it from the metadata)",
    );
  }
}

/** Every platform list names Nix systems (`x86_64-macos` → use `x86_64-darwin`). */
function checkSystems(p: PkgFile, add: Add): void {
  if (!p.file) return;
  for (const list of findSystemLists(p.file)) {
    for (const s of list.systems) {
      if (NIX_SYSTEMS.has(s.name)) continue;
      const guess = closestSystem(s.name);
      add(
        S,
        "error",
        `"${s.name}" is not a Nix system`,
        `${p.rel}:${s.line}`,
        guess
          ? `use "${guess}"`
          : `use one of x86_64-linux, aarch64-linux, x86_64-darwin, aarch64-darwin`,
      );
    }
    if (list.systems.every((s) => NIX_SYSTEMS.has(s.name))) {
      add(
        S,
        "ok",
        `platforms ${list.systems.map((s) => s.name).join(" ")}`,
        `${p.rel}:${list.line}`,
      );
    }
  }
}

/** The known system closest to a misspelt one (`x86_64-macos` → `x86_64-darwin`). */
export function closestSystem(name: string): string | undefined {
  const n = name.toLowerCase().replace(/macos|osx|apple/, "darwin")
    .replace(/^arm64/, "aarch64").replace(/^amd64|^x64|^x86-64/, "x86_64")
    .replace(/gnu$|-gnu$/, "").replace(/_linux$/, "-linux");
  if (NIX_SYSTEMS.has(n)) return n;
  let best: string | undefined, bestD = 4;
  for (const s of NIX_SYSTEMS) {
    const d = distance(n, s);
    if (d < bestD) [best, bestD] = [s, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(
        dp[j]! + 1,
        dp[j - 1]! + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
