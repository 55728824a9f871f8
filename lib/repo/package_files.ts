// Which files under .flox/pkgs/ are packages, the way Flox finds them: `<attr>.nix` and
// `<attr>/default.nix`, symlinks followed (Flox's NEF calls each with callPackage under the file
// or folder name). The one discovery every task uses: verify, remove-package, outdated, release.
//
//   for (const p of await discoverPackageFiles(root)) console.log(p.attr, p.file);
import { join, relative } from "node:path";
import { KitError } from "../kit/errors.ts";
import { PKGS_DIR } from "./paths.ts";

/** One package file Flox builds. */
export interface PackageFileRef {
  /** The attribute: the file name without `.nix`, or the folder's name. */
  attr: string;
  /** Relative to the root, as Flox sees it (`.flox/pkgs/foo.nix`, `.flox/pkgs/foo/default.nix`). */
  file: string;
  /** The file read, symlinks resolved (Nix resolves relative paths from the target's folder). */
  abs: string;
  /** `abs` relative to the root (`file` unless a symlink led elsewhere): where `./x` starts. */
  at: string;
}

/** What {@link discoverPackageFiles} found that Flox cannot use. */
export interface DiscoveryProblems {
  /** `.nix` symlinks whose target is missing (relative paths). */
  dangling: string[];
  /** Attributes defined twice (`foo.nix` and `foo/default.nix`), with both files. */
  duplicates: { attr: string; files: [string, string] }[];
}

/**
 * Every package file under `root`'s `.flox/pkgs/`, sorted by path. A missing folder is a KitError;
 * dangling symlinks and duplicated attributes are returned in `problems` when given, and
 * otherwise are a KitError (a caller that reads the set must not guess which file Flox means).
 */
export async function discoverPackageFiles(
  root: string,
  problems?: DiscoveryProblems,
): Promise<PackageFileRef[]> {
  const dir = join(root, PKGS_DIR);
  const found: PackageFileRef[] = [];
  let canonical: string | undefined;
  const realRoot = async () => canonical ??= await Deno.realPath(root);
  const dangling: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const abs = join(dir, e.name);
      const st = e.isSymlink
        ? await Deno.stat(abs).catch(() => undefined)
        : { isFile: e.isFile, isDirectory: e.isDirectory };
      if (!st) {
        if (e.name.endsWith(".nix")) dangling.push(`${PKGS_DIR}/${e.name}`);
        continue;
      }
      if (st.isFile && e.name.endsWith(".nix")) {
        const file = `${PKGS_DIR}/${e.name}`;
        const real = e.isSymlink ? await Deno.realPath(abs) : undefined;
        found.push({
          attr: e.name.slice(0, -4),
          file,
          abs: real ?? abs,
          at: real ? relative(await realRoot(), real) : file,
        });
      } else if (st.isDirectory) {
        const inner = join(abs, "default.nix");
        const ist = await Deno.stat(inner).catch(() => undefined);
        if (ist?.isFile) {
          const real = await Deno.realPath(inner);
          found.push({
            attr: e.name,
            file: `${PKGS_DIR}/${e.name}/default.nix`,
            abs: real,
            at: relative(await realRoot(), real),
          });
        }
      }
    }
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotADirectory
    ) {
      throw new KitError(
        `${PKGS_DIR} not found under "${root}": pass --root DIR`,
      );
    }
    throw e;
  }
  found.sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  const duplicates: DiscoveryProblems["duplicates"] = [];
  const seen = new Map<string, string>();
  for (const p of found) {
    const other = seen.get(p.attr);
    if (other) duplicates.push({ attr: p.attr, files: [other, p.file] });
    else seen.set(p.attr, p.file);
  }
  dangling.sort();
  if (problems) {
    problems.dangling.push(...dangling);
    problems.duplicates.push(...duplicates);
    return found;
  }
  if (dangling.length) {
    throw new KitError(
      `${
        dangling[0]
      } is a dangling symlink: point it at a package file, or remove it`,
    );
  }
  if (duplicates.length) {
    const { attr, files: [a, b] } = duplicates[0]!;
    throw new KitError(
      `${a} and ${b} both define "${attr}": Flox cannot tell which to build; remove one`,
    );
  }
  return found;
}
