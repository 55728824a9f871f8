// Resumable, verified downloads of large files (model weights): bytes go to a `.part` file beside
// the target that survives an interrupted run; the next attempt (a retry, or the next run) hashes
// what is there and asks for the rest with `Range: bytes=N-`. The file is renamed into place only
// when its size and sha256 match. The content-addressed cache (lib/net/cache.ts) is consulted
// first and filled by a hard link (no second copy of a multi-GB file; skipped across devices).
import { basename, dirname, join } from "node:path";
import type { Hash } from "node:crypto";
import { KitError } from "../kit/errors.ts";
import { formatBytes, type ProgressSink } from "../kit/progress.ts";
import { finish, newSha256, sha256File, toHex } from "../hash/sha256.ts";
import { DownloadCache } from "./cache.ts";
import { MismatchError } from "./download.ts";
import {
  type FetchFn,
  HttpStatusError,
  type RequestOptions,
  RetryableError,
  withRetries,
} from "./http.ts";

/** Options for {@link downloadResumable}. */
interface ResumableOptions extends RequestOptions {
  dest: string;
  sha256: string;
  size: number;
  /** Sent only to the first URL's origin (a token must not follow a redirect to a CDN). */
  authHeaders?: Record<string, string>;
  cacheDir?: string;
  progress?: ProgressSink;
  label?: string;
}

/** How a file got into place. */
interface ResumableResult {
  from: "cache" | "network";
  /** Bytes already in the `.part` file when the download started (0: from scratch). */
  resumedFrom: number;
}

