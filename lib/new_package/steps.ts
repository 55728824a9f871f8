// new-package's steps that touch the repository, for one package: step 1's "use nixpkgs'",
// step 7's package file (and vendored source), step 8's wiring into the main package. Every
// write is staged in the session's Changeset; lib/new_package/run.ts applies it at the end.
import { eq, satisfies } from "@renovatebot/pep440";
import { isAbsolute, join, relative } from "node:path";
import type { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { exists } from "../kit/fsutil.ts";
import { unifiedDiff } from "../kit/diff.ts";
import { info, out, warn } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { normalizeName } from "../python/names.ts";
import type { NixSystem } from "../python/markers.ts";
import type { SourceEntry } from "../repo/manifest.ts";
import type { DepReport } from "./deps.ts";
import type { Loaded } from "./source.ts";
import type { PackageSpec, SrcSpec } from "./render.ts";
import { stageVendor, stageWire } from "./stage.ts";
import { stageSourceDrop, vendoredFileOf } from "../repo/staged_sources.ts";

/** Where the package's source comes from: vendored, fetchPypi or fetchFromGitHub. */
export type SourceKind = SrcSpec["kind"];

/** Where a package was wired: the main file (relative to the root) and whether it changed. */
interface Wired {
  file: string;
  changed: boolean;
}

/** What happened to one package. */
export interface PackageResult {
  name: string;
  version: string;
  attr: string;
  action:
    | "written"
    | "unchanged"
    | "would-write"
    | "declined"
    | "use-nixpkgs";
  file?: string;
  source?: SourceKind;
  format?: PackageSpec["format"];
  license?: string[];
  importNames?: string[];
  dependencies: DepReport[];
  buildDependencies: string[];
  missing: string[];
  vendored?: SourceEntry;
  /** A vendored source the replaced package file used and nothing uses any more. */
  droppedSource?: string;
  wired?: Wired;
  diff?: string;
}

/** The answers step 1, 7 and 8 need (a part of NewPackageOptions). */
interface StepOptions {
  root: string;
  main: string;
  inNixpkgs?: "use" | "package";
  wire?: boolean;
  force: boolean;
  dryRun: boolean;
  json: boolean;
  ignoreRequiresPython?: boolean;
}

/** One run of new-package: its answers, its frontend and what it has staged. */
export interface Session {
  opts: StepOptions;
  fe: Frontend;
  nixpkgs: NixpkgsLookup;
  cs: Changeset;
  /** A folder that lives as long as the session (downloads staged for copying). */
  scratch: string;
  results: PackageResult[];
  /** Normalised names already handled (the queue visits each once). */
  done: Set<string>;
}

/**
 * Refuses the main package: new-package never writes .flox/pkgs/comfyui.nix (bump-comfyui
 * does), whatever the flags.
 */
export function refuseMainPackage(s: Session, attr: string): void {
  const pkgPath = join(s.opts.root, ".flox", "pkgs", `${attr}.nix`);
  const main = join(s.opts.root, ".flox", "pkgs", "comfyui.nix");
  if (pkgPath === s.opts.main || pkgPath === main) {
    throw new KitError(
      `${
        relative(s.opts.root, pkgPath)
      } is the main package: new-package never writes it; change its version with "deno task bump-comfyui VERSION"`,
    );
  }
}

/**
 * Step 1 for a NAME: when nixpkgs has it and the answer is "use", wires nixpkgs' attribute. When
 * the user asked for a version nixpkgs does not have, the default answer is to write a package.
 */
export async function usedFromNixpkgs(
  s: Session,
  name: string,
  wanted: string | undefined,
): Promise<boolean> {
  const found = await s.nixpkgs.lookup(name);
  if (!found) return false;
  const pinMet = wanted === undefined || eq(found.version, wanted);
  info(
    `nixpkgs has ${found.attr} ${found.version} (${s.nixpkgs.source})${
      pinMet ? "" : `, not the ${wanted} asked for`
    }`,
  );
  const choice = s.opts.inNixpkgs ?? await s.fe.select({
    key: "in-nixpkgs",
    flag: "--in-nixpkgs",
    message: `nixpkgs has python3.pkgs.${found.attr} ${found.version}. Use it?`,
    choices: [
      {
        value: "use",
        name: `Use nixpkgs' ${found.attr} (add it to the main package)`,
      },
      { value: "package", name: "Write a package for it anyway" },
    ],
    default: pinMet ? "use" : "package",
  });
  if (choice !== "use") return false;
  const result: PackageResult = {
    name,
    version: found.version,
    attr: found.attr,
    action: "use-nixpkgs",
    dependencies: [],
    buildDependencies: [],
    missing: [],
  };
  const wired = await wire(s, found.attr, undefined, false);
  if (wired) result.wired = wired;
  s.results.push(result);
  s.done.add(normalizeName(name));
  return true;
}

/**
 * Step 7's file work: compares with the existing file (never replaced without --force, the diff
 * shown first), previews, confirms, stages the vendored source and the file (and, when --force
 * replaces a package whose old source nothing else uses, the old source's removal); sets
 * `result.action`.
 */
export async function writePackage(
  s: Session,
  w: {
    attr: string;
    text: string;
    source: SourceKind;
    loaded: Loaded;
    result: PackageResult;
  },
): Promise<void> {
  const { opts, fe, cs } = s;
  const { text, loaded, result } = w;
  const pkgRel = `.flox/pkgs/${w.attr}.nix`;
  const vendors = w.source === "vendored" && loaded.path && !loaded.recorded;
  const existing = await cs.readText(pkgRel);
  if (existing === text) {
    info(`${pkgRel} is already up to date`);
    result.action = "unchanged";
    return;
  }
  if (existing !== undefined) {
    const diff = unifiedDiff(existing, text, `a/${pkgRel}`, `b/${pkgRel}`);
    result.diff = diff;
    if (!opts.force) {
      throw new KitError(
        `${pkgRel} exists and differs: not overwriting it; rerun with --force to see the diff and replace it`,
      );
    }
    if (!opts.json) (opts.dryRun ? out : info)(diff.trimEnd());
  } else if (opts.dryRun && !opts.json) {
    out(`# ${pkgRel} (would be written)\n${text}`);
  } else if (fe.interactive) {
    info(`\n${text}`);
  }
  if (!opts.dryRun) {
    const ok = await fe.confirm({
      key: "write",
      flag: "--yes",
      message: `${existing === undefined ? "Write" : "Replace"} ${pkgRel}?`,
      default: true,
    });
    if (!ok) {
      info(`${pkgRel}: nothing written`);
      result.action = "declined";
      return;
    }
  }
  result.action = opts.dryRun ? "would-write" : "written";
  if (vendors) {
    result.vendored = await stageVendor(cs, {
      path: loaded.path!,
      name: result.name,
      version: result.version,
      sha256: loaded.sha256,
      ...(loaded.url ? { url: loaded.url } : {}),
      force: opts.force,
    });
    const inside = relative(join(opts.root, ".flox", "sources"), loaded.path!);
    if (opts.dryRun && (inside.startsWith("..") || isAbsolute(inside))) {
      info(
        `would vendor ${loaded.fileName} into .flox/sources/ (sha256 ${loaded.sha256})`,
      );
    }
  }
  cs.write(pkgRel, text);
  const old = existing === undefined
    ? undefined
    : vendoredFileOf(existing, pkgRel);
  if (old && old !== vendoredFileOf(text, pkgRel)) {
    if (!(await stageSourceDrop(cs, old)).usedBy.length) {
      result.droppedSource = old;
      info(
        `${
          opts.dryRun ? "would drop" : "dropping"
        } .flox/sources/${old}: nothing else uses it`,
      );
    }
  }
}

/**
 * Step 8: adds `attr` to the main package (a custom package also as an argument). `--no-wire`
 * skips, else asks (default yes). Undefined when nothing was wired: the main file does not
 * exist or the answer was no. With --dry-run the diff is printed.
 */
export async function wire(
  s: Session,
  attr: string,
  systems: readonly NixSystem[] | undefined,
  custom: boolean,
): Promise<Wired | undefined> {
  const { opts } = s;
  const mainRel = relative(opts.root, opts.main);
  if (!(await exists(opts.main))) {
    warn(`${mainRel} does not exist: not wiring ${attr} in`);
    return undefined;
  }
  const yes = opts.wire ?? await s.fe.confirm({
    key: "wire",
    flag: "--no-wire",
    message: `Add ${attr} to ${mainRel}?`,
    default: true,
  });
  if (!yes) return undefined;
  const r = await stageWire(s.cs, { main: opts.main, attr, systems, custom });
  if (r.changed && opts.dryRun && !opts.json) {
    out(
      unifiedDiff(r.before, r.after, `a/${mainRel}`, `b/${mainRel}`).trimEnd(),
    );
  }
  info(
    r.changed
      ? `${opts.dryRun ? "would wire" : "wired"} ${attr} into ${mainRel}`
      : `${mainRel} already has ${attr}`,
  );
  return { file: mainRel, changed: r.changed };
}

/**
 * Checks Requires-Python against the interpreter nixpkgs builds for (python3: from Nix, else
 * the offline index). An excluded interpreter is warned about and asked about (no default:
 * --yes alone exits 2 naming --ignore-requires-python). `ok` false: do not write it; `note`
 * says why in the file when it is written anyway.
 */
export async function pythonFits(
  s: Session,
  meta: { name: string; version: string; requiresPython?: string },
  pkgRel: string,
): Promise<{ ok: boolean; note?: string }> {
  const py = await s.nixpkgs.pythonVersion?.();
  if (!meta.requiresPython || !py) return { ok: true };
  let fits: boolean;
  try {
    fits = satisfies(py, meta.requiresPython);
  } catch {
    warn(
      `${meta.name} ${meta.version}: Requires-Python "${meta.requiresPython}" is not a PEP 440 specifier: not checked`,
    );
    return { ok: true };
  }
  if (fits) return { ok: true };
  warn(
    `${meta.name} ${meta.version} requires Python ${meta.requiresPython}, but nixpkgs' python3 is ${py} (${s.nixpkgs.describe}): its build would fail`,
  );
  const ok = s.opts.ignoreRequiresPython || await s.fe.confirm({
    key: "requires-python",
    flag: "--ignore-requires-python",
    message: `Write ${pkgRel} for Python ${py} anyway?`,
  });
  // Said in the file too: whoever wires it in later must know it will not build as is.
  return {
    ok,
    note:
      `Requires-Python ${meta.requiresPython} excludes nixpkgs' python3 ${py}: this package does not build against it`,
  };
}
