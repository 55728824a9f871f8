// Vendoring: put a verified source file into `.flox/sources/` and record it in
// sources-manifest.json (+ SHA256SUMS.txt) under the lock. The mechanism behind
// `deno task fetch-source`, reused by new-package (PyPI and local files) and bump-comfyui
// (archives through the cache).
//
// Each source goes plan → execute: a plan says what would be fetched (URL, file name, the hash
// if known) and costs only API calls, so `--dry-run` stops there; execute downloads through the
// cache, verifies, refuses to clobber different bytes or change a recorded hash without
// `force`, and merges the entry into a freshly re-read manifest while holding the lock.
// This file executes plans and records entries; each kind plans its own (source_kinds/),
// `--all` is in restore.ts, cache-only fetches in fetch_cache.ts.
import { type RepoPaths, repoPaths } from "./paths.ts";
import { join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { Changeset } from "../kit/changeset.ts";
import { toSri } from "../hash/sha256.ts";
import {
  fileNameProblem,
  type Manifest,
  readManifest,
  renderSha256Sums,
  serializeManifest,
  type SourceEntry,
  upsertEntry,
  validateManifest,
} from "./manifest.ts";
import { narHashArchive } from "../archive/nar_archive.ts";
import { download, type DownloadResult } from "../net/download.ts";
import { mirrorsFromEnv } from "../net/mirrors.ts";
import { acquireLock } from "./lock.ts";
import { kindOf } from "./source_kinds/all.ts";
import {
  cacheOf,
  ctxEnv,
  fileSha,
  type Plan,
  rel,
  type VendorContext,
  type VendorResult,
} from "./vendor_context.ts";

// Kept for tasks/bump_comfyui.ts (bump owner's file); everything else imports fetch_cache.ts.

// ---------------------------------------------------------------- execute

/** The entry its kind records for a plan, validated like any manifest entry. */
function entryFor(
  plan: Plan,
  got: { sha256: string; size: number; nar?: string | undefined },
): SourceEntry {
  const entry = kindOf(plan).entry(plan, {
    sha256: got.sha256,
    size: got.size,
    ...(got.nar !== undefined ? { nar: got.nar } : {}),
  });
  // A bad value is caught before anything is written.
  return validateManifest(
    { version: 1, sources: [entry] },
    `entry for ${plan.file}`,
  ).sources[0]!;
}

/**
 * Whether a plan names the same source as an entry. Files are identified by their hash, so a
 * different URL for the same bytes (PyPI's hashed URL vs fetchPypi's stable one, a mirror)
 * is the same source; each kind says what else must agree (a GitHub archive's commit).
 */
function sameOrigin(a: SourceEntry, p: Plan): boolean {
  return a.kind === p.kind && kindOf(a).sameOrigin(a, p);
}

function sameEntry(a: SourceEntry | undefined, b: SourceEntry): boolean {
  return a !== undefined &&
    serializeManifest({ version: 1, sources: [a] }) ===
      serializeManifest({ version: 1, sources: [b] });
}

/** Refuses (unless forced) a plan that would change a recorded entry's hash or origin. */
function refuseChange(prior: SourceEntry, plan: Plan): void {
  if (plan.sha256 && prior.sha256 !== plan.sha256) {
    throw new KitError(
      `sources-manifest.json records ${plan.file} with sha256 ${prior.sha256}, but ${plan.url} now has ${plan.sha256}: refusing to change the entry (rerun with --force to replace it)`,
    );
  }
  if (!sameOrigin(prior, plan)) {
    const was = kindOf(prior).origin(prior);
    const now = kindOf(plan).origin(plan);
    throw new KitError(
      `sources-manifest.json records ${plan.file} from ${was}, not ${now}: refusing to change the entry (rerun with --force)`,
    );
  }
}

/** What one executePlan call knows once the target and the manifest are read. */
interface Target {
  plan: Plan;
  /** The URL as planned (a recorded entry may keep another in `plan.url`). */
  url: string;
  dest: string;
  prior: SourceEntry | undefined;
  expected: string | undefined;
  /** The sha256 of the file already at `dest`. */
  have: string | undefined;
}

/**
 * Downloads (or finds) the planned file, verifies it and records it in the manifest. Refuses,
 * unless `ctx.force`: different bytes already at the target path, and a manifest entry for the
 * same file whose hash or origin would change.
 */
export async function executePlan(
  ctx: VendorContext,
  planned: Plan,
): Promise<VendorResult> {
  let plan = planned;
  const paths = repoPaths(ctx.root);
  const why = fileNameProblem(plan.file);
  if (why) {
    throw new KitError(`Cannot vendor as ${JSON.stringify(plan.file)}: ${why}`);
  }
  const dest = join(paths.sourcesDir, plan.file);
  // A malformed manifest stops everything before any download.
  const manifest = await readManifest(paths.manifest);
  const prior = manifest.sources.find((e) => e.file === plan.file);
  const force = ctx.force ?? false;
  if (prior && !force) {
    refuseChange(prior, plan);
    // Never silently change a recorded entry: the same source keeps its recorded URL.
    plan = { ...plan, url: prior.url };
  }
  // The hash to insist on: published by the origin, else the one already recorded.
  const expected = plan.sha256 ?? (prior && !force ? prior.sha256 : undefined);
  const have = await fileSha(dest);
  if (
    have !== undefined && expected !== undefined && have !== expected && !force
  ) {
    throw new KitError(
      `${
        rel(plan.file)
      } exists with different bytes (sha256 ${have}, expected ${expected}): not overwriting it (rerun with --force to replace it)`,
    );
  }
  const t: Target = { plan, url: planned.url, dest, prior, expected, have };
  // Already right on disk: no transfer, at most a manifest update.
  if (have !== undefined && have === expected) return await fromDisk(ctx, t);
  if (ctx.dryRun) {
    const entry = entryFor(plan, {
      sha256: expected ?? "0".repeat(64),
      size: plan.size ?? 0,
      nar: kindOf(plan).recordsNar ? `sha256-${"A".repeat(43)}=` : undefined,
    });
    return {
      action: have === undefined ? "would-add" : "would-replace",
      entry,
      path: dest,
      fromCache: false,
      source: planned.url,
    };
  }
  return await fetchAndRecord(ctx, t);
}

/** The file is already right on disk: record (or confirm) its entry. */
async function fromDisk(ctx: VendorContext, t: Target): Promise<VendorResult> {
  const { plan, prior, dest, have } = t;
  const size = (await Deno.stat(dest)).size;
  const recorded = prior && "nar" in prior && prior.sha256 === have
    ? prior.nar
    : undefined;
  const nar = kindOf(plan).recordsNar
    ? recorded ?? toSri(await narHashArchive(dest))
    : undefined;
  const entry = entryFor(plan, { sha256: have!, size, nar });
  const same = sameEntry(prior, entry);
  if (!ctx.dryRun) await recordEntries(ctx, [entry]);
  return {
    action: same ? "unchanged" : ctx.dryRun ? "would-record" : "recorded",
    entry,
    path: dest,
    fromCache: false,
    source: "disk",
  };
}

/** Downloads the planned file (verified, through the cache) and records its entry. */
async function fetchAndRecord(
  ctx: VendorContext,
  t: Target,
): Promise<VendorResult> {
  const { plan, dest, expected, have } = t;
  await Deno.mkdir(repoPaths(ctx.root).sourcesDir, { recursive: true });
  const cacheDir = cacheOf(ctx);
  let nar: string | undefined;
  // A full disk or a read-only folder under .flox/sources is one line, not a stack trace (the
  // download's temp file is already gone).
  const got: DownloadResult = await withWriteError(
    rel(plan.file),
    () =>
      download(t.url, {
        ...ctx.request,
        dest,
        ...(expected ? { sha256: expected } : {}),
        ...(plan.size !== undefined ? { size: plan.size } : {}),
        ...(cacheDir ? { cacheDir } : {}),
        mirrors: ctx.mirrors ?? mirrorsFromEnv(ctxEnv(ctx)),
        ...(ctx.progress ? { progress: ctx.progress } : {}),
        ...(plan.insecureHttp ? { insecureHttp: true } : {}),
        label: plan.file,
        check: async ({ sha256, path }) => {
          // Re-read: another run may have written the file while this one downloaded.
          const now = await fileSha(dest);
          if (now !== undefined && now !== sha256 && !ctx.force) {
            throw new KitError(
              `${
                rel(plan.file)
              } exists with different bytes (sha256 ${now}, downloaded ${sha256}): not overwriting it (rerun with --force to replace it)`,
            );
          }
          // Hash the archive's contents before it lands: an archive that cannot be unpacked
          // never reaches .flox/sources/.
          if (kindOf(plan).recordsNar) {
            try {
              nar = toSri(await narHashArchive(path));
            } catch (e) {
              if (!(e instanceof KitError)) throw e;
              throw new KitError(
                `${plan.file} from ${t.url}: ${e.message}; nothing was written`,
              );
            }
          }
        },
      }),
  );
  const entry = entryFor(plan, { sha256: got.sha256, size: got.size, nar });
  try {
    await recordEntries(ctx, [entry]);
  } catch (e) {
    // Unrecorded, the new file would be an orphan verify complains about: take it back.
    if (have === undefined) await Deno.remove(dest).catch(() => {});
    throw e;
  }
  return {
    action: have === undefined ? "added" : "replaced",
    entry,
    path: dest,
    fromCache: got.fromCache,
    source: got.source,
  };
}

/**
 * Merges entries into the manifest under the lock: re-reads it (another run may have written
 * since), refuses to change an entry's hash unless `force`, writes manifest and SHA256SUMS.txt
 * atomically, and only when their text changes.
 */
async function recordEntries(
  ctx: VendorContext,
  entries: SourceEntry[],
): Promise<Manifest> {
  const paths = repoPaths(ctx.root);
  await Deno.mkdir(paths.sourcesDir, { recursive: true });
  await using _lock = await acquireLock(paths.lock, ctx.lock);
  let m = await readManifest(paths.manifest);
  for (const entry of entries) {
    const cur = m.sources.find((e) => e.file === entry.file);
    if (cur && cur.sha256 !== entry.sha256 && !ctx.force) {
      throw new KitError(
        `sources-manifest.json now records ${entry.file} with sha256 ${cur.sha256} (changed by another run?), not ${entry.sha256}: refusing to change it (rerun with --force)`,
      );
    }
    m = upsertEntry(m, entry);
  }
  await writeManifestFiles(paths, m);
  return m;
}

/**
 * Writes manifest and SHA256SUMS.txt when their text differs, both or neither (a Changeset).
 * The manifest's temp file lives in `.flox/sources/` (same file system), so the task needs
 * write access only there and to the manifest itself.
 */
export async function writeManifestFiles(
  paths: RepoPaths,
  m: Manifest,
): Promise<boolean> {
  const text = serializeManifest(m);
  validateManifest(JSON.parse(text), paths.manifest);
  const sums = renderSha256Sums(m);
  const cs = new Changeset(paths.root);
  if ((await readTextIfExists(paths.manifest)) !== text) {
    cs.write(paths.manifest, text, { tempDir: paths.sourcesDir });
  }
  if ((await readTextIfExists(paths.sums)) !== sums) cs.write(paths.sums, sums);
  if (!cs.size) return false;
  await cs.apply();
  return true;
}

/** Runs `fn`; a write the OS refuses (full disk, read-only) becomes one KitError naming `path`. */
async function withWriteError<T>(
  path: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof Error) || e instanceof KitError) throw e;
    const why = e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : /No space left on device|Read-only file system|Disk quota exceeded/
        .exec(e.message)?.[0];
    if (why === undefined) throw e;
    throw new KitError(`Cannot write ${path}: ${why} (nothing was changed)`);
  }
}
