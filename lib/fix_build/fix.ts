// fix-build: one log (or, with --run, rounds of a build) → findings → actions → the edits shown
// as diffs, confirmed, and written all or nothing. fix-hash is this, filtered to hash mismatches.
import { KitError } from "../kit/errors.ts";
import { error, info, out } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import { openNixpkgsForFlag } from "../nix/nixpkgs.ts";
import { nixpkgsIndexFor } from "../repo/paths.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { onPath } from "../kit/command.ts";
import { passedMessage, runBuild, shellQuote } from "./build.ts";
import { findFailures, type Finding } from "./findings.ts";
import { hashActions } from "./hash_actions.ts";
import { byDerivation, isAttrName, loadPackages } from "./locate.ts";
import { firstErrorExcerpt, readLog } from "./log.ts";
import { planActions } from "./plan.ts";
import { applyActions, writeAll } from "./apply.ts";
import type { Chooser } from "./hash.ts";
import {
  allDone,
  exitOf,
  keyOf,
  printActions,
  reportUnfixed,
  type Round,
  roundJson,
  type Voice,
} from "./report.ts";

/** The build --run runs: its argv and how to name it in messages. */
export interface BuildCommand {
  argv: string[];
  display: string;
}

/** Options of fixBuild (what tasks/fix_build.ts and tasks/fix_hash.ts parsed). */
interface FixBuildOptions {
  root: string;
  /** --file values (as typed), checked to be under .flox/pkgs/. */
  files?: string[] | undefined;
  /** The build output, when not --run. */
  log?: string | undefined;
  /** --run: the build to run, fix and rerun. */
  run?: BuildCommand | undefined;
  maxRounds: number;
  dryRun: boolean;
  json: boolean;
  /** --nixpkgs-index FILE (offline lookups only). */
  nixpkgsIndex?: string | undefined;
  choose?: Chooser | undefined;
  /** Asks before writing (the terminal, or scripted under --yes / without a terminal). */
  fe: Frontend;
  /** Only these failure kinds (fix-hash: hash mismatches), and the words for them. */
  only?: { kinds: ReadonlySet<Finding["kind"]>; voice: Voice } | undefined;
}

const FIX_BUILD: Voice = {
  task: "fix-build",
  noun: "failure",
  nouns: "failures",
};

/** `flox build PKG`, refused unless PKG is an attribute and flox is on PATH. */
export function floxBuild(pkg: string): BuildCommand {
  if (!isAttrName(pkg)) {
    throw new KitError(
      `"${pkg}" is not a package attribute Flox can build (letters, digits, _ ' -)`,
    );
  }
  if (!onPath("flox")) {
    throw new KitError(
      `flox is not installed (not on PATH): build where it is and pipe the output in ("flox build ${pkg} 2>&1 | deno task fix-build -")`,
    );
  }
  return { argv: ["flox", "build", pkg], display: `flox build ${pkg}` };
}

let lookup: Promise<NixpkgsLookup> | undefined;

/** Reads one log, plans, shows the diffs, asks, writes. */
async function fixRound(o: FixBuildOptions, log: string): Promise<Round> {
  const lines = readLog(log);
  const findings = findFailures(lines, log).filter((f) =>
    !o.only || o.only.kinds.has(f.kind)
  );
  const excerpt = firstErrorExcerpt(lines);
  const applied = { changed: [], failed: [] };
  if (findings.length === 0) {
    return {
      findings,
      actions: [],
      applied,
      written: false,
      excerpt,
      ...await failedFileOf(o.root, lines),
    };
  }
  const others = findings.some((f) => f.kind !== "hash-mismatch");
  // Hash mismatches read only the files that may hold them (--file narrows them).
  const pkgs = others ? await loadPackages(o.root) : [];
  const actions = await hashActions(o, findings, pkgs);
  if (others) {
    lookup ??= openNixpkgsForFlag(o.nixpkgsIndex, nixpkgsIndexFor(o.root));
    const nixpkgs = await lookup;
    actions.push(
      ...await planActions({ root: o.root, pkgs, nixpkgs }, findings),
    );
  }
  const result = applyActions(actions);
  printActions(actions, o.dryRun);
  if (!o.json) { for (const c of result.changed) out(c.diff.trimEnd()); }
  let written = false;
  if (result.changed.length && !o.dryRun) {
    const ok = await o.fe.confirm({
      key: "write",
      flag: "--yes",
      message: `Write ${result.changed.length} file${
        result.changed.length === 1 ? "" : "s"
      } (${result.changed.map((c) => c.file).join(", ")})?`,
      default: true,
    });
    if (ok) {
      await writeAll(o.root, result.changed);
      written = true;
    } else info("Nothing written");
  }
  return { findings, actions, applied: result, written, excerpt };
}

