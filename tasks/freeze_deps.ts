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
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { info, out } from "../lib/kit/log.ts";
import type * as Workflow from "../lib/freeze/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { freezeDeps, freezeJson, freezeLines, parseRequirementArg, problemCount } =
  {} as typeof Workflow;

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

const OPTIONS = {
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
} as const;

/** Entry point. */
export function main(args: string[]): Promise<number> {
  return runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, OPTIONS);
    if (values.help) {
      out(USAGE.trimEnd());
      return 0;
    }
    ({
      freezeDeps,
      freezeJson,
      freezeLines,
      parseRequirementArg,
      problemCount,
    } = await import("../lib/freeze/run.ts"));
    const resolver = values.resolver ?? "auto";
    if (resolver !== "auto" && resolver !== "uv" && resolver !== "pip") {
      throw new UsageError(
        `--resolver must be auto, uv or pip, not "${resolver}"`,
      );
    }
    const pyv = values["python-version"];
    if (pyv !== undefined && !/^3\.\d{1,2}$/.test(pyv)) {
      throw new UsageError(`--python-version "${pyv}" is not like 3.12`);
    }
    for (const p of positionals) {
      try {
        parseRequirementArg(p);
      } catch (e) {
        if (e instanceof KitError) throw new UsageError(e.message);
        throw e;
      }
    }
    const r = await freezeDeps({
      root: await resolveRoot(values.root),
      requirements: positionals,
      requirementFiles: (values.requirement ?? []).map(argPath),
      constraintFiles: (values.constraint ?? []).map(argPath),
      indexUrl: values["index-url"],
      extraIndexUrls: values["extra-index-url"] ?? [],
      findLinks: (values["find-links"] ?? []).map((l) =>
        /^[a-z][a-z0-9+.-]*:\/\//i.test(l) ? l : argPath(l)
      ),
      noIndex: values["no-index"] ?? false,
      pythonVersion: pyv,
      resolver,
      output: values.output !== undefined ? argPath(values.output) : undefined,
      noLock: values["no-lock"] ?? false,
      dryRun: values["dry-run"] ?? false,
      check: values.check ?? false,
      nixpkgsIndex: values["nixpkgs-index"] !== undefined
        ? argPath(values["nixpkgs-index"])
        : undefined,
    });
    if (values.json) out(JSON.stringify(freezeJson(r), null, 2));
    else {
      for (const line of freezeLines(r)) out(line);
      info(`nixpkgs: ${r.nixpkgs.describe}`);
    }
    const problems = problemCount(r);
    if (values.check && problems > 0) {
      info(`check failed: ${problems} package(s) missing or mis-pinned`);
      return 1;
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
