// HTTP requests for the kit: GET with retries (timeouts, resets, truncated bodies, 429, 5xx, with
// backoff and Retry-After), redirects followed by hand (never https → http), JSON fetches. A host
// that cannot be reached at all (its name does not resolve, or it refuses the connection) is not
// a transient fault: it fails at once, and with a shared Reachability (lib/net/reach.ts) one
// quick check per host decides for every request of the run.
import { KitError } from "../kit/errors.ts";
import {
  type Reachability,
  UnreachableError,
  unreachableReason,
} from "./reach.ts";

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
  /** Hosts found unreachable, shared by the requests of one run (outdated's lookups). */
  reach?: Reachability | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** An error worth another attempt (connection, timeout, 429, 5xx, truncated body). */
export class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** A final HTTP status (404 and other 4xx): never retried. */
export class HttpStatusError extends KitError {
  constructor(readonly url: string, readonly status: number) {
    super(`${url}: HTTP ${status}${status === 404 ? " (not found)" : ""}`);
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
export async function withRetries<T>(
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
      else if (e instanceof UnreachableError) {
        throw new KitError(`${what} failed: ${e.message}`);
      } else if (e instanceof KitError) throw e;
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
 * to http, and to http only within the same http origin or with `insecureHttp`. Returns the 200
 * response (body unread) and the final URL. 429/5xx become retryable errors; other statuses are
 * final; an unreachable host is an UnreachableError.
 */
export async function open(
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
    const host = current.host;
    // The one quick check per host (a DNS answer, or an earlier failure), shared by every request.
    const known = await opts.reach?.check(current);
    if (known !== undefined) throw new UnreachableError(host, known);
    let res: Response;
    try {
      res = await fetchFn(current, {
        redirect: "manual",
        signal,
        headers: { "user-agent": "comfykit", ...opts.headers },
      });
    } catch (e) {
      const reason = signal.aborted ? undefined : unreachableReason(e);
      if (reason === undefined) throw e;
      opts.reach?.markDown(host, reason);
      throw new UnreachableError(host, reason);
    }
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
      // Within one plain-http origin (an http mirror the user configured, moving a path) the
      // redirect changes nothing about trust; to another http origin it takes insecureHttp.
      const sameOrigin = current.protocol === "http:" &&
        next.origin === current.origin;
      if (next.protocol === "http:" && !opts.insecureHttp && !sameOrigin) {
        throw new KitError(
          `${current}: refusing a redirect to non-https "${next}" on another host (use an https mirror; deno task fetch-source allows plain http with --insecure-http)`,
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
