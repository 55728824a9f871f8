// new-package: the guided dependency-discovery walkthrough. For a PyPI project (or a wheel/sdist
// on disk) it checks nixpkgs, reads the distribution's own metadata, maps its PEP 508
// dependencies (extras, markers, platform conditionals) to nixpkgs attributes, picks the source
// (vendored / fetchPypi / fetchFromGitHub), renders .flox/pkgs/<attr>.nix from
// templates/package.nix and wires it into .flox/pkgs/comfyui.nix.
//
//   deno task new-package spandrel==0.4.0
//   deno task new-package .flox/sources/nunchaku-0.16.1-py3-none-any.whl --yes
//   deno task new-package comfyui-embedded-docs==0.3.1 --from-manifest --yes --summary … \
//     --license GPL-3.0 --import comfyui_embedded_docs --no-deps   (no file, no network)
//
// Needs: read/write in the repository and the download cache, network to PyPI / GitHub
// (COMFYKIT_PYPI_URL, COMFYKIT_GITHUB_URL, COMFYKIT_GITHUB_API_URL, COMFYKIT_MIRRORS,
// COMFYKIT_CACHE_DIR), and optionally `nix-instantiate` / `flox` for the nixpkgs lookup
// (COMFYKIT_NIXPKGS); without them the offline nixpkgs-index.json is used.
import {
  basename,
  dirname,
  isAbsolute,
  join,
  relative,
  resolve,
} from "node:path";
import { satisfies, valid } from "@renovatebot/pep440";
import { parseCli, runTask } from "../lib/cli.ts";
import { KitError, UsageError } from "../lib/errors.ts";
import {
  atomicWrite,
  exists,
  readTextIfExists,
  tempDir,
} from "../lib/fsutil.ts";
import { parseHash, sha256File, toHex, toSri } from "../lib/hash.ts";
import { info, out, warn } from "../lib/log.ts";
import { isValidProjectName, normalizeName } from "../lib/names.ts";
import {
  applicability,
  markerExtras,
  type NixSystem,
  parseRequirement,
  type Requirement,
} from "../lib/pep508.ts";
import { detectLicense, parseLicenseFlag } from "../lib/license.ts";
import {
  type DistMetadata,
  distMetadataFromBytes,
  githubRepo,
  openArchive,
  readDistMetadata,
  sourceTreeBuild,
} from "../lib/dist_metadata.ts";
import {
  DEFAULT_TEMPLATE,
  type DepSpec,
  type PackageSpec,
  renderPackage,
  type SrcSpec,
} from "../lib/render.ts";
import { chooseFrontend, type Frontend } from "../lib/prompt.ts";
import {
  type NixpkgsLookup,
  openNixpkgs,
  pypiToNixAttr,
} from "../lib/nixpkgs.ts";
import { fetchRelease, pickFile, pypiUrl } from "../lib/pypi.ts";
import {
  archiveUrl,
  githubApiUrl,
  githubUrl,
  listTags,
} from "../lib/github.ts";
import { fetchToCache, vendorLocalFile } from "../lib/vendor.ts";
import { narHashArchive } from "../lib/archive.ts";
import { addFormal, addListItem, editNixFile } from "../lib/nix_edit.ts";
import { unifiedDiff } from "../lib/unified_diff.ts";
import { readManifest, type SourceEntry } from "../lib/manifest.ts";

const USAGE = `Usage: deno task new-package NAME[==VERSION] [options]
       deno task new-package PATH.whl|PATH.tar.gz [options]
       deno task new-package NAME[==VERSION] --from-manifest [answers] [options]

Writes .flox/pkgs/<attr>.nix for a Python package, from PyPI or from a wheel/sdist on disk
(no network then; a file outside .flox/sources/ is vendored into it), and wires it into the
main package. Interactive on a terminal; every question has a flag.

With --from-manifest the source is the file sources-manifest.json records for NAME[==VERSION]
(no download). When that file is on disk (and matches its sha256) its metadata is read; when
it is not, nothing is read and every answer comes from the flags below (or a prompt; with
--yes a missing answer exits 2 naming its flag).

Options:
  --version V            release to package (default: the latest non-yanked one)
  --source S             vendored (default) | pypi (fetchPypi) | github (fetchFromGitHub)
  --wheel, --sdist       which PyPI file to use (default: the pure wheel, else the sdist)
  --github OWNER/REPO    GitHub repository for --source github (default: from project URLs)
  --tag TAG              GitHub tag for --source github (default: v<version> or <version>)
  --license L            lib.licenses attribute(s) or an SPDX expression (gpl3Only, MIT OR Apache-2.0)
  --license-note TEXT    comment after the licence saying where it came from
  --from-manifest        package the file sources-manifest.json records (see above)
  --import NAMES         import names for pythonImportsCheck, comma separated
  --extras LIST          extras to include, comma separated ("" for none)
  --python X.Y           target Python for markers (default 3.12)
  --in-nixpkgs A         when nixpkgs has it: use (add nixpkgs' attribute) | package (write one anyway)
  --missing A            dependencies missing from nixpkgs: list (default) | create (package them next)
  --no-wire              do not add the package to the main package
  --main FILE            main package to wire into (default .flox/pkgs/comfyui.nix)
  --nixpkgs-index FILE   look names up in this offline index only
  --root DIR             repository root (default: the current directory)
  --yes                  take every default (a question without one exits 2 naming its flag)
  --force                replace an existing package file (its diff is shown first)
  --dry-run              show what would be written, write nothing
  --json                 print the result as JSON on stdout
  -h, --help             show this help

Metadata answers (root package): stand in for the metadata when there is no file to read
(--from-manifest, file absent), and replace what a file's metadata says when there is one.
--license, --license-note and --import above are answers too.
  --summary TEXT         meta.description
  --homepage URL         meta.homepage (default: the PyPI project page)
  --format F             wheel | pyproject | setuptools (a .whl is always wheel)
  --requires REQS        runtime requirements, PEP 508, comma separated (repeatable)
  --no-deps              no runtime requirements
  --build-requires REQS  [build-system] requires of an sdist, comma separated (repeatable)

Exit codes: 0 done (also nothing to do), 1 bad input or failure, 2 usage, 130 cancelled.`;

