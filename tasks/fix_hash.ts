// deno task fix-hash — the fakeHash dance, automated: reads build output, finds every Nix "hash
// mismatch in fixed-output derivation" report (Nix 2.4+ `specified:`/`got:` and the older
// `wanted:`/`got:`), and writes the hash Nix got into the .nix file that holds the specified one.
//
//   flox build comfyui 2>&1 | deno task fix-hash
//   deno task fix-hash build.log --dry-run
//   deno task fix-hash --run "flox build comfyui"      # build, fix, rebuild (at most 5 rounds)
//
// Permissions: --allow-read, --allow-write=.flox/pkgs (the edited files), --allow-run=sh (--run),
// --allow-env (the terminal prompt's libraries read many variables; @lezer/lr reads LOG).
import { join, resolve } from "node:path";
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { stream } from "../lib/kit/command.ts";
import {
  checkWriteAccess,
  PKGS_DIR,
  resolveRoot,
  ROOT_HELP,
} from "../lib/repo/paths.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { error, info, out, warn, writeErr } from "../lib/kit/log.ts";
import {
  applyFixes,
  type Chooser,
  collectCandidates,
  type Fix,
  matchMismatches,
  type Mismatch,
  packageFiles,
  parseMismatches,
  readText,
  short,
} from "../lib/fix_hash/fixes.ts";
import { writeNixFile } from "../lib/nix/edit.ts";

/** Asks which file a mismatch is about (terminal only; the prompt library loads on demand). */
const askFile: Chooser = async (m, candidates) => {
  const { TerminalFrontend } = await import("../lib/kit/prompt.ts");
  const picked = await new TerminalFrontend().select({
    key: "file",
    flag: "--file",
    message:
      `Which hash does the mismatch for "${m.drvName}" (got ${m.gotSri}) belong to?`,
    choices: candidates.map((c, i) => ({
      value: String(i),
      name: `${c.file}:${c.site.line} ${c.site.attr}${
        c.pname ? ` (${c.pname} ${c.version ?? ""})` : ""
      }`,
    })),
  });
  return candidates[Number(picked)];
};

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
  --json          print the fixes as JSON
  --root DIR      ${ROOT_HELP}
  -h, --help      show this help

When one placeholder hash sits in several files, the derivation name in the report and the
packages that depend on it pick the file; if that is not enough, fix-hash asks (in a terminal)
or refuses and names the candidates.

Exit status: 0 fixed (or nothing to do), 1 a mismatch no file holds, a failed build or bad
input, 2 usage error, 130 cancelled.`;

interface Options {
  root: string;
  files: string[] | undefined;
  dryRun: boolean;
  json: boolean;
  choose?: Chooser | undefined;
}

interface RoundResult {
  /** How many mismatches the log reports (fixed, unmatched or already fixed). */
  found: number;
  fixes: Fix[];
  unmatched: Mismatch[];
  changedFiles: number;
}

/** Matches the mismatches of one log to files and writes (or, dry, shows) the fixes. */
async function fixLog(log: string, o: Options): Promise<RoundResult> {
  const mismatches = parseMismatches(log);
  if (mismatches.length === 0) {
    return { found: 0, fixes: [], unmatched: [], changedFiles: 0 };
  }
  const files = o.files ?? await packageFiles(o.root);
  const candidates = await collectCandidates(o.root, files);
  const { fixes, unmatched } = await matchMismatches(
    mismatches,
    candidates,
    o.choose,
  );
  for (const m of unmatched) {
    warn(
      `No .nix file holds the hash specified for "${m.drvName}" (${
        short(m.specified)
      }, log line ${m.line}); got ${m.gotSri}`,
    );
  }
  const texts = new Map<string, string>();
  for (const f of fixes) {
    if (!texts.has(f.candidate.abs)) {
      texts.set(f.candidate.abs, await Deno.readTextFile(f.candidate.abs));
    }
  }
  const after = applyFixes(texts, fixes);
  let changedFiles = 0;
  for (const [abs, text] of after) {
    const shown = fixes.find((f) => f.candidate.abs === abs)!.candidate.file;
    const r = await writeNixFile(abs, texts.get(abs)!, text, {
      dryRun: o.dryRun,
      displayPath: shown,
    }).catch((e) => {
      // deno.json grants writes to this repository's .flox/pkgs only.
      if (e instanceof Deno.errors.NotCapable) {
        throw new KitError(
          `no permission to write "${shown}": deno task fix-hash may write only to this repository's .flox/pkgs (for another --root run "deno run --allow-read --allow-env --allow-run=sh --allow-write=${o.root}/.flox/pkgs tasks/fix_hash.ts …")`,
        );
      }
      throw e;
    });
    if (r.changed) {
      changedFiles++;
      if (!o.json) out(r.diff.trimEnd());
    }
  }
  for (const f of fixes) {
    info(
      `${
        o.dryRun ? "would fix" : "fixed"
      } ${f.candidate.file}:${f.candidate.site.line} ${f.candidate.site.attr} (${f.mismatch.drvName}): ${
        short(f.mismatch.specified)
      } → ${f.mismatch.gotSri}`,
    );
  }
  return { found: mismatches.length, fixes, unmatched, changedFiles };
}

