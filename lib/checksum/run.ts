// checksum's workflow: which hash each path gets (flat, NAR, NAR of an unpacked archive), hashing
// them, verifying a sha256sum file, converting a hash between forms. The task parses flags and
// prints; everything it needs comes through this file.
//
//   await hashPaths(["a.whl", "dir"], { unpack: false }, (h) => print(h));
//   const report = await verifySums("SHA256SUMS.txt", "/abs/SHA256SUMS.txt", (r) => print(r));
//
// The NAR and archive readers are imported only when a path needs them.
import { dirname, isAbsolute, join, resolve } from "node:path";
import { argPath } from "../kit/cli.ts";
import { KitError } from "../kit/errors.ts";
import { createProgress } from "../kit/progress.ts";
import {
  allFormats,
  type Digest,
  formatHash,
  type HashFormat,
  parseHash,
  toHex,
} from "../hash/sha256.ts";
import { flatError, hashFiles } from "../hash/flat.ts";
import { parseSums } from "../hash/sums.ts";
import { SOURCES_DIR } from "../repo/paths.ts";

export { escapeName } from "../hash/sums.ts";
export { allFormats } from "../hash/sha256.ts";
export type { Digest } from "../hash/sha256.ts";

/** The output formats of --format. */
export const FORMATS = ["sri", "nix32", "hex", "base64", "all"] as const;
export type Format = typeof FORMATS[number];

/** What was hashed and how. */
export type Kind = "flat" | "nar" | "unpack";

/** One hashed path. */
export interface Hashed {
  path: string;
  type: Kind;
  digest: Digest;
}

/** `d` in `format` (`all`: sri nix32 hex, space-separated). */
export function render(d: Digest, format: Format): string {
  const formats: HashFormat[] = format === "all"
    ? ["sri", "nix32", "hex"]
    : [format];
  return formats.map((f) => formatHash(d, f)).join(" ");
}

/** The JSON object of a hashed path: path, type and every format. */
export function jsonOf(h: Hashed) {
  return { path: h.path, type: h.type, ...allFormats(h.digest) };
}

/** Every form of a hash given in any form (SRI, nix32, hex, sha256:…). */
export function convert(hash: string): Digest {
  return parseHash(hash);
}

/** Which kind of hash a PATH gets. */
async function kindOf(
  path: string,
  type: string | undefined,
  unpack: boolean,
): Promise<Kind> {
  let info: Deno.FileInfo;
  try {
    info = type === "nar"
      ? await Deno.lstat(argPath(path))
      : await Deno.stat(argPath(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`No such file or directory: "${path}"`);
    }
    if (e instanceof Deno.errors.FilesystemLoop) {
      throw new KitError(
        `"${path}" is a symlink loop: it never reaches a file`,
      );
    }
    throw e;
  }
  if (unpack) {
    if (!info.isFile) {
      throw new KitError(
        `"${path}" is not an archive file: --unpack needs a .tar/.tar.gz/.zip file`,
      );
    }
    return "unpack";
  }
  if (type === "flat") {
    if (!info.isFile) {
      throw new KitError(
        `"${path}" is not a regular file: flat hashing needs a file (use --type nar)`,
      );
    }
    return "flat";
  }
  if (type === "nar" || info.isDirectory) return "nar";
  if (!info.isFile) {
    throw new KitError(`"${path}" is not a regular file or directory`);
  }
  return "flat";
}

/**
 * Hashes each path (as typed; resolved against the folder it was typed in) and passes each
 * result to `emit` in order. Every path is checked before any is hashed. With `progress`, an
 * archive being unpacked shows its progress on stderr.
 */
