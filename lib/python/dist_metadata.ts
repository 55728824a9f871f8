// What a wheel or an sdist says about itself: core metadata (METADATA / PKG-INFO), the build
// format (wheel, pyproject with its [build-system], or setup.py only), and its import names.
// new-package trusts this over PyPI's JSON API, which shows one upload's metadata and is often
// null or stale.
//
//   const meta = await readDistMetadata(".flox/sources/spandrel-0.4.0.tar.gz");
//   meta.format        // "pyproject"
//   meta.buildRequires // ["setuptools>=46.4.0"]
//   meta.importNames   // ["spandrel"]
//
// readDistMetadata reads the file; everything else is pure (text or member lists in).
import { basename } from "node:path";
import { unzipSync } from "fflate";
import { unpackTar } from "modern-tar";
import { parse as parseToml } from "smol-toml";
import { eq, valid } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";
import { normalizeName } from "./names.ts";

/** Everything new-package needs from a distribution file. */
export interface DistMetadata {
  /** The file's base name. */
  file: string;
  kind: "wheel" | "sdist";
  name: string;
  version: string;
  metadataVersion?: string;
  summary?: string;
  /** Home-page, or the Project-URL labelled Homepage / Repository / Source, in that order. */
  homepage?: string;
  /** Project-URL label → URL (plus "Home-page" and "Download-URL" when set), in file order. */
  projectUrls: Record<string, string>;
  license?: string;
  licenseExpression?: string;
  classifiers: string[];
  /** Requires-Dist strings as written (PEP 508). */
  requiresDist: string[];
  requiresPython?: string;
  providesExtra: string[];
  /** How Nix builds it: "wheel", "pyproject" (PEP 517) or "setuptools" (setup.py only). */
  format: "wheel" | "pyproject" | "setuptools";
  /** [build-system] requires (PEP 508), or setuptools + wheel for a setup.py-only sdist. */
  buildRequires: string[];
  buildBackend?: string;
  /** Importable top-level packages (modules only when there is no package), sorted. */
  importNames: string[];
  /** WHEEL tags (e.g. ["py3-none-any"]); empty for an sdist. */
  wheelTags: string[];
}

/** Parsed RFC 822-style core metadata: fields by lowercase name (multi-use kept), and the body. */
export interface CoreMetadata {
  fields: Map<string, string[]>;
  body: string;
}

/**
 * Parses METADATA / PKG-INFO text. Continuation lines (leading whitespace) extend the previous
 * field; the legacy "        |" prefix of Description continuations is removed. A header line
 * without a colon is malformed metadata: KitError naming `where` and the line number.
 */
export function parseCoreMetadata(text: string, where: string): CoreMetadata {
  const fields = new Map<string, string[]>();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let last: { key: string; index: number } | undefined;
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") {
      i++;
      break;
    }
    if (/^[ \t]/.test(line)) {
      if (!last) {
        throw new KitError(
          `Malformed metadata in ${where}: line ${i + 1} continues no field`,
        );
      }
      const values = fields.get(last.key)!;
      // The legacy "        |" prefix keeps the indentation after it.
      const piped = /^ {7,8}\|(.*)$/.exec(line);
      const cont = piped ? piped[1]! : line.replace(/^[ \t]+/, "");
      values[last.index] = `${values[last.index]}\n${cont}`;
      continue;
    }
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]?(.*)$/.exec(line);
    if (!m) {
      throw new KitError(
        `Malformed metadata in ${where}: line ${
          i + 1
        } is not "Field: value": "${line.slice(0, 60)}"`,
      );
    }
    const key = m[1]!.toLowerCase();
    const values = fields.get(key) ?? [];
    values.push(m[2]!.trimEnd());
    fields.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return { fields, body: lines.slice(i).join("\n") };
}

