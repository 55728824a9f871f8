// What every vendored source's manifest entry has, whatever its kind: the rules for its name,
// version, file name, URL, sha256 and size (each kind in this folder adds its own fields), and
// what git hosts make of a large file.
import { z } from "zod";
import { plainFileNameProblem } from "../../kit/fsutil.ts";
import { isValidProjectName } from "../../python/names.ts";

/** Names in `.flox/sources/` the kit itself writes: never a vendored file. */
const RESERVED_NAMES: readonly string[] = ["SHA256SUMS.txt"];

/**
 * Why `name` cannot be a vendored file under `.flox/sources/`, or undefined when it can: not a
 * name the kit writes (SHA256SUMS.txt), and one plain file name (lib/kit/fsutil.ts).
 */
export function fileNameProblem(name: string): string | undefined {
  if (RESERVED_NAMES.includes(name)) {
    return `"${name}" is reserved: the kit generates it from sources-manifest.json`;
  }
  return plainFileNameProblem(name);
}

/** True for a file name safe to write under `.flox/sources/` (see fileNameProblem). */
export function isSafeFileName(name: string): boolean {
  return fileNameProblem(name) === undefined;
}

const MIB = 1024 * 1024;

/**
 * What a git host makes of a vendored file this large, or undefined when nothing: GitHub refuses
 * a push with a file over 100 MiB and warns over 50 MiB. Git LFS is no way out: Flox fetches
 * the repository with git, which would see LFS pointers instead of the files.
 */
export function fileSizeProblem(
  size: number,
): { level: "error" | "warning"; message: string } | undefined {
  const mib = `${(Math.floor(size / MIB * 10) / 10).toFixed(1)} MiB`;
  if (size > 100 * MIB) {
    return {
      level: "error",
      message:
        `is ${mib}: GitHub refuses files over 100 MiB, so the repository cannot be pushed there`,
    };
  }
  if (size > 50 * MIB) {
    return {
      level: "warning",
      message:
        `is ${mib}: GitHub warns about files over 50 MiB and refuses them over 100 MiB`,
    };
  }
  return undefined;
}

/** The fix for a fileSizeProblem. */
export const FILE_SIZE_FIX =
  "use the package's fetcher (fetchurl/fetchPypi with its hash) instead of vendoring it, or host the repository where large files are accepted (not Git LFS: Flox's git fetcher would see LFS pointers)";

/** A lowercase hex sha256. */
const hex64 = z.string().regex(
  /^[0-9a-f]{64}$/,
  "expected 64 lowercase hex characters",
);

/** An SRI sha256 (a NAR hash as Nix writes it). */
export const sri = z.string().regex(
  /^sha256-[A-Za-z0-9+/]{43}=$/,
  "expected an SRI hash sha256-<base64>",
);

/** A non-empty string. */
export const nonEmpty = z.string().min(1, "must not be empty");

const fileName = z.string().superRefine((v, ctx) => {
  const why = fileNameProblem(v);
  if (why) {
    ctx.addIssue({
      code: "custom",
      message: `not a vendored file name: ${why}`,
    });
  }
});

/** The fields of every entry, in the order the manifest writes them (`kind` after version). */
export const COMMON_FIELDS = {
  name: z.string().refine(
    isValidProjectName,
    "expected a project name (letters, digits, '.', '_', '-'; starting and ending with a letter or digit)",
  ),
  version: z.string().regex(
    /^[\x21-\x7e]{1,128}$/,
    "expected a version without spaces or control characters",
  ),
  file: fileName,
  url: z.string().regex(/^https?:\/\/\S+$/, "expected an http(s) URL"),
  sha256: hex64,
  size: z.number().int().nonnegative().optional(),
};
