// From findings to actions: for each failure, the package file it is about and either the edit
// that fixes it or what to do instead. Reads nothing but the parsed package files and nixpkgs.
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { pypiToNixAttr } from "../nix/nixpkgs_names.ts";
import type { Finding } from "./findings.ts";
import { packageOfDerivation, unhandledKind } from "./findings.ts";
import {
  byDerivation,
  byImportName,
  byPname,
  byPosition,
  dependencyBinding,
  type PackageFile,
} from "./locate.ts";
import { distributionOf } from "./modules.ts";
import { shellQuote } from "./build.ts";
import {
  addDependency,
  dropArgument,
  gateByAvailability,
  gateBySystems,
  renameArgument,
  renameListItems,
  replaceImportsCheck,
} from "./edits.ts";

/** An edit of one package file. */
interface PlannedEdit {
  target: PackageFile;
  /** Text in, text out (re-parsed by the Nix-file library). */
  apply: (text: string) => string;
  /** What the edit does, one line: `add opencv4 to propagatedBuildInputs`. */
  describe: string;
}

/** What fix-build makes of one finding. */
export interface Action {
  finding: Finding;
  /** What went wrong, one line. */
  summary: string;
  /** The package file it is about (relative), when known. */
  file?: string | undefined;
  edit?: PlannedEdit | undefined;
  /** What to do instead, when there is no edit. */
  advice?: string | undefined;
  /** The files already hold the fix (the same log read twice). */
  done?: boolean | undefined;
}

interface PlanContext {
  root: string;
  pkgs: PackageFile[];
  nixpkgs: NixpkgsLookup;
}

/** The systems a platform condition may name (the package set's four). */
const KNOWN_SYSTEMS = [
  "x86_64-linux",
  "aarch64-linux",
  "x86_64-darwin",
  "aarch64-darwin",
];

/** Adding the package that provides `dist` (a .flox/pkgs one, else nixpkgs') to `target`. */
async function addProvider(
  ctx: PlanContext,
  target: PackageFile,
  dist: string,
  custom: PackageFile | undefined,
): Promise<Pick<Action, "edit" | "advice">> {
  const binding = dependencyBinding(target);
  if (custom && !custom.attr) {
    return {
      advice:
        `${custom.file} provides it, but its file name is not a Nix attribute name, so nothing can refer to it: rename the file (letters, digits, - and _ only) and run fix-build again`,
    };
  }
  if (custom?.attr) {
    const attr = custom.attr;
    return {
      edit: {
        target,
        describe: `wire ${attr} (${custom.file}) into ${binding}`,
        apply: (t) => addDependency(t, target.file, binding, attr, true),
      },
    };
  }
  const hit = await ctx.nixpkgs.lookup(dist);
  if (hit) {
    return {
      edit: {
        target,
        describe: `add ${hit.attr} (nixpkgs ${hit.version}) to ${binding}`,
        apply: (t) => addDependency(t, target.file, binding, hit.attr, false),
      },
    };
  }
  return {
    advice:
      `nixpkgs (${ctx.nixpkgs.describe}) has no "${dist}": package it with "deno task new-package ${dist}", which writes .flox/pkgs/${
        pypiToNixAttr(dist)
      }.nix and wires it in`,
  };
}