const OPTIONS = {
  version: { type: "string" },
  source: { type: "string" },
  wheel: { type: "boolean" },
  sdist: { type: "boolean" },
  github: { type: "string" },
  tag: { type: "string" },
  license: { type: "string" },
  "license-note": { type: "string" },
  "from-manifest": { type: "boolean" },
  summary: { type: "string" },
  homepage: { type: "string" },
  format: { type: "string" },
  requires: { type: "string", multiple: true },
  "no-deps": { type: "boolean" },
  "build-requires": { type: "string", multiple: true },
  import: { type: "string" },
  extras: { type: "string" },
  python: { type: "string" },
  "in-nixpkgs": { type: "string" },
  missing: { type: "string" },
  "no-wire": { type: "boolean" },
  main: { type: "string" },
  "nixpkgs-index": { type: "string" },
  root: { type: "string" },
  yes: { type: "boolean", short: "y" },
  force: { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type SourceKind = "vendored" | "pypi" | "github";

/**
 * Answers that stand in for a distribution's metadata when there is no file to read
 * (--from-manifest with the file absent) and replace it when there is one.
 */
export interface MetaAnswers {
  summary?: string;
  homepage?: string;
  format?: PackageSpec["format"];
  /** Runtime requirements (PEP 508); `[]` is --no-deps. */
  requires?: string[];
  /** [build-system] requires (PEP 508). */
  buildRequires?: string[];
}

/** Answers given up front (flags); `undefined` means "ask". */
export interface NewPackageOptions {
  /** NAME, NAME==VERSION, or a path to a wheel/sdist. */
  target: string;
  root: string;
  version?: string;
  source?: SourceKind;
  prefer?: "wheel" | "sdist";
  github?: { owner: string; repo: string };
  tag?: string;
  license?: string[];
  licenseNote?: string;
  imports?: string[];
  extras?: string[];
  /** Take the source from sources-manifest.json (no download; the file may be absent). */
  fromManifest?: boolean;
  /** Metadata answers (root package only). */
  meta?: MetaAnswers;
  python: string;
  inNixpkgs?: "use" | "package";
  missing?: "list" | "create";
  /** false: --no-wire; undefined: ask (default yes). */
  wire?: boolean;
  /** Main package file (absolute). */
  main: string;
  nixpkgsIndex?: string;
  force: boolean;
  dryRun: boolean;
  /** Quiet the file preview (JSON output). */
  json: boolean;
}

/** One dependency as new-package resolved it. */
export interface DepReport {
  requirement: string;
  name: string;
  attr: string;
  status: "nixpkgs" | "custom" | "missing" | "cycle";
  nixpkgsVersion?: string;
  satisfies?: boolean;
  systems?: NixSystem[];
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
  source?: SrcSpec["kind"];
  format?: PackageSpec["format"];
  license?: string[];
  importNames?: string[];
  dependencies: DepReport[];
  buildDependencies: string[];
  missing: string[];
  vendored?: SourceEntry;
  wired?: { file: string; changed: boolean };
  diff?: string;
}

const NIX_ATTR = /^[A-Za-z_][A-Za-z0-9_'-]*$/;
const DIST_FILE = /\.(whl|tar\.gz|tgz|zip)$/i;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, OPTIONS);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const opts = await optionsFrom(values, positionals);
    const fe = chooseFrontend({ yes: values.yes ?? false });
    const results = await newPackage(opts, fe);
    if (opts.json) out(JSON.stringify({ packages: results }, null, 2));
    else printSummary(results, opts);
    return 0;
  });
}

async function optionsFrom(
  v: ReturnType<typeof parseCli<typeof OPTIONS>>["values"],
  positionals: string[],
): Promise<NewPackageOptions> {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length
        ? `expected one package, got ${positionals.length}`
        : "missing NAME[==VERSION] or PATH",
    );
  }
  const root = resolve(v.root ?? Deno.cwd());
  if (!(await exists(root))) {
    throw new UsageError(`--root "${root}" does not exist`);
  }
  const oneOf = <T extends string>(
    flag: string,
    value: string | undefined,
    allowed: readonly T[],
  ) => {
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(
        `--${flag} "${value}" is not one of: ${allowed.join(", ")}`,
      );
    }
    return value as T;
  };
  if (v.wheel && v.sdist) {
    throw new UsageError("choose one of --wheel and --sdist");
  }
  const python = v.python ?? "3.12";
  if (!/^\d+\.\d+(\.\d+)?$/.test(python)) {
    throw new UsageError(
      `--python "${python}" is not a Python version like 3.12`,
    );
  }
  let license: string[] | undefined;
  if (v.license !== undefined) {
    license = parseLicenseFlag(v.license);
    if (!license) {
      throw new UsageError(
        `--license "${v.license}" is neither a lib.licenses attribute nor an SPDX expression`,
      );
    }
  }
  let github: { owner: string; repo: string } | undefined;
  if (v.github !== undefined) {
    const m =
      /^(?:https:\/\/github\.com\/)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/
        .exec(v.github);
    if (!m) throw new UsageError(`--github "${v.github}" is not OWNER/REPO`);
    github = { owner: m[1]!, repo: m[2]! };
  }
  const list = (s: string | undefined) =>
    s === undefined
      ? undefined
      : s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
  const imports = list(v.import);
  for (const i of imports ?? []) {
    if (!isImportName(i)) {
      throw new UsageError(`--import "${i}" is not a Python import name`);
    }
  }
  const source = oneOf(
    "source",
    v.source,
    ["vendored", "pypi", "github"] as const,
  );
  const inNixpkgs = oneOf(
    "in-nixpkgs",
    v["in-nixpkgs"],
    ["use", "package"] as const,
  );
  const missing = oneOf("missing", v.missing, ["list", "create"] as const);
  const extras = list(v.extras);
  const fromManifest = v["from-manifest"] ?? false;
  if (
    fromManifest &&
    (DIST_FILE.test(positionals[0]!) || positionals[0]!.includes("/"))
  ) {
    throw new UsageError(
      "--from-manifest takes NAME[==VERSION]: the file is the one sources-manifest.json records",
    );
  }
  if (fromManifest && source === "github") {
    throw new UsageError(
      "--from-manifest packages a recorded wheel or sdist: use --source vendored or --source pypi",
    );
  }
  const meta = metaAnswers(v);
  return {
    target: positionals[0]!,
    root,
    python,
    main: v.main
      ? resolve(root, v.main)
      : join(root, ".flox", "pkgs", "comfyui.nix"),
    force: v.force ?? false,
    dryRun: v["dry-run"] ?? false,
    json: v.json ?? false,
    ...(v.version !== undefined ? { version: v.version } : {}),
    ...(source ? { source } : {}),
    ...(v.wheel
      ? { prefer: "wheel" as const }
      : v.sdist
      ? { prefer: "sdist" as const }
      : {}),
    ...(github ? { github } : {}),
    ...(v.tag !== undefined ? { tag: v.tag } : {}),
    ...(license ? { license } : {}),
    ...(v["license-note"] !== undefined
      ? { licenseNote: v["license-note"] }
      : {}),
    ...(imports ? { imports } : {}),
    ...(extras ? { extras } : {}),
    ...(fromManifest ? { fromManifest } : {}),
    ...(Object.keys(meta).length ? { meta } : {}),
    ...(inNixpkgs ? { inNixpkgs } : {}),
    ...(missing ? { missing } : {}),
    ...(v["no-wire"] ? { wire: false } : {}),
    ...(v["nixpkgs-index"] !== undefined
      ? { nixpkgsIndex: resolve(v["nixpkgs-index"]) }
      : {}),
  };
}