function toJson(r: RoundResult, dryRun: boolean, rounds?: number) {
  return {
    written: !dryRun && r.changedFiles > 0,
    ...(rounds === undefined ? {} : { rounds }),
    fixes: r.fixes.map((f) => ({
      file: f.candidate.file,
      line: f.candidate.site.line,
      attr: f.candidate.site.attr,
      derivation: f.mismatch.drvName,
      specified: f.mismatch.specified,
      got: f.mismatch.gotSri,
    })),
    unmatched: r.unmatched.map((m) => ({
      derivation: m.drvName,
      specified: m.specified,
      got: m.gotSri,
      line: m.line,
    })),
  };
}

/** Runs `sh -c cmd`, streaming its output to stderr, and returns the exit code and output. */
async function runBuild(
  cmd: string,
  cwd: string,
): Promise<{ code: number; output: string }> {
  const r = await stream("sh", ["-c", cmd], { cwd, onText: writeErr });
  return { code: r.code, output: r.output };
}

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
    if (positionals.length > 1) throw new UsageError("Give at most one LOG");
    if (positionals.length && values.run !== undefined) {
      throw new UsageError("Give either a LOG or --run, not both");
    }
    const rounds = values.rounds === undefined ? 5 : Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
      throw new UsageError(
        `--rounds must be a whole number from 1 to 50, got "${values.rounds}"`,
      );
    }
    const root = await resolveRoot(values.root);
    const fromStdin = values.run === undefined &&
      (positionals.length === 0 || positionals[0] === "-");
    const o: Options = {
      root,
      // Repository paths, as fix-hash names the candidates (.flox/pkgs/X.nix).
      files: values.file?.map((f) => resolve(root, f)),
      dryRun: values["dry-run"] === true,
      json: values.json === true,
      // No question can be asked while the log arrives on stdin, or without a terminal; an
      // ambiguous match then ends with the candidates named and --file suggested.
      choose: !fromStdin && Deno.stdin.isTerminal() && Deno.stderr.isTerminal()
        ? askFile
        : undefined,
    };
    if (!o.dryRun) {
      // One line before any question when this run may not write the root's packages.
      await checkWriteAccess(
        root,
        [join(root, PKGS_DIR)],
        `deno task fix-hash may write only this repository's ${PKGS_DIR} (for another --root run "deno run --allow-read --allow-env --allow-run=sh --allow-write=${root}/${PKGS_DIR} tasks/fix_hash.ts …")`,
      );
    }
    if (values.run === undefined) {
      if (fromStdin && Deno.stdin.isTerminal()) {
        throw new UsageError(
          "Give a LOG file or pipe the build output in (flox build NAME 2>&1 | deno task fix-hash)",
        );
      }
      const log = fromStdin
        ? await new Response(Deno.stdin.readable).text()
        : await readText(argPath(positionals[0]!), positionals[0]!);
      const r = await fixLog(log, o);
      if (o.json) out(JSON.stringify(toJson(r, o.dryRun), null, 2));
      if (r.fixes.length === 0 && r.unmatched.length === 0) {
        info(
          r.found === 0
            ? "No hash mismatch in the build output: nothing to do"
            : `The build output's hash mismatch${
              r.found === 1 ? " is" : "es are"
            } already fixed: nothing to do`,
        );
        return 0;
      }
      return r.fixes.length > 0 && r.unmatched.length === 0 ? 0 : 1;
    }
    // --run: build, fix, rebuild.
    const all: RoundResult = {
      found: 0,
      fixes: [],
      unmatched: [],
      changedFiles: 0,
    };
    for (let round = 1; round <= rounds; round++) {
      info(`round ${round}/${rounds}`);
      const b = await runBuild(values.run, root);
      if (b.code === 0) {
        if (o.json) out(JSON.stringify(toJson(all, o.dryRun, round), null, 2));
        info(
          round === 1
            ? "The build passes: nothing to fix"
            : `The build passes after ${round - 1} fix round${
              round > 2 ? "s" : ""
            }`,
        );
        return 0;
      }
      const r = await fixLog(b.output, o);
      all.fixes.push(...r.fixes);
      all.unmatched = r.unmatched;
      all.changedFiles += r.changedFiles;
      if (r.fixes.length === 0) {
        if (o.json) out(JSON.stringify(toJson(all, o.dryRun, round), null, 2));
        error(
          r.unmatched.length
            ? "The build reports hash mismatches in no file fix-hash manages (see above)"
            : `The build failed without a hash mismatch (exit ${b.code}); its output is above`,
        );
        return 1;
      }
      if (o.dryRun) {
        if (o.json) out(JSON.stringify(toJson(all, true, round), null, 2));
        info("--dry-run: nothing written, not rebuilding");
        return 0;
      }
    }
    if (o.json) out(JSON.stringify(toJson(all, o.dryRun, rounds), null, 2));
    error(
      `Still failing after ${rounds} rounds; run "${values.run}" and read its output`,
    );
    return 1;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
