// checksum: compute, verify and convert SHA-256 hashes the way Nix and coreutils print them.
// A file gets its flat sha256 (sha256sum), a directory its NAR hash (nix-hash --type sha256),
// an archive with --unpack the NAR hash of its unpacked contents (fetchzip / fetchFromGitHub).
//
//   deno task checksum .flox/sources/spandrel-0.4.0.tar.gz --format all
//   deno task checksum --unpack ComfyUI-0.3.75.tar.gz          # = fetchFromGitHub's hash
//   deno task checksum --verify .flox/sources/SHA256SUMS.txt
//   deno task checksum --convert sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73
//
// Permissions: --allow-read (the paths given), --allow-write=/tmp (only --unpack of an archive
// larger than 512 MiB spills contents into a private temp directory), --allow-env=NO_COLOR.
// Heavy modules (archive readers) are imported only for --unpack, so --help answers fast.
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import type { Digest, HashFormat } from "../lib/hash/sha256.ts";
import { error, info, out } from "../lib/kit/log.ts";
import { createProgress } from "../lib/kit/progress.ts";

// Loaded after the arguments are parsed: --help and usage errors need none of them.
let lib: {
  hash: typeof import("../lib/hash/sha256.ts");
  flat: typeof import("../lib/hash/flat.ts");
};
async function loadLib(): Promise<void> {
  const [hash, flat] = await Promise.all([
    import("../lib/hash/sha256.ts"),
    import("../lib/hash/flat.ts"),
  ]);
  lib = { hash, flat };
}

export const USAGE = `Usage:
  deno task checksum [--type flat|nar] [--unpack] [--format F] [--json] PATH...
  deno task checksum --verify SHA256SUMS.txt [--json]
  deno task checksum --convert HASH [--format F] [--json]

Prints "<hash>  <path>" per PATH. A file gets its flat sha256 (like sha256sum), a directory
its NAR hash (like nix-hash --type sha256). A symlink given on the command line: to a file, the
file is hashed (like sha256sum); to a directory, the symlink itself, as nix-hash does (write
"link/" to hash the directory); --type nar hashes any symlink itself.

Options:
  --type flat|nar   force flat hashing (files only) or NAR hashing (symlinks not followed)
  --unpack          hash an archive (.tar, .tar.gz, .tgz, .tar.bz2, .zip, .whl) as its unpacked
                    contents, single top-level directory stripped: the hash fetchzip and
                    fetchFromGitHub expect
  --format F        sri (default), nix32, hex, base64, or all (sri nix32 hex)
  --json            print a JSON array of {path, type, sri, nix32, hex}
  --verify FILE     check a sha256sum file ("<hex>  <path>" or "<hex> *<path>", paths relative
                    to FILE's folder); prints OK / FAILED / MISSING per line and a summary
  --convert HASH    convert a SHA-256 hash between SRI, nix32, hex and sha256:… forms
  -h, --help        show this help

Exit status: 0 success, 1 verification failure or bad input, 2 usage error.
`;

const FORMATS = ["sri", "nix32", "hex", "base64", "all"] as const;
type Format = typeof FORMATS[number];

/** What was hashed and how. */
type Kind = "flat" | "nar" | "unpack";

interface Hashed {
  path: string;
  type: Kind;
  digest: Digest;
}

function render(d: Digest, format: Format): string {
  const formats: HashFormat[] = format === "all"
    ? ["sri", "nix32", "hex"]
    : [format];
  return formats.map((f) => lib.hash.formatHash(d, f)).join(" ");
}

