// The repository's package set as data: every package file under .flox/pkgs/ (the
// main package's comfyui.nix included, flagged; its variant builds, comfyui-cuda.nix, left out), with its version, where its source comes from
// (a vendored file and its manifest entry, fetchPypi, fetchFromGitHub) and which other custom
// packages it takes as arguments. Read only; outdated and remove-package build on it.
import { basename, isAbsolute, relative } from "node:path";
import { parseNix } from "../nix/parse.ts";
import { type PackageInfo, readPackage } from "../nix/query.ts";
import { isMainVariant, MAIN_ATTR, repoPaths } from "./paths.ts";
import { discoverPackageFiles } from "./package_files.ts";
import { variableUses } from "./wire.ts";
import { readManifest, type SourceEntry } from "./manifest.ts";

/** Where a custom package's source comes from. */
type PackageSource =
  | { kind: "vendored"; file: string; entry?: SourceEntry | undefined }
  | { kind: "pypi"; name: string }
  | { kind: "github"; owner: string; repo: string; rev?: string | undefined }
  | { kind: "other"; fetcher: string };

/** One `.flox/pkgs/<attr>.nix` (or `<attr>/default.nix`). */
export interface SetPackage {
  /** The attribute name: the file name without `.nix`, or the folder's name. */
  attr: string;
  /** The file, relative to the root, as Flox sees it. */
  file: string;
  /**
   * The file to edit, relative to the root: a symlink's target when it is inside the root (so an
   * edit keeps the link), else `file`.
   */
  target: string;
  text: string;
  info: PackageInfo;
  pname?: string | undefined;
  version?: string | undefined;
  source?: PackageSource | undefined;
  /** The other custom packages among its formal arguments. */
  takes: string[];
  isMain: boolean;
}

/** The whole set, sorted by attribute name, and the manifest it was read with. */
interface PackageSet {
  packages: SetPackage[];
  manifest: SourceEntry[];
}

/**
 * Reads every package file under `root`'s `.flox/pkgs/` (`<attr>.nix` and `<attr>/default.nix`,
 * symlinks followed, as Flox finds them); a file that does not parse is a KitError.
 */
export async function readPackageSet(root: string): Promise<PackageSet> {
  const manifest = (await readManifest(repoPaths(root).manifest)).sources;
  const files = (await discoverPackageFiles(root)).filter((f) =>
    !isMainVariant(f.attr)
  );
  const attrs = new Set(files.map((f) => f.attr));
  const realRoot = await Deno.realPath(root);
  const packages: SetPackage[] = [];
  for (const { attr, file, abs } of files) {
    const text = await Deno.readTextFile(abs).catch((e) => {
      // Removed since the folder was listed (another run): it is not part of the set.
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (text === undefined) continue;
    const info = readPackage(parseNix(text, file));
    const real = relative(realRoot, abs);
    packages.push({
      attr,
      file,
      target: real.startsWith("..") || isAbsolute(real) ? file : real,
      text,
      info,
      pname: info.pname,
      version: info.version,
      source: sourceOf(info, manifest),
      takes: info.formals.map((f) => f.name).filter((f) =>
        attrs.has(f) && f !== attr
      ),
      isMain: attr === MAIN_ATTR,
    });
  }
  return { packages, manifest };
}

/**
 * The custom packages `roots` need, directly or through each other (their arguments that are
 * packages of the set and that their code uses), sorted by attribute; `roots` themselves are
 * left out. An unwired
 * package (in .flox/pkgs/ but taken by nothing that is needed) is not among them.
 */
export function neededBy(
  set: PackageSet,
  roots: readonly string[],
): string[] {
  const byAttr = new Map(set.packages.map((p) => [p.attr, p]));
  const seen = new Set<string>(roots);
  const queue = [...roots];
  while (queue.length) {
    const pkg = byAttr.get(queue.shift()!);
    for (const dep of pkg?.takes ?? []) {
      // An argument the body never uses is not built with it.
      if (!seen.has(dep) && variableUses(pkg!.text, dep, pkg!.file).length) {
        seen.add(dep);
        queue.push(dep);
      }
    }
  }
  return [...seen].filter((a) => !roots.includes(a)).sort();
}

function sourceOf(
  info: PackageInfo,
  manifest: SourceEntry[],
): PackageSource | undefined {
  const src = info.src;
  if (!src) return undefined;
  const attr = (k: string) => src.attrs.get(k)?.value;
  if (src.fetcher === "path") {
    const p = src.resolvedPath ?? src.path ?? "";
    const file = basename(p);
    return {
      kind: "vendored",
      file,
      entry: manifest.find((e) => e.file === file),
    };
  }
  if (src.fetcher === "fetchPypi") {
    const name = attr("pname") ?? info.pname;
    return name
      ? { kind: "pypi", name }
      : { kind: "other", fetcher: src.fetcher };
  }
  if (src.fetcher === "fetchFromGitHub") {
    const owner = attr("owner"), repo = attr("repo");
    if (owner && repo) {
      return { kind: "github", owner, repo, rev: attr("tag") ?? attr("rev") };
    }
  }
  return { kind: "other", fetcher: src.fetcher };
}
