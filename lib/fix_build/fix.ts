// fix-build: one log (or, with --run, rounds of `flox build PKG`) → findings → actions → the
// edits shown as diffs, confirmed, and written all or nothing.
import { KitError } from "../kit/errors.ts";
import { error, info, out, warn } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import { openNixpkgsForFlag } from "../nix/nixpkgs.ts";
import { nixpkgsIndexFor } from "../repo/paths.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { onPath } from "../kit/command.ts";
import { passedMessage, runBuild, shellQuote } from "./build.ts";
import { findFailures, type Finding } from "./findings.ts";
import { hashActions } from "./hash_actions.ts";
import { attrOfFile, loadPackages } from "./locate.ts";
import { firstErrorExcerpt, readLog } from "./log.ts";
import { type Action, planActions } from "./plan.ts";
import { type Applied, applyActions, writeAll } from "./apply.ts";
import type { Chooser } from "./hash.ts";

/** Options of fixBuild (what tasks/fix_build.ts parsed). */
export interface FixBuildOptions {
  root: string;
  /** --file values (repository paths), checked to be under .flox/pkgs/. */
  files?: string[] | undefined;
  /** The build output, when not --run. */
  log?: string | undefined;
  /** --run PKG: the attribute `flox build` builds. */
  run?: string | undefined;
  maxRounds: number;
  dryRun: boolean;
  json: boolean;
  /** --nixpkgs-index FILE (offline lookups only). */
  nixpkgsIndex?: string | undefined;
  choose?: Chooser | undefined;
  /** Asks before writing (the terminal, or scripted under --yes / without a terminal). */
  fe: Frontend;
}

/** The result of one round, for --json and the loop. */
interface Round {
  findings: Finding[];
  actions: Action[];
  applied: Applied;
  written: boolean;
  excerpt?: string | undefined;
}

function findingJson(a: Action) {
  const { finding: f } = a;
  const detail = f.kind === "hash-mismatch"
    ? { derivation: f.mismatch.drvName, got: f.mismatch.gotSri }
    : Object.fromEntries(
      Object.entries(f).filter(([k]) => !["kind", "line", "holds"].includes(k)),
    );
  return {
    kind: f.kind,
    line: f.line,
    ...detail,
    summary: a.summary,
    ...(a.file ? { file: a.file } : {}),
    ...(a.edit ? { fix: a.edit.describe } : {}),
    ...(a.advice ? { advice: a.advice } : {}),
  };
}

function roundJson(r: Round, rounds?: number) {
  return {
    written: r.written,
    ...(rounds === undefined ? {} : { rounds }),
    findings: r.actions.map(findingJson),
    files: r.applied.changed.map((c) => c.file),
    ...(r.excerpt ? { firstError: r.excerpt } : {}),
  };
}

let lookup: Promise<NixpkgsLookup> | undefined;

/** Reads one log, plans, shows the diffs, asks, writes. */
async function fixRound(o: FixBuildOptions, log: string): Promise<Round> {
  const lines = readLog(log);
  const findings = findFailures(lines, log);
  if (findings.length === 0) {
    return {
      findings,
      actions: [],
      applied: { changed: [], failed: [] },
      written: false,
      excerpt: firstErrorExcerpt(lines),
    };
  }
  const pkgs = await loadPackages(o.root);
  const actions = await hashActions(o, findings, pkgs);
  if (findings.some((f) => f.kind !== "hash-mismatch")) {
    lookup ??= openNixpkgsForFlag(o.nixpkgsIndex, nixpkgsIndexFor(o.root));
    const nixpkgs = await lookup;
    actions.push(
      ...await planActions({ root: o.root, pkgs, nixpkgs }, findings),
    );
  }
  const applied = applyActions(actions);
  for (const a of actions) {
    const at = a.file ? `${a.file}: ` : "";
    if (a.edit) {
      info(
        `${
          o.dryRun ? "would fix" : "fix"
        }: ${at}${a.summary} → ${a.edit.describe}`,
      );
    } else if (a.done) info(`already fixed: ${at}${a.summary}`);
    else {warn(
        `cannot fix: ${at}${a.summary}${a.advice ? `; ${a.advice}` : ""}`,
      );}
  }
  if (!o.json) { for (const c of applied.changed) out(c.diff.trimEnd()); }
  let written = false;
  if (applied.changed.length && !o.dryRun) {
    const ok = await o.fe.confirm({
      key: "write",
      flag: "--yes",
      message: `Write ${applied.changed.length} file${
        applied.changed.length === 1 ? "" : "s"
      } (${applied.changed.map((c) => c.file).join(", ")})?`,
      default: true,
    });
    if (ok) {
      await writeAll(o.root, applied.changed);
      written = true;
    } else info("Nothing written");
  }
  return {
    findings,
    actions,
    applied,
    written,
    excerpt: firstErrorExcerpt(lines),
  };
}

