// Vendoring: put a verified source file into `.flox/sources/` and record it in
// sources-manifest.json (+ SHA256SUMS.txt) under the lock. The mechanism behind
// `deno task fetch-source`, reused by new-package (PyPI and local files) and bump-comfyui
// (archives through the cache).
//
// Each source goes plan → execute: a plan says what would be fetched (URL, file name, the hash
// if known) and costs only API calls, so `--dry-run` stops there; execute downloads through the
// cache, verifies, refuses to clobber different bytes or change a recorded hash without
// `force`, and merges the entry into a freshly re-read manifest while holding the lock.
import { type RepoPaths, repoPaths, sourceFile } from "./paths.ts";
import { basename, join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { atomicWrite, readTextIfExists, tempSibling } from "../kit/fsutil.ts";
import { sha256Bytes, sha256File, toHex, toSri } from "../hash/sha256.ts";
import {
  isSafeFileName,
  type Manifest,
  readManifest,
  renderSha256Sums,
  serializeManifest,
  type SourceEntry,
  type SourceKind,
  upsertEntry,
  validateManifest,
} from "./manifest.ts";
import { isValidProjectName, normalizeName } from "../python/names.ts";
import { narHashArchive } from "../archive/read.ts";
import { defaultCacheDir, DownloadCache } from "../net/cache.ts";
import {
  copyVerified,
  createProgress,
  download,
  type DownloadResult,
  type Mirror,
  mirrorsFromEnv,
  type ProgressSink,
  type RequestOptions,
} from "../net/download.ts";
import { fetchRelease, kindOf, pickFile, pypiUrl } from "../net/pypi.ts";
import {
  archiveFileName,
  archiveUrl,
  classifyRev,
  githubApiUrl,
  githubHeaders,
  githubUrl,
  isValidRef,
  isValidRepoPart,
} from "../net/github.ts";
import { acquireLock, type LockOptions } from "./lock.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import type { EnvLike } from "../kit/env.ts";

// Where a repository keeps its vendored sources: lib/repo/paths.ts (re-exported for callers).
export { type RepoPaths, repoPaths };

/** Options every vendoring call takes; only `root` is required. */
export interface VendorContext {
  /** Repository root (holds sources-manifest.json and .flox/sources/). */
  root: string;
  /** Environment for endpoints, mirrors and the cache dir (default Deno.env). */
  env?: EnvLike;
  /** fetch / retry / onRetry for every request. */
  request?: RequestOptions;
  /** Cache directory; `false` disables the cache (default: from the environment). */
  cacheDir?: string | false;
  /** URL-prefix rewrites (default: COMFYKIT_MIRRORS). */
  mirrors?: Mirror[];
  progress?: ProgressSink;
  /** Replace a vendored file with different bytes / change a recorded hash. */
  force?: boolean;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  lock?: LockOptions;
}

/** What will be fetched for one source. */
export interface Plan {
  kind: SourceKind;
  name: string;
  version: string;
  file: string;
  url: string;
  /** Expected sha256 (hex), when the origin publishes one or the caller knows it. */
  sha256?: string;
  size?: number;
  github?: { owner: string; repo: string; rev: string; commit?: string };
  /** The URL is plain http and the user allowed it. */
  insecureHttp?: boolean;
}

/** What happened to one source. */
export type VendorAction =
  | "added" //        new file and new manifest entry
  | "replaced" //     different bytes replaced (force)
  | "unchanged" //    file and entry already right
  | "recorded" //     file was present and right; the manifest entry was added or fixed
  | "would-add" //    dry run
  | "would-replace"
  | "would-record";

/** The result of vendoring one source. */
export interface VendorResult {
  action: VendorAction;
  entry: SourceEntry;
  /** The vendored file's path. */
  path: string;
  fromCache: boolean;
  /** Where the bytes came from ("cache", a URL, or "disk" when nothing was fetched). */
  source: string;
}

function ctxEnv(ctx: VendorContext): EnvLike {
  return ctx.env ?? Deno.env;
}

function cacheOf(ctx: VendorContext): string | undefined {
  if (ctx.cacheDir === false) return undefined;
  return ctx.cacheDir ?? defaultCacheDir(ctxEnv(ctx));
}

// ---------------------------------------------------------------- plans

/** Plans a PyPI file: asks the JSON API and picks the wheel/sdist (see pickFile). */
export async function planPypi(
  ctx: VendorContext,
  spec: { name: string; version?: string; prefer?: "wheel" | "sdist" },
): Promise<Plan> {
  const release = await fetchRelease(
    pypiUrl(ctxEnv(ctx)),
    spec.name,
    spec.version,
    ctx.request ?? {},
  );
  const file = pickFile(release, {
    wheel: spec.prefer === "wheel",
    sdist: spec.prefer === "sdist",
  });
  return {
    kind: kindOf(file),
    name: normalizeName(release.info.name),
    version: release.info.version,
    file: file.filename,
    url: file.url,
    sha256: file.digests.sha256.toLowerCase(),
    ...(file.size !== undefined ? { size: file.size } : {}),
  };
}

/**
 * Plans a GitHub archive. Tags are resolved to their commit through the API; a branch is
 * refused unless `allowBranch` (then the archive of the branch's current commit is fetched,
 * so the recorded bytes match the recorded commit).
 */
export async function planGithub(
  ctx: VendorContext,
  spec: { owner: string; repo: string; rev: string; allowBranch?: boolean },
): Promise<Plan> {
  const { owner, repo, rev } = spec;
  if (!isValidRepoPart(owner) || !isValidRepoPart(repo)) {
    throw new KitError(`"${owner}/${repo}" is not a valid GitHub repository`);
  }
  if (!isValidRef(rev)) throw new KitError(`"${rev}" is not a valid git ref`);
  const env = ctxEnv(ctx);
  const request = {
    ...ctx.request,
    headers: { ...githubHeaders(env), ...ctx.request?.headers },
  };
  const what = await classifyRev(githubApiUrl(env), owner, repo, rev, request);
  if (what.kind === "branch" && !spec.allowBranch) {
    throw new KitError(
      `"${rev}" is a branch of ${owner}/${repo}, which moves: use a tag or a 40-hex commit (its head is ${what.commit}), or pass --allow-branch`,
    );
  }
  const fetchRev = what.kind === "branch" ? what.commit : rev;
  return {
    kind: "github",
    name: repo,
    version: rev.replace(/^v(?=\d)/, ""),
    file: archiveFileName(repo, rev),
    url: archiveUrl(githubUrl(env), owner, repo, fetchRev),
    github: { owner, repo, rev, commit: what.commit },
  };
}

/** Plans any http(s) URL; plain http only with `insecureHttp`. */
export function planUrl(spec: {
  url: string;
  name: string;
  version: string;
  file?: string;
  sha256?: string;
  insecureHttp?: boolean;
}): Plan {
  let u: URL;
  try {
    u = new URL(spec.url);
  } catch {
    throw new KitError(`"${spec.url}" is not a URL`);
  }
  if (u.protocol === "http:" && !spec.insecureHttp) {
    throw new KitError(
      `refusing plain http "${spec.url}": use https, or pass --insecure-http`,
    );
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new KitError(`"${spec.url}" is not an http(s) URL`);
  }
  if (!spec.name.trim() || !spec.version.trim()) {
    throw new KitError("a URL source needs --name and --version");
  }
  if (!isValidProjectName(spec.name)) {
    throw new KitError(
      `--name "${spec.name}" is not a project name (letters, digits, '.', '_', '-')`,
    );
  }
  if (!/^[\x21-\x7e]{1,128}$/.test(spec.version)) {
    throw new KitError(
      `--version "${spec.version}" is not a version (no spaces or control characters)`,
    );
  }
  let file = spec.file;
  if (file === undefined) {
    const last = u.pathname.split("/").pop() ?? "";
    try {
      file = decodeURIComponent(last);
    } catch {
      file = last;
    }
  }
  if (!isSafeFileName(file)) {
    throw new KitError(
      `file name ${
        JSON.stringify(file)
      } from "${spec.url}" is not a plain file name: refusing to write it (choose one with --file)`,
    );
  }
  const sha = spec.sha256?.toLowerCase();
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new KitError(`--sha256 "${spec.sha256}" is not 64 hex characters`);
  }
  return {
    kind: "url",
    name: spec.name,
    version: spec.version,
    file,
    url: spec.url,
    ...(sha ? { sha256: sha } : {}),
    ...(spec.insecureHttp ? { insecureHttp: true } : {}),
  };
}

