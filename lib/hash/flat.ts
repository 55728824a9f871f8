// Flat SHA-256 of many files for tasks/checksum.ts: lib/hash/sha256.ts sha256FileSync (1 MiB reads into
// one reused buffer) on a pool of up to N worker threads, so several files really are hashed in
// parallel.
import { type Digest, sha256FileSync } from "./sha256.ts";
import { KitError } from "../kit/errors.ts";

/** The outcome of hashing one file: a digest or the error's name and message. */
type FlatResult =
  | { digest: Digest }
  | { error: { name: string; message: string } };

function describe(e: unknown): { name: string; message: string } {
  return e instanceof Error
    ? { name: e.name, message: e.message }
    : { name: "Error", message: String(e) };
}

/** Hashes one file, capturing errors as values. */
export function tryHashFile(path: string): FlatResult {
  try {
    return { digest: sha256FileSync(path) };
  } catch (e) {
    return { error: describe(e) };
  }
}

/** Turns a captured error into the KitError a task prints. */
export function flatError(
  path: string,
  error: { name: string; message: string },
): KitError {
  if (error.name === "NotFound") return new KitError(`No such file: "${path}"`);
  if (error.name === "IsADirectory") {
    return new KitError(
      `"${path}" is a directory: flat hashing needs a file (use --type nar)`,
    );
  }
  if (error.name === "PermissionDenied") {
    return new KitError(`Permission denied: "${path}"`);
  }
  return new KitError(`Cannot read "${path}": ${error.message}`);
}

/** Files smaller than this in total are hashed on this thread: a worker costs ~50 ms to start. */
const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Hashes files with at most `concurrency` worker threads (or inline when the work is small).
 * Returns one promise per path, in order, so callers can print results as they come.
 */
export function hashFiles(
  paths: string[],
  concurrency = 2,
): Promise<FlatResult>[] {
  let total = 0;
  for (const p of paths) {
    try {
      total += Deno.statSync(p).size;
    } catch {
      // reported when hashed
    }
  }
  const workers = Math.min(concurrency, paths.length);
  if (workers < 2 || total < PARALLEL_MIN_BYTES) {
    // Inline, but yield between files so results can be printed as they come.
    let chain: Promise<unknown> = Promise.resolve();
    return paths.map((p) => {
      const r = chain.then(() =>
        new Promise<FlatResult>((resolve) =>
          setTimeout(() => resolve(tryHashFile(p)), 0)
        )
      );
      chain = r;
      return r;
    });
  }
  const url = new URL("./flat_worker.ts", import.meta.url).href;
  const results = paths.map(() => Promise.withResolvers<FlatResult>());
  let next = 0;
  for (let i = 0; i < workers; i++) {
    const w = new Worker(url, { type: "module" });
    const feed = () => {
      if (next >= paths.length) {
        w.terminate();
        return;
      }
      const id = next++;
      w.postMessage({ id, path: paths[id] });
    };
    w.onmessage = (e: MessageEvent<{ id: number; result: FlatResult }>) => {
      results[e.data.id]!.resolve(e.data.result);
      feed();
    };
    w.onerror = (e) => {
      e.preventDefault();
      for (const r of results) {
        r.resolve({
          error: { name: "Error", message: `hash worker failed: ${e.message}` },
        });
      }
    };
    feed();
  }
  return results.map((r) => r.promise);
}
