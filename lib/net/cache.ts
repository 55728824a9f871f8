// The content-addressed download cache: `<dir>/sha256/<hex>`, filled only with verified bytes, so
// a hit needs no network and two projects share one copy. $COMFYKIT_CACHE_DIR, else
// $XDG_CACHE_HOME/comfykit, else ~/.cache/comfykit.
import { join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { warn } from "../kit/log.ts";
import { tempSibling } from "../kit/fsutil.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { envGet, type EnvLike } from "../kit/env.ts";

/** The cache directory the environment selects. */
export function defaultCacheDir(env: EnvLike = Deno.env): string {
  const explicit = envGet(env, "COMFYKIT_CACHE_DIR");
  if (explicit) return explicit;
  const xdg = envGet(env, "XDG_CACHE_HOME");
  if (xdg) return join(xdg, "comfykit");
  const home = envGet(env, "HOME") ?? envGet(env, "USERPROFILE");
  if (!home) {
    throw new KitError(
      "No cache directory: set COMFYKIT_CACHE_DIR or HOME",
    );
  }
  return join(home, ".cache", "comfykit");
}

/** A cache directory keyed by sha256. */
export class DownloadCache {
  constructor(readonly dir: string) {}

  /** Where the file with this sha256 lives (whether or not it is there). */
  pathFor(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new KitError(`Not a sha256 hex digest: "${sha256}"`);
    }
    return join(this.dir, "sha256", sha256);
  }

  /** The cached file's path, or undefined. The caller still verifies what it reads. */
  async lookup(sha256: string): Promise<string | undefined> {
    const p = this.pathFor(sha256);
    try {
      return (await Deno.stat(p)).isFile ? p : undefined;
    } catch (e) {
      // No cache, or no permission to read it: the network it is.
      if (e instanceof Deno.errors.NotFound || denied(e)) return undefined;
      throw e;
    }
  }

  /**
   * Copies a verified file in (temp + rename: readers never see half a file). The caller has
   * hashed `src`; an existing entry is left as is.
   */
  async store(src: string, sha256: string): Promise<string> {
    const p = this.pathFor(sha256);
    if (await this.lookup(sha256)) return p;
    await Deno.mkdir(join(this.dir, "sha256"), { recursive: true });
    const tmp = tempSibling(p);
    const unregister = removeOnInterrupt(tmp);
    try {
      await Deno.copyFile(src, tmp);
      await Deno.rename(tmp, p);
    } finally {
      await Deno.remove(tmp).catch(() => {});
      unregister();
    }
    return p;
  }

  /**
   * Like store, but a cache that cannot be written (no permission: a COMFYKIT_CACHE_DIR
   * outside the task's --allow-write) is skipped with a warning instead of failing the download.
   */
  async tryStore(src: string, sha256: string): Promise<string | undefined> {
    try {
      return await this.store(src, sha256);
    } catch (e) {
      if (!denied(e)) throw e;
      if (!warned) {
        warned = true;
        warn(
          `download cache "${this.dir}" is not writable (${
            (e as Error).message
          }): continuing without it`,
        );
      }
      return undefined;
    }
  }
}

let warned = false;

function denied(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable ||
    e instanceof Deno.errors.PermissionDenied;
}