// ---------------------------------------------------------------- execute

function entryFor(
  plan: Plan,
  sha256: string,
  size: number,
  nar?: string,
): SourceEntry {
  const common = {
    name: plan.name,
    version: plan.version,
    file: plan.file,
    url: plan.url,
    sha256,
    size,
  };
  let entry: SourceEntry;
  if (plan.kind === "github") {
    const g = plan.github!;
    entry = {
      ...common,
      kind: "github",
      owner: g.owner,
      repo: g.repo,
      rev: g.rev,
      ...(g.commit ? { commit: g.commit } : {}),
      nar: nar!,
    };
  } else entry = { ...common, kind: plan.kind };
  // Validate like any manifest entry, so a bad value is caught before anything is written.
  validateManifest({ version: 1, sources: [entry] }, `entry for ${plan.file}`);
  return entry;
}

/**
 * Whether a plan names the same source as an entry. Files are identified by their hash, so a
 * different URL for the same bytes (PyPI's hashed URL vs fetchPypi's stable one, a mirror)
 * is the same source; a GitHub archive is also identified by its commit.
 */
function sameOrigin(a: SourceEntry, p: Plan): boolean {
  if (a.kind !== p.kind) return false;
  if (a.kind === "github") {
    return a.owner === p.github?.owner && a.repo === p.github.repo &&
      a.rev === p.github.rev && a.commit === p.github.commit;
  }
  return true;
}