/** The metadata answers among the flags, validated. */
function metaAnswers(
  v: ReturnType<typeof parseCli<typeof OPTIONS>>["values"],
): MetaAnswers {
  const a: MetaAnswers = {};
  if (v.summary !== undefined) {
    if (!v.summary.trim()) throw new UsageError("--summary must not be empty");
    a.summary = v.summary.replace(/\s+/g, " ").trim();
  }
  if (v.homepage !== undefined) {
    if (!HOMEPAGE.test(v.homepage)) {
      throw new UsageError(`--homepage "${v.homepage}" is not an http(s) URL`);
    }
    a.homepage = v.homepage;
  }
  if (v.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(v.format)) {
      throw new UsageError(
        `--format "${v.format}" is not one of: ${FORMATS.join(", ")}`,
      );
    }
    a.format = v.format as PackageSpec["format"];
  }
  if (v["no-deps"] && v.requires?.length) {
    throw new UsageError("choose one of --requires and --no-deps");
  }
  if (v["no-deps"]) a.requires = [];
  else if (v.requires) a.requires = requirementsFlag("--requires", v.requires);
  if (v["build-requires"]) {
    a.buildRequires = requirementsFlag(
      "--build-requires",
      v["build-requires"],
    );
    if (a.format === "wheel" && a.buildRequires.length) {
      throw new UsageError(
        "--build-requires is for an sdist: a wheel has no build step",
      );
    }
  }
  return a;
}

const FORMATS = ["wheel", "pyproject", "setuptools"] as const;
const HOMEPAGE = /^https?:\/\/[^\s"'\\]+$/;

/** The requirements of a repeatable, comma-separated flag, each checked as PEP 508. */
function requirementsFlag(flag: string, values: string[]): string[] {
  const reqs = values.flatMap(splitRequirements);
  const bad = requirementsProblem(reqs);
  if (bad) throw new UsageError(`${flag} ${bad}`);
  return reqs;
}

/** Why a requirement list is not PEP 508, or undefined when it is. */
function requirementsProblem(reqs: readonly string[]): string | undefined {
  for (const r of reqs) {
    try {
      parseRequirement(r);
    } catch (e) {
      return `"${r}": ${(e as Error).message}`;
    }
  }
  return undefined;
}

/**
 * Splits "numpy>=1.25,<3, torch; sys_platform == 'linux'" into requirements: a comma starts a
 * new one unless what follows is another version clause (it starts with an operator) or the
 * comma is inside brackets (extras, a parenthesised specifier) or a quoted marker value.
 */
export function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let depth = 0;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[" || ch === "(") depth++;
    else if ((ch === "]" || ch === ")") && depth > 0) depth--;
    else if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  const reqs: string[] = [];
  for (const p of parts.map((x) => x.trim())) {
    if (!p) continue;
    if (/^[<>=!~]/.test(p) && reqs.length) reqs[reqs.length - 1] += `,${p}`;
    else reqs.push(p);
  }
  return reqs;
}

function isImportName(s: string): boolean {
  return s.split(".").every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p));
}

/**
 * Runs the walkthrough for `opts.target` and, with `missing: "create"`, for the dependencies
 * nixpkgs lacks (a queue; cycles are reported and cut). Library entry point for other tasks.
 */
export async function newPackage(
  opts: NewPackageOptions,
  fe: Frontend,
): Promise<PackageResult[]> {
  const nixpkgs = opts.nixpkgsIndex
    ? await openNixpkgs({
      indexFile: opts.nixpkgsIndex,
      useNix: false,
      useFlox: false,
    })
    : await openNixpkgs();
  info(`nixpkgs: ${nixpkgs.describe}`);
  const session: Session = { opts, fe, nixpkgs, results: [], done: new Set() };
  const first = await walk(session, opts.target, [], true);
  const queue: { name: string; version?: string; chain: string[] }[] =
    first.queue;
  let missingAction = opts.missing;
  if (queue.length && !missingAction) {
    missingAction = await fe.select<"list" | "create">({
      key: "missing",
      flag: "--missing",
      message: `Not in nixpkgs: ${
        queue.map((q) => q.name).join(", ")
      }. Package them now?`,
      choices: [
        {
          value: "list",
          name: "No, list them (package each later with new-package)",
        },
        { value: "create", name: "Yes, package them one after another" },
      ],
      default: "list",
    });
  }
  if (missingAction === "create") {
    while (queue.length) {
      const next = queue.shift()!;
      const key = normalizeName(next.name);
      if (session.done.has(key)) continue;
      const target = next.version ? `${next.name}==${next.version}` : next.name;
      info(`\n== ${target} (needed by ${next.chain.at(-1)}) ==`);
      const r = await walk(session, target, next.chain, false);
      queue.push(...r.queue);
    }
  }
  return session.results;
}

