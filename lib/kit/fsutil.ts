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

/** Longest file name the kit writes (file systems allow 255 bytes; room for temp suffixes). */
const MAX_FILE_NAME = 200;

/**
 * Why `name` is not one plain file name, or undefined when it is: one printable component, not
 * hidden (the kit's lock and temp files start with '.'), at most 200 characters. Names that
 * come from a server (PyPI, GitHub) are checked with it before anything is written.
 */
export function plainFileNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (/[/\\]/.test(name)) return "it contains a path separator";
  if (name.startsWith(".")) {
    return "it starts with '.', reserved for the kit's own files (the lock file)";
  }
  if (!/^[\x21-\x7e]+$/.test(name)) {
    return "it contains spaces, control or non-ASCII characters";
  }
  if (name.length > MAX_FILE_NAME) {
    return `it is ${name.length} characters long, at most ${MAX_FILE_NAME} allowed`;
  }
  return undefined;
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
