// What a resolution is — the pinned tree, each package with who requires it (specifiers,
// markers, extras) and the sha256 of its files — and how it is read from what the resolvers
// print: pip's installation report (`--report`) and `uv pip compile --generate-hashes`. Pure
// functions; lib/python/resolver.ts runs the resolvers.
import { normalizeName } from "./names.ts";
import {
  type MarkerEnvironment,
  markerToString,
  parseRequirement,
  type Requirement,
} from "./pep508.ts";
import { evaluateMarker } from "./markers.ts";

/** Who asks for a package, and how. */
export interface Requirer {
  /** A package name, or the requirements source (e.g. `requirements.txt`) for direct ones. */
  by: string;
  specifier: string;
  extras?: string[] | undefined;
  /** The PEP 508 marker, as text, when the requirement is conditional. */
  marker?: string | undefined;
}

/** One pinned package of the tree. */
export interface ResolvedPackage {
  /** The project name as its metadata spells it. */
  name: string;
  version: string;
  /** Asked for directly (not only as a dependency). */
  requested: boolean;
  requiredBy: Requirer[];
  /** `sha256:<hex>` of every known file of this release, sorted. */
  hashes: string[];
  /** The file the resolver picked. */
  url?: string | undefined;
}

/** The outcome of a resolution. */
export interface Resolution {
  resolver: "pip" | "uv";
  /** e.g. `pip 23.2.1`. */
  resolverVersion: string;
  /** The target Python's version (`3.11`). */
  pythonVersion: string;
  /** The marker environment the resolution was made for (pip's report; partial for uv). */
  environment?: Partial<MarkerEnvironment> | undefined;
  packages: ResolvedPackage[];
  /** Wall-clock seconds spent in the resolver process (excluding venv creation). */
  resolverSeconds: number;
  /** Seconds spent creating the temporary venv (pip only). */
  setupSeconds: number;
}

/** The `install` entries of pip's installation report (format version 1) that we use. */
export interface PipReport {
  version: string;
  pip_version: string;
  install: {
    download_info?: {
      url?: string;
      archive_info?: { hash?: string; hashes?: Record<string, string> };
    };
    requested?: boolean;
    requested_extras?: string[];
    metadata: { name: string; version: string; requires_dist?: string[] };
  }[];
  environment?: Record<string, string>;
}

/** Error text worth showing from a failed resolver run: its ERROR lines and what follows. */
export function resolverErrorText(stderr: string, stdout = ""): string {
  const text = (stderr.trim() || stdout.trim()).replace(/\r/g, "");
  const lines = text.split("\n");
  const first = lines.findIndex((l) => /^(ERROR|error|\s*×)/.test(l));
  const relevant = first >= 0 ? lines.slice(first) : lines.slice(-15);
  return relevant.join("\n").trim() || "(no output)";
}

/** One package of pip's report, with the hash of the file pip picked. */
function reportedPackage(item: PipReport["install"][number]): ResolvedPackage {
  const ai = item.download_info?.archive_info;
  const sha = ai?.hashes?.sha256 ??
    (ai?.hash?.startsWith("sha256=") ? ai.hash.slice(7) : undefined);
  return {
    name: item.metadata.name,
    version: item.metadata.version,
    requested: item.requested === true,
    requiredBy: [],
    hashes: sha ? [`sha256:${sha}`] : [],
    url: item.download_info?.url,
  };
}

