// deno task remove-package NAME — retire a custom package: unwire it from comfyui.nix and from
// any custom package that takes it, delete .flox/pkgs/NAME.nix, and drop its vendored source,
// manifest entry and checksum line when nothing else uses them. Shows the diff first; writes
// all or nothing.
//
//   deno task remove-package spandrel --dry-run
//   deno task remove-package spandrel --yes
//
// Permissions: --allow-read, --allow-write=.flox,sources-manifest.json, --allow-env (LOG, …),
// --allow-sys=hostname (the sources lock records it).
import { parseCli, runTask } from "../lib/kit/cli.ts";
import {
  checkWriteAccess,
  repoPaths,
  resolveRoot,
  ROOT_HELP,
} from "../lib/repo/paths.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { info, out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import type * as Workflow from "../lib/remove_package/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { removePackage } = {} as typeof Workflow;

const USAGE = `Usage: deno task remove-package NAME [options]

Removes the custom package NAME (.flox/pkgs/NAME.nix, or the file whose pname is NAME): its
argument and dependency entries in .flox/pkgs/comfyui.nix and in any custom package that takes
it as an argument, its file, and its vendored source with its sources-manifest.json entry and
SHA256SUMS.txt line when no other package uses them. The diff is shown first, then you confirm.

Refused: the main package (comfyui), and a package another custom package still needs (takes
as an argument and lists as a dependency), naming it; --force unwires it from those too.

Options:
  --keep-file     keep .flox/pkgs/NAME.nix (unwired); its source is kept too, since it names it
  --keep-source   keep the vendored source and its manifest entry
  --force         also unwire NAME from custom packages that still depend on it
  --dry-run       print the diff, write nothing
  -y, --yes       do not ask
  --json          print what was done as JSON (no diff)
  --root DIR      ${ROOT_HELP}
  -h, --help      show this help

Exit status: 0 removed (or dry run, or answered no), 1 refused or bad input (nothing changed),
2 usage error, 130 cancelled.`;

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      "keep-file": { type: "boolean" },
      "keep-source": { type: "boolean" },
      force: { type: "boolean" },
      "dry-run": { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      json: { type: "boolean" },
      root: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({ removePackage } = await import("../lib/remove_package/run.ts"));
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? "Give the package to remove: NAME"
          : `Give one package, not ${positionals.length}: ${
            positionals.join(" ")
          }`,
      );
    }
    const root = await resolveRoot(values.root);
    const dryRun = values["dry-run"] === true;
    if (!dryRun) {
      // One line before any question when this run may not write the root.
      const p = repoPaths(root);
      await checkWriteAccess(
        root,
        [p.pkgsDir, p.sourcesDir, p.manifest],
        "the task may write only the current repository's .flox/ and sources-manifest.json; run it from the repository --root names (cd DIR && deno task remove-package …), or add --dry-run",
      );
    }
    const r = await removePackage({
      root,
      name: positionals[0]!,
      keepFile: values["keep-file"] === true,
      keepSource: values["keep-source"] === true,
      force: values.force === true,
      dryRun,
      json: values.json === true,
      fe: chooseFrontend({ yes: values.yes === true }),
    });
    if (values.json) {
      out(JSON.stringify(r, null, 2));
      return 0;
    }
    if (r.action === "cancelled") {
      info("nothing changed");
      return 0;
    }
    const verb = r.action === "removed" ? "" : "would be ";
    const parts = [
      r.deleted ? `${verb}deleted ${r.file}` : `${verb}kept ${r.file}`,
      ...(r.unwiredFrom.length
        ? [`${verb}unwired from ${r.unwiredFrom.join(", ")}`]
        : []),
      ...(r.sources.length ? [`${verb}removed ${r.sources.join(", ")}`] : []),
      ...(r.entries.length
        ? [`${verb}dropped from sources-manifest.json: ${r.entries.join(", ")}`]
        : []),
    ];
    out(`${r.package}: ${parts.join("; ")}`);
    if (r.action === "removed") {
      info(`\nNext:\n  deno task verify\n  flox build comfyui`);
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
