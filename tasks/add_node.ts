// add-node: pin a ComfyUI custom node pack by its NAR hash, map its Python requirements, flag
// what cannot work from the read-only store, write .flox/pkgs/comfyui-node-<id>.nix and wire it
// into comfyui.nix's customNodes.
//
//   deno task add-node github:Kosinkadink/ComfyUI-VideoHelperSuite@1.7.9
//   deno task add-node registry:comfyui-videohelpersuite@1.7.9 --yes
//   deno task add-node ../pack.tar.gz --source github:OWNER/REPO@REV --yes   (no network)
//
// Needs: read/write in the repository and the download cache; network to GitHub / the Comfy
// Registry (COMFYKIT_GITHUB_URL, COMFYKIT_GITHUB_API_URL, COMFYKIT_REGISTRY_URL,
// COMFYKIT_CACHE_DIR); the nixpkgs lookup of new-package (COMFYKIT_NIXPKGS, else the offline
// nixpkgs-index.json).
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { info, out } from "../lib/kit/log.ts";
import { chooseFrontend } from "../lib/kit/prompt.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import type * as Workflow from "../lib/add_node/run.ts";
import type { AddNodeOptions, AddNodeResult } from "../lib/add_node/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { addFromWorkflow, addNode, parseLicenseFlag } = {} as typeof Workflow;

const USAGE = `Usage: deno task add-node SPEC [options]

SPEC is one of:
  github:OWNER/REPO@REF      a tag or a commit (a branch is pinned as its commit)
  registry:ID[@VERSION]      a Comfy Registry node (default: its latest version)
  PATH                       a pack folder, .zip or .tar.gz on disk, with --source (or --vendor)
Or, instead of SPEC:
  --from-workflow FILE       the packs a saved workflow (.json, or a PNG ComfyUI saved) uses:
                             listed, then added on confirmation (--yes); those present are kept;
                             exit 1 when a pack could not be pinned or added

Pins the pack by the NAR hash Nix computes (fetchFromGitHub / fetchzip), reads its
pyproject.toml and requirements.txt, maps each requirement to nixpkgs, .flox/pkgs or ComfyUI's own
packages, scans its Python files for what cannot work from the read-only store, writes
.flox/pkgs/comfyui-node-<id>.nix and adds it to comfyui.nix's customNodes.

Options:
  --source UPSTREAM      the github:…@REF or registry:ID@VERSION a local PATH stands in for
                         (no network: a 40-hex REF is a commit, anything else a tag)
  --url URL              the node.zip URL a local registry pack stands in for
                         (default: the Registry CDN URL of [tool.comfy] PublisherId)
  --vendor               copy the archive into .flox/sources/ and build from it
  --id ID                the pack id in the file name (default: registry id, [project] name, repo)
  --license L            lib.licenses attribute(s) or an SPDX expression
  --missing A            requirements in neither nixpkgs nor .flox/pkgs: list (default, stop and
                         name them) | create (package them with new-package first)
  --nixpkgs-index FILE   look names up in this offline index only
  --python X.Y           target Python for markers (default 3.12)
  --accept-hazards       add the pack although the scan found hazards (recorded in its file)
  --no-wire              do not add the pack to comfyui.nix's customNodes
  --force                replace an existing comfyui-node-<id>.nix
  --root DIR             ${ROOT_HELP}
  --yes                  take every default; hazards then refuse unless --accept-hazards
  --dry-run              show the diff, write nothing
  --json                 print the result as JSON on stdout
  -h, --help             show this help

Exit codes: 0 done (also nothing to do), 1 bad input, refused or failure, 2 usage, 130 cancelled.`;