function sameEntry(a: SourceEntry | undefined, b: SourceEntry): boolean {
  return a !== undefined &&
    serializeManifest({ version: 1, sources: [a] }) ===
      serializeManifest({ version: 1, sources: [b] });
}

async function fileSha(path: string): Promise<string | undefined> {
  try {
    return toHex(await sha256File(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** How a vendored file is named in messages. */
function rel(file: string): string {
  return sourceFile(file);
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
  if (!isSafeFileName(plan.file)) {
    throw new KitError(
      `file name ${JSON.stringify(plan.file)} is not a plain file name`,
    );
  }
  const dest = join(paths.sourcesDir, plan.file);
  const shown = rel(plan.file);
  // A malformed manifest stops everything before any download.
  const manifest = await readManifest(paths.manifest);
  const prior = manifest.sources.find((e) => e.file === plan.file);
  const force = ctx.force ?? false;

  if (prior && !force) {
    if (plan.sha256 && prior.sha256 !== plan.sha256) {
      throw new KitError(
        `sources-manifest.json records ${plan.file} with sha256 ${prior.sha256}, but ${plan.url} now has ${plan.sha256}: refusing to change the entry (rerun with --force to replace it)`,
      );
    }
    if (!sameOrigin(prior, plan)) {
      const was = prior.kind === "github"
        ? `${prior.url} (commit ${prior.commit ?? "?"})`
        : prior.url;
      const now = plan.github?.commit
        ? `${plan.url} (commit ${plan.github.commit})`
        : plan.url;
      throw new KitError(
        `sources-manifest.json records ${plan.file} from ${was}, not ${now}: refusing to change the entry (rerun with --force)`,
      );
    }
  }
  // Never silently change a recorded entry: the same source keeps its recorded URL.
  if (prior && !force) plan = { ...plan, url: prior.url };
  // The hash to insist on: published by the origin, else the one already recorded.
  const expected = plan.sha256 ?? (prior && !force ? prior.sha256 : undefined);
  const have = await fileSha(dest);

  if (have !== undefined && expected !== undefined && have !== expected) {
    if (!force) {
      throw new KitError(
        `${shown} exists with different bytes (sha256 ${have}, expected ${expected}): not overwriting it (rerun with --force to replace it)`,
      );
    }
  }

  // Already right on disk: no transfer, at most a manifest update.
  if (have !== undefined && have === expected) {
    const size = (await Deno.stat(dest)).size;
    const nar = plan.kind === "github"
      ? (prior?.kind === "github" && prior.sha256 === have
        ? prior.nar
        : toSri(await narHashArchive(dest)))
      : undefined;
    const entry = entryFor(plan, have, size, nar);
    if (sameEntry(prior, entry)) {
      if (!ctx.dryRun) await recordEntries(ctx, [entry]);
      return {
        action: "unchanged",
        entry,
        path: dest,
        fromCache: false,
        source: "disk",
      };
    }
    if (ctx.dryRun) {
      return {
        action: "would-record",
        entry,
        path: dest,
        fromCache: false,
        source: "disk",
      };
    }
    await recordEntries(ctx, [entry]);
    return {
      action: "recorded",
      entry,
      path: dest,
      fromCache: false,
      source: "disk",
    };
  }

  if (ctx.dryRun) {
    const entry = entryFor(
      plan,
      expected ?? "0".repeat(64),
      plan.size ?? 0,
      plan.kind === "github" ? `sha256-${"A".repeat(43)}=` : undefined,
    );
    return {
      action: have === undefined ? "would-add" : "would-replace",
      entry,
      path: dest,
      fromCache: false,
      source: planned.url,
    };
  }

  await Deno.mkdir(paths.sourcesDir, { recursive: true });
  const cacheDir = cacheOf(ctx);
  let nar: string | undefined;
  const got: DownloadResult = await download(planned.url, {
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
      if (now !== undefined && now !== sha256 && !force) {
        throw new KitError(
          `${shown} exists with different bytes (sha256 ${now}, downloaded ${sha256}): not overwriting it (rerun with --force to replace it)`,
        );
      }
      // Hash the archive's contents before it lands: an archive that cannot be unpacked
      // never reaches .flox/sources/.
      if (plan.kind === "github") {
        try {
          nar = toSri(await narHashArchive(path));
        } catch (e) {
          if (!(e instanceof KitError)) throw e;
          throw new KitError(
            `${plan.file} from ${planned.url}: ${e.message}; nothing was written`,
          );
        }
      }
    },
  });
  const entry = entryFor(plan, got.sha256, got.size, nar);
  await recordEntries(ctx, [entry]);
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
export async function recordEntries(
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
 * Writes manifest and SHA256SUMS.txt when their text differs. The manifest's temp file lives in
 * `.flox/sources/` (same file system), so the task needs write access only there and to the
 * manifest itself.
 */
export async function writeManifestFiles(
  paths: RepoPaths,
  m: Manifest,
): Promise<boolean> {
  const text = serializeManifest(m);
  validateManifest(JSON.parse(text), paths.manifest);
  const sums = renderSha256Sums(m);
  let changed = false;
  if ((await readTextIfExists(paths.manifest)) !== text) {
    const tmp = tempSibling(join(paths.sourcesDir, basename(paths.manifest)));
    const unregister = removeOnInterrupt(tmp);
    try {
      await Deno.writeTextFile(tmp, text);
      await Deno.rename(tmp, paths.manifest);
    } finally {
      await Deno.remove(tmp).catch(() => {});
      unregister();
    }
    changed = true;
  }
  if ((await readTextIfExists(paths.sums)) !== sums) {
    await atomicWrite(paths.sums, sums);
    changed = true;
  }
  return changed;
}

// ---------------------------------------------------------------- the contract's one-call forms

/** Vendors a PyPI release's file (pure wheel, else sdist; `prefer` forces one). */
export async function vendorPypi(
  opts: VendorContext & {
    name: string;
    version?: string;
    prefer?: "wheel" | "sdist";
  },
): Promise<SourceEntry> {
  const spec = {
    name: opts.name,
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    ...(opts.prefer ? { prefer: opts.prefer } : {}),
  };
  return (await executePlan(opts, await planPypi(opts, spec))).entry;
}

/** Vendors a GitHub archive (flat sha256 and NAR hash recorded). */
export async function vendorGithub(
  opts: VendorContext & {
    owner: string;
    repo: string;
    rev: string;
    allowBranch?: boolean;
  },
): Promise<SourceEntry> {
  return (await executePlan(opts, await planGithub(opts, opts))).entry;
}

/**
 * fetchPypi's stable URL for a distribution file:
 * `https://files.pythonhosted.org/packages/<py3|source>/<first letter>/<project>/<file>`.
 */
export function pypiStableUrl(file: string): string {
  const wheel = file.match(
    /^([^-]+)-[^-]+(?:-\d[^-]*)?-([^-]+)-[^-]+-[^-]+\.whl$/,
  );
  if (wheel) {
    const [, project, python] = wheel as unknown as [string, string, string];
    return `https://files.pythonhosted.org/packages/${python}/${
      project[0]
    }/${project}/${file}`;
  }
  const sdist = file.match(/^(.+)-[^-]+\.(?:tar\.gz|zip|tar\.bz2)$/);
  if (!sdist) {
    throw new KitError(`"${file}" is neither a wheel nor an sdist file name`);
  }
  const project = sdist[1]!;
  return `https://files.pythonhosted.org/packages/source/${
    project[0]
  }/${project}/${file}`;
}

/**
 * Copies a local wheel or sdist into `.flox/sources/` and records it (kind from the extension;
 * `url` defaults to fetchPypi's stable URL of the file name).
 */
export async function vendorLocalFile(
  opts: VendorContext & {
    path: string;
    name: string;
    version: string;
    url?: string;
  },
): Promise<SourceEntry> {
  const file = basename(opts.path);
  if (!isSafeFileName(file)) {
    throw new KitError(`"${file}" is not a plain file name`);
  }
  const kind = file.endsWith(".whl") ? "pypi-wheel" : "pypi-sdist";
  const url = opts.url ?? pypiStableUrl(file);
  const sha256 = await fileSha(opts.path);
  if (sha256 === undefined) throw new KitError(`"${opts.path}" does not exist`);
  const plan: Plan = {
    kind,
    name: normalizeName(opts.name),
    version: opts.version,
    file,
    url,
    sha256,
  };
  const paths = repoPaths(opts.root);
  const prior = (await readManifest(paths.manifest)).sources.find((e) =>
    e.file === file
  );
  // The same bytes already recorded keep their recorded origin.
  if (prior && prior.sha256 === sha256 && prior.kind === kind) {
    plan.url = prior.url;
  }
  await Deno.mkdir(paths.sourcesDir, { recursive: true });
  const dest = join(paths.sourcesDir, file);
  const have = await fileSha(dest);
  if (have !== undefined && have !== sha256 && !opts.force) {
    throw new KitError(
      `${
        rel(file)
      } exists with different bytes (sha256 ${have}, ${opts.path} has ${sha256}): not overwriting it (rerun with --force)`,
    );
  }
  if (have !== sha256 && !opts.dryRun) {
    // Through the same verified temp+rename path as a download: never half a file.
    await copyVerified(opts.path, dest, sha256);
  }
  return (await executePlan(opts, plan)).entry;
}

/**
 * Gets a URL into the download cache without vendoring it (bump-comfyui's archives) and returns
 * the cached file's path. With `sha256`, a cache hit needs no network; without, the file is
 * downloaded and stored under its actual hash.
 */
export async function fetchToCache(
  url: string,
  opts: {
    sha256?: string;
    env?: EnvLike;
    cacheDir?: string;
    request?: RequestOptions;
    mirrors?: Mirror[];
    progress?: ProgressSink;
    label?: string;
  } = {},
): Promise<string> {
  const env = opts.env ?? Deno.env;
  const cache = new DownloadCache(opts.cacheDir ?? defaultCacheDir(env));
  const want = opts.sha256?.toLowerCase();
  if (want) {
    const hit = await cache.lookup(want);
    if (hit && (await fileSha(hit)) === want) return hit;
    if (hit) await Deno.remove(hit).catch(() => {});
  }
  const incoming = join(cache.dir, "incoming");
  await Deno.mkdir(incoming, { recursive: true });
  const dest = join(incoming, crypto.randomUUID());
  const unregister = removeOnInterrupt(dest);
  try {
    const got = await download(url, {
      ...opts.request,
      dest,
      ...(want ? { sha256: want } : {}),
      mirrors: opts.mirrors ?? mirrorsFromEnv(env),
      ...(opts.progress ? { progress: opts.progress } : {}),
      label: opts.label ?? (url.split("/").pop() || url),
    });
    return await cache.store(got.path, got.sha256);
  } finally {
    await Deno.remove(dest).catch(() => {});
    unregister();
  }
}

/**
 * A file with no published sha256 (a GitHub archive) through the download cache. The cache is
 * addressed by sha256, so the sha256 each URL gave last time is remembered beside it
 * (`urls/<sha256 of URL>`): a second run reads the cache instead of the network.
 */
export async function fetchUrlCached(
  url: string,
  opts: { env?: EnvLike; progress?: ProgressSink; offline?: boolean } = {},
): Promise<string> {
  const env = opts.env ?? Deno.env;
  const dir = join(defaultCacheDir(env), "urls");
  const memo = join(dir, toHex(sha256Bytes(url)));
  const known = (await readTextIfExists(memo))?.trim();
  if (opts.offline) {
    // The caller still checks what it reads (the NAR hash of a pinned archive).
    const hit = known && /^[0-9a-f]{64}$/.test(known)
      ? await new DownloadCache(defaultCacheDir(env)).lookup(known)
      : undefined;
    if (!hit) throw new KitError(`${url} is not in the download cache`);
    return hit;
  }
  const path = await fetchToCache(url, {
    env,
    label: url.split("/").slice(-4).join("/"),
    progress: opts.progress ?? createProgress(),
    ...(known && /^[0-9a-f]{64}$/.test(known) ? { sha256: known } : {}),
  });
  const sha = basename(path);
  if (sha !== known) {
    await Deno.mkdir(dir, { recursive: true });
    await atomicWrite(memo, `${sha}\n`);
  }
  return path;
}

// ---------------------------------------------------------------- --all

/** The state of one manifest entry after `restoreAll`. */
export type RestoreStatus =
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
export interface RestoreReport {
  results: RestoreResult[];
  /** SHA256SUMS.txt disagreed with the manifest (rewritten unless check/dry run). */
  sumsStale: boolean;
  /** Files in .flox/sources/ that no entry names. */
  untracked: string[];
  /** True when every entry is present and verified (or was restored). */
  ok: boolean;
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
  const cacheDir = opts.check || ctx.dryRun ? undefined : cacheOf(ctx);
  const mirrors = ctx.mirrors ?? mirrorsFromEnv(ctxEnv(ctx));

  const one = async (entry: SourceEntry): Promise<RestoreResult> => {
    const path = join(paths.sourcesDir, entry.file);
    const have = await fileSha(path);
    if (have === entry.sha256) return { entry, status: "ok", path };
    const corrupt = have !== undefined;
    const base = corrupt ? { actual: have } : {};
    if (opts.check) {
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
      const got = await download(entry.url, {
        ...ctx.request,
        dest: path,
        sha256: entry.sha256,
        ...(entry.size !== undefined ? { size: entry.size } : {}),
        ...(cacheDir ? { cacheDir } : {}),
        mirrors,
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
      return { entry, status: "failed", path, ...base, error: e.message };
    }
  };

  const results: RestoreResult[] = new Array(manifest.sources.length);
  let next = 0;
  const worker = async () => {
    while (next < manifest.sources.length) {
      const i = next++;
      results[i] = await one(manifest.sources[i]!);
    }
  };
  if (!opts.check && !ctx.dryRun) {
    await Deno.mkdir(paths.sourcesDir, { recursive: true });
  }
  await Promise.all(Array.from({ length: jobs }, worker));

  const sumsStale =
    (await readTextIfExists(paths.sums)) !== renderSha256Sums(manifest);
  if (sumsStale && !opts.check && !ctx.dryRun) {
    await using _lock = await acquireLock(paths.lock, ctx.lock);
    // Re-read under the lock: regenerate from the manifest as it is now.
    await writeManifestFiles(paths, await readManifest(paths.manifest));
  }
  const known = new Set(manifest.sources.map((e) => e.file));
  const untracked: string[] = [];
  try {
    for await (const d of Deno.readDir(paths.sourcesDir)) {
      if (
        d.name !== "SHA256SUMS.txt" && !d.name.startsWith(".") &&
        !known.has(d.name)
      ) untracked.push(d.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  untracked.sort();
  const good = new Set<RestoreStatus>(["ok", "restored", "replaced"]);
  const ok = results.every((r) => good.has(r.status)) &&
    !(opts.check && sumsStale);
  return { results, sumsStale, untracked, ok };
}