interface Session {
  opts: NewPackageOptions;
  fe: Frontend;
  nixpkgs: NixpkgsLookup;
  results: PackageResult[];
  /** Normalised names already handled (the queue visits each once). */
  done: Set<string>;
}

interface Loaded {
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

/** The walkthrough for one package; returns the missing dependencies to queue. */
async function walk(
  s: Session,
  target: string,
  chain: string[],
  isRoot: boolean,
): Promise<{ queue: { name: string; version?: string; chain: string[] }[] }> {
  const { opts, fe } = s;
  const pathMode = DIST_FILE.test(target) || target.includes("/");
  let loaded: Loaded;
  let name: string;
  await using scratch = await tempDir("comfykit-new-package-");

  if (!pathMode && isRoot && opts.fromManifest) {
    // --from-manifest: the recorded file; its metadata, or the flags' answers when absent.
    loaded = await fromManifest(s, target);
    name = loaded.meta.name;
  } else if (pathMode) {
    // new-package PATH: everything from the file itself, no network.
    const path = resolve(target);
    const meta = await readDistMetadata(path);
    if (isRoot && opts.version !== undefined && opts.version !== meta.version) {
      throw new UsageError(
        `--version ${opts.version} disagrees with ${meta.file}, which is ${meta.version}`,
      );
    }
    const { sha256Hex } = await fileSha(path);
    loaded = { meta, path, fileName: basename(path), sha256: sha256Hex };
    name = meta.name;
  } else {
    const t = parseTarget(target, isRoot ? opts.version : undefined);
    name = t.name;
    const version = t.version;
    // Step 1: is it in nixpkgs already?
    if (isRoot) {
      const found = await s.nixpkgs.lookup(name);
      if (found) {
        info(
          `nixpkgs has ${found.attr} ${found.version} (${s.nixpkgs.source})`,
        );
        const choice = opts.inNixpkgs ?? await fe.select({
          key: "in-nixpkgs",
          flag: "--in-nixpkgs",
          message:
            `nixpkgs has python3.pkgs.${found.attr} ${found.version}. Use it?`,
          choices: [
            {
              value: "use",
              name: `Use nixpkgs' ${found.attr} (add it to the main package)`,
            },
            { value: "package", name: "Write a package for it anyway" },
          ],
          default: "use",
        });
        if (choice === "use") {
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
          return { queue: [] };
        }
      }
    }
    // Step 2: the release and its file; the file's own metadata wins over the JSON API.
    const base = pypiUrl();
    const release = await fetchRelease(base, name, version);
    const file = pickFile(
      release,
      opts.prefer && isRoot ? { [opts.prefer]: true } : {},
    );
    info(
      `PyPI: ${release.info.name} ${release.info.version}, using ${file.filename}`,
    );
    const cached = await fetchToCache(file.url, {
      sha256: file.digests.sha256.toLowerCase(),
      label: file.filename,
    });
    const path = join(scratch.path, file.filename);
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
    const apiSummary = release.info.summary?.trim();
    if (apiSummary && meta.summary && apiSummary !== meta.summary) {
      warn(
        `PyPI's JSON API summary "${apiSummary}" differs from ${file.filename}'s METADATA "${meta.summary}": using the file's`,
      );
    }
    loaded = {
      meta,
      path,
      fileName: file.filename,
      sha256: file.digests.sha256.toLowerCase(),
      url: file.url,
    };
  }

  const meta = isRoot && opts.meta
    ? withAnswers(loaded.meta, opts.meta)
    : loaded.meta;
  const attr = pypiToNixAttr(meta.name);
  if (!NIX_ATTR.test(attr)) {
    throw new KitError(
      `"${meta.name}" gives "${attr}", which is not a valid Nix attribute name`,
    );
  }
  const key = normalizeName(meta.name);
  s.done.add(key);
  const pkgRel = `.flox/pkgs/${attr}.nix`;
  info(`${meta.name} ${meta.version}: ${meta.summary ?? "(no summary)"}`);

  // Step 3: dependencies.
  const extras = await chooseExtras(s, meta, isRoot);
  const deps = await resolveDeps(s, meta, extras, [...chain, key]);
  for (const d of deps) {
    const where = d.systems ? ` on ${d.systems.join(", ")}` : "";
    const state = d.status === "nixpkgs"
      ? `nixpkgs ${d.attr} ${d.nixpkgsVersion}${
        d.satisfies === false ? " (does NOT satisfy the requirement)" : ""
      }`
      : d.status === "custom"
      ? `custom package .flox/pkgs/${d.attr}.nix`
      : d.status === "cycle"
      ? "dependency cycle (left out, see above)"
      : "MISSING from nixpkgs";
    info(`  ${d.requirement}${where}: ${state}`);
  }
  const missing = deps.filter((d) => d.status === "missing");

  // Step 4: the source.
  const repo = (isRoot ? opts.github : undefined) ??
    githubRepo(meta.projectUrls);
  const source: SourceKind = opts.source ?? await fe.select({
    key: "source",
    flag: "--source",
    message: "Source?",
    choices: [
      {
        value: "vendored" as const,
        name: `C: vendored into .flox/sources/${loaded.fileName} (recommended)`,
      },
      { value: "pypi" as const, name: `B: fetchPypi (${loaded.fileName})` },
      ...(repo && !loaded.recorded
        ? [{
          value: "github" as const,
          name: `A: fetchFromGitHub (${repo.owner}/${repo.repo})`,
        }]
        : []),
    ],
    default: "vendored",
  });
  let src: SrcSpec;
  let build: {
    format: PackageSpec["format"];
    buildRequires: string[];
    importNames: string[];
  } = meta;
  if (source === "vendored") {
    src = { kind: "vendored", file: loaded.fileName };
  } else if (source === "pypi") {
    src = {
      kind: "pypi",
      file: loaded.fileName,
      sri: toSri(parseHash(loaded.sha256)),
    };
  } else {
    if (loaded.recorded) {
      throw new UsageError(
        "--from-manifest packages a recorded wheel or sdist: use --source vendored or --source pypi",
      );
    }
    if (!repo) {
      throw new UsageError(
        `no GitHub repository is known for ${meta.name}: pass --github OWNER/REPO`,
      );
    }
    const gh = await githubSource(s, meta, repo, isRoot);
    src = gh.src;
    build = gh.build;
  }

  // Step 5: format and build system (read from the archive, not guessed).
  const buildDeps = await resolveBuildDeps(s, build);
  info(
    `format: ${build.format}${
      buildDeps.length
        ? `, build: ${buildDeps.map((d) => d.attr).join(" ")}`
        : ""
    }`,
  );

  // Step 6: import names and licence.
  const defaultImports = build.importNames.length
    ? build.importNames
    : meta.importNames;
  const imports = (isRoot ? opts.imports : undefined) ?? splitList(
    await fe.input({
      key: "import",
      flag: "--import",
      message: "Import names for pythonImportsCheck (comma separated):",
      // Without a file there is nothing to propose: the name would only be a guess.
      ...(loaded.fromFlags ? {} : { default: defaultImports.join(",") }),
      validate: (v) =>
        splitList(v).every(isImportName) ||
        "names must be Python import names (a, a.b), comma separated",
    }),
  );
  if (!imports.length) {
    warn(`${pkgRel}: no import names, so pythonImportsCheck is empty`);
  }
  const license = await chooseLicense(s, meta, isRoot);

  // Step 7: render, show, confirm, write.
  const platforms = wheelPlatforms(loaded.fileName, source);
  const spec: PackageSpec = {
    pname: normalizeName(meta.name),
    version: meta.version,
    format: build.format,
    src,
    dependencies: deps.filter((d) => d.status !== "cycle").map(depSpec),
    buildDependencies: buildDeps.map(depSpec),
    customArgs: deps.filter((d) =>
      d.status === "custom" || d.status === "missing"
    ).map((d) => d.attr),
    importNames: imports,
    description: meta.summary ?? meta.name,
    homepage: meta.homepage ??
      `https://pypi.org/project/${normalizeName(meta.name)}/`,
    license,
    ...(isRoot && opts.licenseNote ? { licenseNote: opts.licenseNote } : {}),
    ...(platforms ? { platforms } : {}),
  };
  const templatePath =
    (await exists(join(opts.root, "templates", "package.nix")))
      ? join(opts.root, "templates", "package.nix")
      : DEFAULT_TEMPLATE;
  const text = renderPackage(
    spec,
    await Deno.readTextFile(templatePath),
    relative(opts.root, templatePath),
  );
  const pkgPath = join(opts.root, ".flox", "pkgs", `${attr}.nix`);
  const existing = await readTextIfExists(pkgPath);
  const result: PackageResult = {
    name: meta.name,
    version: meta.version,
    attr,
    action: "written",
    file: pkgRel,
    source: src.kind,
    format: build.format,
    license,
    importNames: imports,
    dependencies: deps,
    buildDependencies: buildDeps.map((d) => d.attr),
    missing: missing.map((d) => d.name),
  };
  const queue = missing.map((d) => {
    const pin = /^==([^,*]+)$/.exec(parseRequirement(d.requirement).specifier)
      ?.[1];
    return {
      name: d.name,
      ...(pin ? { version: pin } : {}),
      chain: [...chain, key],
    };
  });

  if (existing === text) {
    info(`${pkgRel} is already up to date`);
    result.action = "unchanged";
  } else {
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
    if (opts.dryRun) {
      result.action = "would-write";
    } else {
      const ok = await fe.confirm({
        key: "write",
        flag: "--yes",
        message: `${existing === undefined ? "Write" : "Replace"} ${pkgRel}?`,
        default: true,
      });
      if (!ok) {
        info(`${pkgRel}: nothing written`);
        result.action = "declined";
        s.results.push(result);
        return { queue: [] };
      }
      if (source === "vendored" && loaded.path && !loaded.recorded) {
        result.vendored = await vendorLocalFile({
          root: opts.root,
          path: loaded.path,
          name: meta.name,
          version: meta.version,
          ...(loaded.url ? { url: loaded.url } : {}),
          force: opts.force,
        });
      }
      await Deno.mkdir(dirname(pkgPath), { recursive: true });
      await atomicWrite(pkgPath, text);
      info(`wrote ${pkgRel}`);
    }
  }
  if (source === "vendored" && opts.dryRun && loaded.path && !loaded.recorded) {
    const inside = relative(join(opts.root, ".flox", "sources"), loaded.path);
    if (inside.startsWith("..") || isAbsolute(inside)) {
      info(
        `would vendor ${loaded.fileName} into .flox/sources/ (sha256 ${loaded.sha256})`,
      );
    }
  }

  // Step 8: wire the root package into the main package.
  if (isRoot && result.action !== "declined") {
    const wired = await wire(s, attr, platforms, true);
    if (wired) result.wired = wired;
  }
  s.results.push(result);
  return { queue };
}

/** NAME or NAME==VERSION; `flagVersion` (--version) must agree with a pinned one. */
function parseTarget(
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
  return version === undefined ? { name: rawName } : { name: rawName, version };
}

/**
 * --from-manifest: the wheel or sdist sources-manifest.json records for the target. When the
 * file is on disk (and its sha256 is the recorded one) its metadata is read; when it is not,
 * the metadata is the flags' answers (asked for when missing).
 */
async function fromManifest(s: Session, target: string): Promise<Loaded> {
  const { opts } = s;
  const { name, version } = parseTarget(target, opts.version);
  const key = normalizeName(name);
  const manifest = await readManifest(join(opts.root, "sources-manifest.json"));
  const fix = `vendor it first: deno task fetch-source ${name}${
    version ? `==${version}` : ""
  }`;
  const ofName = manifest.sources.filter((e) =>
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
  const pick = opts.prefer === "sdist"
    ? sdists
    : opts.prefer === "wheel"
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
        : `sources-manifest.json records no ${opts.prefer} of ${name} ${
          versions[0]
        }`,
    );
  }
  const entry = pick[0]!;
  const found = await s.nixpkgs.lookup(name);
  if (found) {
    info(
      `nixpkgs has ${found.attr} ${found.version} too; packaging the recorded file, as --from-manifest asks`,
    );
  }
  const rel = `.flox/sources/${entry.file}`;
  const path = join(opts.root, ".flox", "sources", entry.file);
  const base = {
    fileName: entry.file,
    sha256: entry.sha256,
    url: entry.url,
    recorded: true,
  };
  if (await exists(path)) {
    const have = toHex(await sha256File(path));
    if (have !== entry.sha256) {
      throw new KitError(
        `${rel} does not match sources-manifest.json (sha256 ${have}, recorded ${entry.sha256}): restore it with "deno task fetch-source --all"`,
      );
    }
    const meta = await readDistMetadata(path);
    if (normalizeName(meta.name) !== key || meta.version !== entry.version) {
      throw new KitError(
        `${rel} says it is ${meta.name} ${meta.version}, sources-manifest.json says ${entry.name} ${entry.version}`,
      );
    }
    info(`${rel}: as recorded (sha256 matches); reading its metadata`);
    return { ...base, meta, path };
  }
  warn(
    `${rel} is not on disk: nothing to read, the answers come from flags (restore the file with "deno task fetch-source --all" before building)`,
  );
  return {
    ...base,
    meta: await metaFromAnswers(s, name, entry),
    fromFlags: true,
  };
}

