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
import { parse as parseToml } from "smol-toml";
import { eq, valid } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";
import { normalizeName } from "./names.ts";
import {
  asRecord,
  fillFromProject,
  fromCore,
  linkedRepository,
  parseCoreMetadata,
  parseRequiresTxt,
  pickChangelog,
  pickHomepage,
} from "./core_metadata.ts";
import {
  checkImportNames,
  importNamesFromPaths,
  importNamesFromTopLevel,
} from "./import_names.ts";
import {
  type ArchiveView,
  distKind,
  LICENSE_FILE,
  openArchive,
  readText as text,
} from "./dist_archive.ts";
import type { ShippedLicense } from "./license_weigh.ts";

export {
  githubRepo,
  parseCoreMetadata,
  parseRequiresTxt,
  pickHomepage,
} from "./core_metadata.ts";
export { importNamesFromPaths } from "./import_names.ts";
export { openArchive } from "./dist_archive.ts";

/** Everything new-package needs from a distribution file. */
export interface DistMetadata {
  /** The file's base name. */
  file: string;
  kind: "wheel" | "sdist";
  name: string;
  version: string;
  metadataVersion?: string;
  summary?: string;
  /** See pickHomepage; else the project's GitHub repository its description links to. */
  homepage?: string;
  /** The Project-URL labelled Changelog (or Changes, Release notes …). */
  changelog?: string;
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
  /** [build-system] requires (PEP 508), or setuptools when the tree declares none. */
  buildRequires: string[];
  buildBackend?: string;
  /** Importable top-level packages (modules only when there is no package), sorted. */
  importNames: string[];
  /** WHEEL tags (e.g. ["py3-none-any"]); empty for an sdist. */
  wheelTags: string[];
  /** top_level.txt names the wheel holds no package or module for (left out of importNames). */
  droppedImports?: string[];
  /** The licence texts it ships (`*.dist-info/licenses/*`, LICENSE*, COPYING*), by path. */
  licenseFiles: ShippedLicense[];
}

/** The licence files among the members (a wheel's in its .dist-info, an sdist's at the top). */
function licenseFiles(view: ArchiveView, wheel: boolean): ShippedLicense[] {
  return view.paths.filter((p) =>
    LICENSE_FILE.test(p) && p.includes(".dist-info/") === wheel
  ).sort().flatMap((path) => {
    const t = text(view, path);
    return t === undefined ? [] : [{ path, text: t }];
  });
}

/** Metadata of a wheel from its members. */
function wheelMetadata(view: ArchiveView, file: string): DistMetadata {
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
  const checked = checkImportNames(
    topLevel ? importNamesFromTopLevel(topLevel) : [],
    view.paths,
  );
  let importNames = checked.kept;
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
  return {
    file,
    kind: "wheel",
    ...base,
    ...urlsOf(base, core.body),
    format: "wheel",
    buildRequires: [],
    importNames,
    wheelTags: wheelTags.map((t) => t.trim()),
    licenseFiles: licenseFiles(view, true),
    ...(checked.dropped.length ? { droppedImports: checked.dropped } : {}),
  };
}

/** Metadata of an sdist from its members (paths with the single top directory stripped). */
function sdistMetadata(view: ArchiveView, file: string): DistMetadata {
  const pkgInfo = text(view, "PKG-INFO");
  const pyproject = readPyproject(view, file);
  const project = asRecord(pyproject?.["project"]);
  let base: ReturnType<typeof fromCore>;
  let body = "";
  if (pkgInfo !== undefined) {
    const core = parseCoreMetadata(pkgInfo, `${file}:PKG-INFO`);
    body = core.body;
    base = fromCore(core, `${file}:PKG-INFO`);
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
  return {
    file,
    kind: "sdist",
    ...base,
    ...urlsOf(base, body),
    format,
    buildRequires,
    ...(buildBackend ? { buildBackend } : {}),
    importNames,
    wheelTags: [],
    licenseFiles: licenseFiles(view, false),
  };
}

function urlsOf(
  base: { name: string; projectUrls: Record<string, string> },
  body: string,
): { homepage?: string; changelog?: string } {
  const homepage = pickHomepage(base.projectUrls) ??
    linkedRepository(body, base.name);
  const changelog = pickChangelog(base.projectUrls);
  return {
    ...(homepage ? { homepage } : {}),
    ...(changelog ? { changelog } : {}),
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
    // setuptools >= 70.1 builds wheels itself; nixpkgs lists only setuptools.
    buildRequires = ["setuptools"];
  } else if (pyproject) {
    // PEP 517's fallback for a pyproject.toml without [build-system]: setuptools' legacy backend.
    format = "pyproject";
    buildRequires = ["setuptools"];
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
