// Checklist section "Builds are in step": comfyui and its variant builds (comfyui-cuda.nix, see
// MAIN_VARIANTS) hold the same packages, each with one torch. A variant stays in step by calling
// every package file again in a scope of its own python3; what breaks that is read statically
// here: a variant taking a package from Flox's overlay (built with the CPU python3), a variant
// that does not call the set again, a package it leaves out, a package file reaching past
// `python3` for another Python's set, a package pinning one torch for every build. With Nix and
// a nixpkgs (builds_eval.ts) the builds are also evaluated and their torches counted.
import { KitError } from "../kit/errors.ts";
import { tryParseNix } from "../nix/parse.ts";
import { type PackageInfo, readPackage } from "../nix/query.ts";
import { MAIN_PACKAGE, MAIN_VARIANTS } from "../repo/paths.ts";
import { listPackageFiles } from "./parse.ts";
import type { Add, PkgFile, RunCommand } from "./types.ts";
import { depItems } from "./wiring.ts";
import { evaluateBuilds } from "./builds_eval.ts";

const S = "Builds are in step";

/** Arguments that reach another Python's package set than the one a build's scope replaces. */
const OTHER_PYTHON = /^python(\d*Packages|\d+)$/;
const SCOPED = new Set(["python3", "python3Packages"]);
/** torch attributes that fix one torch for every build. */
const FIXED_TORCH = new Set([
  "torch-bin",
  "torchvision-bin",
  "torchaudio-bin",
  "torchWithCuda",
  "torchWithoutCuda",
  "torchWithRocm",
]);

/** A package file read for this check. */
interface Read extends PkgFile {
  info: PackageInfo;
  text: string;
}

/** Reads the package files that parse (the parse section reports the others). */
async function readAll(root: string): Promise<Read[]> {
  const out: Read[] = [];
  for (const p of (await listPackageFiles(root)).pkgs) {
    const text = await Deno.readTextFile(p.abs);
    const file = tryParseNix(text, p.rel);
    if (file instanceof KitError) continue;
    out.push({ ...p, file, info: readPackage(file), text });
  }
  return out;
}

/** 1-based line of `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** How checkBuilds may evaluate: the command runner and a nixpkgs (path or `<nixpkgs>`). */
interface BuildsEval {
  run: RunCommand;
  nixpkgs: string;
  systems?: readonly string[];
}

/**
 * The ways a build would fall out of step, read statically (see the file comment); then, with
 * `nix` (nix-instantiate and a nixpkgs), every build evaluated and its torches counted.
 */
export async function checkBuilds(
  root: string,
  add: Add,
  nix?: BuildsEval,
): Promise<void> {
  const files = await readAll(root);
  const main = files.find((p) => p.rel === MAIN_PACKAGE);
  const variants = files.filter((p) => MAIN_VARIANTS.includes(p.name));
  const set = files.filter((p) => !MAIN_VARIANTS.includes(p.name));
  const names = new Set(set.map((p) => p.name));
  let problems = 0;
  const count: Add = (...a) => {
    if (a[1] !== "ok") problems++;
    add(...a);
  };
  for (const p of set) checkPackage(p, variants.length > 0, count);
  if (!main) return;
  for (const v of variants) checkVariant(v, main, names, count);
  const builds = [main, ...variants].map((p) => p.name);
  if (!problems) {
    add(
      S,
      "ok",
      `${builds.join(", ")}: the same ${
        set.length - 1
      } package files, one python3 (and torch) each`,
      MAIN_PACKAGE,
    );
  }
  if (nix) await evaluateBuilds(root, { ...nix, builds }, add);
  else {
    add(
      S,
      "ok",
      "not evaluated with Nix: no nix-instantiate or nixpkgs here (set COMFYKIT_NIXPKGS to a nixpkgs checkout)",
      MAIN_PACKAGE,
    );
  }
}

