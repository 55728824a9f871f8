// The file work of an `update-custom` action, staged in a Changeset: the new release planned
// on PyPI and fetched into the download cache (the part that can fail, done first), then its
// copy into .flox/sources/, its manifest entry and SHA256SUMS.txt line, the package file's
// version, src and header, and the old release's file and entry dropped once no package
// file uses it any more. Nothing reaches the tree before the bump applies its Changeset.
import { basename } from "node:path";
import type { Action } from "./plan.ts";
import { pinnedVersion } from "./plan.ts";
import { KitError } from "../kit/errors.ts";
import { info } from "../kit/log.ts";
import type { Changeset } from "../kit/changeset.ts";
import { parseHash, toSri } from "../hash/sha256.ts";
import { setAttrExpr, setStringAttr } from "../nix/edit.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import { type SourceEntry, upsertEntry } from "../repo/manifest.ts";
import { sourceFile } from "../repo/paths.ts";
import {
  sourceUsers,
  stagedManifest,
  stageManifest,
  stageSourceDrop,
} from "../repo/staged_sources.ts";
import { executePlan } from "../repo/vendor.ts";
import { fetchToCache } from "../repo/fetch_cache.ts";
import { planPypi } from "../repo/source_kinds/pypi.ts";

/** The new release of a custom package, as vendored. */
interface CustomRelease {
  version: string;
  /** The vendored file name (in .flox/sources/). */
  file: string;
  /** Its sha256, hex. */
  sha256: string;
  /** Where it came from (for a fetchurl src). */
  url: string;
}

type UpdateCustom = Extract<Action, { kind: "update-custom" }>;

/**
 * Plans the new release on PyPI and (unless `dryRun`) fetches it into the download cache,
 * checked against PyPI's sha256. Returns the stage step, which only edits the Changeset.
 */
export async function prepareCustomUpdate(
  root: string,
  a: UpdateCustom,
  dryRun: boolean,
): Promise<(cs: Changeset) => Promise<void>> {
  const pin = pinnedVersion(a.to) ??
    (/^[0-9][^\s,<>=!~]*$/.test(a.to) ? a.to : undefined);
  const plan = await planPypi({ root }, {
    name: a.name,
    ...(pin ? { version: pin } : {}),
  });
  // Checks the manifest (an entry for this file with other bytes is refused) and builds the
  // entry; a dry run of the vendoring writes nothing.
  let { entry } = await executePlan({ root, dryRun: true }, plan);
  let from = `${plan.url} (not downloaded in a dry run)`;
  if (!dryRun) {
    from = await fetchToCache(plan.url, {
      ...(plan.sha256 ? { sha256: plan.sha256 } : {}),
      label: plan.file,
    });
    const size = (await Deno.stat(from)).size;
    entry = { ...entry, sha256: basename(from), size };
  }
  return (cs) => stageCustomUpdate(cs, a, entry, from);
}

async function stageCustomUpdate(
  cs: Changeset,
  a: UpdateCustom,
  entry: SourceEntry,
  from: string,
): Promise<void> {
  // Everything is computed before the first staged change, so a failure stages nothing.
  const text = await cs.readText(a.pkgFile);
  if (text === undefined) throw new KitError(`${a.pkgFile} not found`);
  const next = rewriteCustomPackage(text, a.pkgFile, {
    version: entry.version,
    file: entry.file,
    sha256: entry.sha256,
    url: entry.url,
  });
  const dest = sourceFile(entry.file);
  const onDisk = await Deno.stat(`${cs.root}/${dest}`).catch(() => undefined);
  const m = upsertEntry(await stagedManifest(cs), entry);
  const pending = { [a.pkgFile]: next };
  const users = new Map<string, string[]>();
  for (const old of a.oldFiles) {
    if (old !== entry.file) users.set(old, await sourceUsers(cs, old, pending));
  }
  cs.write(a.pkgFile, next);
  if (!onDisk) cs.copy(dest, from);
  stageManifest(cs, m);
  for (const [old, usedBy] of users) {
    if (usedBy.length) {
      info(`keeping ${old}: ${usedBy[0]} still uses it`);
      continue;
    }
    await stageSourceDrop(cs, old);
    info(`dropping ${old}: nothing else uses it`);
  }
  info(`${a.pkgFile}: ${a.from ?? "?"} → ${entry.version} (${entry.file})`);
}

/**
 * Rewrites a custom package file for a new release: `version`, then its `src` — a path into
 * .flox/sources/ gets the new file name, a fetcher gets the new hash (and its url when that is
 * written literally) — and the header comment that names the old version and source. Proved
 * by reading the file back.
 */
export function rewriteCustomPackage(
  text: string,
  path: string,
  release: CustomRelease,
): string {
  const before = readPackage(parseNix(text, path));
  let next = setStringAttr(text, ["version"], release.version, { path });
  const src = readPackage(parseNix(next, path)).src;
  if (!src) throw new KitError(`${path}: no src to update`);
  let oldFile: string | undefined;
  if (src.path !== undefined) {
    oldFile = src.path.slice(src.path.lastIndexOf("/") + 1);
    if (src.path.includes("${")) {
      // An interpolated path follows the version by itself; check it names the new file.
      if (!src.path.includes(release.file) && !/\$\{version\}/.test(src.path)) {
        throw new KitError(
          `${path}: cannot tell which file src "${src.path}" names`,
        );
      }
      oldFile = undefined;
    } else {
      const dir = src.path.slice(0, src.path.lastIndexOf("/") + 1);
      next = setAttrExpr(next, ["src"], `${dir}${release.file}`, { path });
    }
  } else {
    const hashAttr = src.attrs.has("hash")
      ? "hash"
      : src.attrs.has("sha256")
      ? "sha256"
      : undefined;
    if (!hashAttr) throw new KitError(`${path}: src has no hash to update`);
    next = setStringAttr(
      next,
      ["src", hashAttr],
      toSri(parseHash(release.sha256)),
      { path },
    );
    const url = readPackage(parseNix(next, path)).src?.attrs.get("url");
    if (url?.value !== undefined && !url.text.includes("${")) {
      oldFile = url.value.slice(url.value.lastIndexOf("/") + 1);
      if (url.value !== release.url) {
        next = setStringAttr(next, ["src", "url"], release.url, { path });
      }
    }
  }
  next = rewriteHeader(next, {
    ...(before.version ? { oldVersion: before.version } : {}),
    newVersion: release.version,
    ...(oldFile ? { oldFile } : {}),
    newFile: release.file,
  });
  const after = readPackage(parseNix(next, path));
  if (after.version !== release.version) {
    throw new Error(`${path}: rewriting the version did not take`);
  }
  return next;
}

/**
 * The leading comment lines of a package file (new-package's header: `# NAME VERSION: …` and
 * its `Source: …` line) with the old source file and version replaced by the new ones.
 */
function rewriteHeader(
  text: string,
  r: {
    oldVersion?: string;
    newVersion: string;
    oldFile?: string;
    newFile: string;
  },
): string {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length && lines[i]!.startsWith("#"); i++) {
    let line = lines[i]!;
    if (r.oldFile) line = line.replaceAll(r.oldFile, r.newFile);
    if (r.oldVersion && r.oldVersion !== r.newVersion) {
      const v = r.oldVersion.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      line = line.replace(
        new RegExp(`(?<![\\w.-])${v}(?![\\w-]|\\.\\w)`, "g"),
        r.newVersion,
      );
    }
    lines[i] = line;
  }
  return lines.join("\n");
}
