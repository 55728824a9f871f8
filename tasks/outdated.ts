// deno task outdated — everything the repository pins, against upstream: ComfyUI's newest
// release tag, each custom package's newest PyPI release (or tag), what holds it back, and every
// requirement taken from nixpkgs checked against nixpkgs' version. Reads only; exit 0 whatever
// it finds unless --fail-on says otherwise.
//
//   deno task outdated
//   deno task outdated --offline --fail-on unsatisfied      # CI, no network
//
// Permissions: --allow-read, --allow-net (PyPI, GitHub), --allow-env (endpoints, cache),
// --allow-write="$cache" (the download cache wherever the environment puts it: deno.json picks
// it as lib/net/cache.ts does), --allow-run=nix-instantiate,flox.
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { nixpkgsIndexFor, resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { info, out, statusLine, warn } from "../lib/kit/log.ts";
import type { FailOn } from "../lib/outdated/run.ts";
import type * as Workflow from "../lib/outdated/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { fails, openNixpkgsForFlag, outdated, renderTable, summary } =
  {} as typeof Workflow;

const USAGE = `Usage: deno task outdated [options]

Reports what has newer releases upstream and what holds it back: ComfyUI (GitHub release tags)
against .flox/pkgs/comfyui.nix, every custom package in .flox/pkgs/ (PyPI, or tags for a
fetchFromGitHub source) against its file, and every requirement of ComfyUI and the custom
packages that nixpkgs provides against nixpkgs' version.

Status: current | newer (run the command shown) | held by X (X's requirement excludes the newest
release) | unsatisfied (nixpkgs' version is outside a requirement, or nixpkgs lacks it) |
unreachable (the source could not be asked; the row says why) | unknown.

Options:
  --pre                  consider pre-releases
  --offline              only what needs no network: the nixpkgs checks (ComfyUI's
                         requirements from the download cache, custom ones from vendored files)
  --fail-on WHAT         exit 1 when something is: outdated (newer or held), unsatisfied, or
                         both (comma-separated); a row that could not be checked fails too
  --json                 print the report as JSON
  --jobs N               lookups at once (default 8)
  --python X.Y           Python the requirement markers are read for (default 3.12)
  --nixpkgs-index FILE   use this offline index only (default: Nix when present, else
                         nixpkgs-index.json)
  --root DIR             ${ROOT_HELP}
  -h, --help             show this help

Environment: COMFYKIT_PYPI_URL, COMFYKIT_GITHUB_URL, COMFYKIT_GITHUB_API_URL, GITHUB_TOKEN,
COMFYKIT_CACHE_DIR, COMFYKIT_MIRRORS, COMFYKIT_NIXPKGS.

Exit status: 0 report printed (whatever it found), 1 bad input or --fail-on matched,
2 usage error.`;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values } = parseCli(args, {
      pre: { type: "boolean" },
      offline: { type: "boolean" },
      "fail-on": { type: "string", multiple: true },
      json: { type: "boolean" },
      jobs: { type: "string" },
      python: { type: "string" },
      "nixpkgs-index": { type: "string" },
      root: { type: "string" },
      help: { type: "boolean", short: "h" },
    }, false);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({ fails, openNixpkgsForFlag, outdated, renderTable, summary } =
      await import("../lib/outdated/run.ts"));
    const failOn = parseFailOn(values["fail-on"] ?? []);
    const jobs = values.jobs === undefined ? 8 : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
      throw new UsageError(
        `--jobs "${values.jobs}" is not a number from 1 to 64`,
      );
    }
    const python = values.python ?? "3.12";
    if (!/^3\.\d{1,2}$/.test(python)) {
      throw new UsageError(`--python "${python}" is not X.Y (e.g. 3.12)`);
    }
    const root = await resolveRoot(values.root);
    const index = values["nixpkgs-index"];
    const nixpkgs = await openNixpkgsForFlag(
      index === undefined ? undefined : argPath(index),
      nixpkgsIndexFor(root),
    );
    info(`nixpkgs: ${nixpkgs.describe}`);
    const tty = Deno.stderr.isTerminal();
    const report = await outdated({
      root,
      pre: values.pre === true,
      offline: values.offline === true,
      python,
      jobs,
      nixpkgs,
      env: Deno.env,
      ...(tty
        ? {
          // A status line: a warning or a download bar printed meanwhile clears it first.
          onProgress: (done: number, total: number, name: string) =>
            statusLine(`checking upstream ${done}/${total} ${name}`),
        }
        : {}),
    });
    if (tty) statusLine("");
    for (const w of report.warnings) warn(w);
    if (values.json) {
      out(JSON.stringify(report, null, 2));
    } else {
      for (const line of renderTable(report)) out(line);
      out("");
      out(summary(report));
    }
    return fails(report, failOn) ? 1 : 0;
  });
}

function parseFailOn(values: string[]): FailOn[] {
  const out: FailOn[] = [];
  for (const v of values.flatMap((x) => x.split(","))) {
    const w = v.trim();
    if (w !== "outdated" && w !== "unsatisfied") {
      throw new UsageError(
        `--fail-on "${w}" is not one of: outdated, unsatisfied`,
      );
    }
    out.push(w);
  }
  return out;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
