// PyPI's JSON API (`<base>/pypi/<name>[/<version>]/json`): fetch a release, validate it at the
// boundary with zod (a malformed response names the field), and pick the file to vendor.
import { compare, eq, explain, valid } from "@renovatebot/pep440";
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import { plainFileNameProblem } from "../kit/fsutil.ts";
import { isValidProjectName, normalizeName } from "../python/names.ts";
import {
  type FetchFn,
  fetchJson,
  HttpStatusError,
  type RequestOptions,
} from "./http.ts";
import { baseUrlFrom, type EnvLike } from "../kit/env.ts";
import { parseWith } from "../kit/schema.ts";

/** The default PyPI base URL. */
const DEFAULT_PYPI_URL = "https://pypi.org";

/** PyPI's base URL: `COMFYKIT_PYPI_URL` or https://pypi.org (no trailing slash). */
export function pypiUrl(env: EnvLike = Deno.env): string {
  try {
    return baseUrlFrom(env, "COMFYKIT_PYPI_URL", DEFAULT_PYPI_URL);
  } catch (e) {
    throw new KitError((e as Error).message);
  }
}

const fileSchema = z.object({
  filename: z.string().min(1),
  url: z.string().regex(/^https?:\/\/\S+$/, "expected an http(s) URL"),
  packagetype: z.string(),
  digests: z.object({
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex characters"),
  }),
  yanked: z.boolean().optional().default(false),
  size: z.number().int().nonnegative().optional(),
  requires_python: z.string().nullable().optional(),
});

const infoSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  summary: z.string().nullable().optional(),
  license: z.string().nullable().optional(),
  license_expression: z.string().nullable().optional(),
  requires_dist: z.array(z.string()).nullable().optional(),
  yanked: z.boolean().optional(),
});

const releaseSchema = z.object({
  info: infoSchema,
  urls: z.array(fileSchema),
});

const projectSchema = releaseSchema.extend({
  releases: z.record(z.string(), z.array(fileSchema)).optional(),
});

/** One file of a release, as PyPI describes it (validated). */
type PypiFile = z.infer<typeof fileSchema>;
/** A release: project info and its files (`urls`). */
export type PypiRelease = z.infer<typeof releaseSchema>;

const VERSION_TEXT = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;

/**
 * Fetches and validates a release from PyPI's JSON API. Without `version`, the latest release
 * that has a non-yanked file (final releases preferred over pre-releases) is chosen.
 */
export async function fetchRelease(
  base: string,
  name: string,
  version?: string,
  opts: RequestOptions | FetchFn = {},
): Promise<PypiRelease> {
  const ro: RequestOptions = typeof opts === "function"
    ? { fetch: opts }
    : opts;
  if (!isValidProjectName(name)) {
    throw new KitError(`"${name}" is not a valid PyPI project name`);
  }
  if (version !== undefined && !VERSION_TEXT.test(version)) {
    throw new KitError(`"${version}" is not a valid version`);
  }
  const project = normalizeName(name);
  const where = version ? `${name}==${version}` : name;
  const url = version
    ? `${base}/pypi/${project}/${encodeURIComponent(version)}/json`
    : `${base}/pypi/${project}/json`;
  let data: unknown;
  try {
    data = (await fetchJson(url, ro)).data;
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) {
      throw new KitError(
        version
          ? `PyPI has no release "${where}" (404 from ${url})`
          : `PyPI has no project "${name}" (404 from ${url})`,
      );
    }
    throw e;
  }
  if (version) {
    return parseWith(
      releaseSchema,
      data,
      `malformed PyPI response for ${where}`,
    );
  }
  const p = parseWith(
    projectSchema,
    data,
    `malformed PyPI response for ${where}`,
  );
  const latest = latestVersion(p);
  if (latest === undefined) {
    throw new KitError(`PyPI project "${name}" has no non-yanked release`);
  }
  if (latest === p.info.version) return { info: p.info, urls: p.urls };
  return await fetchRelease(base, name, latest, ro);
}

function latestVersion(
  p: z.infer<typeof projectSchema>,
): string | undefined {
  const live = (files: PypiFile[]) => files.some((f) => !f.yanked);
  if (!p.releases) return live(p.urls) ? p.info.version : undefined;
  const candidates = Object.entries(p.releases)
    .filter(([v, files]) => live(files) && explain(v) !== null)
    .map(([v]) => v);
  const finals = candidates.filter((v) => !explain(v)!.is_prerelease);
  const pool = finals.length ? finals : candidates;
  return pool.sort(compare).at(-1);
}

/** True for a pure-Python wheel (`py3-none-any`, `py2.py3-none-any`). */
export function isPureWheel(filename: string): boolean {
  return /-(?:py2\.)?py3-none-any\.whl$/.test(filename);
}

/** The manifest kind of a PyPI file. */
export function kindOf(file: PypiFile): "pypi-wheel" | "pypi-sdist" {
  return file.packagetype === "sdist" ? "pypi-sdist" : "pypi-wheel";
}

