// fix-hash: the hash-only case of fix-build. Reads build output (a file, stdin or `--run CMD`),
// writes the hash Nix got into the .nix file under .flox/pkgs/ that holds the specified one,
// and with --run rebuilds until the build passes, fails for another reason or rounds run out.
import { join, relative, resolve, sep } from "node:path";
import { argPath } from "../kit/cli.ts";
import { KitError } from "../kit/errors.ts";
import { error, info, out, warn } from "../kit/log.ts";
import { sameDigest, tryParseHash } from "../hash/sha256.ts";
import { writeNixFile } from "../nix/write.ts";
import {
  applyFixes,
  type Candidate,
  type Chooser,
  collectCandidates,
  type Fix,
  matchMismatches,
  type Mismatch,
  packageFiles,
  parseMismatches,
  short,
} from "./hash.ts";
import { passedMessage, runShell, shellQuote } from "./build.ts";

/** Options of fixHash (what tasks/fix_hash.ts parsed). */
export interface FixHashOptions {
  root: string;
  /** --file values, as typed (repository paths such as .flox/pkgs/x.nix). */
  files?: string[] | undefined;
  dryRun: boolean;
  json: boolean;
  choose?: Chooser | undefined;
  /** The build output to read, when not --run. */
  log?: string | undefined;
  /** --run CMD and its rounds. */
  run?: string | undefined;
  rounds: number;
}

interface RoundResult {
  /** How many mismatches the log reports (fixed, unmatched or already fixed). */
  found: number;
  fixes: Fix[];
  unmatched: Mismatch[];
  /** Mismatches whose file already holds the hash Nix got, with that file. */
  already: { mismatch: Mismatch; file: string }[];
  changedFiles: number;
}

/**
 * The .nix files --file names, each checked to be a .nix file under the repository's
 * .flox/pkgs/ (anything else is refused before any file is read).
 */
export function checkPackageFileArgs(
  root: string,
  files: string[] | undefined,
  task: string,
): string[] | undefined {
  if (!files) return undefined;
  const dir = join(resolve(root), ".flox", "pkgs") + sep;
  const inPkgs = (abs: string) => abs.startsWith(dir) && abs.endsWith(".nix");
  return files.map((f) => {
    // As typed in a subfolder (../../.flox/pkgs/x.nix), else from the root (.flox/pkgs/x.nix).
    const typed = argPath(f);
    const abs = inPkgs(typed) ? typed : resolve(root, f);
    if (!inPkgs(abs)) {
      throw new KitError(
        `--file "${f}" is not a .nix file under .flox/pkgs/ of "${root}": ${task} edits only package files (give e.g. --file .flox/pkgs/spandrel.nix)`,
      );
    }
    return abs;
  });
}

function holdersOf(m: Mismatch, candidates: Candidate[]): Candidate[] {
  const got = tryParseHash(m.gotSri);
  return candidates.filter((c) => {
    const d = c.site.value ? tryParseHash(c.site.value) : undefined;
    return d !== undefined && got !== undefined && sameDigest(d, got);
  });
}