/** fix-build: one log, or with `run` the build → fix → rebuild loop. Returns the exit code. */
export async function fixBuild(o: FixBuildOptions): Promise<number> {
  lookup = undefined;
  const voice = o.only?.voice ?? FIX_BUILD;
  if (o.run === undefined) {
    const r = await fixRound(o, o.log ?? "");
    if (o.json) out(JSON.stringify(roundJson(r), null, 2));
    if (o.only && r.findings.length === 0) {
      // A filter (fix-hash) on a log without its kind: nothing for it to do.
      info(`No ${voice.noun} in the build output: nothing to do`);
      return 0;
    }
    return exitOf(voice, r);
  }
  return await runLoop(o, o.run, voice);
}

async function runLoop(
  o: FixBuildOptions,
  build: BuildCommand,
  voice: Voice,
): Promise<number> {
  let last: Round | undefined;
  const fixedBefore = new Set<string>();
  const json = (
    r: Round | undefined,
    extra: { rounds: number; built?: boolean },
  ) =>
    o.json && out(JSON.stringify(roundJson(r ?? emptyRound(), extra), null, 2));
  for (let round = 1; round <= o.maxRounds; round++) {
    info(`round ${round}/${o.maxRounds}`);
    const b = await runBuild(build.argv, o.root);
    if (b.code === 0) {
      json(last, { rounds: round, built: true });
      info(passedMessage(round));
      return 0;
    }
    const r = await fixRound(o, b.output);
    last = r;
    const again = r.actions.find((a) => fixedBefore.has(keyOf(a)));
    if (again) {
      json(r, { rounds: round });
      error(
        `The build reports the same ${voice.noun} again after a fix was written (${again.summary}): the build does not see the edited file (Flox builds only what git tracks: run "git add ${
          shellQuote(again.file ?? ".flox/pkgs")
        }", then build again)`,
      );
      return 1;
    }
    for (const a of r.actions) if (a.edit) fixedBefore.add(keyOf(a));
    if (r.written && !o.dryRun) continue;
    json(r, { rounds: round });
    if (o.dryRun && r.applied.changed.length) {
      info("--dry-run: nothing written, not rebuilding");
      return exitOf(voice, r);
    }
    if (r.applied.changed.length) {
      error(
        "Stopped: the fixes were not written, so there is nothing to rebuild",
      );
      return 1;
    }
    if (allDone(r)) {
      // The build failed (exit b.code): failures the files already fix mean a build that does
      // not see the files, never "nothing to do".
      const done = r.actions.find((a) => a.done)!;
      error(
        `The build still fails on what ${
          done.file ?? "a package file"
        } already fixes (${done.summary}): the build does not see the edited file (Flox builds only what git tracks: run "git add ${
          shellQuote(done.file ?? ".flox/pkgs")
        }", then build again)`,
      );
      return 1;
    }
    return reportUnfixed(voice, r, b.code);
  }
  json(last, { rounds: o.maxRounds });
  error(
    `Still failing after ${o.maxRounds} rounds; run "${build.display}" and read its output`,
  );
  return 1;
}

function emptyRound(): Round {
  return {
    findings: [],
    actions: [],
    applied: { changed: [], failed: [] },
    written: false,
  };
}

/**
 * The package file of the derivation whose builder failed first (a node pack's failure is often
 * one of the hazards add-node recorded at the top of its file).
 */
async function failedFileOf(
  root: string,
  lines: ReturnType<typeof readLog>,
): Promise<{ failedFile?: string }> {
  const drv = lines.map((l) => l.text).join("\n").match(
    /builder for ['‘`"]?\/nix\/store\/[a-z0-9]{32}-([^'’`"\s]+)\.drv/,
  )?.[1];
  const failed = drv ? byDerivation(await loadPackages(root), drv) : undefined;
  return failed ? { failedFile: failed.file } : {};
}
