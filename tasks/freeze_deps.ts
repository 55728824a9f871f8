// freeze-deps: the complete pinned dependency tree of the main package (or of given
// requirements), resolved by a real resolver (uv, else pip in a private temporary venv), written
// as a hash-checking lock file, and classified against this repository: nixpkgs / custom
// (.flox/pkgs/) / vendored (sources-manifest.json) / missing, with the fix for each problem.
//
// Example:
//   deno task freeze-deps                        # ComfyUI's requirements.txt, from its pinned archive
//   deno task freeze-deps -r requirements.txt --python-version 3.12 --check
//   deno task freeze-deps "spandrel==0.4.0" --index-url http://127.0.0.1:8080/simple --json
//
// Needs: python3 (pip >= 22.2) or uv on PATH; the network or a mirror/index for the resolver
// (PIP_INDEX_URL, --index-url, --find-links); for the default requirements, GitHub or the
// download cache (COMFYKIT_GITHUB_URL, COMFYKIT_CACHE_DIR, COMFYKIT_MIRRORS).
// Permissions: --allow-read, --allow-write (lock file, cache, temp venv), --allow-run (python3,
// uv, nix-instantiate, flox), --allow-env, --allow-net (index pages for hashes, the archive).
import { REQUIREMENTS_LOCK } from "../lib/repo/paths.ts";
import { join, relative } from "node:path";
import { classify, isProblem } from "../lib/repo/classify.ts";
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { atomicWrite, readTextIfExists } from "../lib/kit/fsutil.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import { openNixpkgsForFlag } from "../lib/nix/nixpkgs.ts";
import { parseRequirement } from "../lib/python/pep508.ts";
import {
  completeHashes,
  renderLockFile,
  resolve,
} from "../lib/python/resolver.ts";
import { readRequirementsFile } from "../lib/python/requirements.ts";
import { mainPackageRequirements } from "../lib/repo/main_archive.ts";
import {
  combinedSpecifier,
  fixLines,
  jsonPackage,
  lockHeader,
  renderTable,
  summary,
  summaryLine,
} from "../lib/freeze/report.ts";
import { progressLine } from "../lib/freeze/progress.ts";

const USAGE = `Usage: deno task freeze-deps [REQ...] [-r FILE]... [options]

Resolves the complete dependency tree with a real resolver (uv if on PATH, else pip in a
temporary venv), writes requirements.lock.txt (pip hash-checking format) and shows, for every
package, where this repository gets it: nixpkgs, custom (.flox/pkgs/), vendored, or missing.
Without REQ or -r: ComfyUI's requirements.txt from the pinned source archive of
.flox/pkgs/comfyui.nix (through the download cache).

Options:
  -r, --requirement FILE   requirements file (repeatable)
  -c, --constraint FILE    constraints file (repeatable)
  --index-url URL          package index (default: pip's configuration / $PIP_INDEX_URL)
  --extra-index-url URL    additional index (repeatable)
  --find-links PATH|URL    wheel folder or page (repeatable)
  --no-index               only --find-links
  --python-version X.Y     target Python (default: the python3 on PATH)
  --resolver NAME          auto (default), uv or pip
  -o, --output FILE        lock file (default: requirements.lock.txt in the repository)
  --no-lock                do not write a lock file
  --dry-run                resolve and classify, write nothing
  --check                  exit 1 when a package is missing or mis-pinned (writes no lock file
                           unless -o is given)
  --nixpkgs-index FILE     look names up in this offline nixpkgs index only (default: Nix
                           or flox when present, else the kit's nixpkgs-index.json)
  --root DIR               ${ROOT_HELP}
  --json                   machine-readable output on stdout
  -h, --help               show this help

Exit status: 0 done, 1 resolution failed, --check found a problem, or bad input, 2 usage error.
`;

/** Phase timings, in seconds, for the benchmark and --json. */
export interface Timings {
  requirements: number;
  setup: number;
  resolver: number;
  hashes: number;
  classify: number;
  write: number;
  total: number;
}