export async function hashPaths(
  paths: string[],
  opts: { type?: string | undefined; unpack: boolean; progress?: boolean },
  emit: (h: Hashed) => void,
): Promise<void> {
  const kinds: Kind[] = [];
  for (const p of paths) kinds.push(await kindOf(p, opts.type, opts.unpack));
  // Flat files are hashed in parallel (two cores here), the others one after another.
  const flatPaths = paths.filter((_, i) => kinds[i] === "flat");
  const flat = hashFiles(flatPaths.map(argPath), 2);
  let f = 0;
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    const kind = kinds[i]!;
    let digest: Digest;
    if (kind === "flat") {
      const r = await flat[f++]!;
      if ("error" in r) throw flatError(path, r.error);
      digest = r.digest;
    } else if (kind === "nar") {
      const { narHashPath } = await import("../hash/nar.ts");
      // argPath drops a trailing '/', which (as for nix-hash) means "follow the symlink".
      digest = await narHashPath(
        argPath(path) + (/.\/$/.test(path) ? "/" : ""),
      );
    } else {
      const { narHashArchive } = await import("../archive/nar_archive.ts");
      digest = await narHashArchive(argPath(path), {
        ...(opts.progress ? { progress: createProgress(true) } : {}),
      });
    }
    emit({ path, type: kind, digest });
  }
}

export type Status = "OK" | "FAILED" | "MISSING";

/** The verdict on one line of a checksum file. */
export interface SumResult {
  path: string;
  line: number;
  status: Status;
  expected: string;
  actual?: string;
  error?: string;
}

/** What verifying a checksum file found. */
export type SumsReport =
  | { malformed: string[]; anyValid: boolean }
  | {
    malformed?: undefined;
    results: SumResult[];
    counts: Record<Status, number>;
    /** The closing line: "N of M OK", the failures, what to do about missing files. */
    summary: string;
  };

/** What to do about missing files: the vendored sources have a restore command. */
function missingHint(sumsFile: string): string {
  const dir = resolve(dirname(sumsFile));
  return dir.endsWith(`/${SOURCES_DIR}`)
    ? ` (missing vendored sources: restore them with "deno task fetch-source --all")`
    : " (missing: not on disk)";
}

/**
 * Verifies the checksum file at `sumsPath`, named `sumsFile` (as typed) in messages; each
 * line's result goes to `onResult` as soon as it is known. Malformed files are reported, not
 * checked.
 */
export async function verifySums(
  sumsFile: string,
  sumsPath: string,
  onResult: (r: SumResult) => void,
): Promise<SumsReport> {
  let text: string;
  try {
    text = await Deno.readTextFile(sumsPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`No such checksum file: "${sumsFile}"`);
    }
    // A folder, a file we may not read: the user's mistake, not a bug.
    if (e instanceof Error && "code" in e) {
      throw new KitError(
        `Cannot read checksum file "${sumsFile}": ${e.message.split(":")[0]}`,
      );
    }
    throw e;
  }
  const { lines, errors } = parseSums(text, sumsFile);
  if (errors.length > 0) {
    return { malformed: errors, anyValid: lines.length > 0 };
  }
  if (lines.length === 0) {
    throw new KitError(`No checksum lines in "${sumsFile}"`);
  }
  const base = dirname(sumsPath);
  const resolved = lines.map((l) =>
    isAbsolute(l.path) ? l.path : join(base, l.path)
  );
  const pending = hashFiles(resolved, 2);
  const counts: Record<Status, number> = { OK: 0, FAILED: 0, MISSING: 0 };
  const results: SumResult[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const r = await pending[i]!;
    let status: Status;
    let actual: string | undefined;
    let err: string | undefined;
    if ("error" in r) {
      if (r.error.name === "NotFound") status = "MISSING";
      else {
        status = "FAILED";
        err = flatError(l.path, r.error).message;
      }
    } else {
      actual = toHex(r.digest);
      status = actual === l.hex ? "OK" : "FAILED";
    }
    counts[status]++;
    const result: SumResult = {
      path: l.path,
      line: l.line,
      status,
      expected: l.hex,
      ...(actual ? { actual } : {}),
      ...(err ? { error: err } : {}),
    };
    results.push(result);
    onResult(result);
  }
  const summary = `${counts.OK} of ${lines.length} OK` +
    (counts.FAILED ? `, ${counts.FAILED} FAILED` : "") +
    (counts.MISSING ? `, ${counts.MISSING} MISSING` : "") +
    (counts.MISSING ? missingHint(sumsPath) : "");
  return { results, counts, summary };
}
