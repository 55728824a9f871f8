// sbom: a CycloneDX 1.6 JSON document of what the repository ships: ComfyUI, every .flox/pkgs
// package, the nixpkgs packages they use, node packs and locked models, with the dependency
// graph. Offline and deterministic (same tree, same bytes).
//
//   deno task sbom > bom.json
//   deno task sbom --output bom.json --deny-license GPL-3.0-only,AGPL-3.0-only
//
// Permissions: --allow-read (the repository), --allow-write=.,/tmp (--output's file: in the
// repository or /tmp), --allow-env (LOG, NO_COLOR, INIT_CWD, COMFYKIT_ROOT).
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { error, info, out, warn } from "../lib/kit/log.ts";
import { atomicWrite } from "../lib/kit/fsutil.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";

const USAGE =
  `Usage: deno task sbom [--output FILE] [--deny-license ID,...] [--timestamp] [--root DIR]

Prints a CycloneDX 1.6 JSON SBOM of what the repository ships: ComfyUI (version, GitHub pin,
NAR hash), every .flox/pkgs package (purl pkg:pypi/NAME@VERSION, licence as an SPDX id mapped
from nixpkgs' lib.licenses, SHA-256 of its vendored file), the nixpkgs packages they depend on
(version from nixpkgs-index.json, revision from .flox/env/manifest.lock when present), node
packs (.flox/pkgs/comfyui-node-*.nix) and the models of workflows/*.lock.json, with the
dependency graph. Offline; the same tree gives the same bytes (no timestamp unless asked; the
serialNumber is derived from the content).

Options:
  --output FILE        write the document to FILE (in the repository or /tmp) instead of stdout
  --deny-license IDS   comma-separated SPDX ids (or nixpkgs licence names, e.g. unfree): exit 1
                       naming every component under one of them; no document is written
  --timestamp          add metadata.timestamp (the current time)
  --json               the same document (the output is always JSON)
  --root DIR           ${ROOT_HELP}
  -h, --help           show this help

Exit status: 0 written, 1 a denied licence or bad input, 2 usage error.`;

/** Runs the sbom task. */
export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      output: { type: "string" },
      "deny-license": { type: "string" },
      timestamp: { type: "boolean" },
      json: { type: "boolean" },
      root: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument: ${positionals[0]}`);
    }
    const deny = (values["deny-license"] ?? "").split(",").map((s) => s.trim())
      .filter((s) => s !== "");
    if (values["deny-license"] !== undefined && deny.length === 0) {
      throw new UsageError("--deny-license needs at least one licence id");
    }
    if (values.output === "") {
      throw new UsageError("--output needs a file name");
    }
    const root = await resolveRoot(values.root);
    const { sbom } = await import("../lib/sbom/run.ts");
    const r = await sbom({
      root,
      deny,
      timestamp: values.timestamp ? new Date().toISOString() : undefined,
    });
    for (const n of r.notes) warn(n);
    if (r.denied.length > 0) {
      for (const d of r.denied) error(`denied licence: ${d}`);
      error(
        `${r.denied.length} component${
          r.denied.length === 1 ? "" : "s"
        } under a denied licence (${deny.join(", ")}): no document written`,
      );
      return 1;
    }
    if (values.output !== undefined) {
      await atomicWrite(argPath(values.output), r.text);
      info(`${values.output}: CycloneDX 1.6, ${r.components} components`);
    } else {
      await Deno.stdout.write(new TextEncoder().encode(r.text));
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
