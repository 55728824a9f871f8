// What fix-build (and fix-hash, its hash-only filter) says about a round: each action's line,
// the JSON shape, and the closing message with its exit code. Every switch over failure kinds
// is exhaustive, so a new kind is a type error here, never a silent "already fixed".
import { error, info, warn } from "../kit/log.ts";
import { type Finding, unhandledKind } from "./findings.ts";
import type { Action } from "./plan.ts";
import type { Applied } from "./apply.ts";

/** The result of one round, for --json and the loop. */
export interface Round {
  findings: Finding[];
  actions: Action[];
  applied: Applied;
  written: boolean;
  excerpt?: string | undefined;
}

/** Who is speaking: fix-build, or fix-hash (fix-build filtered to hash mismatches). */
export interface Voice {
  task: string;
  /** What it fixes, singular and plural: "failure", "hash mismatches". */
  noun: string;
  nouns: string;
}

/** The fields a finding adds to its JSON record. */
function findingDetail(f: Finding): Record<string, unknown> {
  switch (f.kind) {
    case "hash-mismatch":
      return {
        derivation: f.mismatch.drvName,
        specified: f.mismatch.specified,
        got: f.mismatch.gotSri,
      };
    case "missing-module": {
      const { kind: _k, line: _l, holds: _h, ...rest } = f;
      return rest;
    }
    case "runtime-dep-missing":
    case "runtime-dep-version":
    case "undefined-variable":
    case "missing-argument":
    case "unavailable":
    case "broken": {
      const { kind: _k, line: _l, ...rest } = f;
      return rest;
    }
    default:
      return unhandledKind(f);
  }
}

function findingJson(a: Action) {
  return {
    kind: a.finding.kind,
    line: a.finding.line,
    ...findingDetail(a.finding),
    summary: a.summary,
    ...(a.file ? { file: a.file } : {}),
    ...(a.edit ? { fix: a.edit.describe } : {}),
    ...(a.advice ? { advice: a.advice } : {}),
    ...(a.done ? { alreadyFixed: true } : {}),
  };
}

/** A round as JSON: what was found, fixed, written. */
export function roundJson(
  r: Round,
  extra: { rounds?: number; built?: boolean } = {},
) {
  return {
    written: r.written,
    ...extra,
    findings: r.actions.map(findingJson),
    files: r.applied.changed.map((c) => c.file),
    ...(r.excerpt ? { firstError: r.excerpt } : {}),
  };
}

/** Prints one line per action: fix / would fix, already fixed, cannot fix. */
export function printActions(actions: Action[], dryRun: boolean): void {
  for (const a of actions) {
    const at = a.file ? `${a.file}: ` : "";
    if (a.edit) {
      info(
        `${
          dryRun ? "would fix" : "fix"
        }: ${at}${a.summary} → ${a.edit.describe}`,
      );
    } else if (a.done) info(`already fixed: ${at}${a.summary}`);
    else {
      warn(`cannot fix: ${at}${a.summary}${a.advice ? `; ${a.advice}` : ""}`);
    }
  }
}

/** The findings no action fixes, fixed already, or can fix (a finding with no action is open). */
function openCount(r: Round): number {
  return r.findings.filter((f) => {
    const a = r.actions.find((x) => x.finding === f);
    return !a || (!a.edit && !a.done);
  }).length;
}

/** True when every finding has an action saying its file already holds the fix. */
export function allDone(r: Round): boolean {
  return r.findings.length > 0 &&
    r.findings.every((f) => r.actions.some((a) => a.finding === f && a.done));
}

/** Ends a round that changed no file: the excerpt or the reasons, one `error:` line. */
export function reportUnfixed(v: Voice, r: Round, code?: number): number {
  const open = openCount(r);
  if (r.findings.length === 0) {
    if (r.excerpt) info(`The build's first error:\n${r.excerpt}`);
    error(
      `Nothing in the build output is a ${v.noun} ${v.task} knows how to fix${
        code !== undefined ? ` (exit ${code})` : ""
      }${r.excerpt ? "; its first error is above" : ""}`,
    );
    return 1;
  }
  if (open === 0 && allDone(r)) {
    const one = r.findings.length === 1;
    info(
      `The build output's ${one ? v.noun : v.nouns} ${
        one ? "is" : "are"
      } already fixed: nothing to do`,
    );
    return 0;
  }
  if (r.excerpt) info(`The build's first error:\n${r.excerpt}`);
  error(
    `Nothing in the build output is something ${v.task} can fix: ${open} ${
      open === 1 ? v.noun : v.nouns
    } it cannot fix (see "cannot fix" above)`,
  );
  return 1;
}

/** A round's result as an exit code: 0 when every finding was fixed (or shown, dry). */
export function exitOf(v: Voice, r: Round): number {
  if (r.applied.changed.length === 0) return reportUnfixed(v, r);
  const open = openCount(r);
  if (open > 0) {
    error(
      `${open} ${
        open === 1 ? v.noun : v.nouns
      } ${v.task} cannot fix (see "cannot fix" above)${
        r.written ? "; the others are fixed" : ""
      }`,
    );
    return 1;
  }
  return 0;
}

/** The key that says "the same failure again" across rounds. */
export function keyOf(a: Action): string {
  const f = a.finding;
  switch (f.kind) {
    case "hash-mismatch":
      return `hash:${f.mismatch.drvName}:${f.mismatch.gotSri}`;
    case "missing-module":
    case "runtime-dep-missing":
    case "runtime-dep-version":
    case "undefined-variable":
    case "missing-argument":
    case "unavailable":
    case "broken":
      return `${f.kind}:${a.summary}`;
    default:
      return unhandledKind(f);
  }
}
