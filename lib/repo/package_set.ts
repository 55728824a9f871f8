// The repository's package set as data: every custom package file under .flox/pkgs/ (the
// main package's comfyui.nix included, flagged), with its version, where its source comes from
// (a vendored file and its manifest entry, fetchPypi, fetchFromGitHub) and which other custom
// packages it takes as arguments. Read only; outdated and remove-package build on it.
import { basename, join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { parseNix } from "../nix/parse.ts";
import { type PackageInfo, readPackage } from "../nix/query.ts";
import { MAIN_PACKAGE, packageFile, PKGS_DIR, repoPaths } from "./paths.ts";
import { readManifest, type SourceEntry } from "./manifest.ts";

/** Where a custom package's source comes from. */
type PackageSource =
  | { kind: "vendored"; file: string; entry?: SourceEntry | undefined }
  | { kind: "pypi"; name: string }
  | { kind: "github"; owner: string; repo: string; rev?: string | undefined }
  | { kind: "other"; fetcher: string };

/** One `.flox/pkgs/<attr>.nix`. */
export interface SetPackage {
  /** The attribute name: the file name without `.nix`. */
  attr: string;
  /** The file, relative to the root. */
  file: string;
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

/** Reads every `.flox/pkgs/*.nix` under `root`; a file that does not parse is a KitError. */
export async function readPackageSet(root: string): Promise<PackageSet> {
  const paths = repoPaths(root);
  const manifest = (await readManifest(paths.manifest)).sources;
  const dir = paths.pkgsDir;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".nix")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(
        `${PKGS_DIR} not found under "${root}": pass --root DIR`,
      );
    }
    throw e;
  }
  names.sort();
  const attrs = new Set(names.map((n) => n.slice(0, -4)));
  const packages: SetPackage[] = [];
  for (const name of names) {
    const file = packageFile(name.slice(0, -4));
    const text = await Deno.readTextFile(join(dir, name)).catch((e) => {
      // Removed since the folder was listed (another run): it is not part of the set.
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (text === undefined) continue;
    const info = readPackage(parseNix(text, file));
    packages.push({
      attr: name.slice(0, -4),
      file,
      text,
      info,
      pname: info.pname,
      version: info.version,
      source: sourceOf(info, manifest),
      takes: info.formals.map((f) => f.name).filter((f) =>
        attrs.has(f) && f !== name.slice(0, -4)
      ),
      isMain: file === MAIN_PACKAGE,
    });
  }
  return { packages, manifest };
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