/** Metadata for a distribution whose file cannot be read: the flags' answers, else questions. */
async function metaFromAnswers(
  s: Session,
  name: string,
  entry: SourceEntry,
): Promise<DistMetadata> {
  const { fe } = s;
  const a = s.opts.meta ?? {};
  const wheel = entry.file.endsWith(".whl");
  const format = a.format ?? (wheel ? "wheel" : await fe.select<
    "pyproject" | "setuptools"
  >({
    key: "format",
    flag: "--format",
    message: `How is ${entry.file} built?`,
    choices: [
      { value: "pyproject", name: "pyproject: PEP 517 [build-system]" },
      { value: "setuptools", name: "setuptools: setup.py only" },
    ],
  }));
  checkFormat(format, entry.file);
  const summary = a.summary ?? (await fe.input({
    key: "summary",
    flag: "--summary",
    message: `Summary of ${name} (meta.description):`,
    validate: (v) => v.trim() ? true : "must not be empty",
  })).replace(/\s+/g, " ").trim();
  const homepage = a.homepage ?? await fe.input({
    key: "homepage",
    flag: "--homepage",
    message: `Homepage of ${name}:`,
    default: `https://pypi.org/project/${normalizeName(name)}/`,
    validate: (v) => HOMEPAGE.test(v) || "not an http(s) URL",
  });
  const requires = a.requires ?? splitRequirements(
    await fe.input({
      key: "requires",
      flag: "--requires or --no-deps",
      message:
        `Runtime requirements of ${name} (PEP 508, comma separated; empty for none):`,
      validate: (v) => requirementsProblem(splitRequirements(v)) ?? true,
    }),
  );
  const buildRequires = format === "wheel"
    ? []
    : a.buildRequires ?? splitRequirements(
      await fe.input({
        key: "build-requires",
        flag: "--build-requires",
        message: `[build-system] requires of ${entry.file} (comma separated):`,
        ...(format === "setuptools" ? { default: "setuptools, wheel" } : {}),
        validate: (v) => requirementsProblem(splitRequirements(v)) ?? true,
      }),
    );
  return {
    file: entry.file,
    kind: wheel ? "wheel" : "sdist",
    name,
    version: entry.version,
    summary,
    homepage,
    projectUrls: {},
    classifiers: [],
    requiresDist: requires,
    providesExtra: [],
    format,
    buildRequires,
    importNames: [],
    wheelTags: wheel
      ? [entry.file.replace(/\.whl$/, "").split("-").slice(-3).join("-")]
      : [],
  };
}