/** Reads the common fields of core metadata into a partial DistMetadata. */
function fromCore(core: CoreMetadata, where: string) {
  const one = (k: string) => {
    const v = core.fields.get(k)?.[0]?.trim();
    return v && v.toUpperCase() !== "UNKNOWN" ? v : undefined;
  };
  const many = (k: string) =>
    (core.fields.get(k) ?? []).map((v) => v.trim()).filter(Boolean);
  const name = one("name");
  const version = one("version");
  if (!name) throw new KitError(`Malformed metadata in ${where}: no Name`);
  if (!version) {
    throw new KitError(`Malformed metadata in ${where}: no Version`);
  }
  const projectUrls: Record<string, string> = {};
  const home = one("home-page");
  if (home) projectUrls["Home-page"] = home;
  for (const entry of many("project-url")) {
    const m = /^([^,]+),\s*(\S+)$/.exec(entry);
    if (m) projectUrls[m[1]!.trim()] = m[2]!;
  }
  const download = one("download-url");
  if (download) projectUrls["Download-URL"] = download;
  const summary = one("summary");
  const license = core.fields.get("license")?.[0]?.trim();
  const licenseExpression = one("license-expression");
  const metadataVersion = one("metadata-version");
  const requiresPython = one("requires-python");
  return {
    name,
    version,
    projectUrls,
    classifiers: many("classifier"),
    requiresDist: many("requires-dist"),
    providesExtra: many("provides-extra"),
    ...(summary ? { summary } : {}),
    ...(license && license.toUpperCase() !== "UNKNOWN" ? { license } : {}),
    ...(licenseExpression ? { licenseExpression } : {}),
    ...(metadataVersion ? { metadataVersion } : {}),
    ...(requiresPython ? { requiresPython } : {}),
  };
}