/** Matches the mismatches of one log to files and writes (or, dry, shows) the fixes. */
async function fixLog(
  log: string,
  o: FixHashOptions,
  files: string[] | undefined,
): Promise<RoundResult> {
  const mismatches = parseMismatches(log);
  const empty = { fixes: [], unmatched: [], already: [], changedFiles: 0 };
  if (mismatches.length === 0) return { found: 0, ...empty };
  const candidates = await collectCandidates(
    o.root,
    files ?? await packageFiles(o.root),
  );
  const { fixes, unmatched } = await matchMismatches(
    mismatches,
    candidates,
    o.choose,
  );
  const already = mismatches.filter((m) =>
    !unmatched.includes(m) && !fixes.some((f) => f.mismatch === m)
  ).map((m) => ({
    mismatch: m,
    file: holdersOf(m, candidates)[0]?.file ?? "a package file",
  }));
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
    const shown = relative(o.root, abs);
    const r = await writeNixFile(abs, texts.get(abs)!, text, {
      dryRun: o.dryRun,
      displayPath: shown,
    }).catch((e) => {
      // deno.json grants writes to this repository's .flox/pkgs only.
      if (e instanceof Deno.errors.NotCapable) {
        throw new KitError(
          `No permission to write "${shown}": deno task fix-hash may write only to this repository's .flox/pkgs (for another --root run "deno run --allow-read --allow-env --allow-run=sh --allow-write=${o.root}/.flox/pkgs tasks/fix_hash.ts …")`,
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
  return { found: mismatches.length, fixes, unmatched, already, changedFiles };
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

/** The one `error:` line for mismatches no file holds. */
function unmatchedError(r: RoundResult): string {
  const n = r.unmatched.length;
  return `${n} hash mismatch${
    n === 1 ? " is" : "es are"
  } about no hash under .flox/pkgs/ (${
    r.unmatched.map((m) => `"${m.drvName}"`).join(", ")
  }, see the warning${n === 1 ? "" : "s"} above): nothing written for ${
    n === 1 ? "it" : "them"
  }; fix the source by hand or give --file FILE`;
}

/** fix-hash on one log: fixes what it can; exit 0 when everything was fixed or already was. */
async function fixOneLog(o: FixHashOptions, log: string): Promise<number> {
  const files = checkPackageFileArgs(o.root, o.files, "fix-hash");
  const r = await fixLog(log, o, files);
  if (o.json) out(JSON.stringify(toJson(r, o.dryRun), null, 2));
  if (r.unmatched.length > 0) {
    error(unmatchedError(r));
    return 1;
  }
  if (r.fixes.length === 0) {
    info(
      r.found === 0
        ? "No hash mismatch in the build output: nothing to do"
        : `The build output's hash mismatch${
          r.found === 1 ? " is" : "es are"
        } already fixed: nothing to do`,
    );
  }
  return 0;
}

/** fix-hash: one log, or with `run` the build → fix → rebuild loop. Returns the exit code. */
export async function fixHash(o: FixHashOptions): Promise<number> {
  if (o.run === undefined) return await fixOneLog(o, o.log ?? "");
  const files = checkPackageFileArgs(o.root, o.files, "fix-hash");
  const all: RoundResult = {
    found: 0,
    fixes: [],
    unmatched: [],
    already: [],
    changedFiles: 0,
  };
  for (let round = 1; round <= o.rounds; round++) {
    info(`round ${round}/${o.rounds}`);
    const b = await runShell(o.run, o.root);
    const json = () =>
      o.json && out(JSON.stringify(toJson(all, o.dryRun, round), null, 2));
    if (b.code === 0) {
      json();
      info(passedMessage(round));
      return 0;
    }
    const r = await fixLog(b.output, o, files);
    all.fixes.push(...r.fixes);
    all.unmatched = r.unmatched;
    all.changedFiles += r.changedFiles;
    if (r.fixes.length === 0) {
      json();
      error(stopReason(r, all, b.code));
      return 1;
    }
    if (o.dryRun) {
      json();
      info("--dry-run: nothing written, not rebuilding");
      return 0;
    }
  }
  if (o.json) out(JSON.stringify(toJson(all, o.dryRun, o.rounds), null, 2));
  error(
    `Still failing after ${o.rounds} rounds; run "${o.run}" and read its output`,
  );
  return 1;
}

/** Why a --run round ends without a fix: one sentence saying what happened. */
function stopReason(r: RoundResult, all: RoundResult, code: number): string {
  if (r.unmatched.length) return unmatchedError(r);
  const again = r.already[0];
  if (again) {
    const m = again.mismatch;
    const ours = all.fixes.some((f) =>
      f.mismatch.drvName === m.drvName && f.mismatch.gotSri === m.gotSri
    );
    return `The build reports the same hash mismatch for "${m.drvName}" again although ${again.file} ${
      ours ? "now holds" : "already holds"
    } the hash Nix got (${m.gotSri}): the build does not see the edited file (Flox builds only what git tracks: run "git add ${
      shellQuote(again.file)
    }", then build again)`;
  }
  return `The build failed without a hash mismatch (exit ${code}); its output is above`;
}