const OPTIONS = {
  source: { type: "string" },
  "from-workflow": { type: "string" },
  url: { type: "string" },
  vendor: { type: "boolean" },
  id: { type: "string" },
  license: { type: "string" },
  missing: { type: "string" },
  "nixpkgs-index": { type: "string" },
  python: { type: "string" },
  "accept-hazards": { type: "boolean" },
  "no-wire": { type: "boolean" },
  force: { type: "boolean" },
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
    // deno-fmt-ignore
    ({ addFromWorkflow, addNode, parseLicenseFlag } = await import("../lib/add_node/run.ts"));
    const workflow = v["from-workflow"];
    if (workflow !== undefined && positionals.length) {
      throw new UsageError("Give SPEC or --from-workflow FILE, not both");
    }
    if (workflow === undefined && positionals.length !== 1) {
      throw new UsageError(
        positionals.length
          ? `expected one SPEC, got ${positionals.length}`
          : "Missing SPEC",
      );
    }
    if (
      workflow !== undefined &&
      (v.source !== undefined || v.id !== undefined || v.url !== undefined)
    ) {
      throw new UsageError(
        "--source, --id and --url name one pack: not with --from-workflow",
      );
    }
    const spec = positionals[0] ?? "";
    const python = v.python ?? "3.12";
    if (!/^\d+\.\d+$/.test(python)) {
      throw new UsageError(
        `--python "${python}" is not a Python version like 3.12`,
      );
    }
    if (
      v.missing !== undefined && v.missing !== "list" && v.missing !== "create"
    ) {
      throw new UsageError(
        `--missing "${v.missing}" is not one of: list, create`,
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
    if (v.url !== undefined && !/^https?:\/\/\S+$/.test(v.url)) {
      throw new UsageError(`--url "${v.url}" is not an http(s) URL`);
    }
    const local = !/^(github|registry):/.test(spec);
    const opts: AddNodeOptions = {
      spec: local ? argPath(spec) : spec,
      root: await resolveRoot(v.root),
      python,
      acceptHazards: v["accept-hazards"] ?? false,
      force: v.force ?? false,
      dryRun: v["dry-run"] ?? false,
      json: v.json ?? false,
      ...(v.source !== undefined ? { source: v.source } : {}),
      ...(v.url !== undefined ? { url: v.url } : {}),
      ...(v.vendor ? { vendor: true } : {}),
      ...(v.id !== undefined ? { id: v.id } : {}),
      ...(license ? { license } : {}),
      ...(v.missing ? { missing: v.missing as "list" | "create" } : {}),
      ...(v["nixpkgs-index"] !== undefined
        ? { nixpkgsIndex: argPath(v["nixpkgs-index"]) }
        : {}),
      ...(v["no-wire"] ? { wire: false } : {}),
    };
    const fe = chooseFrontend({ yes: v.yes ?? false });
    const asUsage = (e: unknown) => {
      if (e instanceof UsageError) throw new KitError(e.message, 2);
      throw e;
    };
    if (workflow !== undefined) {
      const w = await addFromWorkflow(
        { ...opts, workflow: argPath(workflow) },
        fe,
      ).catch(asUsage);
      if (opts.json) out(JSON.stringify(w, null, 2));
      else {
        for (const p of w.packs) {
          if (p.result) summary(p.result);
          else if (p.error) out(`${p.pack}: not added: ${p.error}`);
        }
      }
      // Exit 1 unless every pack the workflow uses is present or was added.
      return w.packs.some((p) => p.error || (!p.present && !p.result)) ? 1 : 0;
    }
    const r = await addNode(opts, fe).catch(asUsage);
    if (opts.json) out(JSON.stringify(r, null, 2));
    else summary(r);
    return r.action === "cancelled" ? 1 : 0;
  });
}

function summary(r: AddNodeResult): void {
  const what = {
    written: `wrote ${r.file}`,
    "would-write": `would write ${r.file}`,
    unchanged: `${r.file} unchanged`,
    cancelled: `${r.file} not written (hazards declined)`,
  }[r.action];
  out(
    `${r.folder} ${r.version}: ${what}${
      r.wired && r.action !== "cancelled"
        ? `, in comfyui.nix's customNodes`
        : ""
    }`,
  );
  if (r.action === "written") {
    info(`\nNext:\n  git add .flox\n  flox build comfyui\n  deno task verify`);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
