// models check: is each locked model in place, with the right bytes? Size first (cheap), then
// sha256, skipped when the state says this file was verified at this size and mtime.
import { join } from "node:path";
import { sha256File, toHex } from "../hash/sha256.ts";
import {
  type LockedModel,
  modelPath,
  type WorkflowLock,
} from "../comfy/lock_file.ts";
import type { VerifiedState } from "./state.ts";

/** The state of one model on disk. */
interface ModelStatus {
  /** "<directory>/<name>" under models/. */
  model: string;
  path: string;
  status: "ok" | "missing" | "wrong-size" | "wrong-hash" | "not-a-file";
  /** True when the hash was taken from the verified state (size and mtime unchanged). */
  cached?: boolean;
  size?: number;
  sha256?: string;
}

/** Where a locked model goes: `<base>/models/<directory>/<name>`. */
export function modelFile(base: string, m: LockedModel): string {
  return join(base, "models", ...modelPath(m).split("/"));
}

/** Checks one model (reads, hashes when needed, records what verified). */
export async function checkModel(
  base: string,
  m: LockedModel,
  state: VerifiedState,
  rehash = false,
): Promise<ModelStatus> {
  const path = modelFile(base, m);
  const model = modelPath(m);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { model, path, status: "missing" };
    }
    throw e;
  }
  if (!info.isFile) return { model, path, status: "not-a-file" };
  if (info.size !== m.size) {
    state.forget(path);
    return { model, path, status: "wrong-size", size: info.size };
  }
  if (!rehash && state.isVerified(path, info, m.sha256)) {
    return { model, path, status: "ok", cached: true };
  }
  const sha256 = toHex(await sha256File(path));
  if (sha256 !== m.sha256) {
    state.forget(path);
    return { model, path, status: "wrong-hash", sha256 };
  }
  state.record(path, info, sha256);
  return { model, path, status: "ok", cached: false };
}

/** Checks every model of a lock, one after another (the disk is the limit, not the CPU). */
export async function checkModels(
  base: string,
  lock: WorkflowLock,
  state: VerifiedState,
  rehash = false,
): Promise<ModelStatus[]> {
  const out: ModelStatus[] = [];
  for (const m of lock.models) {
    out.push(await checkModel(base, m, state, rehash));
  }
  await state.save();
  return out;
}