async function planModule(
  ctx: PlanContext,
  f: Extract<Finding, { kind: "missing-module" }>,
): Promise<Action> {
  const target = byDerivation(ctx.pkgs, f.drv);
  const where = f.drv ? ` in "${f.drv}"` : "";
  const summary = `No module named "${f.module}"${where}`;
  if (!target) {
    return {
      finding: f,
      summary,
      advice: f.drv
        ? `"${f.drv}" is not built from a package file under .flox/pkgs/: fix it where it is defined`
        : "the log does not say which package failed: run the failing build with -L or give its log",
    };
  }
  const { dist } = distributionOf(f.module);
  const top = f.module.split(".")[0]!;
  // The package's own import check names a module it does not hold (a wrong import name).
  const own = (target.info.pythonImportsCheck ?? []).some((c) =>
    c === f.module || c.split(".")[0] === top
  );
  if (own) {
    const names = f.holds.filter((n) => n !== f.module);
    if (names.length) {
      return {
        finding: f,
        summary:
          `${summary}: pythonImportsCheck names a module the built package does not hold`,
        file: target.file,
        edit: {
          target,
          describe: `pythonImportsCheck: replace "${f.module}" with ${
            names.map((n) => `"${n}"`).join(", ")
          } (the modules the build added)`,
          apply: (t) => replaceImportsCheck(t, target.file, f.module, names),
        },
      };
    }
    return {
      finding: f,
      summary:
        `${summary}: pythonImportsCheck names a module the built package does not hold`,
      file: target.file,
      advice:
        `the log does not list the package's modules: look at the wheel's top_level.txt and fix pythonImportsCheck in ${target.file}`,
    };
  }
  const custom = byImportName(ctx.pkgs, f.module).find((p) => p !== target) ??
    [byPname(ctx.pkgs, dist)].find((p) => p && p !== target);
  return {
    finding: f,
    summary: `${summary}: provided by "${dist}"`,
    file: target.file,
    ...await addProvider(ctx, target, dist, custom),
  };
}

async function planRuntimeDep(
  ctx: PlanContext,
  f: Extract<Finding, { kind: "runtime-dep-missing" | "runtime-dep-version" }>,
): Promise<Action> {
  const target = byDerivation(ctx.pkgs, f.drv) ??
    byDerivation(ctx.pkgs, f.wheel);
  const who = f.wheel ?? f.drv ?? "the package";
  if (f.kind === "runtime-dep-version") {
    const hit = await ctx.nixpkgs.lookup(f.dist);
    return {
      finding: f,
      summary:
        `${who} wants ${f.requirement}, the build has ${f.dist} ${f.have}`,
      file: target?.file,
      advice:
        `version conflict: ${who} wants ${f.requirement}; nixpkgs (${ctx.nixpkgs.describe}) has ${
          hit ? `${hit.attr} ${hit.version}` : `no "${f.dist}"`
        }. Package a version that satisfies it ("deno task new-package ${f.dist}==VERSION", VERSION one that ${f.requirement} allows) or, if ${who} works with ${f.have}, relax the check in ${
          target?.file ?? "its package file"
        } (pythonRelaxDeps = [ "${f.dist}" ];)`,
    };
  }
  const summary = `${who} needs "${f.dist}", which is not installed`;
  if (!target) {
    return {
      finding: f,
      summary,
      advice: `${who} is not built from a package file under .flox/pkgs/`,
    };
  }
  const custom = [byPname(ctx.pkgs, f.dist)].find((p) => p && p !== target);
  return {
    finding: f,
    summary,
    file: target.file,
    ...await addProvider(ctx, target, f.dist, custom),
  };
}

async function planName(
  ctx: PlanContext,
  f: Extract<Finding, { kind: "undefined-variable" | "missing-argument" }>,
): Promise<Action> {
  const target = byPosition(ctx.pkgs, ctx.root, f.at);
  const summary = f.kind === "undefined-variable"
    ? `undefined variable "${f.name}"${f.at ? ` at ${f.at}` : ""}`
    : `called without required argument "${f.name}"${
      f.at ? ` at ${f.at}` : ""
    }`;
  if (!target) {
    return {
      finding: f,
      summary,
      advice: "not in a package file under .flox/pkgs/: fix it where it is",
    };
  }
  const file = target.file;
  const act = (describe: string, apply: (t: string) => string): Action => ({
    finding: f,
    summary,
    file,
    edit: { target, describe, apply },
  });
  const custom = ctx.pkgs.find((p) => p !== target && p.attr === f.name);
  const suggestions = f.kind === "missing-argument" ? f.suggestions : [];
  if (f.kind === "undefined-variable" && custom) {
    return act(
      `wire ${f.name} (${custom.file}): add it to the arguments`,
      (t) => addDependency(t, file, dependencyBinding(target), f.name, true),
    );
  }
  for (const s of suggestions) {
    const other = ctx.pkgs.find((p) => p !== target && p.attr === s);
    if (other) {
      return act(
        `rename argument ${f.name} → ${s} (${other.file})`,
        (t) => renameArgument(t, file, f.name, s),
      );
    }
  }
  const nixAttr = pypiToNixAttr(f.name);
  const hit = await ctx.nixpkgs.lookupAttr(nixAttr) ??
    await ctx.nixpkgs.lookup(f.name);
  if (hit && f.kind === "missing-argument") {
    return act(
      `drop argument ${f.name}: python3.pkgs has it${
        hit.attr !== f.name ? ` as ${hit.attr}` : ""
      }`,
      (t) =>
        renameListItems(dropArgument(t, file, f.name), file, f.name, hit.attr),
    );
  }
  if (hit && hit.attr !== f.name) {
    return act(
      `rename ${f.name} → ${hit.attr} (the nixpkgs attribute)`,
      (t) => renameListItems(t, file, f.name, hit.attr),
    );
  }
  const advice = custom
    ? `${custom.file} exists but the build does not see it: Flox builds only what git tracks ("git add ${
      shellQuote(custom.file)
    }")`
    : hit
    ? `python3.pkgs has "${hit.attr}": use it inside "with python3.pkgs;" or as python3.pkgs.${hit.attr}`
    : `no package "${f.name}" under .flox/pkgs/ or in nixpkgs (${ctx.nixpkgs.describe}): package it with "deno task new-package ${f.name}"`;
  return { finding: f, summary, file, advice };
}