/** Ends a round that fixed nothing: the excerpt or the reasons, one `error:` line. */
function reportUnfixed(r: Round, code?: number): number {
  if (r.findings.length === 0) {
    if (r.excerpt) info(`The build's first error:\n${r.excerpt}`);
    error(
      `Nothing in the build output is a failure fix-build knows how to fix${
        code !== undefined ? ` (exit ${code})` : ""
      }${r.excerpt ? "; its first error is above" : ""}`,
    );
    return 1;
  }
  const open = r.actions.filter((a) => !a.edit && !a.done).length;
  if (open === 0) {
    info("The build output's failures are already fixed: nothing to do");
    return 0;
  }
  if (r.excerpt) info(`The build's first error:\n${r.excerpt}`);
  error(
    `Nothing in the build output is something fix-build can fix: ${open} failure${
      open === 1 ? "" : "s"
    } it cannot fix (see "cannot fix" above)`,
  );
  return 1;
}

/** A round's result as an exit code: 0 when every finding was fixed (or shown, dry). */
function exitOf(r: Round): number {
  const open = r.actions.filter((a) => !a.edit && !a.done).length;
  if (r.applied.changed.length === 0) return reportUnfixed(r);
  if (open > 0) {
    error(
      `${open} failure${
        open === 1 ? "" : "s"
      } fix-build cannot fix (see "cannot fix" above)${
        r.written ? "; the others are fixed" : ""
      }`,
    );
    return 1;
  }
  return 0;
}

/** fix-build: one log, or with `run` the flox build → fix → rebuild loop. */
export async function fixBuild(o: FixBuildOptions): Promise<number> {
  lookup = undefined;
  if (o.run === undefined) {
    const r = await fixRound(o, o.log ?? "");
    if (o.json) out(JSON.stringify(roundJson(r), null, 2));
    return exitOf(r);
  }
  return await runLoop(o, o.run);
}

async function runLoop(o: FixBuildOptions, pkg: string): Promise<number> {
  if (!attrOfFile(`${pkg}.nix`)) {
    throw new KitError(
      `"${pkg}" is not a package attribute Flox can build (letters, digits, _ ' -)`,
    );
  }
  if (!onPath("flox")) {
    throw new KitError(
      `flox is not installed (not on PATH): build where it is and pipe the output in ("flox build ${pkg} 2>&1 | deno task fix-build -")`,
    );
  }
  let last: Round | undefined;
  const fixedBefore = new Set<string>();
  for (let round = 1; round <= o.maxRounds; round++) {
    info(`round ${round}/${o.maxRounds}`);
    const b = await runBuild(["flox", "build", pkg], o.root);
    if (b.code === 0) {
      if (o.json) {
        out(
          JSON.stringify(
            { ...roundJson(last ?? emptyRound()), rounds: round, built: true },
            null,
            2,
          ),
        );
      }
      info(passedMessage(round));
      return 0;
    }
    const r = await fixRound(o, b.output);
    last = r;
    const again = r.actions.find((a) => fixedBefore.has(keyOf(a)));
    if (again) {
      if (o.json) out(JSON.stringify(roundJson(r, round), null, 2));
      error(
        `The build reports the same failure again after a fix was written (${again.summary}): the build does not see the edited file (Flox builds only what git tracks: run "git add ${
          shellQuote(again.file ?? ".flox/pkgs")
        }", then build again)`,
      );
      return 1;
    }
    for (const a of r.actions) if (a.edit) fixedBefore.add(keyOf(a));
    if (!r.written || o.dryRun) {
      if (o.json) out(JSON.stringify(roundJson(r, round), null, 2));
      if (o.dryRun && r.applied.changed.length) {
        info("--dry-run: nothing written, not rebuilding");
        return exitOf(r);
      }
      if (r.applied.changed.length) {
        error(
          "Stopped: the fixes were not written, so there is nothing to rebuild",
        );
        return 1;
      }
      return reportUnfixed(r, b.code);
    }
  }
  if (o.json) {
    out(JSON.stringify(roundJson(last ?? emptyRound(), o.maxRounds), null, 2));
  }
  error(
    `Still failing after ${o.maxRounds} rounds; run "flox build ${pkg}" and read its output`,
  );
  return 1;
}

function keyOf(a: Action): string {
  const f = a.finding;
  return f.kind === "hash-mismatch"
    ? `hash:${f.mismatch.drvName}:${f.mismatch.gotSri}`
    : `${f.kind}:${a.summary}`;
}

function emptyRound(): Round {
  return {
    findings: [],
    actions: [],
    applied: { changed: [], failed: [] },
    written: false,
  };
}
