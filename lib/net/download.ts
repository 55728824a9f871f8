// HTTP for the kit: retries with backoff, manual redirects (no loops, no downgrade to http),
// per-attempt timeouts, mirror rewrites, and downloads that land only when verified (temp file
// beside the target, hash while streaming, rename), with a content-addressed cache in front.
import { dirname } from "node:path";
import { KitError } from "../kit/errors.ts";
import { tempSibling } from "../kit/fsutil.ts";
import { finish, newSha256, toHex } from "../hash/sha256.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { envGet, type EnvLike } from "../kit/env.ts";
import { formatBytes, type ProgressSink } from "../kit/progress.ts";
import { DownloadCache } from "./cache.ts";

export type { EnvLike } from "../kit/env.ts";
export type { ProgressSink } from "../kit/progress.ts";
export { createProgress, formatBytes } from "../kit/progress.ts";

/** The `fetch` signature the kit uses (injectable for tests). */
export type FetchFn = (
  input: string | URL,
  init?: RequestInit,
) => Promise<Response>;

/** How hard to try. Every field has a default; tests shrink the delays. */
export interface RetryPolicy {
  /** Total attempts, including the first (default 5). */
  attempts?: number;
  /** First backoff delay; doubled each retry (default 500 ms). */
  baseDelayMs?: number;
  /** Cap on one delay, also on a server's Retry-After (default 10 s). */
  maxDelayMs?: number;
  /** No retry starts after this much time since the first attempt (default 120 s). */
  totalMs?: number;
  /** Per attempt: time to the response headers, and longest silence in the body (default 30 s). */
  timeoutMs?: number;
  /** Sleeps between attempts (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

/** Options shared by every request. */
export interface RequestOptions {
  fetch?: FetchFn;
  retry?: RetryPolicy;
  headers?: Record<string, string>;
  /** Follow redirects to plain-http URLs (never from https to http). */
  insecureHttp?: boolean;
  /** Called before each retry, e.g. to print "retrying …". */
  onRetry?: (message: string) => void;
}

/** A mirror rewrite: URLs starting with `from` are fetched from `to` + the rest. */
export interface Mirror {
  from: string;
  to: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** An error worth another attempt (connection, timeout, 429, 5xx, truncated body). */
class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/**
 * Downloaded bytes that differ from the expected sha256 or size: the source changed, or the
 * expectation (a manifest entry) is wrong. Never retried.
 */
export class MismatchError extends KitError {}

/** A final HTTP status (404 and other 4xx): never retried. */
export class HttpStatusError extends KitError {
  constructor(readonly url: string, readonly status: number) {
    super(`${url}: HTTP ${status}${status === 404 ? " (not found)" : ""}`);
  }
}

/** Parses `COMFYKIT_MIRRORS`: comma-separated `FROM=TO` URL prefixes. */
export function parseMirrors(text: string | undefined): Mirror[] {
  if (!text?.trim()) return [];
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((pair) => {
    const i = pair.indexOf("=");
    const from = pair.slice(0, i).trim();
    const to = pair.slice(i + 1).trim();
    if (i <= 0 || !to || !isHttpUrl(from) || !isHttpUrl(to)) {
      throw new KitError(
        `COMFYKIT_MIRRORS: "${pair}" is not FROM=TO with two http(s) URL prefixes`,
      );
    }
    return { from, to };
  });
}

/** The mirrors configured in the environment. */
export function mirrorsFromEnv(env: EnvLike = Deno.env): Mirror[] {
  return parseMirrors(envGet(env, "COMFYKIT_MIRRORS"));
}

/** Applies the longest matching mirror prefix to `url` (unchanged when none matches). */
export function applyMirrors(url: string, mirrors: readonly Mirror[]): string {
  let best: Mirror | undefined;
  for (const m of mirrors) {
    if (url.startsWith(m.from) && (!best || m.from.length > best.from.length)) {
      best = m;
    }
  }
  return best ? best.to + url.slice(best.from.length) : url;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `attempt` until it succeeds, a non-retryable error is thrown, or the policy's attempts
 * or total time run out. `attempt` gets a `touch()` to call whenever data arrives (it restarts
 * the idle timer) and the signal that aborts it on timeout.
 */
async function withRetries<T>(
  what: string,
  opts: RequestOptions,
  attempt: (signal: AbortSignal, touch: () => void) => Promise<T>,
): Promise<T> {
  const p = opts.retry ?? {};
  const attempts = Math.max(1, p.attempts ?? 5);
  const base = p.baseDelayMs ?? 500;
  const maxDelay = p.maxDelayMs ?? 10_000;
  const totalMs = p.totalMs ?? 120_000;
  const timeoutMs = p.timeoutMs ?? 30_000;
  const wait = p.sleep ?? sleep;
  const started = Date.now();
  for (let n = 1;; n++) {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(), timeoutMs);
    };
    touch();
    let failure: RetryableError;
    try {
      return await attempt(ac.signal, touch);
    } catch (e) {
      if (ac.signal.aborted) {
        failure = new RetryableError(`timed out after ${timeoutMs} ms`);
      } else if (e instanceof RetryableError) failure = e;
      else if (e instanceof KitError) throw e;
      else if (e instanceof TypeError || e instanceof Deno.errors.Http) {
        // fetch's connection errors and body-stream errors (truncated transfers) are TypeErrors.
        failure = new RetryableError(describeError(e));
      } else if (isConnectionError(e)) {
        failure = new RetryableError((e as Error).message);
      } else throw e;
    } finally {
      clearTimeout(timer);
    }
    const delay = Math.min(
      maxDelay,
      failure.retryAfterMs ?? base * 2 ** (n - 1),
    );
    if (n >= attempts || Date.now() - started + delay > totalMs) {
      throw new KitError(
        `${what} failed after ${n} attempt${
          n === 1 ? "" : "s"
        }: ${failure.message}`,
      );
    }
    opts.onRetry?.(
      `${what}: ${failure.message}; retrying in ${
        (delay / 1000).toFixed(1)
      } s (attempt ${n + 1} of ${attempts})`,
    );
    await wait(delay);
  }
}

/**
 * "fetch failed" alone says nothing: add the cause (DNS, refused, reset …) when there is one,
 * without the URL the message around it already names.
 */
export function describeError(e: Error): string {
  const cause = e.cause instanceof Error
    ? e.cause.message.replace(/^error sending request for url \([^)]*\): /, "")
    : undefined;
  return cause && !e.message.includes(cause)
    ? `${e.message}: ${cause}`
    : e.message;
}

