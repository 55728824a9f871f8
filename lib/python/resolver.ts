// Dependency resolution with a real resolver, never a home-made one: `uv pip compile` when uv is
// on PATH, else `pip install --dry-run --ignore-installed --report` run against a private,
// temporary venv (pip's `--python`, so no pip is installed into it; removed on every exit path,
// Ctrl-C included). The result is the pinned tree with, for each package, who requires it (with
// specifiers and markers) and the sha256 of its files, rendered as a pip hash-checking lock file.
//
//   const r = await resolve({ requirements: ["torch", "numpy>=1.25"], findLinks: ["./wheels"] });
//   const lock = renderLockFile(r, ["# header"]);
import { join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { eq, valid } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";
import { sha256File, toHex } from "../hash/sha256.ts";
import { normalizeName } from "./names.ts";
import {
  evaluateMarker,
  type MarkerEnvironment,
  markerToString,
  parseRequirement,
  type Requirement,
} from "./pep508.ts";
import { onPath, stream } from "../kit/command.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { readRequirementsFile } from "./requirements.ts";

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

/** What to resolve and where from. */
export interface ResolveOptions {
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

/** The `install` entries of pip's installation report (format version 1) that we use. */
interface PipReport {
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

/** Error text worth showing from a failed resolver run: its ERROR lines and what follows. */
export function resolverErrorText(stderr: string, stdout = ""): string {
  const text = (stderr.trim() || stdout.trim()).replace(/\r/g, "");
  const lines = text.split("\n");
  const first = lines.findIndex((l) => /^(ERROR|error|\s*×)/.test(l));
  const relevant = first >= 0 ? lines.slice(first) : lines.slice(-15);
  return relevant.join("\n").trim() || "(no output)";
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
      `could not create a temporary venv with ${python}: ${
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
      `resolution failed (pip exited with ${r.code}):\n${
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

/** Builds the tree from pip's report: requiredBy from each package's `requires_dist`. */
export function fromPipReport(
  report: PipReport,
  direct: readonly Requirement[],
  directLabel: string,
): ResolvedPackage[] {
  const env = report.environment ?? {};
  const byName = new Map<string, ResolvedPackage>();
  for (const item of report.install) {
    const m = item.metadata;
    const hashes = new Set<string>();
    const ai = item.download_info?.archive_info;
    if (ai?.hashes?.sha256) hashes.add(`sha256:${ai.hashes.sha256}`);
    else if (ai?.hash?.startsWith("sha256=")) {
      hashes.add(`sha256:${ai.hash.slice(7)}`);
    }
    byName.set(normalizeName(m.name), {
      name: m.name,
      version: m.version,
      requested: item.requested === true,
      requiredBy: [],
      hashes: [...hashes],
      url: item.download_info?.url,
    });
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

function sortPackages(pkgs: ResolvedPackage[]): ResolvedPackage[] {
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
      `resolution failed (uv exited with ${r.code}):\n${
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

// ---------------------------------------------------------------------------------------------
// Hashes of every file of a release

/** A distribution file name's project and version, or undefined. */
export function parseDistFileName(
  file: string,
): { name: string; version: string; kind: "wheel" | "sdist" } | undefined {
  if (file.endsWith(".whl")) {
    const parts = file.slice(0, -4).split("-");
    if (parts.length < 5) return undefined;
    return { name: parts[0]!, version: parts[1]!, kind: "wheel" };
  }
  const m = file.match(/^(.+)-([^-]+)\.(?:tar\.gz|zip|tar\.bz2|tgz)$/);
  return m ? { name: m[1]!, version: m[2]!, kind: "sdist" } : undefined;
}

function sameRelease(
  file: string,
  name: string,
  version: string,
): boolean {
  const p = parseDistFileName(file);
  if (!p || normalizeName(p.name) !== normalizeName(name)) return false;
  if (p.version === version) return true;
  return valid(p.version) !== null && valid(version) !== null &&
    eq(p.version, version);
}

/** `(file, sha256)` pairs of a PEP 503 simple page whose links carry `#sha256=` fragments. */
export function parseSimplePage(
  html: string,
): { file: string; sha256: string }[] {
  const out: { file: string; sha256: string }[] = [];
  for (
    const m of html.matchAll(/<a\s[^>]*href\s*=\s*["']([^"']+)["'][^>]*>/gi)
  ) {
    const href = m[1]!.replaceAll("&amp;", "&");
    const frag = href.match(/#sha256=([0-9a-fA-F]{64})/);
    if (!frag) continue;
    const file = decodeURIComponent(
      href.replace(/#.*$/, "").replace(/\?.*$/, "").split("/").pop() ?? "",
    );
    if (file) out.push({ file, sha256: frag[1]!.toLowerCase() });
  }
  return out;
}

/** Where to look for the other files of each release. */
export interface HashSources {
  indexUrls?: readonly string[];
  findLinks?: readonly string[];
  fetch?: typeof fetch;
  /** Notes for the user (an index that could not be read). */
  onWarning?: (message: string) => void;
}

async function readSimplePage(
  indexUrl: string,
  project: string,
  fetchFn: typeof fetch,
): Promise<string | undefined> {
  const base = indexUrl.replace(/\/+$/, "");
  const url = `${base}/${normalizeName(project)}/`;
  if (url.startsWith("file:")) {
    const dir = fileURLToPath(url);
    try {
      return await Deno.readTextFile(join(dir, "index.html"));
    } catch {
      return undefined;
    }
  }
  const res = await fetchFn(url, { headers: { accept: "text/html" } });
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  return await res.text();
}

/**
 * Adds to each package the sha256 of every file of its release found in the find-links
 * folders (hashed here) and on the simple indexes (their `#sha256=` fragments), so the lock
 * file accepts the wheel of any platform, not only the one the resolver picked.
 */
export async function completeHashes(
  pkgs: ResolvedPackage[],
  src: HashSources,
): Promise<void> {
  const fetchFn = src.fetch ?? fetch;
  const folders: { dir: string; files: string[] }[] = [];
  for (const f of src.findLinks ?? []) {
    if (/^https?:/.test(f)) continue;
    const dir = f.startsWith("file:") ? fileURLToPath(f) : f;
    try {
      const files: string[] = [];
      for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(e.name);
      folders.push({ dir, files: files.sort() });
    } catch {
      src.onWarning?.(`cannot list find-links folder "${f}"`);
    }
  }
  const warned = new Set<string>();
  const work = pkgs.map((p) => async () => {
    const hashes = new Set(p.hashes);
    for (const { dir, files } of folders) {
      for (const file of files) {
        if (sameRelease(file, p.name, p.version)) {
          hashes.add(`sha256:${toHex(await sha256File(join(dir, file)))}`);
        }
      }
    }
    for (const index of src.indexUrls ?? []) {
      let page: string | undefined;
      try {
        page = await readSimplePage(index, p.name, fetchFn);
      } catch (e) {
        if (!warned.has(index)) {
          warned.add(index);
          src.onWarning?.(
            `cannot read the simple index "${index}" (${
              (e as Error).message
            }): lock file hashes cover only the files the resolver picked`,
          );
        }
        continue;
      }
      for (const { file, sha256 } of parseSimplePage(page ?? "")) {
        if (sameRelease(file, p.name, p.version)) {
          hashes.add(`sha256:${sha256}`);
        }
      }
    }
    p.hashes = [...hashes].sort();
  });
  // A few at a time: enough to hide latency, polite to a real index.
  const queue = [...work];
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Lock file

/**
 * The lock file in pip's hash-checking format, deterministic: packages sorted by normalised
 * name, hashes sorted, `# via` lines sorted, no dates. Install with
 * `pip install --require-hashes -r requirements.lock.txt`.
 */
export function renderLockFile(
  packages: readonly ResolvedPackage[],
  header: readonly string[],
): string {
  const lines = header.map((h) => h === "" ? "#" : `# ${h}`);
  // Sorted here, whatever order the caller has: the same tree always gives the same bytes.
  const byName = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;
  const sorted = packages
    .map((p) => ({ p, key: normalizeName(p.name) }))
    .sort((a, b) => byName(a.key, b.key));
  for (const { p, key } of sorted) {
    const hashList = [...new Set(p.hashes)].sort(byName);
    const hashes = hashList.length === 0 ? [`${key}==${p.version}`] : [
      `${key}==${p.version} \\`,
      ...hashList.map((h, i) =>
        `    --hash=${h}${i < hashList.length - 1 ? " \\" : ""}`
      ),
    ];
    lines.push(...hashes);
    const via = [...new Set(p.requiredBy.map((r) => r.by))].sort(byName);
    if (via.length > 0) {
      lines.push(`    # via ${via.join(", ")}`);
    }
  }
  return lines.join("\n") + "\n";
}