function planPlatform(
  ctx: PlanContext,
  f: Extract<Finding, { kind: "unavailable" | "broken" }>,
): Action {
  const dep = packageOfDerivation(f.package).pname;
  const names = [...new Set([dep, pypiToNixAttr(dep)])];
  const dependent = byDerivation(ctx.pkgs, f.dependent);
  const holders = (dependent ? [dependent] : ctx.pkgs).flatMap((p) =>
    [...p.info.lists.values()].flatMap((l) =>
      (l.main?.items ?? []).filter((i) => names.includes(i.name)).map((i) => ({
        p,
        binding: l.binding,
        item: i.name,
      }))
    )
  );
  const what = f.kind === "broken"
    ? "is marked as broken"
    : `is not available on ${f.system ?? "this system"}`;
  const summary = `${f.package} ${what}`;
  const systems = KNOWN_SYSTEMS.filter((s) => f.platforms.includes(s));
  const h = holders[0];
  const proposal = `gate it: ${
    h?.binding ?? "propagatedBuildInputs"
  } = … ++ lib.optionals stdenv.isLinux [ ${dep} ] (or lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ … ]) [ ${dep} ] with the systems where it builds)`;
  if (!h) {
    return {
      finding: f,
      summary,
      advice:
        `no package file under .flox/pkgs/ lists "${dep}" unconditionally; ${proposal}`,
    };
  }
  if (f.kind === "broken" || systems.length === 0) {
    // nixpkgs does not say where it builds (broken), or none of its platforms is ours: let
    // nixpkgs decide at evaluation time rather than guess a system list.
    return {
      finding: f,
      summary,
      file: h.p.file,
      edit: {
        target: h.p,
        describe:
          `keep ${h.item} only where nixpkgs builds it (lib.meta.availableOn … && !${h.item}.meta.broken)`,
        apply: (t) => gateByAvailability(t, h.p.file, h.binding, h.item),
      },
      advice:
        `or pin a working version with "deno task new-package ${dep}"; never drop it silently`,
    };
  }
  return {
    finding: f,
    summary,
    file: h.p.file,
    edit: {
      target: h.p,
      describe: `keep ${h.item} only on ${systems.join(", ")} (its platforms)`,
      apply: (t) => gateBySystems(t, h.p.file, h.binding, h.item, systems),
    },
  };
}

/** The action for each non-hash finding, in order. */
export async function planActions(
  ctx: PlanContext,
  findings: Finding[],
): Promise<Action[]> {
  const out: Action[] = [];
  for (const f of findings) {
    switch (f.kind) {
      case "hash-mismatch":
        break;
      case "missing-module":
        out.push(await planModule(ctx, f));
        break;
      case "runtime-dep-missing":
      case "runtime-dep-version":
        out.push(await planRuntimeDep(ctx, f));
        break;
      case "undefined-variable":
      case "missing-argument":
        out.push(await planName(ctx, f));
        break;
      case "unavailable":
      case "broken":
        out.push(planPlatform(ctx, f));
        break;
      default:
        unhandledKind(f);
    }
  }
  return out;
}
