// Carrying out bump-comfyui's follow-up actions: classify the changed requirements against the
// repository and nixpkgs (lib/repo/classify.ts), plan an action for each (lib/bump/actions.ts), then
// confirm and run them one by one, collecting the edits of comfyui.nix they imply. Also the file
// work of a custom package's new release (fetch-source's library) and dropping the vendored file
// of its old release once nothing uses it.
import { PKGS_DIR, repoPaths } from "../repo/paths.ts";
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
  rewriteCustomPackage,
} from "./actions.ts";
import {
  type Classification,
  classify,
  specifierHolds,
} from "../repo/classify.ts";
import { KitError } from "../kit/errors.ts";
import { atomicWrite } from "../kit/fsutil.ts";
import { acquireLock } from "../repo/lock.ts";
import { info, warn } from "../kit/log.ts";
import { readManifest } from "../repo/manifest.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs.ts";
import type { Frontend } from "../kit/prompt.ts";
import { vendorPypi } from "../repo/vendor_forms.ts";
import { writeManifestFiles } from "../repo/vendor.ts";

/** Where a classified package comes from, flattened for the bump's report and actions. */
export function toSource(c: Classification, specifier: string): Source {
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
export interface PlanOptions {
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
export interface CarryOutOptions {
  frontend: Frontend;
  /** Plan only: apply the comfyui.nix edits (so the diff shows them), run nothing. */
  dryRun: boolean;
  /** Skip every action. */
  noActions: boolean;
  /** Machine output: no "to do by hand" lines on stderr. */
  quiet: boolean;
}

/**
 * Confirms and runs each planned action (a failed one is reported and the rest go on) and
 * returns comfyui.nix with the edits of the actions that were done (or planned, in a dry run).
 */
export async function carryOutActions(
  planned: readonly PlannedAction[],
  pkgText: string,
  opts: CarryOutOptions,
): Promise<{ text: string; outcomes: ActionOutcome[] }> {
  let text = pkgText;
  const outcomes: ActionOutcome[] = [];
  for (const p of planned) {
    if (p.action.kind === "none") continue;
    if (opts.noActions) {
      outcomes.push({ action: p.action, status: "skipped" });
      continue;
    }
    if (p.manual !== undefined) {
      if (!opts.quiet) info(`to do by hand: ${p.manual}`);
      outcomes.push({ action: p.action, status: "manual" });
      continue;
    }
    if (opts.dryRun) {
      if (p.editMain) text = p.editMain(text);
      outcomes.push({ action: p.action, status: "planned" });
      continue;
    }
    const yes = await opts.frontend.confirm({
      key: `action:${p.action.name}`,
      message: `${describeAction(p.action)}?`,
      default: true,
      flag: "--yes",
    });
    if (!yes) {
      outcomes.push({ action: p.action, status: "skipped" });
      continue;
    }
    try {
      if (p.run) await p.run();
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      warn(`${describeAction(p.action)}: failed: ${e.message}`);
      outcomes.push({ action: p.action, status: "failed" });
      continue;
    }
    if (p.editMain) text = p.editMain(text);
    outcomes.push({ action: p.action, status: "done" });
  }
  return { text, outcomes };
}

/**
 * The file work of an `update-custom` action: vendors the new release from PyPI, rewrites the
 * package file's version and src, and drops the old release's vendored file if unused.
 */
export async function updateCustomPackage(
  root: string,
  a: Extract<Action, { kind: "update-custom" }>,
): Promise<void> {
  const pin = pinnedVersion(a.to) ??
    (/^[0-9][^\s,<>=!~]*$/.test(a.to) ? a.to : undefined);
  const entry = await vendorPypi({
    root,
    name: a.name,
    ...(pin ? { version: pin } : {}),
  });
  const path = `${root}/${a.pkgFile}`;
  const text = await Deno.readTextFile(path);
  const next = rewriteCustomPackage(text, a.pkgFile, {
    version: entry.version,
    file: entry.file,
    sha256: entry.sha256,
    url: entry.url,
  });
  await atomicWrite(path, next);
  info(`updated ${a.pkgFile} to ${entry.version} (${entry.file})`);
  for (const f of a.oldFiles) {
    if (f !== entry.file) await dropIfUnused(root, f);
  }
}

/** Removes a vendored file and its manifest entry when no package file mentions it any more. */
export async function dropIfUnused(root: string, file: string): Promise<void> {
  const pkgs = `${root}/${PKGS_DIR}`;
  for await (const e of Deno.readDir(pkgs)) {
    if (!e.isFile || !e.name.endsWith(".nix")) continue;
    if ((await Deno.readTextFile(`${pkgs}/${e.name}`)).includes(file)) {
      info(`keeping ${file}: .flox/pkgs/${e.name} still uses it`);
      return;
    }
  }
  const paths = repoPaths(root);
  await using _lock = await acquireLock(paths.lock);
  const m = await readManifest(paths.manifest);
  await writeManifestFiles(paths, {
    ...m,
    sources: m.sources.filter((s) => s.file !== file),
  });
  await Deno.remove(`${paths.sourcesDir}/${file}`).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  info(`dropped ${file} (nothing else uses it)`);
}
