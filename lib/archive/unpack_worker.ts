// Worker for lib/archive/nar_archive.ts: hashes one archive's unpacked contents and reports the
// spill directory, progress and the result (or a one-line error) back to the main thread.
import { KitError } from "../kit/errors.ts";
import { narHashArchiveHere } from "./unpack_hash.ts";

/** A message from this worker. */
export type UnpackMessage =
  | { dir: string }
  | {
    progress: { phase: "unpacking" | "hashing"; done: number; total: number };
  }
  | { digest: Uint8Array }
  | { error: string; kit: boolean };

/** Progress is sent at most this often (ms). */
const PROGRESS_EVERY = 100;

const self = globalThis as unknown as {
  onmessage: (e: MessageEvent<{ path: string; memoryLimit?: number }>) => void;
  postMessage(m: UnpackMessage): void;
};

self.onmessage = async (e) => {
  const { path, memoryLimit } = e.data;
  let last = 0;
  try {
    const digest = await narHashArchiveHere(path, {
      ...(memoryLimit !== undefined ? { memoryLimit } : {}),
      onDir: (dir) => self.postMessage({ dir }),
      onProgress: (phase, done, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY) return;
        last = now;
        self.postMessage({ progress: { phase, done, total } });
      },
    });
    self.postMessage({ digest: new Uint8Array(digest) });
  } catch (err) {
    self.postMessage({
      error: err instanceof Error ? err.message : String(err),
      kit: err instanceof KitError,
    });
  }
};