/** A package file of the set: it must take its Python packages from `python3`. */
function checkPackage(p: Read, haveVariants: boolean, add: Add): void {
  for (const f of p.info.formals) {
    if (SCOPED.has(f.name) || !OTHER_PYTHON.test(f.name)) continue;
    add(
      S,
      haveVariants ? "error" : "warning",
      `${p.name} takes ${f.name}, which the builds do not replace: in comfyui-cuda its torch would be nixpkgs' CPU torch, a second torch next to the CUDA one`,
      `${p.rel}:${f.line}`,
      `take python3 instead and write python3.pkgs.<name> (each build passes its own python3)`,
    );
  }
  for (const { item } of depItems(p.info)) {
    const name = item.name.split(".").pop()!;
    if (!FIXED_TORCH.has(name)) continue;
    add(
      S,
      "error",
      `${p.name} asks for ${name}: every build would hold it next to its own torch (two torches in one Python environment)`,
      `${p.rel}:${item.line}`,
      `write ${
        name.replace(/-bin$|With(out)?(Cuda|Rocm)$/, "")
      }: each build picks its torch (comfyui-cuda.nix's packageOverrides)`,
    );
  }
}

/** A variant build against the main package and the package set. */
function checkVariant(
  v: Read,
  main: Read,
  names: Set<string>,
  add: Add,
): void {
  for (const f of v.info.formals) {
    if (!names.has(f.name)) continue;
    add(
      S,
      "error",
      `${v.name} takes ${f.name} from Flox's overlay, where it is built with the CPU python3: ${v.name}'s closure would hold a second (CPU) torch`,
      `${v.rel}:${f.line}`,
      `drop the argument: ${v.name}.nix calls every package file itself, with its CUDA python3 (docs/flox.md)`,
    );
  }
  const recalls = /builtins\.readDir\s+\.\/\./.test(v.text) &&
    /\bnewScope\b/.test(v.text);
  if (!recalls) {
    for (const f of main.info.formals) {
      if (!names.has(f.name)) continue;
      add(
        S,
        "error",
        `${f.name} is wired into ${main.name} but not into ${v.name}: ${v.rel} does not call the package set again`,
        `${main.rel}:${f.line}`,
        `restore ${v.rel} from git: it calls every .flox/pkgs file in a scope of its CUDA python3 (lib.makeScope newScope over builtins.readDir ./.)`,
      );
    }
  }
  if (!/packageOverrides/.test(v.text) || !/\btorch\s*=/.test(v.text)) {
    add(
      S,
      "error",
      `${v.name}'s python3 keeps nixpkgs' torch (no packageOverrides setting torch): it would be a CPU build`,
      v.rel,
      `restore ${v.rel} from git (python3.override { packageOverrides = …; })`,
    );
  }
  // The files the variant skips (its `variants` list): only variant files may be there.
  const m = /\bvariants\s*=\s*\[([^\]]*)\]/.exec(v.text);
  if (!m) return;
  const listed = new Set<string>();
  for (const s of m[1]!.matchAll(/"([^"]*)"/g)) {
    listed.add(s[1]!);
    if (!names.has(s[1]!)) continue;
    const at = m.index + (s.index ?? 0) + m[0].indexOf(m[1]!);
    add(
      S,
      "error",
      `${
        s[1]
      } is wired into ${main.name} but ${v.name} does not build it (its \`variants\` list skips it): ${v.name} would take the CPU build from Flox's overlay, a second torch`,
      `${v.rel}:${lineAt(v.text, at)}`,
      `remove "${s[1]}" from that list: it names the variant files only (${
        MAIN_VARIANTS.join(", ")
      })`,
    );
  }
  for (const other of MAIN_VARIANTS) {
    if (listed.has(other)) continue;
    add(
      S,
      "error",
      `${v.name} would build ${other}.nix as a package of its set`,
      `${v.rel}:${lineAt(v.text, m.index)}`,
      `add "${other}" to the variants list of ${v.rel}`,
    );
  }
}
