// Where does each Python package of the tree come from in this repository? In order:
//   custom    a package file .flox/pkgs/<attr>.nix exists (its version is read from the file with
//             the Nix library; flagged when it differs from the pin)
//   vendored  its source is in sources-manifest.json but no package file uses it yet
//   nixpkgs   python3Packages has it (attribute and nixpkgs' version; flagged when that version
//             does not satisfy the requirement's specifier)
//   missing   none of these (with the command that fixes it: deno task new-package NAME==VERSION)
// The repository's own files win over nixpkgs because they are what comfyui.nix is built with.
import { packageFile, SOURCES_MANIFEST } from "./paths.ts";
import { join } from "node:path";
import { eq, satisfies, valid } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { type Manifest, readManifest, type SourceEntry } from "./manifest.ts";
import { normalizeName } from "../python/names.ts";
import { nixAttrCandidates, type NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";

/** A package to classify. */
interface PackageRef {
  name: string;
  /** The exact version the tree pins (from the resolver). */
  version?: string | undefined;
  /** The requirement's specifier (e.g. `>=1.25,<3`), checked against nixpkgs' version. */
  specifier?: string | undefined;
}

interface Common {
  name: string;
  pin?: string | undefined;
  specifier?: string | undefined;
  /** Why the package is flagged (mis-pinned, unreadable, …); undefined when fine. */
  problem?: string | undefined;
  /** A command that fixes the problem or the missing package. */
  fix?: string | undefined;
}

/** A package taken from nixpkgs. */
interface FromNixpkgs extends Common {
  status: "nixpkgs";
  attr: string;
  version: string;
  /** nixpkgs' version satisfies the specifier (true when there is none). */
  satisfies: boolean;
}

/** A package with its own file under .flox/pkgs/. */
interface Custom extends Common {
  status: "custom";
  attr: string;
  /** Path relative to the repository root. */
  file: string;
  /** The file's version, undefined when it cannot be read. */
  version?: string | undefined;
  /** The file's version equals the pin (undefined without a pin or a version). */
  matches?: boolean | undefined;
  /** The manifest entry of its vendored source, if any. */
  source?: SourceEntry | undefined;
}

/** A vendored source without a package file. */
interface Vendored extends Common {
  status: "vendored";
  entry: SourceEntry;
  matches?: boolean | undefined;
}

/** Not provided by anything. */
interface Missing extends Common {
  status: "missing";
  fix: string;
}

/** The classification of one package. */
export type Classification = FromNixpkgs | Custom | Vendored | Missing;

/** Options of `classify`. */
interface ClassifyOptions {
  /** Repository root (holds .flox/pkgs/ and sources-manifest.json). */
  root: string;
  nixpkgs: NixpkgsLookup;
  /** The manifest, when already loaded (default: read ROOT/sources-manifest.json if present). */
  manifest?: Manifest | undefined;
}

/** The command that adds a missing package. */
function newPackageCommand(name: string, version?: string): string {
  return `deno task new-package ${name}${version ? `==${version}` : ""}`;
}

function sameVersion(a: string, b: string): boolean {
  if (valid(a) && valid(b)) return eq(a, b);
  return a === b;
}

/** Reads the version of a package file with the Nix library (undefined + reason on failure). */
async function customVersion(
  path: string,
): Promise<{ version?: string; error?: string }> {
  const text = await Deno.readTextFile(path);
  try {
    const info = readPackage(parseNix(text, path));
    return info.version
      ? { version: info.version }
      : { error: "no literal version in the file" };
  } catch (e) {
    if (e instanceof KitError) return { error: e.message };
    throw e;
  }
}

/** Classifies each package (see the module comment for the order). */
export async function classify(
  pkgs: readonly PackageRef[],
  opts: ClassifyOptions,
): Promise<Classification[]> {
  const manifest = opts.manifest ??
    await readManifest(join(opts.root, SOURCES_MANIFEST));
  const bySource = new Map<string, SourceEntry[]>();
  for (const e of manifest.sources) {
    const k = normalizeName(e.name);
    bySource.set(k, [...(bySource.get(k) ?? []), e]);
  }
  // One batched nixpkgs query for everything (one Nix evaluation when Nix is used).
  const inNixpkgs = await opts.nixpkgs.lookupMany(pkgs.map((p) => p.name));

  const results: Classification[] = [];
  for (const p of pkgs) {
    const common: Common = {
      name: p.name,
      ...(p.version !== undefined ? { pin: p.version } : {}),
      ...(p.specifier ? { specifier: p.specifier } : {}),
    };
    const entries = bySource.get(normalizeName(p.name)) ?? [];
    const entry = (p.version &&
      entries.find((e) => sameVersion(e.version, p.version!))) || entries[0];
    const hit = inNixpkgs.get(p.name);
    results.push(
      await asCustom(p, common, entry, opts.root) ??
        (entry ? asVendored(p, common, entry) : undefined) ??
        (hit ? asNixpkgs(p, common, hit) : undefined) ??
        {
          ...common,
          status: "missing",
          fix: newPackageCommand(p.name, p.version),
        },
    );
  }
  return results;
}

/** The package's own file, .flox/pkgs/<attr>.nix, when there is one. */
async function asCustom(
  p: PackageRef,
  common: Common,
  entry: SourceEntry | undefined,
  root: string,
): Promise<Custom | undefined> {
  for (const attr of nixAttrCandidates(p.name)) {
    const rel = packageFile(attr);
    const abs = join(root, rel);
    if ((await readTextIfExists(abs)) === undefined) continue;
    const { version, error } = await customVersion(abs);
    const matches = version !== undefined && p.version !== undefined
      ? sameVersion(version, p.version)
      : undefined;
    const custom: Custom = {
      ...common,
      status: "custom",
      attr,
      file: rel,
      version,
      matches,
      source: entry,
    };
    if (error) custom.problem = `cannot read the version of ${rel}: ${error}`;
    else if (matches === false) {
      custom.problem = `${rel} has ${version}, the tree pins ${p.version}`;
      custom.fix = newPackageCommand(p.name, p.version) + " --force";
    }
    return custom;
  }
  return undefined;
}

/** A vendored source no package file uses (always a problem). */
function asVendored(
  p: PackageRef,
  common: Common,
  entry: SourceEntry,
): Vendored {
  const matches = p.version !== undefined
    ? sameVersion(entry.version, p.version)
    : undefined;
  return {
    ...common,
    status: "vendored",
    entry,
    matches,
    problem: matches === false
      ? `vendored ${entry.file} is ${entry.version}, the tree pins ${p.version}; and no package file uses it`
      : `vendored ${entry.file} but no .flox/pkgs/ file uses it`,
    fix: newPackageCommand(p.name, p.version ?? entry.version),
  };
}

/** nixpkgs' package, flagged when its version does not satisfy the specifier. */
function asNixpkgs(
  p: PackageRef,
  common: Common,
  hit: { attr: string; version: string },
): FromNixpkgs {
  const ok = !p.specifier || specifierHolds(hit.version, p.specifier);
  return {
    ...common,
    status: "nixpkgs",
    attr: hit.attr,
    version: hit.version,
    satisfies: ok,
    ...(ok ? {} : {
      problem:
        `nixpkgs has ${hit.attr} ${hit.version}, which does not satisfy "${p.specifier}"`,
      fix: newPackageCommand(p.name, p.version),
    }),
  };
}

/** PEP 440 `version` in `specifier`; versions nixpkgs writes oddly (e.g. `unstable-…`) fail. */
export function specifierHolds(version: string, specifier: string): boolean {
  if (!valid(version)) return false;
  try {
    return satisfies(version, specifier);
  } catch {
    return false;
  }
}

/** True when the classification is a problem for `--check`: missing, or flagged. */
export function isProblem(c: Classification): boolean {
  return c.status === "missing" || c.problem !== undefined;
}
