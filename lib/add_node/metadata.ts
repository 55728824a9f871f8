// What a node pack says about itself: pyproject.toml's [project] and [tool.comfy], its
// requirements.txt (comments, markers, `-r` includes; direct references, editable and local
// lines reported, not dropped) and the licence texts it ships. Pure: files in, facts out.
import { parse as parseToml } from "smol-toml";
import { posix } from "node:path";
import { KitError } from "../kit/errors.ts";
import { LICENSE_FILE } from "../python/dist_archive.ts";
import type { ShippedLicense } from "../python/license_weigh.ts";
import type { LicenseFields } from "../python/license.ts";
import { parseRequirementsFile } from "../python/requirements.ts";
import { parseRequirement, requirementToString } from "../python/pep508.ts";
import { type PackFiles, text } from "./pack.ts";

/** One requirement of the pack and where it was written. */
export interface PackRequirement {
  /** PEP 508 text as written. */
  text: string;
  /** `requirements.txt:3` or `pyproject.toml [project] dependencies`. */
  where: string;
}

/** A line the kit cannot pin (a URL, a path, an editable install), with why. */
export interface Unpinnable {
  text: string;
  where: string;
  why: string;
}

/** A pack's metadata. */
export interface PackMeta {
  name?: string;
  version?: string;
  description?: string;
  homepage?: string;
  requiresPython?: string;
  publisherId?: string;
  displayName?: string;
  requiresComfyui?: string;
  license: LicenseFields;
  licenseFiles: ShippedLicense[];
  requirements: PackRequirement[];
  unpinnable: Unpinnable[];
  /** Where the requirements came from ("pyproject.toml", "requirements.txt", both or none). */
  requirementSources: string[];
}

type Table = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function table(v: unknown): Table {
  return v && typeof v === "object" && !Array.isArray(v) ? v as Table : {};
}

/** Reads everything add-node needs from the pack's files. */
export function readPackMeta(files: PackFiles): PackMeta {
  const meta: PackMeta = {
    license: {},
    licenseFiles: [],
    requirements: [],
    unpinnable: [],
    requirementSources: [],
  };
  const py = text(files, "pyproject.toml");
  if (py !== undefined) readPyproject(py, meta);
  if (files.has("requirements.txt")) {
    readRequirements(files, "requirements.txt", [], meta);
    meta.requirementSources.push("requirements.txt");
  }
  for (const [path, bytes] of files) {
    if (path.includes("/") || !LICENSE_FILE.test(path)) continue;
    meta.licenseFiles.push({ path, text: new TextDecoder().decode(bytes) });
  }
  meta.licenseFiles.sort((a, b) => a.path.localeCompare(b.path));
  return meta;
}

function readPyproject(source: string, meta: PackMeta): void {
  let doc: Table;
  try {
    doc = parseToml(source) as Table;
  } catch (e) {
    throw new KitError(
      `pyproject.toml: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const project = table(doc.project);
  const comfy = table(table(doc.tool).comfy);
  const set = <K extends keyof PackMeta>(k: K, v: PackMeta[K] | undefined) => {
    if (v !== undefined) meta[k] = v;
  };
  set("name", str(project.name));
  set("version", str(project.version));
  set("description", str(project.description));
  set("requiresPython", str(project["requires-python"]));
  const urls = table(project.urls);
  set(
    "homepage",
    str(urls.Repository) ?? str(urls.Homepage) ?? str(urls.homepage) ??
      str(urls.repository),
  );
  set("publisherId", str(comfy.PublisherId));
  set("displayName", str(comfy.DisplayName));
  set("requiresComfyui", str(comfy["requires-comfyui"]));
  const lic = project.license;
  if (typeof lic === "string") meta.license.licenseExpression = lic;
  else if (str(table(lic).text)) meta.license.license = str(table(lic).text);
  if (Array.isArray(project.classifiers)) {
    meta.license.classifiers = project.classifiers.filter((c): c is string =>
      typeof c === "string"
    );
  }
  if (project.dependencies === undefined) return;
  if (!Array.isArray(project.dependencies)) {
    throw new KitError("pyproject.toml: [project] dependencies is not a list");
  }
  meta.requirementSources.push("pyproject.toml");
  project.dependencies.forEach((d, i) => {
    const where = `pyproject.toml [project] dependencies[${i}]`;
    if (typeof d !== "string") {
      throw new KitError(`${where} is not a string`);
    }
    addRequirement(meta, d, where);
  });
}

/** A requirement, or an unpinnable line when it is a direct reference. */
function addRequirement(meta: PackMeta, req: string, where: string): void {
  try {
    const r = parseRequirement(req);
    if (r.url) {
      meta.unpinnable.push({
        text: req,
        where,
        why: "a direct reference (URL): the kit pins named releases only",
      });
      return;
    }
  } catch (e) {
    throw new KitError(`${where}: ${(e as Error).message}`);
  }
  meta.requirements.push({ text: req, where });
}

// A line pip reads as a URL, a local path or an editable install, not a named requirement.
const DIRECT =
  /^(-e\s|--editable[\s=]|git\+|hg\+|svn\+|bzr\+|[A-Za-z][A-Za-z0-9+.-]*:\/\/|\.{0,2}\/|[^\s;]+\.(whl|zip|tar\.gz)\b)/;

/** requirements.txt and the files it includes with -r, relative to it inside the pack. */
function readRequirements(
  files: PackFiles,
  path: string,
  stack: string[],
  meta: PackMeta,
): void {
  if (stack.includes(path)) {
    throw new KitError(
      `Requirements files include each other: ${[...stack, path].join(" -> ")}`,
    );
  }
  const source = text(files, path);
  if (source === undefined) {
    throw new KitError(
      `${stack.at(-1)}: includes "${path}", which the pack does not hold`,
    );
  }
  // Lines the parser refuses (URLs, paths, -e) are reported, then blanked so the line numbers
  // of the rest stay right.
  const kept = source.split(/\r?\n/).map((line, i) => {
    const t = line.replace(/(^|\s)#.*$/, "").trim();
    if (!DIRECT.test(t)) return line;
    meta.unpinnable.push({
      text: t,
      where: `${path}:${i + 1}`,
      why: /^(-e|--editable)/.test(t)
        ? "an editable install"
        : /^\.{0,2}\//.test(t) || !t.includes("://")
        ? "a local path"
        : "a URL (git or archive), not a named release",
    });
    return "";
  });
  const f = parseRequirementsFile(kept.join("\n"), path);
  for (const r of f.requirements) {
    addRequirement(meta, requirementToString(r), `${path}:${r.line}`);
  }
  for (const inc of f.includes) {
    if (inc.kind === "constraint") continue;
    const target = posix.normalize(posix.join(posix.dirname(path), inc.path));
    readRequirements(files, target, [...stack, path], meta);
  }
}
