// update-nixpkgs-index: regenerate the offline nixpkgs index (nixpkgs-index.json) by evaluating
// a real nixpkgs with Nix, so that new-package / freeze-deps / bump-comfyui can answer "is it in
// nixpkgs, at which version?" on machines without Nix.
//
// Example:
//   COMFYKIT_NIXPKGS=~/src/nixpkgs deno task update-nixpkgs-index
//   deno task update-nixpkgs-index --nixpkgs ~/src/nixpkgs --add pandas --dry-run
//
// Needs: nix-instantiate (and nix-env for --all), a nixpkgs ($COMFYKIT_NIXPKGS, --nixpkgs PATH or
// a <nixpkgs> channel), git to read the revision of a checkout without .git-revision.
// Permissions: --allow-read, --allow-write (the index), --allow-run, --allow-env.
import { join } from "node:path";
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import { NIXPKGS_INDEX, resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import type * as Workflow from "../lib/nixpkgs_index/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { updateIndex } = {} as typeof Workflow;

const USAGE = `Usage: deno task update-nixpkgs-index [options]

Regenerates nixpkgs-index.json (python3Packages attribute -> version, and python3's version)
and nixpkgs-licenses.json (lib.licenses, beside the index) from a real nixpkgs,
evaluated with nix-instantiate. By default the attributes already in the index are refreshed.

Options:
  --nixpkgs PATH     nixpkgs to evaluate (default: $COMFYKIT_NIXPKGS, else <nixpkgs>)
  --index FILE       index file to write (default: nixpkgs-index.json at the repository root)
  --root DIR         ${ROOT_HELP}
  --add ATTR         also index this python3Packages attribute (repeatable)
  --all              index every python3Packages attribute (nix-env -qaP --json; slow, large)
  --rev REV          nixpkgs commit to record (default: .git-revision or git rev-parse HEAD)
  --channel NAME     channel name to record (e.g. nixos-25.05)
  --force            write an index that drops most of the old attributes
  --dry-run          print what would change on stdout, write nothing
  --json             print the new index on stdout
  -h, --help         show this help

Exit status: 0 written (or dry run), 1 Nix or nixpkgs failed, or bad input, 2 usage error.
`;

/** Entry point. */
export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      nixpkgs: { type: "string" },
      index: { type: "string" },
      root: { type: "string" },
      add: { type: "string", multiple: true },
      all: { type: "boolean" },
      rev: { type: "string" },
      channel: { type: "string" },
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE.trimEnd());
      return 0;
    }
    ({ updateIndex } = await import("../lib/nixpkgs_index/run.ts"));
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}"`);
    }
    if (values.rev !== undefined && !/^[0-9a-f]{40}$/.test(values.rev)) {
      throw new UsageError(`--rev "${values.rev}" is not a 40-hex commit`);
    }
    for (const a of values.add ?? []) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(a)) {
        throw new UsageError(`--add "${a}" is not an attribute name`);
      }
    }

    const root = await resolveRoot(values.root);
    const indexFile = values.index !== undefined
      ? argPath(values.index)
      : join(root, NIXPKGS_INDEX);
    const r = await updateIndex({
      root,
      indexFile,
      nixpkgs: values.nixpkgs !== undefined
        ? argPath(values.nixpkgs)
        : undefined,
      add: values.add ?? [],
      all: values.all ?? false,
      rev: values.rev,
      channel: values.channel,
      dryRun: values["dry-run"] ?? false,
      force: values.force ?? false,
    });
    // A dry run's result is the diff: on stdout (with --json, stdout is the index).
    const show = !r.written && !values.json ? out : info;
    for (const line of r.changes) show(line);
    if (values.json) out(r.text.trimEnd());
    if (!r.written) {
      if (r.shrink) warn(r.shrink);
      show(
        `dry run: would write ${indexFile} with ${r.count} attributes from nixpkgs ${
          r.rev.slice(0, 12)
        } (nothing written)`,
      );
      return 0;
    }
    info(
      `wrote ${indexFile}: ${r.count} attributes from nixpkgs ${
        r.rev.slice(0, 12)
      }${r.python ? `, python3 ${r.python}` : ""}`,
    );
    if (r.licenses) {
      info(`wrote ${r.licenses.file}: ${r.licenses.count} licence names`);
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