function jsonOf(h: Hashed) {
  return { path: h.path, type: h.type, ...lib.hash.allFormats(h.digest) };
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

async function hashPaths(
  paths: string[],
  type: string | undefined,
  unpack: boolean,
  emit: (h: Hashed) => void,
): Promise<void> {
  const kinds: Kind[] = [];
  for (const p of paths) kinds.push(await kindOf(p, type, unpack));
  // Flat files are hashed in parallel (two cores here), the others one after another.
  const flatPaths = paths.filter((_, i) => kinds[i] === "flat");
  const flat = lib.flat.hashFiles(flatPaths.map(argPath), 2);
  let f = 0;
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    const kind = kinds[i]!;
    let digest: Digest;
    if (kind === "flat") {
      const r = await flat[f++]!;
      if ("error" in r) throw lib.flat.flatError(path, r.error);
      digest = r.digest;
    } else if (kind === "nar") {
      const { narHashPath } = await import("../lib/hash/nar.ts");
      // argPath drops a trailing '/', which (as for nix-hash) means "follow the symlink".
      digest = await narHashPath(
        argPath(path) + (/.\/$/.test(path) ? "/" : ""),
      );
    } else {
      const { narHashArchive } = await import("../lib/archive/read.ts");
      digest = await narHashArchive(argPath(path), {
        ...(Deno.stderr.isTerminal() ? { progress: createProgress(true) } : {}),
      });
    }
    emit({ path, type: kind, digest });
  }
}

/** `s` with control characters (terminal escapes in a hostile file) shown as `\xNN`. */
function printable(s: string): string {
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** One line of a checksum file. */
interface SumLine {
  line: number;
  hex: string;
  path: string;
}

/**
 * Parses a GNU coreutils checksum file: "<hex>  <path>" (text) or "<hex> *<path>" (binary),
 * a leading "\" marking escaped names (\\, \n and, since coreutils 9.1, \r), "#" comments; also BSD
 * "SHA256 (path) = hex".
 * Returns the lines, or the line-numbered errors for malformed ones.
 */
export function parseSums(
  text: string,
  file: string,
): { lines: SumLine[]; errors: string[] } {
  const lines: SumLine[] = [];
  const errors: string[] = [];
  const raw = text.split("\n");
  if (raw.at(-1) === "") raw.pop();
  raw.forEach((l, i) => {
    const n = i + 1;
    let s = l.endsWith("\r") ? l.slice(0, -1) : l;
    if (s.startsWith("#")) return;
    let escaped = false;
    if (s.startsWith("\\")) {
      escaped = true;
      s = s.slice(1);
    }
    let m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(s);
    if (!m) {
      const bsd = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/.exec(s);
      if (bsd) m = [bsd[0], bsd[2]!, bsd[1]!] as unknown as RegExpExecArray;
    }
    if (!m) {
      errors.push(
        `${file}:${n}: malformed line (expected "<64 hex digits>  <file>" or "<64 hex digits> *<file>"): "${
          printable(s.length > 60 ? `${s.slice(0, 60)}…` : s)
        }"`,
      );
      return;
    }
    let path = m[2]!;
    if (escaped) {
      path = path.replace(
        /\\(.)/g,
        (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c),
      );
    }
    lines.push({ line: n, hex: m[1]!.toLowerCase(), path });
  });
  return { lines, errors };
}

type Status = "OK" | "FAILED" | "MISSING";

/**
 * A name as coreutils prints it: one containing a newline or carriage return (which would split
 * the output line) gets those and backslashes escaped, and the line a leading "\".
 */
export function escapeName(name: string): { prefix: string; name: string } {
  if (!/[\n\r]/.test(name)) return { prefix: "", name };
  return {
    prefix: "\\",
    name: name.replace(
      /[\\\n\r]/g,
      (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\\\"),
    ),
  };
}

/** Malformed lines reported before the rest are summed up in one line. */
const MAX_ERRORS = 5;

/** What to do about missing files: the vendored sources have a restore command. */
function missingHint(sumsFile: string): string {
  const dir = resolve(dirname(sumsFile));
  return basename(dir) === "sources" && basename(dirname(dir)) === ".flox"
    ? ` (missing vendored sources: restore them with "deno task fetch-source --all")`
    : " (missing: not on disk)";
}

/** Verifies the checksum file at `sumsPath`, named `sumsFile` (as typed) in messages. */
async function verify(
  sumsFile: string,
  sumsPath: string,
  json: boolean,
): Promise<number> {
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
    // A file that is not a checksum file at all must not flood the terminal.
    for (const e of errors.slice(0, MAX_ERRORS)) error(e);
    if (errors.length > MAX_ERRORS) {
      error(
        `${sumsFile}: ${errors.length - MAX_ERRORS} more malformed lines${
          lines.length === 0 ? " (no line is a checksum line)" : ""
        }`,
      );
    }
    return 1;
  }
  if (lines.length === 0) {
    throw new KitError(`No checksum lines in "${sumsFile}"`);
  }
  const base = dirname(sumsPath);
  const resolved = lines.map((
    l,
  ) => (isAbsolute(l.path) ? l.path : join(base, l.path)));
  const results = lib.flat.hashFiles(resolved, 2);
  const counts: Record<Status, number> = { OK: 0, FAILED: 0, MISSING: 0 };
  const report: {
    path: string;
    line: number;
    status: Status;
    expected: string;
    actual?: string;
    error?: string;
  }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const r = await results[i]!;
    let status: Status;
    let detail = "";
    let actual: string | undefined;
    let err: string | undefined;
    if ("error" in r) {
      if (r.error.name === "NotFound") status = "MISSING";
      else {
        status = "FAILED";
        err = lib.flat.flatError(l.path, r.error).message;
        detail = ` (${err})`;
      }
    } else {
      actual = lib.hash.toHex(r.digest);
      status = actual === l.hex ? "OK" : "FAILED";
    }
    counts[status]++;
    report.push({
      path: l.path,
      line: l.line,
      status,
      expected: l.hex,
      ...(actual ? { actual } : {}),
      ...(err ? { error: err } : {}),
    });
    if (!json) {
      const e = escapeName(l.path);
      out(`${e.prefix}${e.name}: ${status}${detail}`);
    }
  }
  if (json) out(JSON.stringify(report, null, 2));
  const total = lines.length;
  const summary = `${counts.OK} of ${total} OK` +
    (counts.FAILED ? `, ${counts.FAILED} FAILED` : "") +
    (counts.MISSING ? `, ${counts.MISSING} MISSING` : "");
  info(summary + (counts.MISSING ? missingHint(sumsPath) : ""));
  return counts.OK === total ? 0 : 1;
}

