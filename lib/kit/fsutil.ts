import { basename, dirname, join } from "node:path";
import { removeOnInterrupt } from "./cleanup.ts";

/**
 * Writes `data` to `path` atomically: a temp file beside the target, then a rename, so a
 * reader never sees half a file and a failure leaves the old file untouched.
 */
export async function atomicWrite(
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  const tmp = tempSibling(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** A unique temp path in the same folder as `path` (same file system, so rename is atomic). */
export function tempSibling(path: string): string {
  const rand = crypto.randomUUID().slice(0, 8);
  return join(dirname(path), `.${basename(path)}.${rand}.tmp`);
}

/**
 * A private temp directory removed (recursively) when the returned handle is disposed, or
 * when the process is interrupted (lib/kit/cleanup.ts).
 */
export async function tempDir(
  prefix = "comfykit-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  const unregister = removeOnInterrupt(path);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
      unregister();
    },
  };
}

/** True when `path` exists (any kind, symlinks not followed). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Reads a text file, or returns undefined when it does not exist. */
export async function readTextIfExists(
  path: string,
): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
