// A distribution's dependencies as new-package writes them: Requires-Dist parsed as PEP 508, the
// chosen extras applied, markers evaluated for the target Python, platform markers turned into
// Nix systems, each name mapped to nixpkgs / a custom package / missing / a cycle; and the
// [build-system] requirements of an sdist mapped to nixpkgs attributes.
//
//   const deps = await resolveDeps(meta, ["cli"], { python: "3.12", root, nixpkgs, chain });
import { packageFile } from "../repo/paths.ts";
import { join } from "node:path";
import { satisfies, valid } from "@renovatebot/pep440";
import type { DistMetadata } from "../python/dist_metadata.ts";
import { KitError, UsageError } from "../kit/errors.ts";
import { exists } from "../kit/fsutil.ts";
import { info, warn } from "../kit/log.ts";
import { cycleAdvice, findCycle } from "./missing_queue.ts";
import { normalizeName } from "../python/names.ts";
import {
  type NixpkgsLookup,
  type NixpkgsPackage,
  pypiToNixAttr,
} from "../nix/nixpkgs_names.ts";
import { parseRequirement, type Requirement } from "../python/pep508.ts";
import {
  applicability,
  markerExtras,
  type NixSystem,
} from "../python/markers.ts";
import type { Frontend } from "../kit/prompt.ts";
import type { DepSpec, PackageSpec } from "./render.ts";

/** One dependency as new-package resolved it. */
export interface DepReport {
  requirement: string;
  name: string;
  attr: string;
  status: "nixpkgs" | "custom" | "missing" | "cycle";
  nixpkgsVersion?: string;
  satisfies?: boolean;
  systems?: NixSystem[];
}

/** The renderer's view of a dependency. */
export function depSpec(d: { attr: string; systems?: NixSystem[] }): DepSpec {
  return d.systems ? { attr: d.attr, systems: d.systems } : { attr: d.attr };
}

/** One line saying where a dependency comes from, for the walkthrough's log. */
function describeDep(d: DepReport): string {
  const where = d.systems ? ` on ${d.systems.join(", ")}` : "";
  const state = d.status === "nixpkgs"
    ? `nixpkgs ${d.attr} ${d.nixpkgsVersion}${
      d.satisfies === false ? " (does NOT satisfy the requirement)" : ""
    }`
    : d.status === "custom"
    ? `custom package .flox/pkgs/${d.attr}.nix`
    : d.status === "cycle"
    ? "dependency cycle (left out, see above)"
    : "MISSING from nixpkgs";
  return `  ${d.requirement}${where}: ${state}`;
}

/**
 * The extras to include: `given` (--extras; each must be one the package offers), else the
 * ones picked through `fe` (none asked when it offers none).
 */
export async function chooseExtras(
  fe: Frontend,
  meta: DistMetadata,
  given: readonly string[] | undefined,
): Promise<string[]> {
  // Provides-Extra, plus extras only markers mention (older metadata omits Provides-Extra).
  const fromMarkers = meta.requiresDist.flatMap((r) => {
    try {
      const m = parseRequirement(r).marker;
      return m ? markerExtras(m) : [];
    } catch {
      return []; // reported by resolveDeps
    }
  });
  const offered = [
    ...new Set([...meta.providesExtra, ...fromMarkers].map(normalizeName)),
  ];
  if (given) {
    const bad = given.filter((e) => !offered.includes(normalizeName(e)));
    if (bad.length) {
      throw new UsageError(
        `--extras "${bad.join(",")}": ${meta.name} offers ${
          offered.length ? offered.join(", ") : "no extras"
        }`,
      );
    }
    return given.map(normalizeName);
  }
  if (!offered.length) return [];
  return await fe.checkbox({
    key: "extras",
    flag: "--extras",
    message: `Extras of ${meta.name} to include:`,
    choices: offered.map((e) => ({ value: e })),
  });
}

/** The context resolveDeps works in. */
interface ResolveContext {
  python: string;
  root: string;
  nixpkgs: NixpkgsLookup;
  chain: readonly string[];
}

/** One requirement after merging its repeats; `systems` absent when needed everywhere. */
interface MergedRequirement {
  req: Requirement;
  text: string;
  systems?: Set<NixSystem>;
}

/**
 * Requires-Dist → applicable requirements → nixpkgs / custom / missing / cycle, sorted by
 * attribute. `chain` holds the normalised names of the packages being written, this one last:
 * a dependency on one of them is a cycle (warned about and left out of the file).
 */