function convert(hash: string, format: Format, json: boolean): number {
  const d = lib.hash.parseHash(hash);
  if (json) out(JSON.stringify(lib.hash.allFormats(d), null, 2));
  else out(render(d, format));
  return 0;
}

/** Runs the checksum task. */
export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      type: { type: "string" },
      unpack: { type: "boolean", default: false },
      format: { type: "string", default: "sri" },
      json: { type: "boolean", default: false },
      verify: { type: "string" },
      convert: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      out(USAGE.trimEnd());
      return 0;
    }
    const format = values.format as Format;
    if (!FORMATS.includes(format)) {
      throw new UsageError(
        `--format must be one of ${FORMATS.join(", ")}, not "${values.format}"`,
      );
    }
    const type = values.type;
    if (type !== undefined && type !== "flat" && type !== "nar") {
      throw new UsageError(`--type must be "flat" or "nar", not "${type}"`);
    }
    if (values.unpack && type === "flat") {
      throw new UsageError(
        "--unpack computes a NAR hash: it cannot be combined with --type flat",
      );
    }
    const modes = [
      values.verify !== undefined,
      values.convert !== undefined,
      positionals.length > 0,
    ]
      .filter(Boolean).length;
    if (modes === 0) {
      throw new UsageError(
        "Nothing to do: give PATHs, --verify FILE or --convert HASH",
      );
    }
    if (modes > 1) {
      throw new UsageError(
        "Give either PATHs, --verify FILE or --convert HASH, not several",
      );
    }
    await loadLib();
    if (values.verify !== undefined) {
      if (type || values.unpack || values.format !== "sri") {
        throw new UsageError(
          "--verify checks flat sha256 sums: --type, --unpack and --format do not apply",
        );
      }
      return await verify(values.verify, argPath(values.verify), values.json);
    }
    if (values.convert !== undefined) {
      if (type || values.unpack) {
        throw new UsageError("--convert takes no --type or --unpack");
      }
      return convert(values.convert, format, values.json);
    }
    const hashed: Hashed[] = [];
    await hashPaths(positionals, type, values.unpack, (h) => {
      if (values.json) hashed.push(h);
      else {
        const e = escapeName(h.path);
        out(`${e.prefix}${render(h.digest, format)}  ${e.name}`);
      }
    });
    if (values.json) out(JSON.stringify(hashed.map(jsonOf), null, 2));
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
