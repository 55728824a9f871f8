// freeze-deps' workflow: what to resolve (requirements given, or the main package's
// requirements.txt from its pinned archive), the resolution with progress, the hashes of every
// file of each release, the classification against the repository, and the lock file. Returns
// the result for tasks/freeze_deps.ts to print.
import { dirname, join, relative } from "node:path";
import { classify, isProblem } from "../repo/classify.ts";
import { KitError } from "../kit/errors.ts";
import { atomicWrite, readTextIfExists } from "../kit/fsutil.ts";
import { info, warn } from "../kit/log.ts";
import { openNixpkgsForFlag } from "../nix/nixpkgs.ts";
import { type NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { resolve } from "../python/resolver.ts";
import type { Resolution } from "../python/resolved.ts";
import { completeHashes, renderLockFile } from "../python/lock_file.ts";
import { readRequirementsFile } from "../python/requirements.ts";
import { parseRequirement } from "../python/pep508.ts";
import { mainPackageRequirements } from "../repo/main_archive.ts";
import { nixpkgsIndexFor, REQUIREMENTS_LOCK } from "../repo/paths.ts";
import {
  combinedSpecifier,
  fixLines,
  jsonPackage,
  lockHeader,
  renderTable,
  summary,
  summaryLine,
} from "./report.ts";
import { progressLine } from "./progress.ts";

/** What to resolve and how (the task's flags, validated and made absolute). */
interface FreezeOptions {
  root: string;
  requirements: string[];
  requirementFiles: string[];
  constraintFiles: string[];
  indexUrl?: string | undefined;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  pythonVersion?: string | undefined;
  resolver: "auto" | "uv" | "pip";
  /** The lock file (default ROOT/requirements.lock.txt). */
  output?: string | undefined;
  noLock: boolean;
  dryRun: boolean;
  check: boolean;
  nixpkgsIndex?: string | undefined;
}

/** Phase timings, in seconds, for the benchmark and --json. */
interface Timings {
  requirements: number;
  setup: number;
  resolver: number;
  hashes: number;
  classify: number;
  write: number;
  total: number;
}

/** What one freeze found. */
interface FreezeResult {
  source: string;
  resolution: Resolution;
  classes: Awaited<ReturnType<typeof classify>>;
  nixpkgs: NixpkgsLookup;
  lockPath: string;
  /** The lock file was written (or was already this text). */
  wroteLock: boolean;
  timings: Timings;
}

/** Resolves, hashes, classifies and writes the lock file; see FreezeOptions. */
export async function freezeDeps(opts: FreezeOptions): Promise<FreezeResult> {
  const t0 = performance.now();
  const timings: Timings = {
    ...{ requirements: 0, setup: 0, resolver: 0, hashes: 0 },
    ...{ classify: 0, write: 0, total: 0 },
  };
  const lockPath = opts.output ?? join(opts.root, REQUIREMENTS_LOCK);
  const writeLockFile = !opts.dryRun && !opts.noLock &&
    (!opts.check || opts.output !== undefined);
  // Minutes of resolving must not end in "cannot write": check the folder first.
  if (writeLockFile) await checkOutputDir(lockPath);

  // 1. What to resolve (options inside -r files — -i, -f, --no-index — matter for hashing too).
  const req = await gatherRequirements(opts);
  timings.requirements = (performance.now() - t0) / 1000;

  // 2. Resolve, with progress.
  const resolution = await resolveWithProgress(opts, req);
  timings.setup = resolution.setupSeconds;
  timings.resolver = resolution.resolverSeconds;
  const pkgs = resolution.packages;
  info(
    `resolved ${pkgs.length} packages with ${resolution.resolverVersion} for Python ${resolution.pythonVersion} in ${
      resolution.resolverSeconds.toFixed(1)
    } s`,
  );

  // 3. Hashes of every file of each release (find-links folders hashed, index pages read).
  let t = performance.now();
  await completeHashes(pkgs, {
    indexUrls: req.noIndex
      ? []
      : [...(req.indexUrl ? [req.indexUrl] : []), ...req.extraIndexUrls],
    findLinks: req.findLinks,
    onWarning: warn,
  });
  timings.hashes = (performance.now() - t) / 1000;

  // 4. Classify.
  t = performance.now();
  const nixpkgs = await openNixpkgsForFlag(
    opts.nixpkgsIndex,
    nixpkgsIndexFor(opts.root),
  );
  const classes = await classify(
    pkgs.map((p) => ({
      name: p.name,
      version: p.version,
      specifier: combinedSpecifier(p.requiredBy),
    })),
    { root: opts.root, nixpkgs },
  );
  timings.classify = (performance.now() - t) / 1000;

  // 5. The lock file.
  t = performance.now();
  await writeLock(opts, {
    path: lockPath,
    text: renderLockFile(pkgs, lockHeader(req.source, resolution)),
    packages: pkgs.length,
    write: writeLockFile,
  });
  const noHash = pkgs.filter((p) => p.hashes.length === 0);
  if (noHash.length > 0) {
    warn(
      `no sha256 known for ${
        noHash.map((p) => p.name).join(", ")
      }: pip --require-hashes will refuse them`,
    );
  }
  timings.write = (performance.now() - t) / 1000;
  timings.total = (performance.now() - t0) / 1000;
  return {
    source: req.source,
    resolution,
    classes,
    nixpkgs,
    lockPath,
    wroteLock: writeLockFile,
    timings,
  };
}

/** Writes the lock file when it changes; with --check alone, warns when it is stale. */
async function writeLock(
  opts: FreezeOptions,
  lock: { path: string; text: string; packages: number; write: boolean },
): Promise<void> {
  const before = await readTextIfExists(lock.path);
  if (lock.write) {
    if (before === lock.text) info(`${relOrAbs(lock.path)}: unchanged`);
    else {
      await atomicWrite(lock.path, lock.text);
      info(`wrote ${relOrAbs(lock.path)} (${lock.packages} packages)`);
    }
  } else if (opts.check && before !== undefined && before !== lock.text) {
    warn(
      `${
        relOrAbs(lock.path)
      } differs from this resolution: run "deno task freeze-deps" to refresh it`,
    );
  }
}

/** The result as the object `--json` prints. */
export function freezeJson(r: FreezeResult) {
  return {
    requirements: r.source,
    resolver: r.resolution.resolverVersion,
    python: r.resolution.pythonVersion,
    environment: r.resolution.environment ?? null,
    nixpkgs: r.nixpkgs.describe,
    lockFile: r.wroteLock ? r.lockPath : null,
    packages: r.resolution.packages.map((p, i) =>
      jsonPackage(p, r.classes[i]!)
    ),
    summary: summary(r.classes),
    timings: r.timings,
  };
}

/** The result as lines for a person: the table, the summary, the fixes. */
export function freezeLines(r: FreezeResult): string[] {
  const fixes = fixLines(r.classes);
  return [
    ...renderTable(r.resolution.packages, r.classes),
    "",
    summaryLine(r.classes),
    ...(fixes.length > 0 ? ["", ...fixes] : []),
  ];
}

/** The packages `--check` fails on: missing or mis-pinned. */
export function problemCount(r: FreezeResult): number {
  return r.classes.filter(isProblem).length;
}

interface Gathered {
  requirements: string[];
  label: string;
  source: string;
  indexUrl: string | undefined;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
}

async function gatherRequirements(opts: FreezeOptions): Promise<Gathered> {
  const files = opts.requirementFiles;
  const g: Gathered = {
    requirements: [...opts.requirements],
    label: opts.requirements.length > 0 || files.length > 0
      ? "command line"
      : "",
    source: "",
    indexUrl: opts.indexUrl,
    extraIndexUrls: [...opts.extraIndexUrls],
    findLinks: [...opts.findLinks],
    noIndex: opts.noIndex,
  };
  for (const f of files) {
    const r = await readRequirementsFile(f);
    g.indexUrl ??= r.options.indexUrl;
    g.extraIndexUrls.push(...r.options.extraIndexUrls);
    g.findLinks.push(...r.options.findLinks);
    g.noIndex ||= r.options.noIndex;
  }
  g.indexUrl ??= Deno.env.get("PIP_INDEX_URL") || undefined;
  if (files.length === 1 && opts.requirements.length === 0) {
    g.label = relOrAbs(files[0]!);
  }
  g.source = g.label;
  if (g.requirements.length === 0 && files.length === 0) {
    const main = await mainPackageRequirements(opts.root);
    g.requirements = main.requirements;
    g.label = main.label;
    g.source = main.source;
  }
  return g;
}

async function resolveWithProgress(
  opts: FreezeOptions,
  req: Gathered,
): Promise<Resolution> {
  const progress = progressLine();
  try {
    return await resolve({
      requirements: req.requirements,
      requirementFiles: opts.requirementFiles,
      constraintFiles: opts.constraintFiles,
      directLabel: req.label,
      indexUrl: req.indexUrl,
      extraIndexUrls: req.extraIndexUrls,
      findLinks: req.findLinks,
      noIndex: req.noIndex,
      pythonVersion: opts.pythonVersion,
      resolver: opts.resolver,
      onLine: progress.line,
      onWarning: (m) => {
        progress.clear();
        warn(m);
      },
    });
  } finally {
    progress.clear();
  }
}

/** A KitError naming the lock file when its folder is missing or not a folder. */
async function checkOutputDir(lockPath: string): Promise<void> {
  const dir = dirname(lockPath);
  const st = await Deno.stat(dir).catch(() => undefined);
  if (st === undefined) {
    throw new KitError(
      `Cannot write the lock file "${
        relOrAbs(lockPath)
      }": folder "${dir}" does not exist: create it or pass another -o FILE`,
    );
  }
  if (!st.isDirectory) {
    throw new KitError(
      `Cannot write the lock file "${
        relOrAbs(lockPath)
      }": "${dir}" is not a folder: pass another -o FILE`,
    );
  }
  const existing = await Deno.stat(lockPath).catch(() => undefined);
  if (existing?.isDirectory) {
    throw new KitError(
      `Cannot write the lock file "${
        relOrAbs(lockPath)
      }": it is a folder: pass a file name with -o FILE`,
    );
  }
}

function relOrAbs(p: string): string {
  const r = relative(Deno.cwd(), p);
  return r.startsWith("..") ? p : r;
}

/** Checks one requirement given on the command line (a KitError when it is not PEP 508). */
export function parseRequirementArg(text: string): void {
  parseRequirement(text);
}
