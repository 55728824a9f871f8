// The nixpkgs side of outdated: every requirement of ComfyUI and of the custom packages that is
// not itself a custom package is taken from nixpkgs, so nixpkgs' version must satisfy it.
// "av>=14.2.0 (comfyui 0.3.75): nixpkgs av 13.1.0 does not satisfy it".
import { normalizeName } from "../python/names.ts";
import { type Requirement } from "../python/pep508.ts";
import { applicability } from "../python/markers.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import type { Row } from "./report.ts";
import { specifierHolds } from "../repo/classify.ts";

/** Who requires what. */
export interface Requirer {
  by: string;
  requirements: readonly Requirement[];
}

/**
 * One row per nixpkgs package some requirer names (custom packages and `skip` left out):
 * current when nixpkgs' version meets every specifier, unsatisfied (each failing requirement
 * on its own detail line) otherwise, or when nixpkgs lacks the package.
 */
export async function nixpkgsRows(
  requirers: readonly Requirer[],
  skip: ReadonlySet<string>,
  nixpkgs: NixpkgsLookup,
  python: string,
): Promise<Row[]> {
  const wanted = new Map<
    string,
    { name: string; uses: { by: string; req: Requirement }[] }
  >();
  for (const r of requirers) {
    for (const req of r.requirements) {
      const key = normalizeName(req.name);
      if (skip.has(key)) continue;
      if (applicability(req, { python }).kind === "never") continue;
      const w = wanted.get(key) ?? { name: req.name, uses: [] };
      w.uses.push({ by: r.by, req });
      wanted.set(key, w);
    }
  }
  const keys = [...wanted.keys()].sort();
  const found = await nixpkgs.lookupMany(keys);
  return keys.map((key): Row => {
    const w = wanted.get(key)!;
    const pkg = found.get(key);
    const label = (u: { by: string; req: Requirement }) =>
      `${u.req.name}${u.req.specifier} (${u.by})`;
    if (!pkg) {
      return {
        kind: "nixpkgs",
        name: key,
        status: "unsatisfied",
        details: w.uses.map((u) =>
          `${label(u)}: not in nixpkgs; run "deno task new-package ${w.name}"`
        ),
      };
    }
    const bad = w.uses.filter((u) =>
      u.req.specifier !== "" && !specifierHolds(pkg.version, u.req.specifier)
    );
    return {
      kind: "nixpkgs",
      name: key,
      ours: pkg.version,
      status: bad.length ? "unsatisfied" : "current",
      details: bad.map((u) =>
        `${label(u)}: nixpkgs ${pkg.attr} ${pkg.version} does not satisfy it`
      ),
    };
  });
}
