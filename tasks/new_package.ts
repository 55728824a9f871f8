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
import { MAIN_PACKAGE } from "../lib/repo/paths.ts";
import { join } from "node:path";
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { exists } from "../lib/kit/fsutil.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { info, out } from "../lib/kit/log.ts";
import type {
  NewPackageOptions,
  PackageResult,
} from "../lib/new_package/run.ts";
import type * as Workflow from "../lib/new_package/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let {
  directReference,
  isDistPath,
  isImportName,
  newPackage,
  normalizeName,
  parseGithubRepo,
  parseLicenseFlag,
  parseMetaAnswers,
  splitList,
} = {} as typeof Workflow;
import { chooseFrontend } from "../lib/kit/prompt.ts";

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
  --root DIR             ${ROOT_HELP}
  --yes                  take every default (a question without one exits 2 naming its flag)
  --ignore-requires-python  write a package whose Requires-Python excludes nixpkgs' python3
                         (otherwise asked; --yes alone exits 2)
  --force                replace an existing package file (its diff is shown first; its old
                         vendored source is dropped when nothing else uses it). Never the
                         main package: bump-comfyui changes that
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
  "ignore-requires-python": { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, OPTIONS);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({
      directReference,
      isDistPath,
      isImportName,
      newPackage,
      normalizeName,
      parseGithubRepo,
      parseLicenseFlag,
      parseMetaAnswers,
      splitList,
    } = await import("../lib/new_package/run.ts"));
    const opts = await optionsFrom(values, positionals);
    const fe = chooseFrontend({ yes: values.yes ?? false });
    const results = await newPackage(opts, fe).catch((e) => {
      // A question the flags left open: its one line names the flag; the help adds nothing.
      if (e instanceof UsageError) throw new KitError(e.message, 2);
      throw e;
    });
    if (opts.json) out(JSON.stringify({ packages: results }, null, 2));
    else printSummary(results, opts);
    return 0;
  });
}

type Values = ReturnType<typeof parseCli<typeof OPTIONS>>["values"];

async function optionsFrom(
  v: Values,
  positionals: string[],
): Promise<NewPackageOptions> {
  const target = onePackage(positionals);
  const root = await resolveRoot(v.root);
  const f = checkedFlags(v);
  const fromManifest = v["from-manifest"] ?? false;
  if (fromManifest && isDistPath(target)) {
    throw new UsageError(
      "--from-manifest takes NAME[==VERSION]: the file is the one sources-manifest.json records",
    );
  }
  if (fromManifest && f.source === "github") {
    throw new UsageError(
      "--from-manifest packages a recorded wheel or sdist: use --source vendored or --source pypi",
    );
  }
  // Like every path on the command line, --main is relative to where it was typed.
  const main = v.main !== undefined
    ? argPath(v.main)
    : join(root, MAIN_PACKAGE);
  if (v.main !== undefined && !(await exists(main))) {
    throw new KitError(`--main "${main}" does not exist`);
  }
  const meta = parseMetaAnswers({
    summary: v.summary,
    homepage: v.homepage,
    format: v.format,
    requires: v.requires,
    noDeps: v["no-deps"],
    buildRequires: v["build-requires"],
  });
  return {
    target: isDistPath(target) ? argPath(target) : target,
    root,
    python: f.python,
    main,
    force: v.force ?? false,
    ...(v["ignore-requires-python"] ? { ignoreRequiresPython: true } : {}),
    dryRun: v["dry-run"] ?? false,
    json: v.json ?? false,
    ...(v.version !== undefined ? { version: v.version } : {}),
    ...(f.source ? { source: f.source } : {}),
    ...(v.wheel
      ? { prefer: "wheel" as const }
      : v.sdist
      ? { prefer: "sdist" as const }
      : {}),
    ...(f.github ? { github: f.github } : {}),
    ...(v.tag !== undefined ? { tag: v.tag } : {}),
    ...(f.license ? { license: f.license } : {}),
    ...(v["license-note"] !== undefined
      ? { licenseNote: v["license-note"] }
      : {}),
    ...(f.imports ? { imports: f.imports } : {}),
    ...(f.extras ? { extras: f.extras } : {}),
    ...(fromManifest ? { fromManifest } : {}),
    ...(Object.keys(meta).length ? { meta } : {}),
    ...(f.inNixpkgs ? { inNixpkgs: f.inNixpkgs } : {}),
    ...(f.missing ? { missing: f.missing } : {}),
    ...(v["no-wire"] ? { wire: false } : {}),
    ...(v["nixpkgs-index"] !== undefined
      ? { nixpkgsIndex: argPath(v["nixpkgs-index"]) }
      : {}),
  };
}

/** The one NAME[==VERSION] or PATH (a PEP 508 direct reference is refused). */
function onePackage(positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length
        ? `expected one package, got ${positionals.length}`
        : "Missing NAME[==VERSION] or PATH",
    );
  }
  directReference(positionals[0]!);
  return positionals[0]!;
}

/** `value` of --`flag` when it is one of `allowed` (undefined when not given). */
function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(
      `--${flag} "${value}" is not one of: ${allowed.join(", ")}`,
    );
  }
  return value as T;
}

/** The flags that need parsing or a check of their value, parsed and checked. */
function checkedFlags(v: Values) {
  if (v.wheel && v.sdist) {
    throw new UsageError("Choose one of --wheel and --sdist");
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
  const github = v.github === undefined ? undefined : parseGithubRepo(v.github);
  if (v.github !== undefined && !github) {
    throw new UsageError(`--github "${v.github}" is not OWNER/REPO`);
  }
  const list = (s: string | undefined) =>
    s === undefined ? undefined : splitList(s);
  const imports = list(v.import);
  for (const i of imports ?? []) {
    if (!isImportName(i)) {
      throw new UsageError(`--import "${i}" is not a Python import name`);
    }
  }
  return {
    python,
    license,
    github,
    imports,
    extras: list(v.extras),
    source: oneOf(
      "source",
      v.source,
      ["vendored", "pypi", "github"] as const,
    ),
    inNixpkgs: oneOf(
      "in-nixpkgs",
      v["in-nixpkgs"],
      ["use", "package"] as const,
    ),
    missing: oneOf("missing", v.missing, ["list", "create"] as const),
  };
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
    // Flox builds only the files git tracks: a new package file is invisible until added.
    info(`\nNext:`);
    info(`  git add .flox/pkgs .flox/sources sources-manifest.json`);
    for (const r of written) info(`  flox build ${r.attr}`);
    info(`  deno task verify`);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
