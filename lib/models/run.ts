// models: the models of a workflow lock (workflows/<name>.lock.json) — fetch them into ComfyUI's
// models folder, check what is there, or print them as Nix fetchurl entries.
import { join, resolve } from "node:path";
import { KitError } from "../kit/errors.ts";
import { envGet, type EnvLike } from "../kit/env.ts";
import { parseLock, type WorkflowLock } from "../comfy/lock_file.ts";

export { checkModels } from "./check.ts";
export { describeOutcome, fetchModels } from "./fetch.ts";
export { renderNix } from "./nix.ts";
export { VerifiedState } from "./state.ts";
export { defaultCacheDir } from "../net/cache.ts";
export { mirrorsFromEnv } from "../net/mirrors.ts";
export { hubFromEnv, tokenFromEnv } from "../net/huggingface.ts";

/** Reads and validates a lock file; one-line errors name it. */
export async function readLock(path: string): Promise<WorkflowLock> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new KitError(
      `${path}: cannot read: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  return parseLock(text, path);
}

/**
 * ComfyUI's base directory, as the comfyui launcher chooses it: `--base-dir`, else
 * $COMFYUI_BASE_DIR, else $XDG_DATA_HOME/comfyui, else ~/.local/share/comfyui.
 */
export function comfyuiBaseDir(flag: string | undefined, env: EnvLike): string {
  if (flag) return resolve(flag);
  const explicit = envGet(env, "COMFYUI_BASE_DIR");
  // Absolute, so the verified-files state has one key per file.
  if (explicit) return resolve(explicit);
  const data = envGet(env, "XDG_DATA_HOME");
  if (data) return join(data, "comfyui");
  const home = envGet(env, "HOME");
  if (!home) {
    throw new KitError(
      "No ComfyUI base directory: set COMFYUI_BASE_DIR or pass --base-dir",
    );
  }
  return join(home, ".local", "share", "comfyui");
}
