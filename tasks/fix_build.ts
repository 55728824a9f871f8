// deno task fix-build — read a failed `flox build`/`nix build` log, name what went wrong, and fix
// in .flox/pkgs/ what the kit knows how to fix (hashes, missing dependencies, import checks,
// misnamed arguments, platform conditions), each fix shown as a diff first.
//
//   flox build comfyui 2>&1 | deno task fix-build -
//   deno task fix-build build.log --dry-run
//   deno task fix-build --run comfyui          # flox build, fix, rebuild (at most 5 rounds)
//
// Permissions: --allow-read, --allow-write=.flox/pkgs (the edited files), --allow-run=flox,
// nix-instantiate (--run; nixpkgs lookups), --allow-env (prompt libraries, @lezer/lr's LOG).
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import type * as Workflow from "../lib/fix_build/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let {
  askFile,
  checkLogArgs,
  checkPkgsWritable,
  fixBuild,
  floxBuild,
  logFromStdin,
  readLog,
  roundsFrom,
} = {} as typeof Workflow;
import { PKGS_DIR, resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";

const USAGE = `Usage: deno task fix-build [LOG | -] [options]
       deno task fix-build --run PKG [options]

Reads the output of a failed build, names each failure it recognises, maps it to the package
file under .flox/pkgs/ that caused it, and fixes what it can, showing each fix as a diff:
  hash mismatch                      write the hash Nix got (as fix-hash does)
  ModuleNotFoundError / ImportError  add the distribution that provides the module
  pythonRuntimeDepsCheckHook         add "X not installed"; report "X>=2 not satisfied"
  wrong pythonImportsCheck name      replace it with the modules the build added
  undefined variable / missing arg   wire the .flox/pkgs package, or use the nixpkgs name
  not available / marked as broken   propose a platform condition (never drops it)

  LOG             build log to read; "-" reads standard input
                  (flox build comfyui 2>&1 | deno task fix-build -)

Options:
  --run PKG       run "flox build PKG" (flox must be on PATH), fix, rebuild until it passes,
                  nothing more is fixable, or --max-rounds rounds have passed
  --max-rounds N  rounds for --run (default 5)
  --file FILE     only consider this .nix file for hash mismatches (repeatable; must be under
                  .flox/pkgs/)
  --nixpkgs-index FILE  look packages up in this offline index only
  --dry-run       show the diffs, write nothing
  --yes           write without asking
  --json          print findings and fixes as JSON
  --root DIR      ${ROOT_HELP}
  -h, --help      show this help

Exit codes: 0 every failure fixed (or shown, with --dry-run), or the build passes;
1 something is not fixable (the first error or the reasons are printed) or a bad input;
2 usage error, 130 cancelled.`;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      run: { type: "string" },
      "max-rounds": { type: "string" },
      file: { type: "string", multiple: true },
      "nixpkgs-index": { type: "string" },
      "dry-run": { type: "boolean" },
      yes: { type: "boolean", short: "y" },
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
      floxBuild,
      logFromStdin,
      readLog,
      roundsFrom,
    } = await import("../lib/fix_build/run.ts"));
    const logArgs = {
      positionals,
      run: values.run,
      bothMessage: "Give either a LOG or --run PKG, not both",
      stdinMessage:
        "Give a LOG file, or pipe the build output in (flox build NAME 2>&1 | deno task fix-build -), or --run PKG",
    };
    checkLogArgs(logArgs);
    const maxRounds = roundsFrom("--max-rounds", values["max-rounds"]);
    const root = await resolveRoot(values.root);
    if (values["dry-run"] !== true) {
      await checkPkgsWritable(
        root,
        `deno task fix-build may write only this repository's ${PKGS_DIR}`,
      );
    }
    const log = await readLog(logArgs);
    const interactive = !logFromStdin(logArgs) && Deno.stdin.isTerminal() &&
      Deno.stderr.isTerminal();
    return await fixBuild({
      root,
      files: values.file,
      log,
      run: values.run === undefined ? undefined : floxBuild(values.run),
      maxRounds,
      dryRun: values["dry-run"] === true,
      json: values.json === true,
      nixpkgsIndex: values["nixpkgs-index"] !== undefined
        ? argPath(values["nixpkgs-index"])
        : undefined,
      choose: interactive ? askFile : undefined,
      fe: chooseFrontend({ yes: values.yes === true }),
    });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
