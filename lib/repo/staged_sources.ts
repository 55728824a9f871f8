// The vendored-source set as a Changeset will leave it: the one place that decides which
// package file uses a source in .flox/sources/, drops a source once none does, and stages
// sources-manifest.json with SHA256SUMS.txt. new-package, bump-comfyui and remove-package stage
// through it, and apply under the sources lock with `applyWithSourcesLock`.
//
//   const cs = new Changeset(root);
//   cs.remove(".flox/pkgs/spandrel.nix");
//   const drop = await stageSourceDrop(cs, "spandrel-0.4.0.tar.gz");
//   await applyWithSourcesLock(cs);
import { dirname, join, normalize } from "node:path";
import type { Applied, Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { tryParseNix } from "../nix/parse.ts";
import { type PackageInfo, readPackage } from "../nix/query.ts";
import { codeOnly } from "../nix/syntax.ts";
import {
  emptyManifest,
  type Manifest,
  parseManifest,
  renderSha256Sums,
  serializeManifest,
  type SourceEntry,
} from "./manifest.ts";
import { acquireLock } from "./lock.ts";
import {
  discoverPackageFiles,
  type DiscoveryProblems,
} from "./package_files.ts";
import {
  PKGS_DIR,
  repoPaths,
  sourceFile,
  SOURCES_DIR,
  SOURCES_MANIFEST,
  SUMS_FILE,
} from "./paths.ts";

/** sources-manifest.json as it will be after the staged changes (empty when there is none). */
export async function stagedManifest(cs: Changeset): Promise<Manifest> {
  const text = await cs.readText(SOURCES_MANIFEST);
  return text === undefined
    ? emptyManifest()
    : parseManifest(text, SOURCES_MANIFEST);
}

/** Stages `m` as sources-manifest.json and its SHA256SUMS.txt. */
export function stageManifest(cs: Changeset, m: Manifest): void {
  // deno.json lets the tasks write sources-manifest.json but not the root: its temporary and
  // saved copies live in .flox/sources (same file system).
  cs.write(SOURCES_MANIFEST, serializeManifest(m), { tempDir: SOURCES_DIR });
  cs.write(SUMS_FILE, renderSha256Sums(m));
}

/**
 * The `.flox/sources` file a package's `src` names, when it is a path into that folder
 * (`${pname}-${version}` and the like resolved); `pkgFile` is where Nix reads the package file
 * from, root-relative: for a symlink its target, whose folder relative paths start at (Nix 2.8
 * resolves them so). Given the file's text, a file that does not parse names none.
 */
export function vendoredFileOf(
  pkg: PackageInfo | string,
  pkgFile: string,
): string | undefined {
  let info = pkg;
  if (typeof info === "string") {
    const nix = tryParseNix(info, pkgFile);
    if (nix instanceof KitError) return undefined;
    info = readPackage(nix);
  }
  const src = info.src;
  if (src?.fetcher !== "path" || src.resolvedPath === undefined) {
    return undefined;
  }
  const target = normalize(join(dirname(pkgFile), src.resolvedPath));
  return dirname(target) === SOURCES_DIR
    ? target.slice(SOURCES_DIR.length + 1)
    : undefined;
}

/**
 * True when the package file `path` with `text` uses the vendored `file`: its src resolves to
 * it, or its code (comments left out) names it. A file that does not parse counts as a user
 * when its text names the file at all: a source is never dropped on a guess. `at` is where Nix
 * reads the file from when `path` is a symlink (see {@link vendoredFileOf}).
 */
export function usesSource(
  text: string,
  path: string,
  file: string,
  at = path,
): boolean {
  const nix = tryParseNix(text, path);
  if (nix instanceof KitError) return text.includes(file);
  return codeOnly(nix).includes(file) ||
    vendoredFileOf(readPackage(nix), at) === file;
}

/**
 * Every package file (root-relative) as staged, plus those on disk as Flox finds them
 * (`lib/repo/package_files.ts`: `*.nix`, `*\/default.nix`, symlinks followed), each with where
 * Nix reads it from (a symlink's target, root-relative; a staged file is read where it is).
 */
async function packageFiles(cs: Changeset): Promise<Map<string, string>> {
  const files = new Map(
    cs.paths().filter((p) => p.startsWith(`${PKGS_DIR}/`) && p.endsWith(".nix"))
      .map((p) => [p, p]),
  );
  // Dangling links and duplicates are verify's to report; a missing folder has no users.
  const problems: DiscoveryProblems = { dangling: [], duplicates: [] };
  const found = await discoverPackageFiles(cs.root, problems).catch((e) => {
    if (e instanceof KitError) return [];
    throw e;
  });
  for (const p of found) if (!files.has(p.file)) files.set(p.file, p.at);
  return new Map([...files].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The package files (root-relative, sorted) that use the vendored `file`, read through `cs`
 * so staged changes count; `pending` overrides texts not staged yet.
 */
export async function sourceUsers(
  cs: Changeset,
  file: string,
  pending: Readonly<Record<string, string>> = {},
): Promise<string[]> {
  const users: string[] = [];
  for (const [rel, at] of await packageFiles(cs)) {
    const text = pending[rel] ?? await readStaged(cs, rel);
    if (text !== undefined && usesSource(text, rel, file, at)) users.push(rel);
  }
  return users;
}

/** A package file as staged; one that vanished since it was listed is no user. */
async function readStaged(
  cs: Changeset,
  rel: string,
): Promise<string | undefined> {
  try {
    return await cs.readText(rel);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** What {@link stageSourceDrop} staged, or why it left the source. */
interface SourceDrop {
  /** Package files (relative) that still use the file: then nothing was staged. */
  usedBy: string[];
  /** The vendored file staged for removal (relative), when it exists. */
  removed?: string | undefined;
  /** Manifest entries dropped ("name version (file)"). */
  entries: string[];
}

/**
 * Stages the removal of the vendored `file`, its manifest entry and its SHA256SUMS.txt line,
 * unless a package file (as staged, with `pending` texts) still uses it. Several drops in one
 * Changeset compose.
 */
export async function stageSourceDrop(
  cs: Changeset,
  file: string,
  pending: Readonly<Record<string, string>> = {},
): Promise<SourceDrop> {
  const usedBy = await sourceUsers(cs, file, pending);
  const drop: SourceDrop = { usedBy, entries: [] };
  if (usedBy.length) return drop;
  const m = await stagedManifest(cs);
  const gone: SourceEntry[] = m.sources.filter((e) => e.file === file);
  if (gone.length) {
    stageManifest(cs, {
      ...m,
      sources: m.sources.filter((e) => e.file !== file),
    });
    drop.entries = gone.map((e) => `${e.name} ${e.version} (${e.file})`);
  }
  const rel = sourceFile(file);
  if (await Deno.lstat(join(cs.root, rel)).then(() => true, () => false)) {
    cs.remove(rel, { tempDir: SOURCES_DIR });
    drop.removed = rel;
  }
  return drop;
}

/**
 * Applies `cs`, all or nothing, holding the sources lock (fetch-source takes the same) when it
 * changes the manifest or .flox/sources/.
 */
export async function applyWithSourcesLock(cs: Changeset): Promise<Applied[]> {
  if (!cs.size) return [];
  const paths = repoPaths(cs.root);
  const touchesSources = cs.paths().some((p) =>
    p === SOURCES_MANIFEST || p.startsWith(`${SOURCES_DIR}/`)
  );
  const haveDir = await Deno.stat(paths.sourcesDir).then(
    (i) => i.isDirectory,
    () => false,
  );
  if (!touchesSources || !haveDir) return await cs.apply();
  await using _lock = await acquireLock(paths.lock);
  return await cs.apply();
}
