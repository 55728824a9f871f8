// Core metadata (METADATA / PKG-INFO, PEP 566 and later) as text: the parser, the fields
// new-package reads, the homepage/changelog/repository among the project URLs, and the
// [project] table and egg-info requires.txt that stand in for older metadata.
//
//   const core = parseCoreMetadata(text, "x-1.0.dist-info/METADATA");
//   pickHomepage({ Homepage: "https://example.org" }) // "https://example.org"
//
// Pure functions, no I/O.
import { KitError } from "../kit/errors.ts";
import { normalizeName } from "./names.ts";

/** Parsed RFC 822-style core metadata: fields by lowercase name (multi-use kept), and the body. */
interface CoreMetadata {
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
export function fromCore(core: CoreMetadata, where: string) {
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

const byLabel = (urls: Record<string, string>) =>
  new Map(
    Object.entries(urls).map((
      [k, v],
    ) => [k.toLowerCase().replace(/[\s_-]+/g, ""), v]),
  );

function firstLabelled(
  urls: Record<string, string>,
  labels: readonly string[],
): string | undefined {
  const map = byLabel(urls);
  for (const label of labels) {
    const v = map.get(label);
    if (v && /^https?:\/\//.test(v)) return v;
  }
  return undefined;
}

/**
 * The homepage among project URLs: the Project-URL labelled Homepage, then Source, then
 * Repository (and their common spellings), then the Home-page field. Undefined when none is
 * an http(s) URL: documentation, issue trackers and downloads are not homepages.
 */
export function pickHomepage(
  urls: Record<string, string>,
): string | undefined {
  const { ["Home-page"]: homePage, ...labelled } = urls;
  return firstLabelled(labelled, [
    "homepage",
    "home",
    "source",
    "sourcecode",
    "repository",
    "repo",
    "github",
    "code",
  ]) ?? firstLabelled({ homepage: homePage ?? "" }, ["homepage"]);
}

/** The changelog among project URLs (Changelog, Changes, Release notes, History, News). */
export function pickChangelog(
  urls: Record<string, string>,
): string | undefined {
  return firstLabelled(urls, [
    "changelog",
    "changes",
    "releasenotes",
    "history",
    "whatsnew",
    "news",
  ]);
}

/**
 * The GitHub repository named like the project that the long description links to
 * ("https://github.com/chaiNNer-org/spandrel" in spandrel's README), for metadata that names
 * no URL at all. Undefined when no such link is there.
 */
export function linkedRepository(
  body: string,
  name: string,
): string | undefined {
  const want = normalizeName(name);
  for (
    const m of body.matchAll(
      /https:\/\/github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)/g,
    )
  ) {
    const repo = m[2]!.replace(/\.git$/, "");
    if (normalizeName(repo) === want) {
      return `https://github.com/${m[1]}/${repo}`;
    }
  }
  return undefined;
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

/** `v` when it is a plain object (a TOML table), else undefined. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

/** Fills what older core metadata lacks from pyproject.toml's static [project] table. */
export function fillFromProject(
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
