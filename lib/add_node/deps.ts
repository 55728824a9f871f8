// A node pack's Python requirements mapped the way new-package maps a distribution's
// (lib/new_package's resolveDeps: markers for the target Python, nixpkgs' attribute, a
// .flox/pkgs package, or missing), after taking out what ComfyUI's own package already
// provides: a pack never brings a second torch or numpy into ComfyUI's environment.
import type { DistMetadata } from "../python/dist_metadata.ts";
import { normalizeName } from "../python/names.ts";
import { parseRequirement } from "../python/pep508.ts";
import { readPackage } from "../nix/query.ts";
import { parseNix } from "../nix/parse.ts";
import { nixAttrCandidates, type NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { type DepReport, resolveDeps } from "../new_package/run.ts";
import type { PackRequirement } from "./metadata.ts";

/** One requirement of the pack and how it is met. */
export type NodeDep =
  | DepReport & { where: string }
  | {
    requirement: string;
    name: string;
    attr: string;
    status: "comfyui";
    where: string;
  };

/** The attributes ComfyUI's package lists as its Python dependencies. */
export function comfyuiDependencies(
  mainText: string,
  path: string,
): Set<string> {
  const info = readPackage(parseNix(mainText, path));
  const names = new Set<string>();
  for (const binding of ["dependencies", "propagatedBuildInputs"]) {
    const list = info.lists.get(binding);
    for (const block of [list?.main, ...(list?.blocks ?? [])]) {
      for (const item of block?.items ?? []) names.add(item.name);
    }
  }
  return names;
}

/** Maps every requirement; those ComfyUI provides are reported as such, never added again. */
export async function mapRequirements(
  packName: string,
  reqs: readonly PackRequirement[],
  ctx: {
    root: string;
    python: string;
    nixpkgs: NixpkgsLookup;
    comfyui: ReadonlySet<string>;
  },
): Promise<NodeDep[]> {
  const whereOf = new Map<string, string>();
  const fromComfy: NodeDep[] = [];
  const rest: string[] = [];
  for (const r of reqs) {
    const req = parseRequirement(r.text);
    const n = normalizeName(req.name);
    if (whereOf.has(n)) {
      whereOf.set(n, `${whereOf.get(n)}, ${r.where}`);
      continue;
    }
    whereOf.set(n, r.where);
    const attr = nixAttrCandidates(req.name).find((a) => ctx.comfyui.has(a));
    if (attr) {
      fromComfy.push({
        requirement: r.text,
        name: req.name,
        attr,
        status: "comfyui",
        where: r.where,
      });
    } else rest.push(r.text);
  }
  const meta: DistMetadata = {
    file: packName,
    kind: "sdist",
    name: packName,
    version: "0",
    projectUrls: {},
    classifiers: [],
    requiresDist: rest,
    providesExtra: [],
    format: "pyproject",
    buildRequires: [],
    importNames: [],
    wheelTags: [],
    licenseFiles: [],
  };
  const mapped = rest.length
    ? await resolveDeps(meta, [], {
      python: ctx.python,
      root: ctx.root,
      nixpkgs: ctx.nixpkgs,
      chain: [normalizeName(packName)],
    })
    : [];
  const deps: NodeDep[] = [
    ...fromComfy,
    ...mapped.map((d) => ({
      ...d,
      where: whereOf.get(normalizeName(d.name)) ?? "",
    })),
  ];
  return deps.sort((a, b) => a.attr.localeCompare(b.attr));
}

/** One line saying how a requirement is met. */
export function describeNodeDep(d: NodeDep): string {
  const where = d.where ? ` (${d.where})` : "";
  switch (d.status) {
    case "comfyui":
      return `${d.requirement}${where}: satisfied by ComfyUI's own ${d.attr}`;
    case "nixpkgs":
      return `${d.requirement}${where}: nixpkgs ${d.attr} ${d.nixpkgsVersion}${
        d.satisfies === false ? " (does NOT satisfy the requirement)" : ""
      }${d.systems ? ` on ${d.systems.join(", ")}` : ""}`;
    case "custom":
      return `${d.requirement}${where}: custom package .flox/pkgs/${d.attr}.nix`;
    case "cycle":
      return `${d.requirement}${where}: a cycle, left out`;
    case "missing":
      return `${d.requirement}${where}: MISSING from nixpkgs and .flox/pkgs`;
  }
}