export async function resolveDeps(
  meta: DistMetadata,
  chosenExtras: readonly string[],
  ctx: ResolveContext,
): Promise<DepReport[]> {
  const reqs: Requirement[] = meta.requiresDist.map((r) => {
    try {
      return parseRequirement(r);
    } catch (e) {
      throw new KitError(
        `${meta.file}: Requires-Dist: ${(e as Error).message}`,
      );
    }
  });
  const self = normalizeName(meta.name);
  const extras = withSelfExtras(reqs, self, chosenExtras, ctx.python);
  const merged = mergeRequirements(reqs, self, extras, ctx.python);
  const names = [...merged.values()].map((m) => m.req.name);
  const found = await ctx.nixpkgs.lookupMany(names);
  const reports: DepReport[] = [];
  for (const [n, m] of merged) {
    reports.push(await classifyDep(n, m, found, meta, ctx));
  }
  return reports.sort((a, b) => a.attr.localeCompare(b.attr));
}

/**
 * The chosen extras plus those a requirement on the package itself turns on
 * ("pkg[api]; extra == 'all'"), until no more are added.
 */
function withSelfExtras(
  reqs: readonly Requirement[],
  self: string,
  chosenExtras: readonly string[],
  python: string,
): string[] {
  const extras = new Set(chosenExtras);
  for (let changed = true; changed;) {
    changed = false;
    for (const r of reqs) {
      if (normalizeName(r.name) !== self) continue;
      if (
        applicability(r, { python, extras: [...extras] })
          .kind === "never"
      ) continue;
      for (const e of r.extras.map(normalizeName)) {
        if (!extras.has(e)) {
          extras.add(e);
          changed = true;
        }
      }
    }
  }
  return [...extras];
}

/**
 * The applicable requirements by normalised name, repeats merged: needed everywhere wins
 * over a platform list; lists unite.
 */
function mergeRequirements(
  reqs: readonly Requirement[],
  self: string,
  extras: string[],
  python: string,
): Map<string, MergedRequirement> {
  const merged = new Map<string, MergedRequirement>();
  for (const r of reqs) {
    const n = normalizeName(r.name);
    if (n === self) continue;
    const a = applicability(r, { python, extras });
    if (a.kind === "never") continue;
    const prev = merged.get(n);
    const text = `${r.name}${r.specifier}`;
    if (!prev) {
      merged.set(
        n,
        a.kind === "always"
          ? { req: r, text }
          : { req: r, text, systems: new Set(a.systems) },
      );
    } else if (prev.systems) {
      if (a.kind === "always") delete prev.systems;
      else a.systems.forEach((x) => prev.systems!.add(x));
    }
  }
  return merged;
}

/** Where one merged requirement `n` comes from: a cycle, a custom package, nixpkgs, or missing. */
async function classifyDep(
  n: string,
  m: MergedRequirement,
  found: ReadonlyMap<string, NixpkgsPackage | undefined>,
  meta: DistMetadata,
  ctx: ResolveContext,
): Promise<DepReport> {
  const attr = pypiToNixAttr(m.req.name);
  const systems = m.systems ? [...m.systems].sort() : undefined;
  const base = {
    requirement: m.text,
    name: m.req.name,
    attr,
    ...(systems ? { systems } : {}),
  };
  const custom = await exists(
    join(ctx.root, packageFile(attr)),
  );
  const cycle = findCycle(ctx.chain, n);
  if (cycle) {
    warn(cycleAdvice(cycle, attr, meta.name));
    return { ...base, status: "cycle" };
  }
  if (custom) return { ...base, status: "custom" };
  const pkg = found.get(m.req.name);
  if (!pkg) return { ...base, status: "missing" };
  const ok = !m.req.specifier || valid(pkg.version) === null
    ? undefined
    : satisfies(pkg.version, m.req.specifier, { prereleases: true });
  if (ok === false) {
    warn(
      `nixpkgs has ${pkg.attr} ${pkg.version}, which does not satisfy ${m.text}`,
    );
  }
  return {
    ...base,
    attr: pkg.attr,
    status: "nixpkgs",
    nixpkgsVersion: pkg.version,
    ...(ok !== undefined ? { satisfies: ok } : {}),
  };
}

/** The build requirements → nixpkgs attributes (a warning when nixpkgs lacks one). */
export async function resolveBuildDeps(
  nixpkgs: NixpkgsLookup,
  build: { format: PackageSpec["format"]; buildRequires: string[] },
): Promise<{ attr: string }[]> {
  if (build.format === "wheel") return [];
  const names = build.buildRequires.map((r) => {
    try {
      return parseRequirement(r).name;
    } catch (e) {
      throw new KitError(`[build-system] requires: ${(e as Error).message}`);
    }
  });
  const found = await nixpkgs.lookupMany(names);
  const attrs = new Set<string>();
  for (const n of names) {
    const pkg = found.get(n);
    if (!pkg) {
      warn(
        `build requirement ${n} was not found in nixpkgs (${nixpkgs.source}); using ${
          pypiToNixAttr(n)
        }`,
      );
    }
    attrs.add(pkg?.attr ?? pypiToNixAttr(n));
  }
  return [...attrs].sort().map((attr) => ({ attr }));
}

/** Logs each dependency's line (see describeDep). */
export function logDeps(deps: readonly DepReport[]): void {
  for (const d of deps) info(describeDep(d));
}
