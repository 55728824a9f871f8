// Dependency resolution with a real resolver, never a home-made one: `uv pip compile` when uv is
// on PATH, else `pip install --dry-run --ignore-installed --report` run against a private,
// temporary venv (pip's `--python`, so no pip is installed into it; removed on every exit path,
// Ctrl-C included). The result (lib/python/resolved.ts) is the pinned tree with, for each
// package, who requires it; lib/python/lock_file.ts adds every file's sha256 and renders it.
//
//   const r = await resolve({ requirements: ["torch", "numpy>=1.25"], findLinks: ["./wheels"] });
import { join, resolve as resolvePath } from "node:path";
import { KitError } from "../kit/errors.ts";
import { normalizeName } from "./names.ts";
import {
  type MarkerEnvironment,
  markerToString,
  parseRequirement,
  type Requirement,
} from "./pep508.ts";
import { onPath, stream } from "../kit/command.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { readRequirementsFile } from "./requirements.ts";
import {
  fromPipReport,
  parseUvOutput,
  type PipReport,
  type Resolution,
  resolverErrorText,
  sortPackages,
} from "./resolved.ts";

/** What to resolve and where from. */
interface ResolveOptions {
  /** PEP 508 requirement strings. */
  requirements?: readonly string[];
  /** Requirements files handed to the resolver as they are (`-r FILE`). */
  requirementFiles?: readonly string[];
  /** Constraint files (`-c FILE`). */
  constraintFiles?: readonly string[];
  /** Label for direct requirements in `requiredBy` (default "requirements"). */
  directLabel?: string;
  indexUrl?: string | undefined;
  extraIndexUrls?: readonly string[];
  findLinks?: readonly string[];
  noIndex?: boolean;
  /** Target Python, e.g. "3.12" (default: the interpreter's). */
  pythonVersion?: string | undefined;
  /** Interpreter for the venv (default "python3", or pythonX.Y for pythonVersion if on PATH). */
  python?: string | undefined;
  /** "auto" (uv if on PATH, else pip), "uv" or "pip". */
  resolver?: "auto" | "uv" | "pip";
  /** Extra environment for the resolver process (PIP_INDEX_URL etc. pass through anyway). */
  env?: Record<string, string>;
  /** Receives each line the resolver prints (progress). */
  onLine?: (line: string) => void;
  /** Receives notes worth a warning (e.g. markers evaluated for another Python). */
  onWarning?: (message: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Running processes with clean-up on interrupt

/**
 * A temp directory removed when disposed, and also when the process is interrupted (the
 * resolver child, run by `stream`, is killed first), so no venv survives Ctrl-C.
 */
async function privateTempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "comfykit-resolve-" });
  const unregister = removeOnInterrupt(path);
  return {
    path,
    async [Symbol.asyncDispose]() {
      unregister();
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// pip

/** The interpreter to build the venv from: pythonX.Y when asked for and present. */
function pickPython(
  opts: ResolveOptions,
): { python: string; exact: boolean } {
  if (opts.python) return { python: opts.python, exact: true };
  if (opts.pythonVersion) {
    const candidate = `python${opts.pythonVersion}`;
    if (onPath(candidate)) return { python: candidate, exact: true };
    return { python: "python3", exact: false };
  }
  return { python: "python3", exact: true };
}

function indexArgs(opts: ResolveOptions): string[] {
  const args: string[] = [];
  if (opts.noIndex) args.push("--no-index");
  if (opts.indexUrl) args.push("--index-url", opts.indexUrl);
  for (const u of opts.extraIndexUrls ?? []) args.push("--extra-index-url", u);
  for (const f of opts.findLinks ?? []) args.push("--find-links", f);
  return args;
}

async function pipResolve(opts: ResolveOptions): Promise<Resolution> {
  await using tmp = await privateTempDir();
  const { python, exact } = pickPython(opts);
  const venv = join(tmp.path, "venv");
  const env = { ...opts.env };

  const t0 = performance.now();
  const mk = await stream(python, ["-m", "venv", "--without-pip", venv], {
    env,
  });
  if (mk.code !== 0) {
    throw new KitError(
      `Could not create a temporary venv with ${python}: ${
        resolverErrorText(mk.stderr, mk.stdout)
      }`,
    );
  }
  const setupSeconds = (performance.now() - t0) / 1000;

  const inFile = join(tmp.path, "requirements.in");
  await Deno.writeTextFile(
    inFile,
    (opts.requirements ?? []).map((r) => r + "\n").join(""),
  );
  const report = join(tmp.path, "report.json");
  const args = [
    "-m",
    "pip",
    "--python",
    join(venv, "bin", "python"),
    "install",
    "--dry-run",
    "--ignore-installed",
    "--report",
    report,
    "--progress-bar",
    "off",
    "--no-input",
    "--disable-pip-version-check",
    ...indexArgs(opts),
  ];
  if (opts.pythonVersion && !exact) {
    // pip can only target another Python with binary wheels, and evaluates markers for the
    // interpreter it runs on: say so.
    args.push("--python-version", opts.pythonVersion, "--only-binary=:all:");
    opts.onWarning?.(
      `python${opts.pythonVersion} is not on PATH: pip resolves wheels for Python ${opts.pythonVersion} but evaluates markers for the host's python3 (install uv or python${opts.pythonVersion} for an exact result)`,
    );
  }
  for (const f of opts.constraintFiles ?? []) args.push("-c", f);
  for (const f of opts.requirementFiles ?? []) args.push("-r", f);
  args.push("-r", inFile);

  const t1 = performance.now();
  const r = await stream(python, args, {
    env,
    onLine: opts.onLine,
  });
  const resolverSeconds = (performance.now() - t1) / 1000;
  if (r.code !== 0) {
    throw new KitError(
      `Resolution failed (pip exited with ${r.code}):\n${
        resolverErrorText(r.stderr, r.stdout)
      }`,
    );
  }
  const data = JSON.parse(await Deno.readTextFile(report)) as PipReport;
  const direct = await directRequirements(opts);
  return {
    resolver: "pip",
    resolverVersion: `pip ${data.pip_version}`,
    pythonVersion: opts.pythonVersion && !exact
      ? opts.pythonVersion
      : data.environment?.python_version ?? "",
    environment: data.environment as Partial<MarkerEnvironment> | undefined,
    packages: fromPipReport(data, direct, opts.directLabel ?? "requirements"),
    resolverSeconds,
    setupSeconds,
  };
}

/** The direct requirements, parsed (requirement strings and -r files, for `requiredBy`). */
async function directRequirements(
  opts: ResolveOptions,
): Promise<Requirement[]> {
  const out = (opts.requirements ?? []).map((r) => parseRequirement(r));
  for (const f of opts.requirementFiles ?? []) {
    out.push(...(await readRequirementsFile(f)).requirements);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// uv

async function uvResolve(opts: ResolveOptions): Promise<Resolution> {
  await using tmp = await privateTempDir();
  const inFile = join(tmp.path, "requirements.in");
  await Deno.writeTextFile(
    inFile,
    [
      ...(opts.requirementFiles ?? []).map((f) => `-r ${resolvePath(f)}`),
      ...(opts.constraintFiles ?? []).map((f) => `-c ${resolvePath(f)}`),
      ...(opts.requirements ?? []),
    ].map((l) => l + "\n").join(""),
  );
  const outFile = join(tmp.path, "requirements.txt");
  const args = [
    "pip",
    "compile",
    inFile,
    "--generate-hashes",
    "--no-header",
    "--annotation-style",
    "split",
    "--output-file",
    outFile,
    ...indexArgs(opts),
  ];
  if (opts.pythonVersion) args.push("--python-version", opts.pythonVersion);
  const version = await stream("uv", ["--version"], { env: opts.env });
  const t1 = performance.now();
  const r = await stream("uv", args, {
    env: { ...opts.env },
    onLine: opts.onLine,
  });
  const resolverSeconds = (performance.now() - t1) / 1000;
  if (r.code !== 0) {
    throw new KitError(
      `Resolution failed (uv exited with ${r.code}):\n${
        resolverErrorText(r.stderr, r.stdout)
      }`,
    );
  }
  const parsed = parseUvOutput(await Deno.readTextFile(outFile), inFile);
  const direct = await directRequirements(opts);
  const label = opts.directLabel ?? "requirements";
  // uv's "# via" names who requires a package but not how: fill in specifiers from the direct
  // requirements; dependency edges keep an empty specifier.
  for (const p of parsed) {
    p.requiredBy = p.requiredBy.flatMap((r) => {
      if (r.by !== "-r") return [r];
      return direct.filter((d) =>
        normalizeName(d.name) === normalizeName(p.name)
      )
        .map((d) => ({
          by: label,
          specifier: d.specifier,
          ...(d.marker ? { marker: markerToString(d.marker) } : {}),
        }));
    });
    p.requested = direct.some((d) =>
      normalizeName(d.name) === normalizeName(p.name)
    );
  }
  return {
    resolver: "uv",
    resolverVersion: version.stdout.trim() || "uv",
    pythonVersion: opts.pythonVersion ?? "",
    packages: sortPackages(parsed),
    resolverSeconds,
    setupSeconds: 0,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Resolves with uv when it is on PATH (or asked for), else with pip. Throws a KitError with the
 * resolver's own error text when resolution fails.
 */
export async function resolve(opts: ResolveOptions): Promise<Resolution> {
  const which = opts.resolver ?? "auto";
  if (which === "uv" || (which === "auto" && onPath("uv"))) {
    if (!onPath("uv")) throw new KitError("uv not found on PATH");
    return await uvResolve(opts);
  }
  return await pipResolve(opts);
}
