// remove-node: take a node pack out: unwire it from comfyui.nix's customNodes and arguments,
// delete .flox/pkgs/comfyui-node-<id>.nix, drop its vendored archive when nothing else uses it.
//
//   deno task remove-node comfyui-custom-scripts --yes
//
// Needs: read/write in the repository (.flox, sources-manifest.json).
import { parseCli, runTask } from "../lib/kit/cli.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import type * as Workflow from "../lib/add_node/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { removeNode } = {} as typeof Workflow;

const USAGE = `Usage: deno task remove-node ID [options]

Removes the node pack ID (the <id> of .flox/pkgs/comfyui-node-<id>.nix, or that attribute):
unwires it from comfyui.nix (customNodes and its argument), deletes its file and drops its
vendored archive from .flox/sources/ when no other package file names it. Shows the diff first.

Options:
  --root DIR     ${ROOT_HELP}
  --yes          do not ask for confirmation
  --dry-run      show the diff, write nothing
  --json         print the result as JSON on stdout
  -h, --help     show this help

Exit codes: 0 done, 1 no such pack or failure, 2 usage, 130 cancelled.`;

const OPTIONS = {
  root: { type: "string" },
  yes: { type: "boolean", short: "y" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values: v, positionals } = parseCli(args, OPTIONS);
    if (v.help) {
      out(USAGE);
      return 0;
    }
    ({ removeNode } = await import("../lib/add_node/run.ts"));
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length
          ? `expected one ID, got ${positionals.length}`
          : "Missing ID",
      );
    }
    const r = await removeNode({
      root: await resolveRoot(v.root),
      id: positionals[0]!,
      dryRun: v["dry-run"] ?? false,
      json: v.json ?? false,
    }, chooseFrontend({ yes: v.yes ?? false }));
    if (v.json) out(JSON.stringify(r, null, 2));
    else {
      out(
        {
          removed: `removed ${r.file}${
            r.unwired ? ", unwired from comfyui.nix" : ""
          }`,
          "would-remove": `would remove ${r.file}`,
          cancelled: "nothing removed",
        }[r.action] + (r.droppedSource ? `, dropped ${r.droppedSource}` : ""),
      );
    }
    return r.action === "cancelled" ? 1 : 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