/** A wheel is built as "wheel"; an sdist is not. */
function checkFormat(format: PackageSpec["format"], file: string): void {
  if ((format === "wheel") !== file.endsWith(".whl")) {
    throw new UsageError(
      `--format ${format} does not fit ${file}: a .whl is format wheel, an sdist pyproject or setuptools`,
    );
  }
}

/** The metadata with the flags' answers in place of the file's (and a note where they differ). */
function withAnswers(meta: DistMetadata, a: MetaAnswers): DistMetadata {
  const m: DistMetadata = { ...meta };
  const note = (flag: string, from: unknown, to: unknown) => {
    if (JSON.stringify(from) !== JSON.stringify(to)) {
      info(
        `${flag} replaces what ${meta.file} says (${
          JSON.stringify(from) ?? "nothing"
        })`,
      );
    }
  };
  if (a.summary !== undefined) {
    note("--summary", meta.summary, a.summary);
    m.summary = a.summary;
  }
  if (a.homepage !== undefined) {
    note("--homepage", meta.homepage, a.homepage);
    m.homepage = a.homepage;
  }
  if (a.format !== undefined) {
    checkFormat(a.format, meta.file);
    note("--format", meta.format, a.format);
    m.format = a.format;
  }
  if (a.requires !== undefined) {
    note(
      a.requires.length ? "--requires" : "--no-deps",
      meta.requiresDist,
      a.requires,
    );
    m.requiresDist = a.requires;
  }
  if (a.buildRequires !== undefined) {
    if (m.format === "wheel") {
      throw new UsageError(
        "--build-requires is for an sdist: a wheel has no build step",
      );
    }
    note("--build-requires", meta.buildRequires, a.buildRequires);
    m.buildRequires = a.buildRequires;
  }
  return m;
}

async function fileSha(path: string): Promise<{ sha256Hex: string }> {
  return { sha256Hex: toHex(await sha256File(path)) };
}

