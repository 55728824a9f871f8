// Reader workers for lib/hash/nar.ts: batches of files read on two threads while the main thread
// hashes, and the one-line errors a tree on disk can produce.
import { KitError } from "../kit/errors.ts";

/** Files up to this size are read whole (by a worker); larger ones are streamed in chunks. */
export const SMALL_FILE = 64 * 1024;
export const BATCH_FILES = 256;
const BATCHES_IN_FLIGHT = 4;

/** A file that changed between being listed and being read. */
export function changed(path: string): KitError {
  return new KitError(`File "${path}" changed while it was being hashed`);
}

/** Turns file-system errors into one-line KitErrors naming the path. */
export function fsError(e: unknown, path: string): unknown {
  if (e instanceof Deno.errors.NotFound) {
    return new KitError(`No such file or directory: "${path}"`);
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new KitError(`Permission denied: "${path}"`);
  }
  if (e instanceof Deno.errors.NotCapable) {
    return new KitError(`Not allowed to read "${path}" (Deno permissions)`);
  }
  return e;
}

/** A regular file as read: its executable bit, size and (when small) contents. */
export interface FileRead {
  executable: boolean;
  size: number;
  /** Undefined for a large file: the writer streams it from disk. */
  contents?: Uint8Array;
}

/**
 * Reads a file for the NAR: lstat (it must still be a regular file), then its contents when
 * small — two Deno ops, where open + fstat + read + close would pay the per-path permission
 * check more often. A large file is streamed by writeFile.
 */
export function readFileSmall(path: string): FileRead {
  const info = Deno.lstatSync(path);
  if (!info.isFile) throw changed(path);
  const executable = ((info.mode ?? 0) & 0o100) !== 0;
  if (info.size > SMALL_FILE) return { executable, size: info.size };
  const contents = Deno.readFileSync(path);
  if (contents.length !== info.size) throw changed(path);
  return { executable, size: info.size, contents };
}

/** What a reader worker sends back for one batch of files. */
interface BatchResult {
  id: number;
  /** bit 0: executable; bit 1: large (not read). */
  flags?: Uint8Array;
  sizes?: Float64Array;
  data?: Uint8Array;
  error?: { path: string; name: string; message: string };
}

/**
 * Reads batches of files on worker threads, at most BATCHES_IN_FLIGHT ahead of the writer. The
 * file list grows while the tree is walked; full batches are sent as soon as they exist.
 */
export class ParallelReader implements Disposable {
  readonly #workers: Worker[] = [];
  readonly #files: string[];
  readonly #pending = new Map<number, PromiseWithResolvers<BatchResult>>();
  #sent = 0;
  #consumed = 0;
  #complete = false;

  constructor(files: string[], workers: number) {
    this.#files = files;
    const url = new URL("./nar_worker.ts", import.meta.url).href;
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (e: MessageEvent<BatchResult>) => {
        this.#pending.get(e.data.id)?.resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        for (const p of this.#pending.values()) {
          p.reject(new Error(`NAR reader worker failed: ${e.message}`));
        }
      };
      this.#workers.push(worker);
    }
  }

  /** Sends the batches that are full (or, once the walk is complete, the last one). */
  pump(): void {
    while (this.#sent - this.#consumed < BATCHES_IN_FLIGHT) {
      const start = this.#sent * BATCH_FILES;
      const end = start + BATCH_FILES;
      if (
        this.#files.length < end &&
        !(this.#complete && start < this.#files.length)
      ) return;
      const id = this.#sent++;
      this.#pending.set(id, Promise.withResolvers());
      this.#workers[id % this.#workers.length]!.postMessage({
        id,
        paths: this.#files.slice(start, end),
        small: SMALL_FILE,
      });
    }
  }

  /** The walk is over: no more files will be added. */
  complete(): void {
    this.#complete = true;
    this.pump();
  }

  /** The reads of batch `id`, in file order. */
  async batch(id: number): Promise<FileRead[]> {
    const r = await this.#pending.get(id)!.promise;
    this.#pending.delete(id);
    this.#consumed++;
    this.pump();
    if (r.error) {
      const { path, name, message } = r.error;
      if (name === "NotFound") throw fsError(new Deno.errors.NotFound(), path);
      if (name === "PermissionDenied") {
        throw fsError(new Deno.errors.PermissionDenied(), path);
      }
      if (name === "Changed") throw changed(path);
      throw new KitError(`Cannot read "${path}": ${message}`);
    }
    const out: FileRead[] = [];
    let at = 0;
    for (let i = 0; i < r.flags!.length; i++) {
      const size = r.sizes![i]!;
      const flags = r.flags![i]!;
      if (flags & 2) out.push({ executable: (flags & 1) !== 0, size });
      else {
        out.push({
          executable: (flags & 1) !== 0,
          size,
          contents: r.data!.subarray(at, at + size),
        });
        at += size;
      }
    }
    return out;
  }

  [Symbol.dispose](): void {
    for (const w of this.#workers) w.terminate();
  }
}
