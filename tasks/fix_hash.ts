// deno task fix-hash — the fakeHash dance, automated: reads build output, finds every Nix "hash
// mismatch in fixed-output derivation" report (Nix 2.4+ `specified:`/`got:` and the older
// `wanted:`/`got:`), and writes the hash Nix got into the .nix file that holds the specified one.
//
//   flox build comfyui 2>&1 | deno task fix-hash
//   deno task fix-hash build.log --dry-run
//   deno task fix-hash --run "flox build comfyui"      # build, fix, rebuild (at most 5 rounds)
//
// fix-hash is fix-build filtered to hash mismatches (lib/fix_build/fix.ts): one round loop, one
// JSON shape, one writer. It writes without asking (no --yes), as it always has.
//
// Permissions: --allow-read, --allow-write=.flox/pkgs (the edited files), --allow-run=sh (--run),
// --allow-env (the terminal prompt's libraries read many variables; @lezer/lr reads LOG).
import { parseCli, runTask } from "../lib/kit/cli.ts";
import { out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import type * as Workflow from "../lib/fix_build/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let {
  askFile,
  checkLogArgs,
  checkPkgsWritable,
  fixBuild,
  HASH_ONLY,
  logFromStdin,
  readLog,
  roundsFrom,
  shellBuild,
} = {} as typeof Workflow;
import { PKGS_DIR, resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";

const USAGE = `Usage: deno task fix-hash [LOG] [options]

Finds Nix's "hash mismatch in fixed-output derivation" reports in build output and writes the
hash Nix got into the .nix file under .flox/pkgs/ that holds the specified one (lib.fakeHash,
sha256-AAAA…, or an outdated hash). Shows each change as a diff.

  LOG             build log to read; "-" or nothing reads standard input
                  (flox build comfyui 2>&1 | deno task fix-hash)

Options:
  --run CMD       run CMD with sh -c, fix the hashes it reports, and run it again until it
                  passes, fails for another reason (exit 1), or --rounds rounds have passed
  --rounds N      rounds for --run (default 5)
  --file FILE     only consider this .nix file (repeatable; relative to the repository root,
                  e.g. .flox/pkgs/spandrel.nix); settles an ambiguous match
  --dry-run       show the diff, write nothing
  --json          print the findings and fixes as JSON (fix-build's shape)
  --root DIR      ${ROOT_HELP}
  -h, --help      show this help

When one placeholder hash sits in several files, the derivation name in the report and the
packages that depend on it pick the file; if that is not enough, fix-hash asks (in a terminal)
or refuses and names the candidates.

Exit status: 0 fixed (or nothing to do), 1 a mismatch no file holds, a failed build or bad
input, 2 usage error, 130 cancelled.`;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      run: { type: "string" },
      rounds: { type: "string" },
      file: { type: "string", multiple: true },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      root: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({
      askFile,
      checkLogArgs,
      checkPkgsWritable,
      fixBuild,
      HASH_ONLY,
      logFromStdin,
      readLog,
      roundsFrom,
      shellBuild,
    } = await import("../lib/fix_build/run.ts"));
    const logArgs = {
      positionals,
      run: values.run,
      bothMessage: "Give either a LOG or --run, not both",
      stdinMessage:
        "Give a LOG file or pipe the build output in (flox build NAME 2>&1 | deno task fix-hash)",
    };
    checkLogArgs(logArgs);
    const rounds = roundsFrom("--rounds", values.rounds);
    const root = await resolveRoot(values.root);
    // No question can be asked while the log arrives on stdin, or without a terminal; an
    // ambiguous match then ends with the candidates named and --file suggested.
    const choose = !logFromStdin(logArgs) && Deno.stdin.isTerminal() &&
        Deno.stderr.isTerminal()
      ? askFile
      : undefined;
    if (values["dry-run"] !== true) {
      await checkPkgsWritable(
        root,
        `deno task fix-hash may write only this repository's ${PKGS_DIR} (for another --root run "deno run --allow-read --allow-env --allow-run=sh --allow-write=${root}/${PKGS_DIR} tasks/fix_hash.ts …")`,
      );
    }
    const log = await readLog(logArgs);
    return await fixBuild({
      root,
      // As typed (from a subfolder) or relative to the root (.flox/pkgs/x.nix).
      files: values.file,
      dryRun: values["dry-run"] === true,
      json: values.json === true,
      choose,
      log,
      run: values.run === undefined ? undefined : shellBuild(values.run),
      maxRounds: rounds,
      only: HASH_ONLY,
      fe: chooseFrontend({ yes: true }),
    });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
