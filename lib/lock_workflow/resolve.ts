// One model URL → one pinned model: a Hugging Face URL becomes `resolve/<commit>/…` with size and
// sha256 from the Hub's LFS headers (or downloaded and hashed for a file kept in git); any other
// URL is downloaded and hashed, and recorded as not immutable.
import { dirname, join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { DownloadCache } from "../net/cache.ts";
import { finish, newSha256, toHex } from "../hash/sha256.ts";
import { formatBytes, type ProgressSink } from "../kit/progress.ts";
import type { LockedModel } from "../comfy/lock_file.ts";
import {
  type RequestOptions,
  RetryableError,
  withRetries,
} from "../net/http.ts";
import { applyMirrors, type Mirror } from "../net/mirrors.ts";
import { openRange } from "../net/resumable.ts";
import {
  downloadHeaders,
  fileInfo,
  hfFileUrl,
  onHub,
  parseHfUrl,
  repoRevision,
} from "../net/huggingface.ts";

/** Where and how to ask. */
interface ResolveContext extends RequestOptions {
  /** The Hub's base URL ($COMFYKIT_HF_URL). */
  hub: string;
  token: string | undefined;
  mirrors: readonly Mirror[];
  /** Also download LFS files and compare with the Hub's headers. */
  verifyLfs: boolean;
  /**
   * The download cache: bytes downloaded to be hashed are kept there (`sha256/<hex>`), so
   * `models fetch` needs no second download. Skipped when it cannot be written.
   */
  cacheDir?: string;
  progress?: ProgressSink;
}

/** A model to pin: where the workflow says it goes and where it comes from. */
export interface ModelRequest {
  name: string;
  directory: string;
  url: string;
  nodeTypes: string[];
}

/**
 * `url` without the web-page and download decorations: a Hub `blob/` URL becomes `resolve/`, a
 * query (`?download=true`) is dropped from Hub URLs. Other URLs are returned as they are.
 */
export function normaliseUrl(url: string, hub: string): string {
  const ref = parseHfUrl(url, hub);
  return ref ? hfFileUrl(ref) : url;
}

/** Pins one model (network). */
export async function resolveModel(
  req: ModelRequest,
  ctx: ResolveContext,
): Promise<LockedModel> {
  const ref = parseHfUrl(req.url, ctx.hub);
  const base = {
    name: req.name,
    directory: req.directory,
    nodeTypes: req.nodeTypes,
  };
  if (!ref) {
    const got = await hashUrl(req.url, {}, `${req.directory}/${req.name}`, ctx);
    return {
      ...base,
      url: req.url,
      sourceUrl: req.url,
      immutable: false,
      size: got.size,
      sha256: got.sha256,
      hashFrom: "download",
    };
  }
  const rev = await repoRevision(ctx.hub, ref, ctx.token, ctx);
  const url = hfFileUrl(ref, ref.origin, rev.commit);
  const asked = onHub(url, ctx.hub);
  const info = await fileInfo(asked, ctx.token, ctx);
  if (info.commit !== undefined && info.commit !== rev.commit) {
    throw new KitError(
      `${asked}: the Hub served commit ${info.commit}, not the pinned ${rev.commit}`,
    );
  }
  let sha256: string, size: number, hashFrom: LockedModel["hashFrom"];
  if (info.lfs) {
    ({ sha256, size } = info.lfs);
    hashFrom = "lfs";
    if (ctx.verifyLfs) {
      const got = await hashUrl(
        asked,
        downloadHeaders(asked, ctx.hub, ctx.token),
        req.name,
        ctx,
      );
      if (got.sha256 !== sha256 || got.size !== size) {
        throw new KitError(
          `${asked}: the Hub's LFS headers say ${size} bytes, sha256 ${sha256}; the download has ${got.size} bytes, sha256 ${got.sha256}`,
        );
      }
    }
  } else {
    // Kept in git: the ETag is a git blob id, not a sha256. Hash the bytes.
    ({ sha256, size } = await hashUrl(
      asked,
      downloadHeaders(asked, ctx.hub, ctx.token),
      req.name,
      ctx,
    ));
    hashFrom = "download";
  }
  return {
    ...base,
    url,
    sourceUrl: hfFileUrl(ref),
    immutable: true,
    size,
    sha256,
    hashFrom,
    huggingface: {
      repo: ref.repo,
      kind: ref.kind,
      path: ref.path,
      revision: ref.revision,
      commit: rev.commit,
      ...(rev.gated !== undefined ? { gated: rev.gated } : {}),
      ...(rev.license !== undefined ? { license: rev.license } : {}),
    },
  };
}

/** Downloads `url` (through the mirrors) and hashes it as it streams: bounded memory, no file. */
async function hashUrl(
  url: string,
  authHeaders: Record<string, string>,
  label: string,
  ctx: ResolveContext,
): Promise<{ sha256: string; size: number }> {
  const target = applyMirrors(url, ctx.mirrors);
  return await withRetries(
    `download of ${target}`,
    ctx,
    async (signal, touch) => {
      const res = await openRange(target, 0, { ...ctx, authHeaders }, signal);
      const length = Number(res.headers.get("content-length") ?? NaN);
      const bar = ctx.progress?.start(
        `${label} (hashing)`,
        Number.isSafeInteger(length) ? length : undefined,
      );
      const hash = newSha256();
      let size = 0;
      const keep = ctx.cacheDir
        ? await CacheFile.open(ctx.cacheDir)
        : undefined;
      try {
        for await (const chunk of res.body!) {
          touch();
          hash.update(chunk);
          await keep?.write(chunk);
          size += chunk.length;
          bar?.update(size);
        }
        if (Number.isSafeInteger(length) && size !== length) {
          throw new RetryableError(
            `truncated body (${size} of ${length} bytes)`,
          );
        }
      } catch (e) {
        bar?.fail();
        await keep?.discard();
        throw e;
      }
      const sha256 = toHex(finish(hash));
      await keep?.store(sha256);
      bar?.done(`${label} (${formatBytes(size)}, hashed)`);
      return { sha256, size };
    },
  );
}

/** A file being written into the download cache, named by its hash once complete. */
class CacheFile {
  private constructor(
    readonly cache: DownloadCache,
    readonly tmp: string,
    readonly file: Deno.FsFile,
  ) {}

  /** A temp file in the cache, or undefined when the cache cannot be written. */
  static async open(dir: string): Promise<CacheFile | undefined> {
    const cache = new DownloadCache(dir);
    const tmp = join(dir, "sha256", `.lock-${crypto.randomUUID()}.part`);
    try {
      await Deno.mkdir(dirname(tmp), { recursive: true });
      return new CacheFile(
        cache,
        tmp,
        await Deno.open(tmp, { write: true, createNew: true }),
      );
    } catch {
      return undefined;
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      off += await this.file.write(chunk.subarray(off));
    }
  }

  async store(sha256: string): Promise<void> {
    this.file.close();
    await Deno.rename(this.tmp, this.cache.pathFor(sha256)).catch(() => {});
    await Deno.remove(this.tmp).catch(() => {});
  }

  async discard(): Promise<void> {
    try {
      this.file.close();
    } catch {
      // already closed
    }
    await Deno.remove(this.tmp).catch(() => {});
  }
}
