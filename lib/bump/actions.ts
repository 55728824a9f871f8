// The follow-up actions of bump-comfyui, made concrete: for each requirement change, where the
// package comes from today (lib/repo/classify.ts), what to do about it (lib/bump/plan.ts actionFor), the
// edit of comfyui.nix's inputs it implies (text in, text out) and the file work it needs
// (fetch-source's and new-package's libraries).
import { type Action, actionFor, type ReqChange, type Source } from "./plan.ts";
import { MAIN_PACKAGE, mainInputsAttr } from "../repo/main_package.ts";
import { addFormal, removeFormal } from "../nix/edit_formals.ts";
import { addListItem, removeListItem } from "../nix/edit_list.ts";
import type { Changeset } from "../kit/changeset.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import { NIX_SYSTEMS, platformCondition } from "../python/markers.ts";
import { parseMarker } from "../python/pep508.ts";
import { pypiToNixAttr } from "../nix/nixpkgs_names.ts";

/** The Python markers are evaluated for by default (nixpkgs' python3); `--python` changes it. */
export const DEFAULT_PYTHON = "3.12";

/** An action with what carrying it out means. */
export interface PlannedAction {
  action: Action;
  /** Where the package comes from today. */
  source: Source;
  /** The command to run by hand when the kit cannot carry the action out itself. */
  manual?: string;
  /** The edit of comfyui.nix it implies (applied in dry runs too, so the diff shows it). */
  editMain?: (text: string) => string;
  /**
   * File work outside comfyui.nix: downloads and new package files (a dry run previews them).
   * What it returns is staged into the bump's Changeset once every action has run.
   */
  run?: (ctx: RunContext) => Promise<Stage | void>;
}

/** How an action's file work runs. */
interface RunContext {
  /** Preview only: download nothing, write nothing. */
  dryRun: boolean;
  /**
   * The bump's Changeset: an action that stages its files as it runs (new-package) stages
   * into a fork of it and commits on success, so the bump writes everything in one apply.
   */
  changes: Changeset;
}

/** Staged file changes an action contributes to the bump's Changeset. */
export type Stage = (cs: Changeset) => Promise<void>;

/** The Nix systems a marker restricts a requirement to; undefined when it applies everywhere. */
export function systemsOf(
  marker: string | undefined,
  python = DEFAULT_PYTHON,
): string[] | undefined {
  if (!marker) return undefined;
  const systems = platformCondition(parseMarker(marker), { python });
  return systems.length === NIX_SYSTEMS.length ? undefined : systems;
}

/** Adds `attr` to the main package's inputs (and its formals, for a custom package). */
export function addInputEdit(
  attr: string,
  custom: boolean,
  marker: string | undefined,
  python = DEFAULT_PYTHON,
): (text: string) => string {
  return (text) => {
    const systems = systemsOf(marker, python);
    let next = addListItem(text, mainInputsAttr(text), attr, {
      path: MAIN_PACKAGE,
      ...(systems ? { systems } : {}),
    });
    if (custom) next = addFormal(next, attr, { path: MAIN_PACKAGE });
    return next;
  };
}

/** Removes `attr` from the main package's inputs (and its formals, for a custom package). */
export function removeInputEdit(
  attr: string,
  custom: boolean,
): (text: string) => string {
  return (text) => {
    let next = removeListItem(text, mainInputsAttr(text), attr, {
      path: MAIN_PACKAGE,
    });
    if (custom) next = removeFormal(next, attr, { path: MAIN_PACKAGE });
    return next;
  };
}

/** The attributes the main package's dependency lists name today. */
export function mainInputs(pkgText: string): Set<string> {
  const info = readPackage(parseNix(pkgText, MAIN_PACKAGE));
  const names = new Set<string>();
  for (const list of info.lists.values()) {
    for (const block of [list.main, ...list.blocks]) {
      for (const item of block?.items ?? []) names.add(item.name);
    }
  }
  return names;
}

/**
 * Refines an action against what comfyui.nix already says: adding an input it already lists,
 * or removing one it does not, is nothing to do; a marker that never holds on a Nix system
 * (Windows only) needs no package.
 */
function refineAction(
  a: Action,
  inputs: Set<string>,
  python = DEFAULT_PYTHON,
): Action {
  if (a.kind === "add-input" && inputs.has(a.attr)) {
    return {
      kind: "none",
      name: a.name,
      reason: `comfyui.nix already lists ${a.attr}`,
    };
  }
  if (a.kind === "remove-input" && !inputs.has(a.attr)) {
    return {
      kind: "none",
      name: a.name,
      reason: "comfyui.nix does not list it",
    };
  }
  if ((a.kind === "add-input" || a.kind === "new-package") && a.marker) {
    const systems = platformCondition(parseMarker(a.marker), { python });
    if (systems.length === 0) {
      return {
        kind: "none",
        name: a.name,
        reason: `"${a.marker}" holds on no Nix system`,
      };
    }
  }
  return a;
}

/**
 * Plans the action of each change, given a classification of each package; markers are
 * evaluated for `python` (default 3.12).
 */
export function planFromSources(
  changes: readonly ReqChange[],
  sources: ReadonlyMap<string, Source>,
  pkgText: string,
  runners: ActionRunners = {},
  python = DEFAULT_PYTHON,
): PlannedAction[] {
  const inputs = mainInputs(pkgText);
  return changes.map((c) => {
    const src = sources.get(c.name) ?? { status: "missing" };
    const action = refineAction(actionFor(c, src), inputs, python);
    return { ...planned(action, runners, python), source: src };
  });
}

/** File work for the actions that need it (fetch-source / new-package underneath). */
export interface ActionRunners {
  updateCustom?: (
    a: Extract<Action, { kind: "update-custom" }>,
    ctx: RunContext,
  ) => Promise<Stage>;
  newPackage?: (
    a: Extract<Action, { kind: "new-package" }>,
    ctx: RunContext,
  ) => Promise<void>;
}

function planned(
  action: Action,
  runners: ActionRunners,
  python: string,
): Omit<PlannedAction, "source"> {
  switch (action.kind) {
    case "add-input":
      return {
        action,
        editMain: addInputEdit(
          action.attr,
          action.custom,
          action.marker,
          python,
        ),
      };
    case "remove-input":
      return { action, editMain: removeInputEdit(action.attr, action.custom) };
    case "update-custom": {
      const run = runners.updateCustom;
      return run ? { action, run: (ctx) => run(action, ctx) } : {
        action,
        manual: `deno task fetch-source ${action.name}==${action.to}`,
      };
    }
    case "new-package": {
      const run = runners.newPackage;
      const command = `deno task new-package ${action.name}${
        action.version ? `==${action.version}` : ""
      }`;
      // Without the package file, adding it to comfyui.nix would break the build: both or neither.
      if (!run) return { action, manual: command };
      return {
        action,
        run: (ctx) => run(action, ctx),
        ...(action.addInput
          ? {
            editMain: addInputEdit(
              pypiToNixAttr(action.name),
              true,
              action.marker,
              python,
            ),
          }
          : {}),
      };
    }
    case "none":
      return { action };
  }
}