function isConnectionError(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionRefused ||
    e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.UnexpectedEof ||
    e instanceof Deno.errors.TimedOut;
}

function retryAfter(res: Response): number | undefined {
  const h = res.headers.get("retry-after");
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(h);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * One GET with redirects followed by hand: at most ten, no URL twice (a loop), never from https
 * to http, and to http only with `insecureHttp`. Returns the 200 response (body unread) and the
 * final URL. 429/5xx become retryable errors; other statuses are final.
 */
async function open(
  url: string,
  opts: RequestOptions,
  signal: AbortSignal,
): Promise<{ res: Response; url: string }> {
  const fetchFn = opts.fetch ?? fetch;
  let current = new URL(url);
  const seen = new Set<string>();
  for (let hops = 0;; hops++) {
    if (current.protocol !== "https:" && current.protocol !== "http:") {
      throw new KitError(`${url}: refusing a non-http(s) URL "${current}"`);
    }
    seen.add(current.href);
    const res = await fetchFn(current, {
      redirect: "manual",
      signal,
      headers: { "user-agent": "comfykit", ...opts.headers },
    });
    if (REDIRECTS.has(res.status)) {
      await res.body?.cancel();
      const loc = res.headers.get("location");
      if (!loc) {
        throw new KitError(
          `${current}: HTTP ${res.status} redirect without a Location`,
        );
      }
      const next = new URL(loc, current);
      if (current.protocol === "https:" && next.protocol !== "https:") {
        throw new KitError(
          `${current}: refusing a redirect from https to "${next}"`,
        );
      }
      if (next.protocol === "http:" && !opts.insecureHttp) {
        throw new KitError(
          `${current}: refusing a redirect to non-https "${next}" (pass --insecure-http to allow plain http)`,
        );
      }
      if (seen.has(next.href) || hops + 1 >= MAX_REDIRECTS) {
        throw new KitError(
          `${url}: redirect loop (${hops + 1} redirects, last to "${next}")`,
        );
      }
      current = next;
      continue;
    }
    if (res.status === 200) return { res, url: current.href };
    await res.body?.cancel();
    if (res.status === 429 || res.status >= 500) {
      // The caller's message names the URL asked for; name only a redirect's target.
      const where = current.href === new URL(url).href ? "" : `${current}: `;
      throw new RetryableError(`${where}HTTP ${res.status}`, retryAfter(res));
    }
    throw new HttpStatusError(current.href, res.status);
  }
}

/** GETs JSON with retries; a non-JSON body is a KitError naming the URL. */
export async function fetchJson(
  url: string,
  opts: RequestOptions = {},
): Promise<{ data: unknown; headers: Headers; url: string }> {
  return await withRetries(`GET ${url}`, opts, async (signal, touch) => {
    const { res, url: finalUrl } = await open(url, {
      ...opts,
      headers: { accept: "application/json", ...opts.headers },
    }, signal);
    touch();
    const text = await res.text();
    try {
      return { data: JSON.parse(text), headers: res.headers, url: finalUrl };
    } catch {
      throw new KitError(`${finalUrl}: response is not JSON`);
    }
  });
}

/** Options for {@link download}. */
export interface DownloadOptions extends RequestOptions {
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
 * Copies a local file to `dest` through a temp file beside it, verifying its sha256 (hex) before
 * the rename.
 */
export async function copyVerified(
  src: string,
  dest: string,
  sha256: string,
): Promise<{ sha256: string; size: number }> {
  const file = await Deno.open(src, { read: true });
  return await streamToTemp(
    file.readable,
    dest,
    () => {},
    () => {},
    (_tmp, got, size) => {
      verify(src, src, sha256.toLowerCase(), undefined, got, size);
      return Promise.resolve();
    },
  );
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
