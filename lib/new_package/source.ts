// Where new-package gets a distribution and its metadata: a wheel/sdist on disk (no network),
// the PyPI release (the downloaded file's own metadata wins over the JSON API's `info`), or the
// file sources-manifest.json records (--from-manifest; answers stand in when it is absent).
//
//   const loaded = await loadLocal(".flox/sources/spandrel-0.4.0.tar.gz");
//   const loaded = await loadPypi({ name: "spandrel", version: "0.4.0", dir: scratch });
import { sourceFile, SOURCES_MANIFEST } from "../repo/paths.ts";
import { basename, join, resolve } from "node:path";
import { valid } from "@renovatebot/pep440";
import {
  type DistMetadata,
  distMetadataFromBytes,
  readDistMetadata,
} from "../python/dist_metadata.ts";
import { KitError, UsageError } from "../kit/errors.ts";
import { exists } from "../kit/fsutil.ts";
import { sha256File, toHex } from "../hash/sha256.ts";
import { info, warn } from "../kit/log.ts";
import { readManifest, type SourceEntry } from "../repo/manifest.ts";
import { type MetaAnswers, metaFromAnswers } from "./meta_answers.ts";
import { isValidProjectName, normalizeName } from "../python/names.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import type { Frontend } from "../kit/prompt.ts";
import {
  fetchRelease,
  pickFile,
  type PypiRelease,
  pypiUrl,
} from "../net/pypi.ts";
import { fetchToCache } from "../repo/fetch_cache.ts";

/** File names of wheels and sdists. */
const DIST_FILE = /\.(whl|tar\.gz|tgz|zip)$/i;

/** A target that names a file (PATH mode) rather than NAME[==VERSION]. */
export function isDistPath(target: string): boolean {
  return DIST_FILE.test(target) || target.includes("/");
}

/** A distribution as new-package has it. */
export interface Loaded {
  meta: DistMetadata;
  /** A local file holding the distribution (absent: --from-manifest without the file), and its real file name. */
  path?: string;
  fileName: string;
  /** sha256 hex of the file. */
  sha256: string;
  /** The PyPI URL of the file (NAME mode). */
  url?: string;
  /** The source is sources-manifest.json's entry (--from-manifest): nothing to vendor. */
  recorded?: boolean;
  /** The metadata is the flags' answers, not read from a file. */
  fromFlags?: boolean;
}

/**
 * Refuses a PEP 508 direct reference ("demo-pkg @ https://…/demo.whl"), which is neither a
 * NAME nor a path: new-package reads files on disk only, so the fix is to download it first.
 */
export function directReference(target: string): void {
  const m =
    /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*(\S+:\/\/\S+)\s*$/
      .exec(target);
  if (m) {
    throw new UsageError(
      `"${target}" is a direct reference (NAME @ URL), which new-package does not fetch: download ${
        m[2]
      } and pass the file's path, or pass ${
        m[1]
      }==VERSION to take it from PyPI`,
    );
  }
}

/** NAME or NAME==VERSION; `flagVersion` (--version) must agree with a pinned one. */
export function parseTarget(
  target: string,
  flagVersion: string | undefined,
): { name: string; version?: string } {
  const m = /^([^=<>!~\s]+)(?:==([^=\s]+))?$/.exec(target.trim());
  const rawName = m?.[1] ?? target;
  if (!m || !isValidProjectName(rawName)) {
    throw new KitError(
      `"${target}" is not a valid PyPI project name (or NAME==VERSION)`,
    );
  }
  let version = m[2];
  if (flagVersion !== undefined) {
    if (version !== undefined && version !== flagVersion) {
      throw new UsageError(`${target} and --version ${flagVersion} disagree`);
    }
    version = flagVersion;
  }
  // Checked before nixpkgs or PyPI is asked: a typo must not fall through to "use nixpkgs'".
  if (version !== undefined && !valid(version)) {
    throw new KitError(
      `"${version}" is not a valid PEP 440 version (in "${target}"${
        flagVersion !== undefined ? " or --version" : ""
      })`,
    );
  }
  return version === undefined ? { name: rawName } : { name: rawName, version };
}