/** Entry point. */
export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const t0 = performance.now();
    const { values, positionals } = parseCli(args, {
      requirement: { type: "string", short: "r", multiple: true },
      constraint: { type: "string", short: "c", multiple: true },
      "index-url": { type: "string" },
      "extra-index-url": { type: "string", multiple: true },
      "find-links": { type: "string", multiple: true },
      "no-index": { type: "boolean" },
      "python-version": { type: "string" },
      resolver: { type: "string" },
      output: { type: "string", short: "o" },
      "no-lock": { type: "boolean" },
      "dry-run": { type: "boolean" },
      check: { type: "boolean" },
      "nixpkgs-index": { type: "string" },
      root: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE.trimEnd());
      return 0;
    }
    const resolverName = values.resolver ?? "auto";
    if (!["auto", "uv", "pip"].includes(resolverName)) {
      throw new UsageError(
        `--resolver must be auto, uv or pip, not "${resolverName}"`,
      );
    }
    const pyv = values["python-version"];
    if (pyv !== undefined && !/^3\.\d{1,2}$/.test(pyv)) {
      throw new UsageError(`--python-version "${pyv}" is not like 3.12`);
    }
    for (const p of positionals) {
      try {
        parseRequirement(p);
      } catch (e) {
        if (e instanceof KitError) throw new UsageError(e.message);
        throw e;
      }
    }
    const root = await resolveRoot(values.root);
    const timings: Timings = {
      requirements: 0,
      setup: 0,
      resolver: 0,
      hashes: 0,
      classify: 0,
      write: 0,
      total: 0,
    };

    // 1. What to resolve.
    const requirementFiles = (values.requirement ?? []).map(argPath);
    let requirements = [...positionals];
    let label = positionals.length > 0 || requirementFiles.length > 0
      ? "command line"
      : "";
    const findLinks = (values["find-links"] ?? []).map((l) =>
      /^[a-z][a-z0-9+.-]*:\/\//i.test(l) ? l : argPath(l)
    );
    let indexUrl = values["index-url"];
    const extraIndexUrls = [...(values["extra-index-url"] ?? [])];
    let noIndex = values["no-index"] ?? false;
    for (const f of requirementFiles) {
      // Options inside the files (-i, -f, --no-index) matter for hashing too.
      const r = await readRequirementsFile(f);
      indexUrl ??= r.options.indexUrl;
      extraIndexUrls.push(...r.options.extraIndexUrls);
      findLinks.push(...r.options.findLinks);
      noIndex ||= r.options.noIndex;
    }
    if (requirementFiles.length === 1 && positionals.length === 0) {
      label = relOrAbs(requirementFiles[0]!);
    }
    let source = label;
    if (requirements.length === 0 && requirementFiles.length === 0) {
      const main = await mainPackageRequirements(root);
      requirements = main.requirements;
      label = main.label;
      source = main.source;
    }
    timings.requirements = (performance.now() - t0) / 1000;

    // 2. Resolve, with progress.
    const progress = progressLine();
    const resolution = await (async () => {
      try {
        return await resolve({
          requirements,
          requirementFiles,
          constraintFiles: (values.constraint ?? []).map(argPath),
          directLabel: label,
          indexUrl: indexUrl ?? Deno.env.get("PIP_INDEX_URL") ?? undefined,
          extraIndexUrls,
          findLinks,
          noIndex,
          pythonVersion: pyv,
          resolver: resolverName as "auto" | "uv" | "pip",
          onLine: progress.line,
          onWarning: (m) => {
            progress.clear();
            warn(m);
          },
        });
      } finally {
        progress.clear();
      }
    })();
    timings.setup = resolution.setupSeconds;
    timings.resolver = resolution.resolverSeconds;
    const pkgs = resolution.packages;
    info(
      `resolved ${pkgs.length} packages with ${resolution.resolverVersion} for Python ${resolution.pythonVersion} in ${
        fmtSeconds(resolution.resolverSeconds)
      }`,
    );

    // 3. Hashes of every file of each release (find-links folders hashed, index pages read).
    let t = performance.now();
    const indexUrls = noIndex ? [] : [
      ...(indexUrl ?? Deno.env.get("PIP_INDEX_URL")
        ? [indexUrl ?? Deno.env.get("PIP_INDEX_URL")!]
        : []),
      ...extraIndexUrls,
    ];
    await completeHashes(pkgs, {
      indexUrls,
      findLinks,
      onWarning: warn,
    });
    timings.hashes = (performance.now() - t) / 1000;

    // 4. Classify.
    t = performance.now();
    const nixpkgs = await openNixpkgsForFlag(
      values["nixpkgs-index"] !== undefined
        ? argPath(values["nixpkgs-index"])
        : undefined,
    );
    const classes = await classify(
      pkgs.map((p) => ({
        name: p.name,
        version: p.version,
        specifier: combinedSpecifier(p.requiredBy),
      })),
      { root, nixpkgs },
    );
    timings.classify = (performance.now() - t) / 1000;

    // 5. The lock file.
    t = performance.now();
    const lockPath = values.output
      ? argPath(values.output)
      : join(root, REQUIREMENTS_LOCK);
    const header = lockHeader(source, resolution);
    const lock = renderLockFile(pkgs, header);
    const noHash = pkgs.filter((p) => p.hashes.length === 0);
    if (noHash.length > 0) {
      warn(
        `no sha256 known for ${
          noHash.map((p) => p.name).join(", ")
        }: pip --require-hashes will refuse them`,
      );
    }
    const write = !values["dry-run"] && !values["no-lock"] &&
      (!values.check || values.output !== undefined);
    if (write) {
      const before = await readTextIfExists(lockPath);
      if (before === lock) info(`${relOrAbs(lockPath)}: unchanged`);
      else {
        await atomicWrite(lockPath, lock);
        info(`wrote ${relOrAbs(lockPath)} (${pkgs.length} packages)`);
      }
    } else if (values.check) {
      const before = await readTextIfExists(lockPath);
      if (before !== undefined && before !== lock) {
        warn(
          `${
            relOrAbs(lockPath)
          } differs from this resolution: run "deno task freeze-deps" to refresh it`,
        );
      }
    }
    timings.write = (performance.now() - t) / 1000;
    timings.total = (performance.now() - t0) / 1000;

    // 6. Report.
    const problems = classes.filter(isProblem);
    if (values.json) {
      out(JSON.stringify(
        {
          requirements: source,
          resolver: resolution.resolverVersion,
          python: resolution.pythonVersion,
          environment: resolution.environment ?? null,
          nixpkgs: nixpkgs.describe,
          lockFile: write ? lockPath : null,
          packages: pkgs.map((p, i) => jsonPackage(p, classes[i]!)),
          summary: summary(classes),
          timings,
        },
        null,
        2,
      ));
    } else {
      for (const line of renderTable(pkgs, classes)) out(line);
      out("");
      out(summaryLine(classes));
      const fixes = fixLines(classes);
      if (fixes.length > 0) {
        out("");
        for (const line of fixes) out(line);
      }
      info(`nixpkgs: ${nixpkgs.describe}`);
    }
    if (values.check && problems.length > 0) {
      info(`check failed: ${problems.length} package(s) missing or mis-pinned`);
      return 1;
    }
    return 0;
  });
}

function fmtSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}

function relOrAbs(p: string): string {
  const r = relative(Deno.cwd(), p);
  return r.startsWith("..") ? p : r;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
