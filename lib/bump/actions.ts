// The follow-up actions of bump-comfyui, made concrete: for each requirement change, where the
// package comes from today (lib/repo/classify.ts), what to do about it (lib/bump/plan.ts actionFor), the
// edit of comfyui.nix's inputs it implies (text in, text out) and the file work it needs
// (fetch-source's and new-package's libraries).
import { relative } from "node:path";
import { type Action, actionFor, type ReqChange, type Source } from "./plan.ts";
import { MAIN_PACKAGE, mainInputsAttr } from "../repo/main_package.ts";
import { setAttrExpr, setStringAttr } from "../nix/edit.ts";
import { addFormal, removeFormal } from "../nix/edit_formals.ts";
import { addListItem, removeListItem } from "../nix/edit_list.ts";
import { KitError } from "../kit/errors.ts";
import { parseHash, toSri } from "../hash/sha256.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import {
  NIX_SYSTEMS,
  parseMarker,
  platformCondition,
} from "../python/pep508.ts";
import { pypiToNixAttr } from "../nix/nixpkgs.ts";

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
  /** File work outside comfyui.nix (downloads, new package files); never run in dry runs. */
  run?: () => Promise<void>;
}

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
export function refineAction(
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
  ) => Promise<void>;
  newPackage?: (a: Extract<Action, { kind: "new-package" }>) => Promise<void>;
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
      return run ? { action, run: () => run(action) } : {
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
        run: () => run(action),
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

/** A path relative to the root, '/'-separated, for messages. */
export function rel(root: string, path: string): string {
  return relative(root, path).split("\\").join("/");
}

/** The new release of a custom package, as vendored. */
export interface CustomRelease {
  version: string;
  /** The vendored file name (in .flox/sources/). */
  file: string;
  /** Its sha256, hex. */
  sha256: string;
  /** Where it came from (for a fetchurl src). */
  url: string;
}

/**
 * Rewrites a custom package file for a new release: `version`, then its `src` — a path into
 * .flox/sources/ gets the new file name, a fetcher gets the new hash (and its url when that is
 * written literally). Proved by reading the file back.
 */
export function rewriteCustomPackage(
  text: string,
  path: string,
  release: CustomRelease,
): string {
  let next = setStringAttr(text, ["version"], release.version, { path });
  const src = readPackage(parseNix(next, path)).src;
  if (!src) throw new KitError(`${path}: no src to update`);
  if (src.path !== undefined) {
    if (src.path.includes("${")) {
      // An interpolated path follows the version by itself; check it names the new file.
      if (!src.path.includes(release.file) && !/\$\{version\}/.test(src.path)) {
        throw new KitError(
          `${path}: cannot tell which file src "${src.path}" names`,
        );
      }
    } else {
      const dir = src.path.slice(0, src.path.lastIndexOf("/") + 1);
      next = setAttrExpr(next, ["src"], `${dir}${release.file}`, { path });
    }
  } else {
    const hashAttr = src.attrs.has("hash")
      ? "hash"
      : src.attrs.has("sha256")
      ? "sha256"
      : undefined;
    if (!hashAttr) throw new KitError(`${path}: src has no hash to update`);
    next = setStringAttr(
      next,
      ["src", hashAttr],
      toSri(parseHash(release.sha256)),
      { path },
    );
    const url = readPackage(parseNix(next, path)).src?.attrs.get("url");
    if (url && url.value !== release.url && !url.text.includes("${")) {
      next = setStringAttr(next, ["src", "url"], release.url, { path });
    }
  }
  const after = readPackage(parseNix(next, path));
  if (after.version !== release.version) {
    throw new Error(`${path}: rewriting the version did not take`);
  }
  return next;
}