/** A wheel or sdist on disk: everything from the file itself, no network. */
export async function loadLocal(
  target: string,
  flagVersion?: string,
): Promise<Loaded> {
  const path = resolve(target);
  const meta = await readDistMetadata(path);
  if (flagVersion !== undefined && flagVersion !== meta.version) {
    throw new UsageError(
      `--version ${flagVersion} disagrees with ${meta.file}, which is ${meta.version}`,
    );
  }
  const sha256 = toHex(await sha256File(path));
  return { meta, path, fileName: basename(path), sha256 };
}

/**
 * The PyPI release's file (through the download cache, copied into `dir`) and its own
 * metadata, which wins over the JSON API's (a warning says when the summaries differ).
 */
export async function loadPypi(opts: {
  name: string;
  version?: string;
  prefer?: "wheel" | "sdist";
  /** A scratch directory for the file. */
  dir: string;
}): Promise<Loaded> {
  const release = await fetchRelease(pypiUrl(), opts.name, opts.version);
  const file = pickFile(release, opts.prefer ? { [opts.prefer]: true } : {});
  info(
    `PyPI: ${release.info.name} ${release.info.version}, using ${file.filename}`,
  );
  const cached = await fetchToCache(file.url, {
    sha256: file.digests.sha256.toLowerCase(),
    label: file.filename,
  });
  const path = join(opts.dir, file.filename);
  await Deno.copyFile(cached, path);
  const meta = await distMetadataFromBytes(
    await Deno.readFile(path),
    file.filename,
  );
  if (normalizeName(meta.name) !== normalizeName(release.info.name)) {
    throw new KitError(
      `${file.filename} says it is "${meta.name}", PyPI says "${release.info.name}"`,
    );
  }
  for (const field of apiDisagreements(release.info, meta)) {
    warn(
      `PyPI's JSON API and ${file.filename}'s METADATA disagree on ${field}: using the file's`,
    );
  }
  return {
    meta,
    path,
    fileName: file.filename,
    sha256: file.digests.sha256.toLowerCase(),
    url: file.url,
  };
}

/**
 * --from-manifest: the wheel or sdist sources-manifest.json records for the target. When the
 * file is on disk (and its sha256 is the recorded one) its metadata is read; when it is not,
 * the metadata is the answers (asked for through `fe` when missing).
 */
export async function loadRecorded(opts: {
  target: string;
  root: string;
  version?: string;
  prefer?: "wheel" | "sdist";
  answers: MetaAnswers;
  nixpkgs: NixpkgsLookup;
  fe: Frontend;
}): Promise<Loaded> {
  const { name, version } = parseTarget(opts.target, opts.version);
  const manifest = await readManifest(join(opts.root, SOURCES_MANIFEST));
  const entry = recordedEntry(manifest.sources, name, version, opts.prefer);
  const found = await opts.nixpkgs.lookup(name);
  if (found) {
    info(
      `nixpkgs has ${found.attr} ${found.version} too; packaging the recorded file, as --from-manifest asks`,
    );
  }
  const rel = sourceFile(entry.file);
  const path = join(opts.root, rel);
  const base = {
    fileName: entry.file,
    sha256: entry.sha256,
    url: entry.url,
    recorded: true,
  };
  if (await exists(path)) {
    const meta = await readRecordedFile(path, rel, entry);
    info(`${rel}: as recorded (sha256 matches); reading its metadata`);
    return { ...base, meta, path };
  }
  warn(
    `${rel} is not on disk: nothing to read, the answers come from flags (restore the file with "deno task fetch-source --all" before building)`,
  );
  return {
    ...base,
    meta: await metaFromAnswers(opts.fe, opts.answers, name, entry),
    fromFlags: true,
  };
}

/**
 * The one wheel or sdist of `name` (at `version`, when given) that the manifest records: a
 * wheel unless `prefer` says otherwise or there is none.
 */