/**
 * Picks the file to vendor: the pure-Python wheel, else the sdist (`.tar.gz` preferred);
 * `wheel`/`sdist` force one. Yanked files are never chosen; an unsafe file name is refused.
 */
export function pickFile(
  release: PypiRelease,
  prefer: { wheel?: boolean; sdist?: boolean } = {},
): PypiFile {
  const where = `${release.info.name}==${release.info.version}`;
  if (prefer.wheel && prefer.sdist) {
    throw new KitError("Choose one of --wheel and --sdist");
  }
  const live = release.urls.filter((f) => !f.yanked);
  if (!live.length) {
    throw new KitError(
      release.urls.length
        ? `every file of ${where} is yanked: pick another version`
        : `${where} has no files on PyPI`,
    );
  }
  const wheel = live.find((f) =>
    f.packagetype === "bdist_wheel" && isPureWheel(f.filename)
  );
  const sdists = live.filter((f) => f.packagetype === "sdist");
  const sdist = sdists.find((f) => f.filename.endsWith(".tar.gz")) ??
    sdists[0];
  const names = live.map((f) => f.filename).join(", ");
  let chosen: PypiFile | undefined;
  if (prefer.wheel) {
    chosen = wheel;
    if (!chosen) {
      throw new KitError(
        `${where} has no pure-Python wheel (files: ${names})${
          sdist ? "; try --sdist" : ""
        }`,
      );
    }
  } else if (prefer.sdist) {
    chosen = sdist;
    if (!chosen) {
      throw new KitError(
        `${where} has no sdist (files: ${names})${
          wheel ? "; try --wheel" : ""
        }`,
      );
    }
  } else {
    chosen = wheel ?? sdist;
    if (!chosen) {
      throw new KitError(
        `${where} has neither a pure-Python wheel nor an sdist (files: ${names})`,
      );
    }
  }
  if (plainFileNameProblem(chosen.filename) !== undefined) {
    throw new KitError(
      `PyPI file name ${
        JSON.stringify(chosen.filename)
      } for ${where} is not a plain file name: refusing to write it`,
    );
  }
  return chosen;
}

/** One release of a project: its version and whether every file of it is yanked. */
interface ReleaseVersion {
  version: string;
  yanked: boolean;
}

/**
 * Every release of a project with its yanked state (a release with no live file counts as
 * yanked), from the project JSON's `releases`; versions PEP 440 cannot read are left out.
 */
export async function fetchReleaseVersions(
  base: string,
  name: string,
  opts: RequestOptions = {},
): Promise<ReleaseVersion[]> {
  if (!isValidProjectName(name)) {
    throw new KitError(`"${name}" is not a valid PyPI project name`);
  }
  const url = `${base}/pypi/${normalizeName(name)}/json`;
  let data: unknown;
  try {
    data = (await fetchJson(url, opts)).data;
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) {
      throw new KitError(`PyPI has no project "${name}" (404 from ${url})`);
    }
    throw e;
  }
  const p = parseWith(
    projectSchema,
    data,
    `malformed PyPI response for ${name}`,
  );
  const releases = p.releases ?? { [p.info.version]: p.urls };
  return Object.entries(releases)
    .filter(([v]) => explain(v) !== null)
    .map(([version, files]) => ({
      version,
      yanked: files.length === 0 || files.every((f) => f.yanked),
    }));
}

/**
 * The project and version a wheel or sdist file name states (`spandrel-0.4.0-py3-none-any.whl`,
 * `spandrel-0.4.0.tar.gz`), or undefined when it is neither.
 */
function distFileParts(
  file: string,
): { name: string; version: string } | undefined {
  const wheel = /^([^-]+)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/.exec(
    file,
  );
  if (wheel) return { name: wheel[1]!, version: wheel[2]! };
  const sdist = /^(.+)-([^-]+)\.(?:tar\.gz|tgz|zip|tar\.bz2|tar)$/.exec(file);
  if (sdist) return { name: sdist[1]!, version: sdist[2]! };
  return undefined;
}

/**
 * Refuses a file PyPI lists for `name==version` whose name states another project or version
 * (a mirror or index gone wrong): it would be vendored and recorded under the wrong name.
 */
export function checkFileIsRelease(
  file: string,
  name: string,
  version: string,
): void {
  const parts = distFileParts(file);
  const sameVersion = (a: string, b: string) =>
    a === b || (valid(a) !== null && valid(b) !== null && eq(a, b));
  if (
    parts && normalizeName(parts.name) === normalizeName(name) &&
    sameVersion(parts.version, version)
  ) return;
  const says = parts
    ? `its name says ${parts.name} ${parts.version}`
    : "its name is not a wheel or sdist name";
  throw new KitError(
    `PyPI lists "${file}" for ${name}==${version}, but ${says}: refusing to vendor it as ${name} ${version}`,
  );
}
