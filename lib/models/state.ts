// What `models check` verified, so a file is not re-hashed while its size and mtime are unchanged:
// `<cache>/verified-models.json` (the kit's download cache directory, $COMFYKIT_CACHE_DIR or
// ~/.cache/comfykit), keyed by the file's absolute path. Losing it only costs a re-hash.
import { join } from "node:path";
import { atomicWrite } from "../kit/fsutil.ts";
import { warn } from "../kit/log.ts";

/** The state file's name inside the cache directory. */
export const STATE_FILE = "verified-models.json";

/** One verified file. */
interface Verified {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** The verified files, loaded from and saved to the cache directory. */
export class VerifiedState {
  readonly path: string;
  #files = new Map<string, Verified>();
  #dirty = false;

  constructor(cacheDir: string) {
    this.path = join(cacheDir, STATE_FILE);
  }

  /** Reads the state; a missing or damaged file is an empty state. */
  async load(): Promise<this> {
    try {
      const data = JSON.parse(await Deno.readTextFile(this.path));
      for (const [k, v] of Object.entries(data?.files ?? {})) {
        const e = v as Partial<Verified>;
        if (
          typeof e.size === "number" && typeof e.mtimeMs === "number" &&
          typeof e.sha256 === "string"
        ) {
          this.#files.set(k, {
            size: e.size,
            mtimeMs: e.mtimeMs,
            sha256: e.sha256,
          });
        }
      }
    } catch {
      // none yet, or unreadable: everything is hashed again
    }
    return this;
  }

  /** True when `path` was verified as `sha256` and its size and mtime have not changed since. */
  isVerified(path: string, info: Deno.FileInfo, sha256: string): boolean {
    const e = this.#files.get(path);
    return e !== undefined && e.sha256 === sha256 && e.size === info.size &&
      e.mtimeMs === (info.mtime?.getTime() ?? -1);
  }

  /** Records a verified file. */
  record(path: string, info: Deno.FileInfo, sha256: string): void {
    this.#files.set(path, {
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? -1,
      sha256,
    });
    this.#dirty = true;
  }

  /** Forgets a file (it failed a check). */
  forget(path: string): void {
    this.#dirty = this.#files.delete(path) || this.#dirty;
  }

  /** Writes the state when it changed; a cache that cannot be written is a warning. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const files = Object.fromEntries(
      [...this.#files].sort(([a], [b]) => a < b ? -1 : 1),
    );
    try {
      await Deno.mkdir(join(this.path, ".."), { recursive: true });
      await atomicWrite(
        this.path,
        JSON.stringify({ version: 1, files }, null, 2) + "\n",
      );
      this.#dirty = false;
    } catch (e) {
      warn(
        `cannot save the verified-files state "${this.path}" (${
          (e as Error).message.split("\n")[0]
        }): the next check hashes again`,
      );
    }
  }
}