function recordedEntry(
  sources: readonly SourceEntry[],
  name: string,
  version: string | undefined,
  prefer: "wheel" | "sdist" | undefined,
): SourceEntry {
  const key = normalizeName(name);
  const fix = `vendor it first: deno task fetch-source pypi:${name}${
    version ? `==${version}` : ""
  }`;
  const ofName = sources.filter((e) =>
    e.kind !== "github" && normalizeName(e.name) === key &&
    DIST_FILE.test(e.file)
  );
  if (!ofName.length) {
    throw new KitError(
      `sources-manifest.json records no wheel or sdist of "${name}": ${fix}`,
    );
  }
  const ofVersion = version === undefined
    ? ofName
    : ofName.filter((e) => e.version === version);
  if (!ofVersion.length) {
    throw new KitError(
      `sources-manifest.json records ${name} ${
        [...new Set(ofName.map((e) => e.version))].join(", ")
      }, not ${version}: ${fix}`,
    );
  }
  const versions = [...new Set(ofVersion.map((e) => e.version))];
  if (versions.length > 1) {
    throw new UsageError(
      `sources-manifest.json records ${name} ${
        versions.join(", ")
      }: pass ${name}==VERSION`,
    );
  }
  const wheels = ofVersion.filter((e) => e.file.endsWith(".whl"));
  const sdists = ofVersion.filter((e) => !e.file.endsWith(".whl"));
  const pick = prefer === "sdist"
    ? sdists
    : prefer === "wheel"
    ? wheels
    : wheels.length
    ? wheels
    : sdists;
  if (pick.length !== 1) {
    throw new KitError(
      pick.length
        ? `sources-manifest.json records several files of ${name} ${
          versions[0]
        } (${
          pick.map((e) => e.file).join(", ")
        }): package one with "deno task new-package .flox/sources/FILE"`
        : `sources-manifest.json records no ${prefer} of ${name} ${
          versions[0]
        }`,
    );
  }
  return pick[0]!;
}

/** The metadata of a recorded file on disk, once its sha256, name and version match the entry. */
async function readRecordedFile(
  path: string,
  rel: string,
  entry: SourceEntry,
): Promise<DistMetadata> {
  const have = toHex(await sha256File(path));
  if (have !== entry.sha256) {
    throw new KitError(
      `${rel} does not match sources-manifest.json (sha256 ${have}, recorded ${entry.sha256}): restore it with "deno task fetch-source --all"`,
    );
  }
  const meta = await readDistMetadata(path);
  if (
    normalizeName(meta.name) !== normalizeName(entry.name) ||
    meta.version !== entry.version
  ) {
    throw new KitError(
      `${rel} says it is ${meta.name} ${meta.version}, sources-manifest.json says ${entry.name} ${entry.version}`,
    );
  }
  return meta;
}

/**
 * The fields on which PyPI's JSON API `info` (one upload's metadata, often null or stale)
 * disagrees with the downloaded file's own metadata. Fields the API leaves empty are not compared.
 */
export function apiDisagreements(
  api: PypiRelease["info"],
  meta: DistMetadata,
): string[] {
  const fields: string[] = [];
  const norm = (t: string | null | undefined) =>
    t?.replace(/\s+/g, " ").trim() || undefined;
  const summary = norm(api.summary);
  if (summary && summary !== norm(meta.summary)) {
    fields.push(`the summary ("${summary}" vs "${norm(meta.summary) ?? ""}")`);
  }
  const apiLicense = norm(api.license_expression) ?? norm(api.license);
  const fileLicense = norm(meta.licenseExpression) ?? norm(meta.license);
  if (apiLicense && apiLicense !== fileLicense) {
    fields.push(`the licence ("${apiLicense}" vs "${fileLicense ?? ""}")`);
  }
  if (api.requires_dist) {
    const key = (l: readonly string[]) =>
      l.map((r) => r.replace(/\s+/g, "")).sort().join("\n");
    if (key(api.requires_dist) !== key(meta.requiresDist)) {
      fields.push("the requirements (Requires-Dist)");
    }
  }
  return fields;
}
