// new-package's writes, staged in one Changeset (lib/kit/changeset.ts) and applied at the end
// of the run: the package files, the vendored sources with sources-manifest.json and
// SHA256SUMS.txt (through lib/repo/staged_sources.ts), and the main package's wiring.
// Cancelling at any question before the end (the second package of --missing create included)
// therefore leaves the tree as it was.
//
//   const cs = new Changeset(root);
//   await stageVendor(cs, { path, name, version, sha256, force });
//   await stageWire(cs, { main, attr, custom: true });
//   await applyWithSourcesLock(cs); // lib/repo/staged_sources.ts
import { basename, join, relative } from "node:path";
import type { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { sha256File, toHex } from "../hash/sha256.ts";
import {
  isSafeFileName,
  type SourceEntry,
  upsertEntry,
} from "../repo/manifest.ts";
import { stagedManifest, stageManifest } from "../repo/staged_sources.ts";
import { pypiStableUrl } from "../repo/source_kinds/pypi.ts";
import { normalizeName } from "../python/names.ts";
import { addFormal } from "../nix/edit_formals.ts";
import { addListItem } from "../nix/edit_list.ts";
import { parseNix } from "../nix/parse.ts";
import type { NixSystem } from "../python/markers.ts";

/**
 * Stages the copy of a local wheel or sdist into `.flox/sources/` and its manifest entry (the
 * same bytes already recorded keep their recorded URL). Different bytes under the same name
 * are refused without `force`.
 */
export async function stageVendor(
  cs: Changeset,
  opts: {
    path: string;
    name: string;
    version: string;
    sha256: string;
    url?: string;
    force: boolean;
  },
): Promise<SourceEntry> {
  const file = basename(opts.path);
  if (!isSafeFileName(file)) {
    throw new KitError(`"${file}" is not a plain file name`);
  }
  const kind = file.endsWith(".whl") ? "pypi-wheel" : "pypi-sdist";
  const m = await stagedManifest(cs);
  const prior = m.sources.find((e) => e.file === file);
  const url = prior && prior.sha256 === opts.sha256 && prior.kind === kind
    ? prior.url
    : opts.url ?? pypiStableUrl(file);
  const rel = `.flox/sources/${file}`;
  const dest = join(cs.root, rel);
  const have = await sha256Of(dest);
  if (have !== undefined && have !== opts.sha256 && !opts.force) {
    throw new KitError(
      `${rel} exists with different bytes (sha256 ${have}, ${opts.path} has ${opts.sha256}): not overwriting it (rerun with --force)`,
    );
  }
  if (prior && prior.sha256 !== opts.sha256 && !opts.force) {
    throw new KitError(
      `sources-manifest.json records ${file} with sha256 ${prior.sha256}, not ${opts.sha256}: refusing to change the entry (rerun with --force)`,
    );
  }
  if (have !== opts.sha256 && relative(dest, opts.path) !== "") {
    cs.copy(rel, opts.path);
  }
  const entry: SourceEntry = {
    name: normalizeName(opts.name),
    version: opts.version,
    kind,
    file,
    url,
    sha256: opts.sha256,
    size: (await Deno.stat(opts.path)).size,
  };
  stageManifest(cs, upsertEntry(m, entry));
  return entry;
}

/**
 * Stages `attr` into the main package `main` (absolute): a custom package becomes a function
 * argument; every package joins the runtime list (`dependencies` when the file has one, else
 * `propagatedBuildInputs`), inside the block of its systems when it has some. Returns whether
 * the text changed and its diff context (before, after).
 */
export async function stageWire(
  cs: Changeset,
  opts: {
    main: string;
    attr: string;
    systems?: readonly NixSystem[] | undefined;
    custom: boolean;
  },
): Promise<{ changed: boolean; before: string; after: string }> {
  const mainRel = relative(cs.root, opts.main);
  const before = await cs.readText(opts.main);
  if (before === undefined) {
    throw new KitError(`${mainRel} does not exist`);
  }
  const list = /^\s*dependencies\s*=/m.test(before)
    ? "dependencies"
    : "propagatedBuildInputs";
  const withArg = opts.custom
    ? addFormal(before, opts.attr, { path: mainRel })
    : before;
  const after = addListItem(withArg, list, opts.attr, {
    path: mainRel,
    ...(opts.systems ? { systems: [...opts.systems] } : {}),
  });
  if (after === before) return { changed: false, before, after };
  parseNix(after, mainRel);
  cs.write(opts.main, after);
  return { changed: true, before, after };
}

async function sha256Of(path: string): Promise<string | undefined> {
  try {
    return toHex(await sha256File(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
