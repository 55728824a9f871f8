// What every vendoring call shares (lib/repo/vendor.ts and its parts): the context options, what
// a plan and a result are, and small helpers. The repository's paths are in lib/repo/paths.ts.
import { sha256File, toHex } from "../hash/sha256.ts";
import type { SourceEntry } from "./manifest.ts";
import { defaultCacheDir } from "../net/cache.ts";
import type { Mirror } from "../net/mirrors.ts";
import type { ProgressSink } from "../net/download.ts";
import type { RequestOptions } from "../net/http.ts";
import type { LockOptions } from "./lock.ts";
import type { EnvLike } from "../kit/env.ts";
import { sourceFile } from "./paths.ts";

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

/** What will be fetched for one source (each kind plans its own: lib/repo/source_kinds/). */
export type { Plan } from "./source_kinds/kind.ts";

/** What happened to one source. */
type VendorAction =
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

export function ctxEnv(ctx: VendorContext): EnvLike {
  return ctx.env ?? Deno.env;
}

export function cacheOf(ctx: VendorContext): string | undefined {
  if (ctx.cacheDir === false) return undefined;
  return ctx.cacheDir ?? defaultCacheDir(ctxEnv(ctx));
}

/** The sha256 (hex) of a file, undefined when it does not exist. */
export async function fileSha(path: string): Promise<string | undefined> {
  try {
    return toHex(await sha256File(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** How a vendored file is named in messages. */
export function rel(file: string): string {
  return sourceFile(file);
}