/** The homepage among project URLs: Home-page, then Homepage / Repository / Source labels. */
export function pickHomepage(
  urls: Record<string, string>,
): string | undefined {
  const byLabel = new Map(
    Object.entries(urls).map((
      [k, v],
    ) => [k.toLowerCase().replace(/[\s_-]+/g, ""), v]),
  );
  for (
    const label of [
      "home-page",
      "homepage",
      "home",
      "repository",
      "source",
      "sourcecode",
      "github",
      "code",
      "documentation",
    ]
  ) {
    const v = byLabel.get(label.replace(/-/g, ""));
    if (v && /^https?:\/\//.test(v)) return v;
  }
  return Object.values(urls).find((v) => /^https?:\/\//.test(v));
}

/** The GitHub owner/repo among project URLs (Repository/Source first), if any. */
export function githubRepo(
  urls: Record<string, string>,
): { owner: string; repo: string } | undefined {
  const ordered = Object.entries(urls).sort(([a], [b]) =>
    rank(a) - rank(b) || 0
  );
  for (const [, url] of ordered) {
    const m =
      /^https?:\/\/(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?(?:[/#?].*)?$/
        .exec(url);
    if (m && !["sponsors", "orgs"].includes(m[1]!)) {
      return { owner: m[1]!, repo: m[2]! };
    }
  }
  return undefined;
}

function rank(label: string): number {
  const l = label.toLowerCase();
  if (/repo|source|code|github/.test(l)) return 0;
  if (/home/.test(l)) return 1;
  return 2;
}

// ---------------------------------------------------------------------------------------------
// Import names.

const NOT_IMPORTS = new Set([
  "test",
  "tests",
  "testing",
  "doc",
  "docs",
  "example",
  "examples",
  "benchmark",
  "benchmarks",
  "scripts",
  "tools",
  "build",
  "dist",
  "setup",
  "conftest",
]);

function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !NOT_IMPORTS.has(s);
}

/**
 * Import names from a list of file paths relative to the install root (a wheel's RECORD, or an
 * sdist's package directory): top-level packages (a directory with `__init__.py`, or a
 * namespace directory's sub-packages as "ns.sub"); top-level modules only when there is no
 * package. Test, docs and example directories are not import names. Sorted.
 */
export function importNamesFromPaths(paths: readonly string[]): string[] {
  const files = new Set(paths);
  const packages = new Set<string>();
  const modules = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/");
    if (parts.length === 1) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\.py$/.exec(p);
      if (m && isIdentifier(m[1]!)) modules.add(m[1]!);
      continue;
    }
    const top = parts[0]!;
    if (!isIdentifier(top) || !/\.(py|so|pyd|pyi)$/.test(p)) continue;
    if (files.has(`${top}/__init__.py`)) packages.add(top);
    else if (
      parts.length >= 3 && isIdentifier(parts[1]!) &&
      files.has(`${top}/${parts[1]}/__init__.py`)
    ) packages.add(`${top}.${parts[1]}`);
  }
  const list = packages.size ? packages : modules;
  return [...list].sort();
}

/** Names from a top_level.txt (one per line), without test directories. Sorted. */
export function importNamesFromTopLevel(text: string): string[] {
  return [
    ...new Set(
      text.split(/\r?\n/).map((l) => l.trim().replace(/\//g, ".")).filter((l) =>
        l && l.split(".").every(isIdentifier)
      ),
    ),
  ].sort();
}

// ---------------------------------------------------------------------------------------------
// Archives.

/** The members of an archive: every path, and the bytes of the few that were asked for. */
export interface ArchiveView {
  paths: string[];
  read(path: string): Uint8Array | undefined;
}

const dec = new TextDecoder();

function text(view: ArchiveView, path: string): string | undefined {
  const b = view.read(path);
  return b ? dec.decode(b) : undefined;
}

/** Metadata of a wheel from its members. */
export function wheelMetadata(view: ArchiveView, file: string): DistMetadata {
  const distInfos = [
    ...new Set(
      view.paths.map((p) => p.split("/")[0]!).filter((d) =>
        d.endsWith(".dist-info") && view.paths.includes(`${d}/METADATA`)
      ),
    ),
  ];
  if (distInfos.length !== 1) {
    throw new KitError(
      distInfos.length
        ? `Malformed wheel ${file}: several .dist-info directories (${
          distInfos.join(", ")
        })`
        : `Malformed wheel ${file}: no *.dist-info/METADATA`,
    );
  }
  const di = distInfos[0]!;
  const where = `${file}:${di}/METADATA`;
  const core = parseCoreMetadata(text(view, `${di}/METADATA`)!, where);
  const base = fromCore(core, where);
  const wheel = text(view, `${di}/WHEEL`);
  const wheelTags = wheel
    ? parseCoreMetadata(wheel, `${file}:${di}/WHEEL`).fields.get("tag") ?? []
    : [];
  const topLevel = text(view, `${di}/top_level.txt`);
  let importNames = topLevel ? importNamesFromTopLevel(topLevel) : [];
  if (!importNames.length) {
    // Poetry, Hatch and flit write no top_level.txt: RECORD lists every installed file.
    const record = text(view, `${di}/RECORD`);
    const paths = record
      ? record.split(/\r?\n/).map((l) => l.split(",")[0]!.trim()).filter(
        Boolean,
      )
      : view.paths;
    importNames = importNamesFromPaths(
      paths.filter((p) => !/^[^/]+\.(dist-info|data)\//.test(p)),
    );
  }
  const homepage = pickHomepage(base.projectUrls);
  return {
    file,
    kind: "wheel",
    ...base,
    ...(homepage ? { homepage } : {}),
    format: "wheel",
    buildRequires: [],
    importNames,
    wheelTags: wheelTags.map((t) => t.trim()),
  };
}

/** Metadata of an sdist from its members (paths with the single top directory stripped). */
export function sdistMetadata(view: ArchiveView, file: string): DistMetadata {
  const pkgInfo = text(view, "PKG-INFO");
  const pyproject = readPyproject(view, file);
  const project = asRecord(pyproject?.["project"]);
  let base: ReturnType<typeof fromCore>;
  if (pkgInfo !== undefined) {
    base = fromCore(
      parseCoreMetadata(pkgInfo, `${file}:PKG-INFO`),
      `${file}:PKG-INFO`,
    );
  } else if (
    typeof project?.["name"] === "string" &&
    typeof project["version"] === "string"
  ) {
    base = {
      name: project["name"],
      version: project["version"],
      projectUrls: {},
      classifiers: [],
      requiresDist: [],
      providesExtra: [],
    };
  } else {
    throw new KitError(
      `Malformed sdist ${file}: no PKG-INFO and no static [project] name and version`,
    );
  }
  // PKG-INFO before Metadata 2.x may lack what [project] declares statically.
  if (project) fillFromProject(base, project);
  if (!base.requiresDist.length) {
    const requires = text(view, `${eggInfoDir(view) ?? ""}/requires.txt`);
    if (requires) base.requiresDist = parseRequiresTxt(requires);
  }

  const { format, buildRequires, buildBackend, importNames } = buildInfo(
    view,
    pyproject,
    `sdist ${file}`,
  );
  const homepage = pickHomepage(base.projectUrls);
  return {
    file,
    kind: "sdist",
    ...base,
    ...(homepage ? { homepage } : {}),
    format,
    buildRequires,
    ...(buildBackend ? { buildBackend } : {}),
    importNames,
    wheelTags: [],
  };
}

/** How a source tree builds: format, [build-system] requirements, backend, import names. */
export interface BuildInfo {
  format: "pyproject" | "setuptools";
  buildRequires: string[];
  buildBackend?: string;
  importNames: string[];
}

/**
 * The build of a source tree (an sdist, or a GitHub archive) from its members, paths relative
 * to the project root. KitError when it has neither pyproject.toml nor setup.py.
 */
export function sourceTreeBuild(view: ArchiveView, what: string): BuildInfo {
  return buildInfo(view, readPyproject(view, what), what);
}

/** The tree's pyproject.toml parsed, or undefined without one; KitError naming `what` when malformed. */
function readPyproject(
  view: ArchiveView,
  what: string,
): Record<string, unknown> | undefined {
  const pyprojectText = text(view, "pyproject.toml");
  if (pyprojectText === undefined) return undefined;
  try {
    return parseToml(pyprojectText) as Record<string, unknown>;
  } catch (e) {
    throw new KitError(
      `Malformed pyproject.toml in ${what}: ${
        (e instanceof Error ? e.message : String(e)).split("\n")[0]
      }`,
    );
  }
}

function buildInfo(
  view: ArchiveView,
  pyproject: Record<string, unknown> | undefined,
  what: string,
): BuildInfo {
  const buildSystem = asRecord(pyproject?.["build-system"]);
  const hasSetupPy = view.paths.includes("setup.py");
  let format: BuildInfo["format"];
  let buildRequires: string[];
  let buildBackend: string | undefined;
  if (buildSystem && Array.isArray(buildSystem["requires"])) {
    format = "pyproject";
    buildRequires = buildSystem["requires"].filter((r): r is string =>
      typeof r === "string"
    );
    if (typeof buildSystem["build-backend"] === "string") {
      buildBackend = buildSystem["build-backend"];
    }
  } else if (hasSetupPy) {
    format = "setuptools";
    buildRequires = ["setuptools", "wheel"];
  } else if (pyproject) {
    // PEP 517's fallback for a pyproject.toml without [build-system]: setuptools' legacy backend.
    format = "pyproject";
    buildRequires = ["setuptools", "wheel"];
  } else {
    throw new KitError(
      `Malformed ${what}: neither pyproject.toml nor setup.py`,
    );
  }

  let importNames: string[] = [];
  for (const prefix of ["src/", ""]) {
    const under = view.paths.filter((p) => p.startsWith(prefix)).map((p) =>
      p.slice(prefix.length)
    ).filter((p) => prefix || !p.startsWith("src/"));
    importNames = importNamesFromPaths(
      under.filter((p) => p.includes("/")),
    );
    if (importNames.length) break;
  }
  if (!importNames.length) {
    const egg = eggInfoDir(view);
    const top = egg ? text(view, `${egg}/top_level.txt`) : undefined;
    importNames = top
      ? importNamesFromTopLevel(top)
      : importNamesFromPaths(view.paths.filter((p) => !p.includes("/")));
  }
  return {
    format: format as BuildInfo["format"],
    buildRequires,
    ...(buildBackend ? { buildBackend } : {}),
    importNames,
  };
}

function eggInfoDir(view: ArchiveView): string | undefined {
  return view.paths.find((p) => /^(src\/)?[^/]+\.egg-info\/PKG-INFO$/.test(p))
    ?.replace(/\/PKG-INFO$/, "");
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

function fillFromProject(
  base: ReturnType<typeof fromCore>,
  project: Record<string, unknown>,
): void {
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  if (!base.summary && typeof project["description"] === "string") {
    base.summary = project["description"];
  }
  if (!base.requiresDist.length) {
    base.requiresDist = strings(project["dependencies"]);
    const optional = asRecord(project["optional-dependencies"]) ?? {};
    for (const [extra, reqs] of Object.entries(optional)) {
      base.providesExtra.push(extra);
      for (const r of strings(reqs)) {
        base.requiresDist.push(withExtraMarker(r, extra));
      }
    }
  }
  if (!base.classifiers.length) {
    base.classifiers = strings(project["classifiers"]);
  }
  const license = project["license"];
  if (!base.licenseExpression && !base.license) {
    if (typeof license === "string") base.licenseExpression = license;
    else if (typeof asRecord(license)?.["text"] === "string") {
      base.license = asRecord(license)!["text"] as string;
    }
  }
  if (!base.requiresPython && typeof project["requires-python"] === "string") {
    base.requiresPython = project["requires-python"];
  }
  for (const [k, v] of Object.entries(asRecord(project["urls"]) ?? {})) {
    if (typeof v === "string" && !(k in base.projectUrls)) {
      base.projectUrls[k] = v;
    }
  }
}

function withExtraMarker(req: string, extra: string): string {
  const i = req.indexOf(";");
  return i < 0
    ? `${req}; extra == "${extra}"`
    : `${req.slice(0, i).trimEnd()}; (${
      req.slice(i + 1).trim()
    }) and extra == "${extra}"`;
}

/**
 * Requirements from setuptools' egg-info requires.txt: plain lines, then `[extra]`,
 * `[:marker]` or `[extra:marker]` sections, as PEP 508 strings with markers.
 */
export function parseRequiresTxt(text: string): string[] {
  const out: string[] = [];
  let marker = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const section = /^\[([^\]:]*)(?::(.*))?\]$/.exec(line);
    if (section) {
      const parts: string[] = [];
      if (section[2]?.trim()) parts.push(`(${section[2].trim()})`);
      if (section[1]?.trim()) parts.push(`extra == "${section[1].trim()}"`);
      marker = parts.join(" and ");
      continue;
    }
    out.push(marker ? `${line}; ${marker}` : line);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// I/O.

/** The kind of a distribution file, from its name. */
export function distKind(file: string): "wheel" | "sdist" | undefined {
  if (/\.whl$/i.test(file)) return "wheel";
  if (/\.(tar\.gz|tgz|zip|tar)$/i.test(file)) return "sdist";
  return undefined;
}

const SDIST_WANTED =
  /^(PKG-INFO|pyproject\.toml|setup\.cfg|(src\/)?[^/]+\.egg-info\/(PKG-INFO|top_level\.txt|requires\.txt))$/;

/** Opens the members new-package reads, from the file's bytes. */
export async function openArchive(
  bytes: Uint8Array,
  file: string,
): Promise<ArchiveView> {
  const kind = distKind(file);
  const wanted = (p: string) =>
    kind === "wheel"
      ? /^[^/]+\.dist-info\/(METADATA|WHEEL|top_level\.txt|RECORD)$/.test(p)
      : SDIST_WANTED.test(p);
  try {
    if (/\.(whl|zip)$/i.test(file)) {
      const all: string[] = [];
      const raw = unzipSync(bytes, {
        filter: (f) => {
          all.push(f.name);
          const want = wanted(stripTop(f.name, kind));
          if (want) checkMemberSize(file, f.name, f.originalSize);
          return want;
        },
      });
      return view(all, raw, kind);
    }
    const tar = /\.(tar\.gz|tgz)$/i.test(file)
      ? new Uint8Array(
        await new Response(
          new Blob([bytes as BlobPart]).stream().pipeThrough(
            new DecompressionStream("gzip"),
          ),
        ).arrayBuffer(),
      )
      : bytes;
    const all: string[] = [];
    const entries = await unpackTar(tar, {
      filter: (h) => {
        if (h.type === "file" || h.type === undefined) all.push(h.name);
        const want = wanted(stripTop(h.name, kind));
        if (want) checkMemberSize(file, h.name, h.size);
        return want;
      },
    });
    const raw: Record<string, Uint8Array> = {};
    for (const e of entries) if (e.data) raw[e.header.name] = e.data;
    return view(all, raw, kind);
  } catch (e) {
    if (e instanceof KitError) throw e;
    throw new KitError(
      `Cannot read ${file}: ${
        (e instanceof Error ? e.message : String(e)).split("\n")[0]
      }`,
    );
  }
}

/** Metadata members (METADATA, PKG-INFO, pyproject.toml …) larger than this are refused. */
const MAX_MEMBER = 16 * 1024 * 1024;

/** Refuses to inflate a metadata member too large to be real (a zip bomb). */
function checkMemberSize(file: string, member: string, size: number): void {
  if (size > MAX_MEMBER) {
    throw new KitError(
      `Cannot read ${file}: ${member} is ${
        Math.round(size / 2 ** 20)
      } MiB, too large for metadata (at most ${MAX_MEMBER / 2 ** 20} MiB)`,
    );
  }
}

function stripTop(path: string, kind: "wheel" | "sdist" | undefined): string {
  const p = path.replace(/^\.\//, "");
  return kind === "sdist" ? p.replace(/^[^/]+\//, "") : p;
}

function view(
  all: string[],
  raw: Record<string, Uint8Array>,
  kind: "wheel" | "sdist" | undefined,
): ArchiveView {
  if (kind === "sdist") {
    const tops = new Set(all.map((p) => p.replace(/^\.\//, "").split("/")[0]));
    if (tops.size !== 1) {
      throw new KitError(
        `an sdist must hold one top directory, found ${tops.size}`,
      );
    }
  }
  const data = new Map(
    Object.entries(raw).map(([k, v]) => [stripTop(k, kind), v]),
  );
  return {
    paths: all.map((p) => stripTop(p, kind)).filter((p) =>
      p && !p.endsWith("/")
    ),
    read: (p) => data.get(p),
  };
}

/**
 * Reads a wheel (.whl) or sdist (.tar.gz / .zip) from disk: its core metadata, build format
 * and import names. KitError (naming the file) when it is not a distribution or is malformed.
 */
export async function readDistMetadata(path: string): Promise<DistMetadata> {
  const file = basename(path);
  const kind = distKind(file);
  if (!kind) {
    throw new KitError(
      `Not a wheel or sdist: "${file}" (expected .whl, .tar.gz or .zip)`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`No such file: "${path}"`);
    }
    throw e;
  }
  return distMetadataFromBytes(bytes, file);
}

/** Same as readDistMetadata, from bytes already in memory (`file` gives name and kind). */
export async function distMetadataFromBytes(
  bytes: Uint8Array,
  file: string,
): Promise<DistMetadata> {
  const view = await openArchive(bytes, file);
  const meta = distKind(file) === "wheel"
    ? wheelMetadata(view, file)
    : sdistMetadata(view, file);
  checkFileName(meta, file);
  return meta;
}

// A wheel's or sdist's file name repeats its name and version; a mismatch means a renamed file.
function checkFileName(meta: DistMetadata, file: string): void {
  const stem = file.replace(/\.(whl|tar\.gz|tgz|zip|tar)$/i, "");
  const [fname, fversion] = meta.kind === "wheel" ? stem.split("-") : [
    stem.slice(0, stem.lastIndexOf("-")),
    stem.slice(stem.lastIndexOf("-") + 1),
  ];
  if (
    fname === undefined || normalizeName(fname) !== normalizeName(meta.name) ||
    fversion === undefined || !sameVersion(fversion, meta.version)
  ) {
    throw new KitError(
      `${file} says it is ${meta.name} ${meta.version}: the file name does not match its metadata`,
    );
  }
}

function sameVersion(a: string, b: string): boolean {
  return a === b || (valid(a) !== null && valid(b) !== null && eq(a, b));
}
