// narHashArchive: the NAR hash of an archive's unpacked contents, as fetchzip / fetchFromGitHub /
// `nix-prefetch-url --unpack` compute it. The work (lib/archive/unpack_hash.ts) runs on a worker
// so this thread stays idle and answers Ctrl-C at once: the spill directory the worker reports
// is registered with lib/kit/cleanup.ts, which removes it and exits 130 on an interrupt.
import { basename } from "node:path";
import { KitError } from "../kit/errors.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { envGet, type EnvLike } from "../kit/env.ts";
import type { ProgressBar, ProgressSink } from "../kit/progress.ts";
import type { Digest } from "../hash/sha256.ts";
import type { UnpackMessage } from "./unpack_worker.ts";

/** Options of narHashArchive. */
interface NarArchiveOptions {
  /**
   * Bytes of unpacked file contents kept in memory before spilling to a private temp directory
   * (default: COMFYKIT_UNPACK_MEMORY_MIB MiB, else 128 MiB). Tests lower it to exercise the
   * spill path.
   */
  memoryLimit?: number;
  /** Where COMFYKIT_UNPACK_MEMORY_MIB is read (default Deno.env, when readable). */
  env?: EnvLike;
  /** Live progress (a terminal bar); nothing is printed without it. */
  progress?: ProgressSink;
}

const LIMIT_VAR = "COMFYKIT_UNPACK_MEMORY_MIB";

/** The memory budget: the option, else the variable (when we may read it), else the default. */
function memoryLimit(options: NarArchiveOptions): number | undefined {
  if (options.memoryLimit !== undefined) return options.memoryLimit;
  let env = options.env;
  if (env === undefined) {
    const q = Deno.permissions.querySync({ name: "env", variable: LIMIT_VAR });
    if (q.state !== "granted") return undefined;
    env = Deno.env;
  }
  const raw = envGet(env, LIMIT_VAR);
  if (raw === undefined) return undefined;
  const mib = Number(raw);
  if (!Number.isFinite(mib) || mib < 0) {
    throw new KitError(
      `${LIMIT_VAR}="${raw}" is not a size in MiB: give a number such as 128`,
    );
  }
  return Math.floor(mib * 1024 * 1024);
}

/**
 * The NAR hash of an archive's unpacked contents (fetchzip's rules: a single top-level directory
 * is stripped, implied directories exist, only the owner's executable bit counts). Contents past
 * the memory budget are spilled to a private temp directory, removed on every way out,
 * including Ctrl-C (exit 130).
 */
export async function narHashArchive(
  path: string,
  options: NarArchiveOptions = {},
): Promise<Digest> {
  const limit = memoryLimit(options);
  const worker = new Worker(
    new URL("./unpack_worker.ts", import.meta.url).href,
    { type: "module" },
  );
  let dir: string | undefined;
  let unregister: (() => void) | undefined;
  let bar: { phase: string; bar: ProgressBar } | undefined;
  const endBar = () => {
    bar?.bar.fail(); // clears the live line; the caller prints the result
    bar = undefined;
  };
  try {
    return await new Promise<Digest>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<UnpackMessage>) => {
        const m = e.data;
        if ("dir" in m) {
          dir = m.dir;
          unregister = removeOnInterrupt(m.dir);
        } else if ("progress" in m) {
          if (!options.progress) return;
          const { phase, done, total } = m.progress;
          if (bar?.phase !== phase) {
            endBar();
            bar = {
              phase,
              bar: options.progress.start(`${phase} ${basename(path)}`, total),
            };
          }
          bar.bar.update(done);
        } else if ("digest" in m) resolve(m.digest);
        else reject(m.kit ? new KitError(m.error) : new Error(m.error));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`archive worker failed: ${e.message}`));
      };
      worker.postMessage({
        path,
        ...(limit !== undefined ? { memoryLimit: limit } : {}),
      });
    });
  } finally {
    endBar();
    worker.terminate();
    // The worker removes its directory itself; this covers a worker that died first.
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    unregister?.();
  }
}
