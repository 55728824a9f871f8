// Carrying out bump-comfyui's follow-up actions: classify the changed requirements against the
// repository and nixpkgs (lib/repo/classify.ts), plan an action for each (lib/bump/actions.ts),
// confirm them all, then run them, staging their file changes (lib/bump/custom.ts) and
// collecting the edits of comfyui.nix they imply.
import {
  type Action,
  describeAction,
  pinnedVersion,
  type ReqChange,
  type Source,
} from "./plan.ts";
import {
  type ActionRunners,
  DEFAULT_PYTHON,
  planFromSources,
  type PlannedAction,
  type Stage,
} from "./actions.ts";
import {
  type Classification,
  classify,
  specifierHolds,
} from "../repo/classify.ts";
import { KitError } from "../kit/errors.ts";
import type { Changeset } from "../kit/changeset.ts";
import { info, warn } from "../kit/log.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import type { Frontend } from "../kit/prompt.ts";

/** Where a classified package comes from, flattened for the bump's report and actions. */
function toSource(c: Classification, specifier: string): Source {
  switch (c.status) {
    case "nixpkgs":
      return {
        status: "nixpkgs",
        attr: c.attr,
        version: c.version,
        satisfies: c.satisfies,
      };
    case "custom":
      return {
        status: "custom",
        file: c.file,
        attr: c.attr,
        ...(c.version ? { version: c.version } : {}),
        matches: c.matches ??
          (c.version !== undefined &&
            (!specifier || specifierHolds(c.version, specifier))),
      };
    case "vendored":
      return {
        status: "vendored",
        file: c.entry.file,
        version: c.entry.version,
      };
    case "missing":
      return { status: "missing", fix: c.fix };
  }
}

/** What `planActions` needs besides the changes. */
interface PlanOptions {
  root: string;
  /** The current text of comfyui.nix (which inputs it lists already). */
  pkgText: string;
  nixpkgs: NixpkgsLookup;
  runners?: ActionRunners;
  /** The Python markers are evaluated for (default 3.12). */
  python?: string;
}

/** Classifies every changed package (repository files first, then nixpkgs) and plans actions. */
export async function planActions(
  changes: readonly ReqChange[],
  opts: PlanOptions,
): Promise<PlannedAction[]> {
  if (changes.length === 0) return [];
  const refs = changes.map((c) => {
    const r = c.change === "removed" ? c.old : c.new;
    const pin = pinnedVersion(r.specifier);
    return {
      name: c.name,
      specifier: r.specifier,
      ...(pin ? { version: pin } : {}),
    };
  });
  const classes = await classify(refs, {
    root: opts.root,
    nixpkgs: opts.nixpkgs,
  });
  const sources = new Map<string, Source>();
  changes.forEach((c, i) =>
    sources.set(c.name, toSource(classes[i]!, refs[i]!.specifier))
  );
  const plans = planFromSources(
    changes,
    sources,
    opts.pkgText,
    opts.runners,
    opts.python ?? DEFAULT_PYTHON,
  );
  // The vendored file of a custom package's old version goes once nothing else uses it.
  for (const [i, p] of plans.entries()) {
    const cls = classes[i]!;
    if (
      p.action.kind === "update-custom" && cls.status === "custom" && cls.source
    ) {
      p.action.oldFiles = [cls.source.file];
    }
  }
  return plans;
}

/** What became of one action. */
export interface ActionOutcome {
  action: Action;
  status: "done" | "skipped" | "planned" | "manual" | "failed";
}

/** How `carryOutActions` runs. */
interface CarryOutOptions {
  frontend: Frontend;
  /** Preview: every action planned without asking, its file work staged but never applied. */
  dryRun: boolean;
  /** Skip every action. */
  noActions: boolean;
  /** Machine output: no "to do by hand" lines on stderr. */
  quiet: boolean;
  /** Where the actions stage their file changes (applied by the caller, with the bump). */
  changes: Changeset;
}

/**
 * Asks about every action first (so Ctrl-C at any question leaves the tree as it was), then
 * runs the accepted ones (a failed one is reported and the rest go on), stages their file
 * changes in `opts.changes`, and returns comfyui.nix with the edits of the actions that were
 * done (or planned, in a dry run).
 */
export async function carryOutActions(
  planned: readonly PlannedAction[],
  pkgText: string,
  opts: CarryOutOptions,
): Promise<{ text: string; outcomes: ActionOutcome[] }> {
  const outcomes: ActionOutcome[] = [];
  const accepted: { p: PlannedAction; outcome: ActionOutcome }[] = [];
  for (const p of planned) {
    if (p.action.kind === "none") continue;
    const outcome: ActionOutcome = { action: p.action, status: "skipped" };
    outcomes.push(outcome);
    if (opts.noActions) continue;
    if (p.manual !== undefined) {
      if (!opts.quiet) info(`to do by hand: ${p.manual}`);
      outcome.status = "manual";
      continue;
    }
    const yes = opts.dryRun || await opts.frontend.confirm({
      key: `action:${p.action.name}`,
      message: `${describeAction(p.action)}?`,
      default: true,
      flag: "--yes",
    });
    if (yes) accepted.push({ p, outcome });
  }
  // The file work: downloads and new packages, then the staged changes in the same order.
  const staged: { stage: Stage; outcome: ActionOutcome }[] = [];
  for (const { p, outcome } of accepted) {
    outcome.status = opts.dryRun ? "planned" : "done";
    try {
      const stage = await p.run?.({
        dryRun: opts.dryRun,
        changes: opts.changes,
      });
      if (stage) staged.push({ stage, outcome });
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      failed(outcome, e, opts.dryRun);
    }
  }
  for (const { stage, outcome } of staged) {
    try {
      await stage(opts.changes);
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      failed(outcome, e, opts.dryRun);
    }
  }
  let text = pkgText;
  for (const { p, outcome } of accepted) {
    if (outcome.status !== "failed" && p.editMain) text = p.editMain(text);
  }
  return { text, outcomes };
}

function failed(outcome: ActionOutcome, e: KitError, dryRun: boolean): void {
  warn(
    `${describeAction(outcome.action)}: ${
      dryRun ? "cannot preview" : "failed"
    }: ${e.message}`,
  );
  outcome.status = "failed";
}
