// checksum: compute, verify and convert SHA-256 hashes the way Nix and coreutils print them.
// A file gets its flat sha256 (sha256sum), a directory its NAR hash (nix-hash --type sha256),
// an archive with --unpack the NAR hash of its unpacked contents (fetchzip / fetchFromGitHub).
//
//   deno task checksum .flox/sources/spandrel-0.4.0.tar.gz --format all
//   deno task checksum --unpack ComfyUI-0.3.75.tar.gz          # = fetchFromGitHub's hash
//   deno task checksum --verify .flox/sources/SHA256SUMS.txt
//   deno task checksum --convert sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73
//
// Permissions: --allow-read (the paths given), --allow-write=/tmp (a private temp directory:
// the spill of --unpack for an archive larger than 512 MiB, the FIFO of a directory's NAR
// hash), --allow-run=tar,mkfifo (one tar archive, read through a FIFO, gives a directory's NAR
// hash), --allow-env=NO_COLOR,INIT_CWD,COMFYKIT_UNPACK_MEMORY_MIB.
// Heavy modules (archive readers) are imported only for --unpack, so --help answers fast.
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { error, info, out } from "../lib/kit/log.ts";
import type { Format, Hashed } from "../lib/checksum/run.ts";

// Loaded after the arguments are parsed: --help and usage errors need none of it.
let lib: typeof import("../lib/checksum/run.ts");

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

const FORMATS: readonly Format[] = ["sri", "nix32", "hex", "base64", "all"];

/** Malformed lines reported before the rest are summed up in one line. */
const MAX_ERRORS = 5;

/** Verifies a checksum file, printing one line per entry (or JSON) and the summary. */
async function verify(sumsFile: string, json: boolean): Promise<number> {
  const report = await lib.verifySums(sumsFile, argPath(sumsFile), (r) => {
    if (json) return;
    const e = lib.escapeName(r.path);
    out(`${e.prefix}${e.name}: ${r.status}${r.error ? ` (${r.error})` : ""}`);
  });
  if (report.malformed) {
    // A file that is not a checksum file at all must not flood the terminal.
    const errors = report.malformed;
    for (const e of errors.slice(0, MAX_ERRORS)) error(e);
    if (errors.length > MAX_ERRORS) {
      error(
        `${sumsFile}: ${errors.length - MAX_ERRORS} more malformed lines${
          report.anyValid ? "" : " (no line is a checksum line)"
        }`,
      );
    }
    return 1;
  }
  if (json) out(JSON.stringify(report.results, null, 2));
  info(report.summary);
  return report.counts.OK === report.results.length ? 0 : 1;
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
    lib = await import("../lib/checksum/run.ts");
    if (values.verify !== undefined) {
      if (type || values.unpack || values.format !== "sri") {
        throw new UsageError(
          "--verify checks flat sha256 sums: --type, --unpack and --format do not apply",
        );
      }
      return await verify(values.verify, values.json);
    }
    if (values.convert !== undefined) {
      if (type || values.unpack) {
        throw new UsageError("--convert takes no --type or --unpack");
      }
      const d = lib.convert(values.convert);
      if (values.json) out(JSON.stringify(lib.allFormats(d), null, 2));
      else out(lib.render(d, format));
      return 0;
    }
    const hashed: Hashed[] = [];
    const opts = {
      type,
      unpack: values.unpack,
      progress: Deno.stderr.isTerminal(),
    };
    await lib.hashPaths(positionals, opts, (h) => {
      if (values.json) hashed.push(h);
      else {
        const e = lib.escapeName(h.path);
        out(`${e.prefix}${lib.render(h.digest, format)}  ${e.name}`);
      }
    });
    if (values.json) out(JSON.stringify(hashed.map(lib.jsonOf), null, 2));
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
