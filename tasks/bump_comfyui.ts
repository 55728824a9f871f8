// bump-comfyui: move the main package (.flox/pkgs/comfyui.nix) to another ComfyUI release in one
// step. Lists the release tags (GitHub tags API, newest first by version), downloads the new and
// the current archives once each through the cache, computes the new NAR hash itself (no fakeHash
// round trip), diffs and classifies requirements.txt, offers the follow-up actions, then rewrites
// comfyui.nix (version, rev/tag, hash) text-preserving; nothing else in it changes. The workflow
// is lib/bump/run.ts.
//
//   deno task bump-comfyui --latest --dry-run
//
// Needs: network to $COMFYKIT_GITHUB_API_URL / $COMFYKIT_GITHUB_URL (and PyPI for actions that
// fetch wheels), read/write of the repository and $COMFYKIT_CACHE_DIR, env for the endpoints.
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import {
  checkWriteAccess,
  resolveRoot,
  ROOT_HELP,
  SOURCES_MANIFEST,
} from "../lib/repo/paths.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { info, out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import type * as Workflow from "../lib/bump/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { bumpComfyui, DEFAULT_PYTHON } = {} as typeof Workflow;

export const USAGE = `Usage: deno task bump-comfyui [VERSION] [options]

Bumps .flox/pkgs/comfyui.nix to another ComfyUI release: version, rev/tag and the NAR hash
(computed here), nothing else in the file; shows how requirements.txt
changed and offers the follow-up actions (new wheels, new packages, dependency list edits).

VERSION is a release tag or its version (v0.3.76 or 0.3.76); without it the tags are listed,
newest first, to pick from.

Options:
  --latest              take the newest release without asking
  --dry-run             print the diff of every file and the requirements diff; write nothing
  -y, --yes             carry out every follow-up action without asking
  --no-actions          only rewrite the pins of comfyui.nix
  --allow-downgrade     allow moving to an older release
  --python X.Y          target Python for requirement markers (default 3.12)
  --nixpkgs-index FILE  look names up in this offline nixpkgs index only (default: Nix or
                        flox when present, else the repository's nixpkgs-index.json)
  --json                print the result as JSON on stdout
  --root DIR            ${ROOT_HELP}
  -h, --help            show this help

Environment: COMFYKIT_GITHUB_API_URL, COMFYKIT_GITHUB_URL, COMFYKIT_PYPI_URL, COMFYKIT_CACHE_DIR,
COMFYKIT_MIRRORS, GITHUB_TOKEN.

Examples:
  deno task bump-comfyui                     # pick a release from the list
  deno task bump-comfyui --latest --dry-run  # what would change
  deno task bump-comfyui 0.3.76 --yes        # bump and carry out every action

Exit status: 0 done (or nothing to do), 1 bad input or failure, 2 usage error, 130 cancelled.`;

const OPTIONS = {
  latest: { type: "boolean" },
  "dry-run": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "no-actions": { type: "boolean" },
  "allow-downgrade": { type: "boolean" },
  python: { type: "string" },
  "nixpkgs-index": { type: "string" },
  json: { type: "boolean" },
  root: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Entry point. */
export function main(args: string[]): Promise<number> {
  return runTask(USAGE, () => bump(args));
}

async function bump(args: string[]): Promise<number> {
  const { values: opts, positionals } = parseCli(args, OPTIONS);
  if (opts.help) {
    out(USAGE);
    return 0;
  }
  ({ bumpComfyui, DEFAULT_PYTHON } = await import("../lib/bump/run.ts"));
  if (positionals.length > 1) {
    throw new UsageError(
      `Expected at most one VERSION, got ${positionals.length}`,
    );
  }
  const wanted = positionals[0];
  if (wanted !== undefined && opts.latest) {
    throw new UsageError("Give either VERSION or --latest, not both");
  }
  // Something like v0.3.7x is a mistyped release (the error lists the nearest ones); a word is not.
  if (wanted !== undefined && !/^[vV]?\d/.test(wanted)) {
    throw new UsageError(
      `"${wanted}" is not a version: give one like 0.3.76 or v0.3.76`,
    );
  }
  const python = opts.python ?? DEFAULT_PYTHON;
  if (!/^\d+\.\d+(\.\d+)?$/.test(python)) {
    throw new UsageError(
      `--python "${python}" is not a Python version like 3.12`,
    );
  }
  const json = opts.json ?? false;
  const root = await resolveRoot(opts.root);
  const dryRun = opts["dry-run"] ?? false;
  if (!dryRun) {
    // One line before any question or download when this run may not write the root.
    await checkWriteAccess(
      root,
      [`${root}/.flox`, `${root}/${SOURCES_MANIFEST}`],
      "the task may write only the current repository's .flox/ and sources-manifest.json; run it from the repository --root names (cd DIR && deno task bump-comfyui …), or add --dry-run",
    );
  }
  const r = await bumpComfyui({
    root,
    wanted,
    latest: opts.latest ?? false,
    dryRun,
    noActions: opts["no-actions"] ?? false,
    allowDowngrade: opts["allow-downgrade"] ?? false,
    python,
    nixpkgsIndex: opts["nixpkgs-index"] !== undefined
      ? argPath(opts["nixpkgs-index"])
      : undefined,
    json,
    frontend: chooseFrontend({ yes: opts.yes ?? false }),
  });
  if (r.status === "up-to-date") {
    if (json) {
      out(JSON.stringify({ status: r.status, version: r.version }, null, 2));
    }
    return 0;
  }
  if (json) out(JSON.stringify(r.json, null, 2));
  if (r.status === "dry-run") {
    if (!json) out(r.diff.trimEnd());
    info("dry run: nothing written");
  } else if (!json) {
    out(`${r.pname} ${r.from} → ${r.to}: wrote ${r.wrote.join(", ")}`);
    if (r.next.length > 0) {
      out("Next:");
      for (const c of r.next) out(`  ${c}`);
    }
  }
  if (r.failed.length > 0) {
    throw new KitError(
      `${r.failed.length} action(s) failed (${r.failed.join(", ")}): ${
        r.status === "dry-run"
          ? "the diff leaves them out"
          : "the bump and the other actions were written; carry them out by hand"
      }`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