/** The `.part` file of a target: hidden, beside it, on the same file system. */
function partialPath(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.part`);
}

/**
 * Puts the file with `opts.sha256` / `opts.size` at `opts.dest`: from the cache when it has it,
 * else from `url`, resuming a `.part` file left by an earlier attempt. Nothing reaches `dest`
 * unverified; wrong bytes are deleted and reported (MismatchError).
 */
export async function downloadResumable(
  url: string,
  opts: ResumableOptions,
): Promise<ResumableResult> {
  const label = opts.label ?? basename(opts.dest);
  const expected = opts.sha256.toLowerCase();
  await Deno.mkdir(dirname(opts.dest), { recursive: true });
  const cache = opts.cacheDir ? new DownloadCache(opts.cacheDir) : undefined;
  if (cache && await fromCache(cache, expected, opts, label)) {
    return { from: "cache", resumedFrom: 0 };
  }
  const part = partialPath(opts.dest);
  let resumedFrom = -1;
  const bar = opts.progress?.start(label, opts.size);
  try {
    await withRetries(`download of ${url}`, opts, async (signal, touch) => {
      const partial = await hashPartial(part, opts.size, touch);
      let { hash } = partial;
      const { have } = partial;
      if (resumedFrom < 0) resumedFrom = have;
      if (have < opts.size || opts.size === 0) {
        hash = await fetchRest(url, part, have, hash, opts, signal, (n) => {
          touch();
          bar?.update(n);
        });
      } else bar?.update(have);
      const got = toHex(finish(hash));
      const size = (await Deno.stat(part)).size;
      if (got !== expected || size !== opts.size) {
        await Deno.remove(part).catch(() => {});
        throw new MismatchError(
          `${label}: ${
            size !== opts.size
              ? `size mismatch for ${url}: expected ${opts.size} bytes, got ${size}`
              : `sha256 mismatch for ${url}: expected ${expected}, got ${got}`
          }; the download was deleted, nothing was put in place`,
        );
      }
    });
    if (cache) await linkIntoCache(cache, part, expected);
    await Deno.rename(part, opts.dest);
    bar?.done(
      `${label} (${formatBytes(opts.size)}${
        resumedFrom > 0 ? `, resumed at ${formatBytes(resumedFrom)}` : ""
      })`,
    );
    return { from: "network", resumedFrom: Math.max(0, resumedFrom) };
  } catch (e) {
    bar?.fail();
    throw e;
  }
}

/**
 * Hashes the bytes already in `part` (none when missing or too long: then it starts over),
 * calling `touch` after each MiB so a long re-hash does not count as an idle connection.
 */
export async function hashPartial(
  part: string,
  size: number,
  touch: () => void,
): Promise<{ hash: Hash; have: number }> {
  const hash = newSha256();
  let have = 0;
  try {
    have = (await Deno.stat(part)).size;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (have > size) {
    await Deno.remove(part);
    have = 0;
  }
  if (have === 0) return { hash, have };
  const buf = new Uint8Array(1024 * 1024);
  using file = await Deno.open(part, { read: true });
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(n === buf.length ? buf : buf.subarray(0, n));
    touch(); // re-hashing a large partial file is progress too, not an idle connection
  }
  return { hash, have };
}

/**
 * GETs bytes `have`… of `url` (following redirects by hand) and appends them to `part`; returns
 * the hash of the whole file (a fresh one when the server ignored the range and sent it all).
 */
async function fetchRest(
  url: string,
  part: string,
  have: number,
  hash: Hash,
  opts: ResumableOptions,
  signal: AbortSignal,
  onBytes: (total: number) => void,
): Promise<Hash> {
  const res = await openRange(url, have, opts, signal);
  // A 200 is the whole file (the server ignored the range, or answered 416): start over.
  const start = res.status === 206 ? have : 0;
  const h = start === have ? hash : newSha256();
  const total = serverTotal(res, start);
  if (total !== undefined && total !== opts.size) {
    await res.body?.cancel();
    await Deno.remove(part).catch(() => {});
    throw new MismatchError(
      `${
        opts.label ?? basename(opts.dest)
      }: size mismatch for ${url}: the lock says ${opts.size} bytes, the server has ${total}; nothing was put in place`,
    );
  }
  using file = await Deno.open(part, {
    write: true,
    create: true,
    truncate: start === 0,
    append: start > 0,
  });
  let got = start;
  for await (const chunk of res.body!) {
    h.update(chunk);
    let off = 0;
    while (off < chunk.length) off += await file.write(chunk.subarray(off));
    got += chunk.length;
    if (got > opts.size) {
      throw new MismatchError(
        `${
          opts.label ?? basename(opts.dest)
        }: size mismatch for ${url}: more than the expected ${opts.size} bytes; the download was stopped`,
      );
    }
    onBytes(got);
  }
  await file.sync();
  if (got < opts.size) {
    throw new RetryableError(`truncated body (${got} of ${opts.size} bytes)`);
  }
  return h;
}

/** The whole file's size as the server states it (Content-Range total, or a 200's length). */
function serverTotal(res: Response, start: number): number | undefined {
  if (res.status === 206) {
    const m = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
    return m ? Number(m[1]) : undefined;
  }
  const len = Number(res.headers.get("content-length") ?? NaN);
  return start === 0 && Number.isSafeInteger(len) ? len : undefined;
}

/**
 * A GET of `url` from byte `from` (0: the whole file), following redirects by hand and sending
 * `authHeaders` only to `url`'s own origin: 206, or 200 when the server ignores the range.
 */
export async function openRange(
  url: string,
  from: number,
  opts: RequestOptions & { authHeaders?: Record<string, string> },
  signal: AbortSignal,
): Promise<Response> {
  const fetchFn: FetchFn = opts.fetch ?? fetch;
  const origin = new URL(url).origin;
  let current = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = {
      "user-agent": "comfykit",
      ...opts.headers,
      ...(current.origin === origin ? opts.authHeaders : {}),
      ...(from > 0 ? { range: `bytes=${from}-` } : {}),
    };
    const res = await fetchFn(current, { redirect: "manual", signal, headers });
    if (res.status >= 300 && res.status < 400 && res.headers.has("location")) {
      await res.body?.cancel();
      const next = new URL(res.headers.get("location")!, current);
      if (current.protocol === "https:" && next.protocol !== "https:") {
        throw new KitError(
          `${current}: refusing a redirect from https to "${next}"`,
        );
      }
      current = next;
      continue;
    }
    if (res.status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(
        res.headers.get("content-range") ?? "",
      );
      if (!m || Number(m[1]) !== from) {
        await res.body?.cancel();
        throw new KitError(
          `${current}: answered a range request from byte ${from} with Content-Range "${
            res.headers.get("content-range")
          }"`,
        );
      }
      return res;
    }
    if (res.status === 200) return res;
    await res.body?.cancel();
    if (res.status === 416 && from > 0) {
      // The partial file is as long as (or longer than) the server's: start over.
      return await openRange(url, 0, opts, signal);
    }
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableError(`HTTP ${res.status}`);
    }
    throw new HttpStatusError(current.href, res.status);
  }
  throw new KitError(`${url}: too many redirects`);
}

async function fromCache(
  cache: DownloadCache,
  sha256: string,
  opts: ResumableOptions,
  label: string,
): Promise<boolean> {
  const cached = await cache.lookup(sha256);
  if (!cached) return false;
  const got = toHex(await sha256File(cached));
  if (got !== sha256 || (await Deno.stat(cached)).size !== opts.size) {
    await Deno.remove(cached).catch(() => {});
    return false;
  }
  const tmp = partialPath(opts.dest);
  await Deno.remove(tmp).catch(() => {});
  try {
    await Deno.link(cached, tmp);
  } catch {
    await Deno.copyFile(cached, tmp);
  }
  await Deno.rename(tmp, opts.dest);
  opts.progress?.note(`${label} (${formatBytes(opts.size)}, from cache)`);
  return true;
}

/** A hard link of the verified file in the cache; nothing when the cache is elsewhere. */
async function linkIntoCache(
  cache: DownloadCache,
  file: string,
  sha256: string,
): Promise<void> {
  if (await cache.lookup(sha256)) return;
  try {
    await Deno.mkdir(dirname(cache.pathFor(sha256)), { recursive: true });
    await Deno.link(file, cache.pathFor(sha256));
  } catch {
    // Another file system, or no write access: the models folder keeps the only copy.
  }
}
