// Files fetched into the download cache without being vendored (bump-comfyui's and
// new-package's archives), addressed by sha256; a URL without a published hash remembers the
// sha256 it gave last time.
import { basename, join } from "node:path";
import { atomicWrite, readTextIfExists } from "../kit/fsutil.ts";
import { sha256Bytes, toHex } from "../hash/sha256.ts";
import { defaultCacheDir, DownloadCache } from "../net/cache.ts";
import { KitError } from "../kit/errors.ts";
import {
  createProgress,
  download,
  type ProgressSink,
} from "../net/download.ts";
import { type Mirror, mirrorsFromEnv } from "../net/mirrors.ts";
import { type RequestOptions } from "../net/http.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import type { EnvLike } from "../kit/env.ts";
import { fileSha } from "./vendor_context.ts";

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
    /** Checks the downloaded file before the cache keeps it (throws to refuse it). */
    verify?: (path: string) => Promise<void>;
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
    // Nothing unchecked enters the cache: a corrupt download must not outlive this run.
    await opts.verify?.(got.path);
    return await cache.store(got.path, got.sha256);
  } finally {
    await Deno.remove(dest).catch(() => {});
    unregister();
  }
}

/** The download cache lacks a file an offline caller asked for. */
export class NotCachedError extends KitError {}

/**
 * A file with no published sha256 (a GitHub archive) through the download cache. The cache is
 * addressed by sha256, so the sha256 each URL gave last time is remembered beside it
 * (`urls/<sha256 of URL>`): a second run reads the cache instead of the network.
 */
export async function fetchUrlCached(
  url: string,
  opts: {
    env?: EnvLike;
    progress?: ProgressSink;
    offline?: boolean;
    /**
     * Checks the file (a fresh download before the cache keeps it, a cached copy before it is
     * used); a cached copy that fails is dropped and fetched again (offline: its error is
     * thrown and the copy kept).
     */
    verify?: (path: string) => Promise<void>;
  } = {},
): Promise<string> {
  const env = opts.env ?? Deno.env;
  let cacheDir: string;
  try {
    cacheDir = defaultCacheDir(env);
  } catch (e) {
    // No cache at all: offline, that is "not cached"; online, the error says what to set.
    if (opts.offline && e instanceof KitError) {
      throw new NotCachedError(
        `${url} is not in the download cache: ${e.message}`,
      );
    }
    throw e;
  }
  const dir = join(cacheDir, "urls");
  const memo = join(dir, toHex(sha256Bytes(url)));
  let known = (await readTextIfExists(memo))?.trim();
  if (known && !/^[0-9a-f]{64}$/.test(known)) known = undefined;
  const cache = new DownloadCache(cacheDir);
  const hit = known ? await cache.lookup(known) : undefined;
  if (hit) {
    try {
      await opts.verify?.(hit);
      return hit;
    } catch (e) {
      // Offline (a read-only check such as verify): say what is wrong with the copy, keep it.
      if (!(e instanceof KitError) || opts.offline) throw e;
      // A copy an earlier version of the kit cached unchecked: drop it, fetch it again.
      await Deno.remove(hit).catch(() => {});
      await Deno.remove(memo).catch(() => {});
      known = undefined;
    }
  } else if (opts.offline) {
    throw new NotCachedError(`${url} is not in the download cache`);
  }
  const path = await fetchToCache(url, {
    env,
    label: url.split("/").slice(-4).join("/"),
    progress: opts.progress ?? createProgress(),
    ...(known ? { sha256: known } : {}),
    ...(opts.verify ? { verify: opts.verify } : {}),
  });
  const sha = basename(path);
  if (sha !== known) {
    await Deno.mkdir(dir, { recursive: true });
    await atomicWrite(memo, `${sha}\n`);
  }
  return path;
}
