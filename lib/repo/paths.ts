// Every path of a comfykit repository, in one place, and the one meaning of `--root`.
//
//   const root = await resolveRoot(values.root);   // --root, else $COMFYKIT_ROOT, else cwd
//   const file = join(root, MAIN_PACKAGE);          // relative names for messages, joined for I/O
//   const p = repoPaths(root);                      // the same, absolute
//
// Relative names (".flox/pkgs/comfyui.nix") are what messages show; `repoPaths()` joins them to a
// root for reading and writing. Nothing else in lib/ or tasks/ spells these names out.
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { argPath } from "../kit/cli.ts";
import { KitError } from "../kit/errors.ts";
import { envGet, type EnvLike } from "../kit/env.ts";

/** Package files Flox builds (`<attr>.nix`). */
export const PKGS_DIR = ".flox/pkgs";
/** Vendored sources. */
export const SOURCES_DIR = ".flox/sources";
/** The checksum list of the vendored sources, regenerated from the manifest. */
export const SUMS_FILE = `${SOURCES_DIR}/SHA256SUMS.txt`;
/** The lock file that serialises writers of the sources and the manifest. */
const SOURCES_LOCK = `${SOURCES_DIR}/.lock`;
/** What every vendored source is and where it came from. */
export const SOURCES_MANIFEST = "sources-manifest.json";
/** The offline nixpkgs index (python3Packages attribute -> version). */
export const NIXPKGS_INDEX = "nixpkgs-index.json";
/** The attribute names of nixpkgs' lib.licenses (verify's check of meta.license). */
export const NIXPKGS_LICENSES = "nixpkgs-licenses.json";
/** The main package's attribute and its file. */
export const MAIN_ATTR = "comfyui";
export const MAIN_PACKAGE = `${PKGS_DIR}/${MAIN_ATTR}.nix`;
/**
 * Builds of the main package against another torch (attribute names): each file calls
 * comfyui.nix and every other package file again with its own python3, so none is a package
 * of the set, and the kit's package-by-package work (new-package, remove-package, outdated,
 * verify's per-package checks) leaves them alone.
 */
export const MAIN_VARIANTS: readonly string[] = ["comfyui-cuda"];

/** Whether `attr` (a file name under .flox/pkgs without `.nix`) is a variant of the main package. */
export function isMainVariant(attr: string): boolean {
  return MAIN_VARIANTS.includes(attr);
}

/** The attribute whose file builds `attr`: the main package's for a variant, else `attr`. */
export function fileAttrOf(attr: string): string {
  return isMainVariant(attr) ? MAIN_ATTR : attr;
}
/** The Flox environment manifest and its lock. */
export const FLOX_MANIFEST = ".flox/env/manifest.toml";
export const FLOX_LOCK = ".flox/env/manifest.lock";
/** The Flox environment's identity file. */
export const FLOX_ENV_JSON = ".flox/env.json";
/** Templates new-package renders (a repository may carry its own). */
const TEMPLATES_DIR = "templates";
export const PACKAGE_TEMPLATE = `${TEMPLATES_DIR}/package.nix`;
/** freeze-deps' default output. */
export const REQUIREMENTS_LOCK = "requirements.lock.txt";
/** Workflow lock files (`lock-workflow`), `<name>.lock.json`. */
export const WORKFLOWS_DIR = "workflows";

/** The package file of `attr`, relative to the root. */
export function packageFile(attr: string): string {
  return `${PKGS_DIR}/${attr}.nix`;
}

/** The vendored file `file`, relative to the root. */
export function sourceFile(file: string): string {
  return `${SOURCES_DIR}/${file}`;
}

/** The repository this kit is checked out in (where `deno task` runs every task). */
export const KIT_ROOT = fileURLToPath(new URL("../..", import.meta.url))
  .replace(/\/$/, "");

/**
 * The offline nixpkgs index every task reads under `--root DIR` (when Nix and flox cannot
 * answer and no --nixpkgs-index is given): DIR's own nixpkgs-index.json when it has one, else
 * the kit's.
 */
export function nixpkgsIndexFor(root: string): string {
  const own = join(root, NIXPKGS_INDEX);
  try {
    if (Deno.statSync(own).isFile) return own;
  } catch {
    // none: the kit's
  }
  return join(KIT_ROOT, NIXPKGS_INDEX);
}

/** The absolute paths of the repository at `root`. */
export interface RepoPaths {
  root: string;
  pkgsDir: string;
  sourcesDir: string;
  manifest: string;
  sums: string;
  lock: string;
  mainPackage: string;
  nixpkgsIndex: string;
  floxManifest: string;
  floxLock: string;
  templatesDir: string;
}

/** The paths of the repository at `root`. */
export function repoPaths(root: string): RepoPaths {
  return {
    root,
    pkgsDir: join(root, PKGS_DIR),
    sourcesDir: join(root, SOURCES_DIR),
    manifest: join(root, SOURCES_MANIFEST),
    sums: join(root, SUMS_FILE),
    lock: join(root, SOURCES_LOCK),
    mainPackage: join(root, MAIN_PACKAGE),
    nixpkgsIndex: join(root, NIXPKGS_INDEX),
    floxManifest: join(root, FLOX_MANIFEST),
    floxLock: join(root, FLOX_LOCK),
    templatesDir: join(root, TEMPLATES_DIR),
  };
}

/** The `--root` line every task's help shows (same words everywhere). */
export const ROOT_HELP =
  "repository root (default: $COMFYKIT_ROOT, else the current directory, which is the project root under deno task)";

/**
 * The repository root every task works on: `--root DIR` (resolved against the folder it was
 * typed in), else `$COMFYKIT_ROOT`, else the current directory (the project root under
 * `deno task`). A root that is missing or not a directory is a KitError naming where it came
 * from.
 */
export async function resolveRoot(
  flag: string | undefined,
  env: EnvLike = Deno.env,
): Promise<string> {
  const fromEnv = flag === undefined ? envGet(env, "COMFYKIT_ROOT") : undefined;
  const given = flag ?? fromEnv;
  const root = flag !== undefined
    ? argPath(flag)
    : resolve(fromEnv || Deno.cwd());
  if (given === undefined || given === "") return root;
  const name = flag !== undefined ? "--root" : "COMFYKIT_ROOT";
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(root);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`${name} "${root}" does not exist`);
    }
    throw e;
  }
  if (!st.isDirectory) {
    throw new KitError(`${name} "${root}" is not a directory`);
  }
  return root;
}

/** Whether `a` and `b` name the same folder (symlinks followed when they exist). */
function sameDir(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * Refuses, in one line and before any question or download, a run that could not write every
 * one of `targets` (absolute paths under `root`): `no write access to "<target>": <hint>`.
 * Under `deno task` each task may write only its own repository's files (and scratch space
 * such as /tmp, never another repository there): with write access so scoped, a root other
 * than the folder the task runs in is refused as well. Deno is asked without prompting.
 */
export async function checkWriteAccess(
  root: string,
  targets: string[],
  hint: string,
): Promise<void> {
  const scoped =
    (await Deno.permissions.query({ name: "write" })).state !== "granted";
  const foreign = scoped && !sameDir(root, Deno.cwd());
  for (const path of targets) {
    const { state } = await Deno.permissions.query({ name: "write", path });
    if (foreign || state !== "granted") {
      throw new KitError(`No write access to "${path}": ${hint}`);
    }
  }
}
