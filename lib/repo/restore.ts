// `fetch-source --all`: restore every manifest entry missing on disk, re-verify the others
// (sizes too), regenerate a stale SHA256SUMS.txt.
import { repoPaths } from "./paths.ts";
import { join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import {
  readManifest,
  renderSha256Sums,
  type SourceEntry,
} from "./manifest.ts";
import { download, MismatchError } from "../net/download.ts";
import { type Mirror, mirrorsFromEnv } from "../net/mirrors.ts";
import { acquireLock } from "./lock.ts";
import {
  cacheOf,
  ctxEnv,
  fileSha,
  type VendorContext,
} from "./vendor_context.ts";
import { writeManifestFiles } from "./vendor.ts";

/** The state of one manifest entry after `restoreAll`. */
type RestoreStatus =
  | "ok" //            present, hash verified
  | "restored" //      was missing, downloaded and verified
  | "replaced" //      was corrupt, downloaded again (force)
  | "missing" //       check mode: not on disk
  | "corrupt" //       present with other bytes (not replaced without force)
  | "would-restore" // dry run
  | "would-replace"
  | "failed"; //       the download failed

/** One entry's outcome. */
export interface RestoreResult {
  entry: SourceEntry;
  status: RestoreStatus;
  path: string;
  /** The sha256 found on disk, for corrupt files. */
  actual?: string;
  fromCache?: boolean;
  source?: string;
  error?: string;
}

/** The outcome of `restoreAll`. */
interface RestoreReport {
  results: RestoreResult[];
  /** SHA256SUMS.txt disagreed with the manifest (rewritten unless check/dry run). */
  sumsStale: boolean;
  /** Files in .flox/sources/ that no entry names. */
  untracked: string[];
  /** True when every entry is present and verified (or was restored). */
  ok: boolean;
}

/** What restoring one entry needs besides the entry itself. */
interface RestoreRun {
  ctx: VendorContext;
  check?: boolean;
  sourcesDir: string;
  cacheDir?: string | undefined;
  mirrors: Mirror[];
}

/**
 * Restores every manifest entry missing on disk and re-verifies the present ones, `jobs`
 * downloads at a time; `check` only reports. Corrupt files are replaced only with `force`.
 */
export async function restoreAll(
  ctx: VendorContext,
  opts: { jobs?: number; check?: boolean } = {},
): Promise<RestoreReport> {
  const paths = repoPaths(ctx.root);
  const manifest = await readManifest(paths.manifest);
  const jobs = Math.max(1, opts.jobs ?? 4);
  const writes = !opts.check && !ctx.dryRun;
  const run: RestoreRun = {
    ctx,
    ...(opts.check ? { check: true } : {}),
    sourcesDir: paths.sourcesDir,
    ...(writes ? { cacheDir: cacheOf(ctx) } : {}),
    mirrors: ctx.mirrors ?? mirrorsFromEnv(ctxEnv(ctx)),
  };
  if (writes) await Deno.mkdir(paths.sourcesDir, { recursive: true });
  // Every file on disk is read before the first download: a bad one (a folder in its place) is
  // named the same way on every run, not only when it loses the race against the network.
  const haves = await inPool(
    manifest.sources,
    jobs,
    (entry) => fileSha(join(run.sourcesDir, entry.file)),
  );
  const results = await inPool(
    manifest.sources.map((entry, i) => [entry, haves[i]] as const),
    jobs,
    ([entry, have]) => restoreOne(entry, have, run),
  );

  const sumsStale =
    (await readTextIfExists(paths.sums)) !== renderSha256Sums(manifest);
  if (sumsStale && writes) {
    await using _lock = await acquireLock(paths.lock, ctx.lock);
    // Re-read under the lock: regenerate from the manifest as it is now.
    await writeManifestFiles(paths, await readManifest(paths.manifest));
  }
  const untracked = await untrackedFiles(
    paths.sourcesDir,
    new Set(manifest.sources.map((e) => e.file)),
  );
  const good = new Set<RestoreStatus>(["ok", "restored", "replaced"]);
  const ok = results.every((r) => good.has(r.status)) &&
    !(opts.check && sumsStale);
  return { results, sumsStale, untracked, ok };
}

/** `fn` over `items`, at most `jobs` at a time; the results in the items' order. */
async function inPool<T, R>(
  items: readonly T[],
  jobs: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

/**
 * Verifies one entry on disk (`have`: its sha256 there) and, unless checking or dry-running,
 * downloads it when needed.
 */
async function restoreOne(
  entry: SourceEntry,
  have: string | undefined,
  run: RestoreRun,
): Promise<RestoreResult> {
  const { ctx } = run;
  const path = join(run.sourcesDir, entry.file);
  if (have === entry.sha256) {
    const size = (await Deno.stat(path)).size;
    if (entry.size === undefined || size === entry.size) {
      return { entry, status: "ok", path };
    }
    // The bytes are the recorded ones: the manifest's size is what is wrong.
    return {
      entry,
      status: "failed",
      path,
      error:
        `sources-manifest.json records ${entry.size} bytes, but the file with the recorded sha256 has ${size}: correct its "size" in sources-manifest.json`,
    };
  }
  const corrupt = have !== undefined;
  const base = corrupt ? { actual: have } : {};
  if (run.check) {
    return { entry, status: corrupt ? "corrupt" : "missing", path, ...base };
  }
  if (corrupt && !ctx.force) {
    return { entry, status: "corrupt", path, ...base };
  }
  if (ctx.dryRun) {
    return {
      entry,
      status: corrupt ? "would-replace" : "would-restore",
      path,
      ...base,
    };
  }
  try {
    const got = await downloadEntry(entry, path, run);
    return {
      entry,
      status: corrupt ? "replaced" : "restored",
      path,
      ...base,
      fromCache: got.fromCache,
      source: got.source,
    };
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    return { entry, status: "failed", path, ...base, error: failure(entry, e) };
  }
}

/** Downloads one entry to `path`, verified against its recorded sha256 and size. */
function downloadEntry(entry: SourceEntry, path: string, run: RestoreRun) {
  const { ctx } = run;
  return download(entry.url, {
    ...ctx.request,
    dest: path,
    sha256: entry.sha256,
    ...(entry.size !== undefined ? { size: entry.size } : {}),
    ...(run.cacheDir ? { cacheDir: run.cacheDir } : {}),
    mirrors: run.mirrors,
    ...(ctx.progress ? { progress: ctx.progress } : {}),
    label: entry.file,
    check: async ({ sha256 }) => {
      const now = await fileSha(path);
      if (now !== undefined && now !== sha256 && !ctx.force) {
        throw new KitError(
          `${entry.file} appeared with different bytes while downloading: not overwriting it`,
        );
      }
    },
  });
}

/** A failed download's message for the entry's line (which names the file already). */
function failure(entry: SourceEntry, e: KitError): string {
  let error = e.message.startsWith(`${entry.file}: `)
    ? e.message.slice(entry.file.length + 2)
    : e.message;
  if (e instanceof MismatchError) {
    error +=
      `: if the upstream file is right, its sha256/size in sources-manifest.json are wrong`;
  }
  return error;
}

/** Files in `dir` that no entry names (not SHA256SUMS.txt, nor hidden ones), sorted. */
async function untrackedFiles(
  dir: string,
  known: ReadonlySet<string>,
): Promise<string[]> {
  const untracked: string[] = [];
  try {
    for await (const d of Deno.readDir(dir)) {
      if (
        d.name !== "SHA256SUMS.txt" && !d.name.startsWith(".") &&
        !known.has(d.name)
      ) untracked.push(d.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return untracked.sort();
}