function splitList(s: string): string[] {
  return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

function depSpec(d: { attr: string; systems?: NixSystem[] }): DepSpec {
  return d.systems ? { attr: d.attr, systems: d.systems } : { attr: d.attr };
}

async function chooseExtras(
  s: Session,
  meta: DistMetadata,
  isRoot: boolean,
): Promise<string[]> {
  // Provides-Extra, plus extras only markers mention (older metadata omits Provides-Extra).
  const fromMarkers = meta.requiresDist.flatMap((r) => {
    try {
      const m = parseRequirement(r).marker;
      return m ? markerExtras(m) : [];
    } catch {
      return []; // reported by resolveDeps
    }
  });
  const offered = [
    ...new Set([...meta.providesExtra, ...fromMarkers].map(normalizeName)),
  ];
  const given = isRoot ? s.opts.extras : undefined;
  if (given) {
    const bad = given.filter((e) => !offered.includes(normalizeName(e)));
    if (bad.length) {
      throw new UsageError(
        `--extras "${bad.join(",")}": ${meta.name} offers ${
          offered.length ? offered.join(", ") : "no extras"
        }`,
      );
    }
    return given.map(normalizeName);
  }
  if (!offered.length) return [];
  return await s.fe.checkbox({
    key: "extras",
    flag: "--extras",
    message: `Extras of ${meta.name} to include:`,
    choices: offered.map((e) => ({ value: e })),
  });
}

/** Step 3: Requires-Dist → applicable requirements → nixpkgs / custom / missing. */
async function resolveDeps(
  s: Session,
  meta: DistMetadata,
  chosenExtras: string[],
  chain: string[],
): Promise<DepReport[]> {
  const reqs: Requirement[] = meta.requiresDist.map((r) => {
    try {
      return parseRequirement(r);
    } catch (e) {
      throw new KitError(
        `${meta.file}: Requires-Dist: ${(e as Error).message}`,
      );
    }
  });
  const self = normalizeName(meta.name);
  // A requirement on the package itself with extras ("pkg[api]; extra == 'all'") turns those on.
  const extras = new Set(chosenExtras);
  for (let changed = true; changed;) {
    changed = false;
    for (const r of reqs) {
      if (normalizeName(r.name) !== self) continue;
      if (
        applicability(r, { python: s.opts.python, extras: [...extras] })
          .kind === "never"
      ) continue;
      for (const e of r.extras.map(normalizeName)) {
        if (!extras.has(e)) {
          extras.add(e);
          changed = true;
        }
      }
    }
  }
  // Merge repeated requirements: needed everywhere wins over a platform list; lists unite.
  const merged = new Map<
    string,
    { req: Requirement; text: string; systems?: Set<NixSystem> }
  >();
  for (const r of reqs) {
    const n = normalizeName(r.name);
    if (n === self) continue;
    const a = applicability(r, { python: s.opts.python, extras: [...extras] });
    if (a.kind === "never") continue;
    const prev = merged.get(n);
    const text = `${r.name}${r.specifier}`;
    if (!prev) {
      merged.set(
        n,
        a.kind === "always"
          ? { req: r, text }
          : { req: r, text, systems: new Set(a.systems) },
      );
    } else if (prev.systems) {
      if (a.kind === "always") delete prev.systems;
      else a.systems.forEach((x) => prev.systems!.add(x));
    }
  }
  const names = [...merged.values()].map((m) => m.req.name);
  const found = await s.nixpkgs.lookupMany(names);
  const reports: DepReport[] = [];
  for (const [n, m] of merged) {
    const attr = pypiToNixAttr(m.req.name);
    const systems = m.systems ? [...m.systems].sort() : undefined;
    const base = {
      requirement: m.text,
      name: m.req.name,
      attr,
      ...(systems ? { systems } : {}),
    };
    const custom = await exists(
      join(s.opts.root, ".flox", "pkgs", `${attr}.nix`),
    );
    if (chain.includes(n)) {
      warn(
        `dependency cycle: ${
          [...chain.slice(chain.indexOf(n)), n].join(" -> ")
        }. Package files cannot take ` +
          `each other as arguments, so "${attr}" is left out of ${meta.name}'s dependencies. To keep both, ` +
          `define them together in one python3.pkgs scope with pythonPackagesExtensions ` +
          `(an overlay: python3.pkgs.${attr} = self.callPackage ./${attr}.nix { }) and drop the arguments`,
      );
      reports.push({ ...base, status: "cycle" });
      continue;
    }
    if (custom) {
      reports.push({ ...base, status: "custom" });
      continue;
    }
    const pkg = found.get(m.req.name);
    if (pkg) {
      const ok = !m.req.specifier || valid(pkg.version) === null
        ? undefined
        : satisfies(pkg.version, m.req.specifier, { prereleases: true });
      if (ok === false) {
        warn(
          `nixpkgs has ${pkg.attr} ${pkg.version}, which does not satisfy ${m.text}`,
        );
      }
      reports.push({
        ...base,
        attr: pkg.attr,
        status: "nixpkgs",
        nixpkgsVersion: pkg.version,
        ...(ok !== undefined ? { satisfies: ok } : {}),
      });
      continue;
    }
    reports.push({ ...base, status: "missing" });
  }
  return reports.sort((a, b) => a.attr.localeCompare(b.attr));
}

/** Step 5's build requirements → nixpkgs attributes (a warning when nixpkgs lacks one). */
async function resolveBuildDeps(
  s: Session,
  build: { format: PackageSpec["format"]; buildRequires: string[] },
): Promise<{ attr: string }[]> {
  if (build.format === "wheel") return [];
  const names = build.buildRequires.map((r) => {
    try {
      return parseRequirement(r).name;
    } catch (e) {
      throw new KitError(`[build-system] requires: ${(e as Error).message}`);
    }
  });
  const found = await s.nixpkgs.lookupMany(names);
  const attrs = new Set<string>();
  for (const n of names) {
    const pkg = found.get(n);
    if (!pkg) {
      warn(
        `build requirement ${n} was not found in nixpkgs (${s.nixpkgs.source}); using ${
          pypiToNixAttr(n)
        }`,
      );
    }
    attrs.add(pkg?.attr ?? pypiToNixAttr(n));
  }
  return [...attrs].sort().map((attr) => ({ attr }));
}

async function chooseLicense(
  s: Session,
  meta: DistMetadata,
  isRoot: boolean,
): Promise<string[]> {
  const given = isRoot ? s.opts.license : undefined;
  if (given) return given;
  const d = detectLicense(meta);
  if (d.kind === "found") {
    info(`licence: ${d.attrs.join(", ")} (from ${d.source})`);
    return d.attrs;
  }
  if (d.kind === "ambiguous") {
    warn(`licence: ${d.reason}`);
    const pick = await s.fe.select({
      key: "license",
      flag: "--license",
      message: `Licence of ${meta.name} (${d.source})?`,
      choices: d.candidates.map((c) => ({ value: c, name: `licenses.${c}` })),
    });
    return [pick];
  }
  warn(`licence: ${d.reason}`);
  const answer = await s.fe.input({
    key: "license",
    flag: "--license",
    message:
      `Licence of ${meta.name} (lib.licenses attribute or SPDX expression):`,
    validate: (v) =>
      parseLicenseFlag(v)
        ? true
        : "not a known lib.licenses attribute or SPDX expression",
  });
  return parseLicenseFlag(answer)!;
}

/** Option A: the tag for the version, the archive through the cache, its NAR hash and build. */
async function githubSource(
  s: Session,
  meta: DistMetadata,
  repo: { owner: string; repo: string },
  isRoot: boolean,
): Promise<
  {
    src: SrcSpec;
    build: {
      format: PackageSpec["format"];
      buildRequires: string[];
      importNames: string[];
    };
  }
> {
  const tags = await listTags(githubApiUrl(), repo.owner, repo.repo);
  const names = new Set(tags.map((t) => t.name));
  const v = meta.version;
  const guess = [
    `v${v}`,
    v,
    `${meta.name}-${v}`,
    `${repo.repo}-${v}`,
    `release-${v}`,
    `release/${v}`,
  ]
    .find((t) => names.has(t));
  const tag = (isRoot ? s.opts.tag : undefined) ?? await s.fe.input({
    key: "tag",
    flag: "--tag",
    message: `Tag of ${repo.owner}/${repo.repo} for ${v}:`,
    ...(guess ? { default: guess } : {}),
    validate: (t) =>
      names.has(t) || `${repo.owner}/${repo.repo} has no tag "${t}"`,
  });
  if (!names.has(tag)) {
    throw new KitError(`${repo.owner}/${repo.repo} has no tag "${tag}"`);
  }
  const url = archiveUrl(githubUrl(), repo.owner, repo.repo, tag);
  const cached = await fetchToCache(url, {
    label: `${repo.repo}-${tag}.tar.gz`,
  });
  const sri = toSri(await narHashArchive(cached));
  const view = await openArchive(
    await Deno.readFile(cached),
    `${repo.repo}-${tag}.tar.gz`,
  );
  const build = sourceTreeBuild(
    view,
    `GitHub archive ${repo.owner}/${repo.repo}@${tag}`,
  );
  info(`GitHub ${repo.owner}/${repo.repo} ${tag}: NAR hash ${sri}`);
  return {
    src: { kind: "github", owner: repo.owner, repo: repo.repo, rev: tag, sri },
    build,
  };
}

/** The Nix systems a platform wheel runs on (only when the wheel itself is the source). */
function wheelPlatforms(
  file: string,
  source: SourceKind,
): NixSystem[] | undefined {
  if (source === "github" || !file.endsWith(".whl")) return undefined;
  const platform = file.replace(/\.whl$/, "").split("-").at(-1) ?? "any";
  if (platform === "any") return undefined;
  const systems = new Set<NixSystem>();
  for (const p of platform.split(".")) {
    if (/linux.*x86_64/.test(p)) systems.add("x86_64-linux");
    if (/linux.*aarch64/.test(p)) systems.add("aarch64-linux");
    if (/macosx.*(x86_64|intel|universal)/.test(p)) {
      systems.add("x86_64-darwin");
    }
    if (/macosx.*(arm64|universal)/.test(p)) systems.add("aarch64-darwin");
  }
  if (!systems.size) {
    throw new KitError(
      `${file} is for "${platform}", which no Nix system here runs`,
    );
  }
  return [...systems].sort();
}

/** Step 8: add the attribute to the main package's arguments (custom) and dependency list. */
async function wire(
  s: Session,
  attr: string,
  systems: NixSystem[] | undefined,
  custom: boolean,
): Promise<{ file: string; changed: boolean } | undefined> {
  const { opts, fe } = s;
  const mainRel = relative(opts.root, opts.main);
  if (opts.main === join(opts.root, ".flox", "pkgs", `${attr}.nix`)) {
    return undefined;
  }
  if (!(await exists(opts.main))) {
    warn(`${mainRel} does not exist: not wiring ${attr} in`);
    return undefined;
  }
  const yes = opts.wire ?? await fe.confirm({
    key: "wire",
    flag: "--no-wire",
    message: `Add ${attr} to ${mainRel}?`,
    default: true,
  });
  if (!yes) return undefined;
  const r = await editNixFile(opts.main, (t) => {
    const withArg = custom ? addFormal(t, attr, { path: mainRel }) : t;
    return addListItem(withArg, "propagatedBuildInputs", attr, {
      path: mainRel,
      ...(systems ? { systems } : {}),
    });
  }, { dryRun: opts.dryRun, displayPath: mainRel });
  if (r.changed && opts.dryRun && !opts.json) out(r.diff.trimEnd());
  info(
    r.changed
      ? `${opts.dryRun ? "would wire" : "wired"} ${attr} into ${mainRel}`
      : `${mainRel} already has ${attr}`,
  );
  return { file: mainRel, changed: r.changed };
}

function printSummary(results: PackageResult[], opts: NewPackageOptions): void {
  const written = results.filter((r) => r.action === "written");
  info("");
  for (const r of results) {
    const what = {
      "written": `wrote ${r.file}`,
      "unchanged": `${r.file} unchanged`,
      "would-write": `would write ${r.file}`,
      "declined": `${r.file} not written`,
      "use-nixpkgs": `uses nixpkgs' python3.pkgs.${r.attr}`,
    }[r.action];
    out(
      `${r.name} ${r.version}: ${what}${
        r.vendored ? `, vendored .flox/sources/${r.vendored.file}` : ""
      }${
        r.wired?.changed
          ? `, ${opts.dryRun ? "would be wired" : "wired"} into ${r.wired.file}`
          : ""
      }`,
    );
  }
  const missing = [...new Set(results.flatMap((r) => r.missing))].filter((m) =>
    !results.some((r) => normalizeName(r.name) === normalizeName(m))
  );
  if (missing.length) {
    info(`\nStill missing from nixpkgs (package each with new-package):`);
    for (const m of missing) info(`  deno task new-package ${m}`);
  }
  if (written.length && !opts.dryRun) {
    info(`\nNext:`);
    for (const r of written) info(`  flox build ${r.attr}`);
    info(`  deno task verify`);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
