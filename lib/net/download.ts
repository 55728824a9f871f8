// Downloads that land only when verified: a temp file beside the target, hashed while streaming,
// renamed into place when the sha256 and size match, with a content-addressed cache in front.
// Requests (retries, redirects) are lib/net/http.ts, mirror rewrites lib/net/mirrors.ts.
import { dirname } from "node:path";
import { KitError } from "../kit/errors.ts";
import { tempSibling } from "../kit/fsutil.ts";
import { finish, newSha256, toHex } from "../hash/sha256.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { formatBytes, type ProgressSink } from "../kit/progress.ts";
import { DownloadCache } from "./cache.ts";
import {
  open,
  type RequestOptions,
  RetryableError,
  withRetries,
} from "./http.ts";
import { applyMirrors, type Mirror } from "./mirrors.ts";

export type { ProgressSink } from "../kit/progress.ts";
export { createProgress } from "../kit/progress.ts";

/**
 * Downloaded bytes that differ from the expected sha256 or size: the source changed, or the
 * expectation (a manifest entry) is wrong. Never retried.
 */
export class MismatchError extends KitError {}

/** Options for {@link download}. */
interface DownloadOptions extends RequestOptions {
  /** Final path; written only after verification (temp file beside it, then rename). */
  dest: string;
  /** Expected sha256 (hex); a mismatch is an error naming both hashes. */
  sha256?: string;
  /** Expected size in bytes, when known. */
  size?: number;
  /** Content-addressed cache: consulted first (needs `sha256`), filled after a download. */
  cacheDir?: string;
  /** URL-prefix rewrites (COMFYKIT_MIRRORS). */
  mirrors?: readonly Mirror[];
  /** Progress reporting (see createProgress); silent when absent. */
  progress?: ProgressSink;
  /** Label for progress and errors (default: the file name of `dest`). */
  label?: string;
  /**
   * Last check before the rename, given the verified hash, size and the temp file's path;
   * throwing aborts the download and removes the temp file (vendoring uses it to refuse
   * clobbering a file, and to NAR-hash an archive before it lands).
   */
  check?: (
    got: { sha256: string; size: number; path: string },
  ) => void | Promise<void>;
}

/** What a download produced. */
export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
  /** The URL the bytes came from (after mirrors and redirects); "cache" for a cache hit. */
  source: string;
  fromCache: boolean;
}

/**
 * Downloads `url` to `opts.dest`: cache first (when the hash is known), else the network with
 * retries; streams into a temp file beside `dest` while hashing, verifies hash and size, then
 * renames. A failure at any point, or an interrupt, leaves no temp file and `dest` untouched.
 */
export async function download(
  url: string,
  opts: DownloadOptions,
): Promise<DownloadResult> {
  const label = opts.label ?? opts.dest.split("/").pop()!;
  const expected = opts.sha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new KitError(`${label}: expected sha256 "${opts.sha256}" is not hex`);
  }
  await Deno.mkdir(dirname(opts.dest), { recursive: true });
  const cache = opts.cacheDir ? new DownloadCache(opts.cacheDir) : undefined;

  if (cache && expected) {
    const hit = await fromCache(cache, expected, opts, label);
    if (hit) return hit;
  }

  const target = applyMirrors(url, opts.mirrors ?? []);
  const result = await withRetries(
    `download of ${target}`,
    opts,
    async (signal, touch) => {
      const { res, url: finalUrl } = await open(target, opts, signal);
      const length = Number(res.headers.get("content-length") ?? NaN);
      const total = Number.isFinite(length) ? length : opts.size;
      const bar = opts.progress?.start(label, total);
      try {
        const got = await streamToTemp(res.body!, opts.dest, touch, (n) => {
          bar?.update(n);
        }, async (tmp, sha256, size) => {
          if (Number.isFinite(length) && size !== length) {
            throw new RetryableError(
              `${
                finalUrl === target ? "" : `${finalUrl}: `
              }truncated body (${size} of ${length} bytes)`,
            );
          }
          verify(label, finalUrl, expected, opts.size, sha256, size);
          await opts.check?.({ sha256, size, path: tmp });
          // Fill the cache before the rename, so a crash cannot leave dest without it.
          if (cache) await cache.tryStore(tmp, sha256);
        });
        bar?.done(`${label} (${formatBytes(got.size)})`);
        return { ...got, source: finalUrl };
      } catch (e) {
        bar?.fail();
        throw e;
      }
    },
  );
  return { path: opts.dest, ...result, fromCache: false };
}

async function fromCache(
  cache: DownloadCache,
  expected: string,
  opts: DownloadOptions,
  label: string,
): Promise<DownloadResult | undefined> {
  const cached = await cache.lookup(expected);
  if (!cached) return undefined;
  const file = await Deno.open(cached, { read: true });
  try {
    const got = await streamToTemp(
      file.readable,
      opts.dest,
      () => {},
      () => {},
      async (tmp, sha256, size) => {
        if (sha256 !== expected) {
          throw new CacheCorrupt();
        }
        verify(label, cached, expected, opts.size, sha256, size);
        await opts.check?.({ sha256, size, path: tmp });
      },
    );
    opts.progress?.note(`${label} (${formatBytes(got.size)}, from cache)`);
    return { path: opts.dest, ...got, source: "cache", fromCache: true };
  } catch (e) {
    if (e instanceof CacheCorrupt) {
      // A damaged cache entry is dropped and the file fetched again.
      await Deno.remove(cached).catch(() => {});
      return undefined;
    }
    throw e;
  }
}

class CacheCorrupt extends Error {}

function verify(
  label: string,
  from: string,
  expected: string | undefined,
  expectedSize: number | undefined,
  sha256: string,
  size: number,
): void {
  if (expected !== undefined && sha256 !== expected) {
    throw new MismatchError(
      `${label}: sha256 mismatch for ${from}: expected ${expected}, got ${sha256} (${size} bytes); nothing was written`,
    );
  }
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new MismatchError(
      `${label}: size mismatch for ${from}: expected ${expectedSize} bytes, got ${size}; nothing was written`,
    );
  }
}

/**
 * Streams `body` into a temp file beside `dest`, hashing as it goes; `accept` may veto before
 * the rename. The temp file is removed on every failure path and on interrupt.
 */
async function streamToTemp(
  body: ReadableStream<Uint8Array>,
  dest: string,
  touch: () => void,
  onBytes: (total: number) => void,
  accept: (tmp: string, sha256: string, size: number) => Promise<void>,
): Promise<{ sha256: string; size: number }> {
  const tmp = tempSibling(dest);
  const unregister = removeOnInterrupt(tmp);
  const hash = newSha256();
  let size = 0;
  let renamed = false;
  try {
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    try {
      for await (const chunk of body) {
        touch();
        hash.update(chunk);
        size += chunk.length;
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
        onBytes(size);
      }
      await file.sync();
    } finally {
      file.close();
    }
    const sha256 = toHex(finish(hash));
    await accept(tmp, sha256, size);
    await Deno.rename(tmp, dest);
    renamed = true;
    return { sha256, size };
  } finally {
    if (!renamed) await Deno.remove(tmp).catch(() => {});
    unregister();
  }
}