/** Builds the tree from pip's report: requiredBy from each package's `requires_dist`. */
export function fromPipReport(
  report: PipReport,
  direct: readonly Requirement[],
  directLabel: string,
): ResolvedPackage[] {
  const env = report.environment ?? {};
  const byName = new Map<string, ResolvedPackage>();
  for (const item of report.install) {
    byName.set(normalizeName(item.metadata.name), reportedPackage(item));
  }
  const add = (req: Requirement, by: string) => {
    const target = byName.get(normalizeName(req.name));
    if (!target) return;
    target.requiredBy.push({
      by,
      specifier: req.specifier,
      ...(req.extras.length ? { extras: req.extras } : {}),
      ...(req.marker ? { marker: markerToString(req.marker) } : {}),
    });
  };
  // Extras a package is asked for: pip reports them only for top-level requirements, so those
  // reached through a dependency (`extraful[fast]`) are propagated here until nothing changes.
  const extrasOf = new Map<string, Set<string>>();
  const extrasFor = (name: string) => {
    const k = normalizeName(name);
    if (!extrasOf.has(k)) extrasOf.set(k, new Set());
    return extrasOf.get(k)!;
  };
  const parsed = report.install.map((item) => ({
    item,
    reqs: (item.metadata.requires_dist ?? []).flatMap((text) => {
      try {
        return [parseRequirement(text)];
      } catch {
        return []; // metadata the resolver accepted but our parser does not: skip the edge
      }
    }),
  }));
  const applies = (req: Requirement, extras: Iterable<string>) =>
    !req.marker ||
    ["", ...extras].some((x) => evaluateMarker(req.marker!, markerEnv(env, x)));
  const directApplies = direct.filter((r) => applies(r, []));
  for (const { item } of parsed) {
    for (const x of item.requested_extras ?? []) {
      extrasFor(item.metadata.name).add(x);
    }
  }
  for (const r of directApplies) {
    for (const x of r.extras) extrasFor(r.name).add(x);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const { item, reqs } of parsed) {
      const mine = extrasFor(item.metadata.name);
      for (const r of reqs) {
        if (!byName.has(normalizeName(r.name)) || !applies(r, mine)) continue;
        const theirs = extrasFor(r.name);
        for (const x of r.extras) {
          if (!theirs.has(x)) {
            theirs.add(x);
            changed = true;
          }
        }
      }
    }
  }
  for (const req of directApplies) add(req, directLabel);
  for (const { item, reqs } of parsed) {
    const mine = extrasFor(item.metadata.name);
    for (const r of reqs) if (applies(r, mine)) add(r, item.metadata.name);
  }
  return sortPackages([...byName.values()]);
}

function markerEnv(
  env: Record<string, string>,
  extra: string,
): MarkerEnvironment {
  return {
    python_version: "",
    python_full_version: "",
    os_name: "",
    sys_platform: "",
    platform_release: "",
    platform_system: "",
    platform_version: "",
    platform_machine: "",
    platform_python_implementation: "",
    implementation_name: "",
    implementation_version: "",
    ...env,
    extra,
  } as MarkerEnvironment;
}

/** Sorts packages and their requirers by normalised name, hashes deduplicated. */
export function sortPackages(pkgs: ResolvedPackage[]): ResolvedPackage[] {
  for (const p of pkgs) {
    p.requiredBy.sort((a, b) =>
      cmp(normalizeName(a.by), normalizeName(b.by)) ||
      cmp(a.marker ?? "", b.marker ?? "")
    );
    p.hashes = [...new Set(p.hashes)].sort();
  }
  return pkgs.sort((a, b) => cmp(normalizeName(a.name), normalizeName(b.name)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses `uv pip compile --generate-hashes --annotation-style split` output: `name==version \`,
 * `--hash=sha256:…` lines and `# via` annotations (`-r <input>` becomes by "-r").
 */
export function parseUvOutput(
  text: string,
  inputFile: string,
): ResolvedPackage[] {
  const pkgs: ResolvedPackage[] = [];
  let current: ResolvedPackage | undefined;
  let inVia = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\\$/, "").trim();
    if (!line) continue;
    const pin = line.match(
      /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)/,
    );
    if (pin && !raw.startsWith(" ")) {
      current = {
        name: pin[1]!,
        version: pin[3]!,
        requested: false,
        requiredBy: [],
        hashes: [],
      };
      pkgs.push(current);
      inVia = false;
      continue;
    }
    if (!current) continue;
    const hash = line.match(/^--hash=(sha256:[0-9a-f]{64})$/);
    if (hash) {
      current.hashes.push(hash[1]!);
      continue;
    }
    const via = line.match(/^#\s+via(?:\s+(.*))?$/);
    if (via) {
      inVia = true;
      if (via[1]) current.requiredBy.push(viaEntry(via[1], inputFile));
      continue;
    }
    if (inVia && line.startsWith("#")) {
      current.requiredBy.push(viaEntry(line.replace(/^#\s*/, ""), inputFile));
    }
  }
  return pkgs;
}

function viaEntry(text: string, inputFile: string): Requirer {
  const t = text.trim();
  if (t.startsWith("-r ") || t.includes(inputFile)) {
    return { by: "-r", specifier: "" };
  }
  return { by: t.replace(/\s*\(.*\)$/, ""), specifier: "" };
}
