// deno task release — the publishing process as one guided, resumable command: stage, flox
// build, verify, commit "comfyui: <version>", tag v<version>, push, flox publish. The plan is shown
// first; a failing step stops with the step named and what is done; a rerun continues.
//
//   deno task release --org acme --dry-run
//   deno task release --org acme --yes
//   deno task release --git-only              # commit, tag and push; no flox
//
// Permissions: --allow-read, --allow-run=git,flox,nix-instantiate (verify's parse pass),
// --allow-env (PATH to find flox, prompts).
import { parseCli, runTask } from "../lib/kit/cli.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { info, out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import type * as Workflow from "../lib/release/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { release } = {} as typeof Workflow;

const USAGE = `Usage: deno task release --org ORG [options]

Publishes the package set, in an order that never tags a build that fails:
  1. git add -- .flox sources-manifest.json  (Flox builds only what git tracks)
  2. flox build comfyui            (Flox locks the environment: .flox/env/manifest.lock)
  3. verify                        (deno task verify, and a clean tree for .flox/ and the
                                    manifest except that lock file; not the tag: step 5 makes it)
  4. git commit -m "comfyui: <version>"      (exactly what step 3 passed; only if it changed)
  5. git tag -a v<version>         (skipped when it points at HEAD; refused when elsewhere)
  6. git push --atomic <remote> <branch> refs/tags/v<version>   (this tag only; never forced)
  7. flox publish -o ORG comfyui, then (--with-deps) each custom package comfyui needs
One release runs at a time (the git ref refs/comfykit/release-lock); a version that makes no
valid tag name, or uncommitted changes without --include-changes, stop it before step 1.
The plan is shown first and confirmed (or each step, with --step). A failing step stops the
release naming the step and what is done; run the same command again to continue. A missing
flox stops before the first step that needs it.

Options:
  --org ORG           the Flox organisation to publish to (required unless --git-only/--no-push)
  --remote NAME       the git remote to push to (default origin)
  --no-push           stop after the tag (no push, no publish: flox publishes pushed commits)
  --git-only          only the git steps (1, 3-6): no flox build, no flox publish
  --with-deps         also publish the custom packages comfyui needs, after it
  --include-changes   uncommitted changes to .flox/ and the manifest go into the release commit
                      (otherwise they are refused before step 1)
  --step              confirm each step
  -y, --yes           do not ask
  --dry-run           print the plan, run nothing
  --json              print the outcome of each step as JSON
  --root DIR          ${ROOT_HELP}
  -h, --help          show this help

Exit status: 0 released (or planned, or answered no), 1 a step failed or bad input (the error
names the step and what is done), 2 usage error, 130 cancelled.`;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values } = parseCli(args, {
      org: { type: "string" },
      remote: { type: "string" },
      "no-push": { type: "boolean" },
      "git-only": { type: "boolean" },
      "with-deps": { type: "boolean" },
      "include-changes": { type: "boolean" },
      step: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      root: { type: "string" },
      help: { type: "boolean", short: "h" },
    }, false);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({ release } = await import("../lib/release/run.ts"));
    for (const k of ["org", "remote"] as const) {
      const v = values[k];
      if (v !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v)) {
        throw new UsageError(`--${k} "${v}" is not a plain name`);
      }
    }
    const root = await resolveRoot(values.root);
    const r = await release({
      root,
      org: values.org,
      remote: values.remote ?? "origin",
      push: values["no-push"] !== true,
      gitOnly: values["git-only"] === true,
      withDeps: values["with-deps"] === true,
      includeChanges: values["include-changes"] === true,
      dryRun: values["dry-run"] === true,
      step: values.step === true,
      json: values.json === true,
      fe: chooseFrontend({ yes: values.yes === true }),
    });
    if (values.json) out(JSON.stringify(r, null, 2));
    else if (r.status === "released") {
      out(`released ${r.tag}: ${r.steps.map((s) => s.outcome).join("; ")}`);
    } else if (r.status === "cancelled") info("nothing more was done");
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
