// add-node for one SPEC: get the pack (source.ts), read its metadata (metadata.ts),
// map its requirements (deps.ts, --missing create through new-package), scan it for hazards
// (hazards.ts), decide, render `.flox/pkgs/comfyui-node-<id>.nix` (render.ts), wire it into
// comfyui.nix (wire.ts) and apply every write together (lib/kit/changeset.ts) under the
// sources lock. Nothing is written before the last question.
//
//   const r = await addNode({ spec: "github:Kosinkadink/ComfyUI-VideoHelperSuite@1.7.9",
//     root, python: "3.12", dryRun: false, json: false, force: false, acceptHazards: false },
//     chooseFrontend({ yes: true }));
import { join } from "node:path";
import { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { tempDir } from "../kit/fsutil.ts";
import { info, out, warn } from "../kit/log.ts";
import type { EnvLike } from "../kit/env.ts";
import type { Frontend } from "../kit/prompt.ts";
import { applyWithSourcesLock } from "../repo/staged_sources.ts";
import {
  checkWriteAccess,
  MAIN_PACKAGE,
  NIXPKGS_INDEX,
  packageFile,
  PKGS_DIR,
  repoPaths,
} from "../repo/paths.ts";
import { openNixpkgsForFlag } from "../nix/nixpkgs.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import { readMainPackage } from "../repo/main_package.ts";
import { specifierHolds } from "../repo/classify.ts";
import { parseRequirement } from "../python/pep508.ts";
import { newPackage } from "../new_package/run.ts";
import { obtain } from "./source.ts";
import { nodeAttr, nodeId, parseSpec } from "./spec.ts";
import { type PackMeta, readPackMeta } from "./metadata.ts";
import {
  comfyuiDependencies,
  describeNodeDep,
  mapRequirements,
  type NodeDep,
} from "./deps.ts";
import { formatHazard, type Hazard, scanHazards } from "./hazards.ts";
import { type NodeFile, type NodeSource, renderNodeFile } from "./render.ts";
import { wireNode } from "./wire.ts";
import { chooseNodeLicense } from "./license.ts";
import {
  defaultId,
  folderName,
  homepageOf,
  parseSourceFlag,
  sourceOf,
  specText,
  versionOf,
} from "./naming.ts";
import { stageVendor } from "./vendor.ts";

/** Answers given up front (flags). */
export interface AddNodeOptions {
  spec: string;
  root: string;
  /** --source for a local SPEC. */
  source?: string;
  /** --id: the pack id (file name) instead of the one read from the pack. */
  id?: string;
  /** --url: the node.zip URL a local registry pack stands in for. */
  url?: string;
  license?: string[];
  python: string;
  missing?: "list" | "create";
  nixpkgsIndex?: string;
  acceptHazards: boolean;
  vendor?: boolean;
  wire?: boolean;
  force: boolean;
  dryRun: boolean;
  json: boolean;
  env?: EnvLike;
}

/** What a run did. */
export interface AddNodeResult {
  id: string;
  attr: string;
  file: string;
  folder: string;
  version: string;
  source: NodeSource;
  hash: string;
  action: "written" | "would-write" | "unchanged" | "cancelled";
  wired: boolean;
  requirements: NodeDep[];
  unpinnable: PackMeta["unpinnable"];
  hazards: Hazard[];
  decision: string;
  license?: string[];
  created: string[];
}

/** Runs add-node for one SPEC. */
export async function addNode(
  opts: AddNodeOptions,
  fe: Frontend,
): Promise<AddNodeResult> {
  const env = opts.env ?? Deno.env;
  const spec = parseSpec(opts.spec);
  const source = opts.source === undefined
    ? undefined
    : parseSourceFlag(opts.source);
  if (source && spec.kind !== "local") {
    throw new KitError("--source is for a local folder or archive SPEC");
  }
  if (spec.kind === "local" && !source && !opts.vendor) {
    throw new KitError(
      `A local pack needs --source github:OWNER/REPO@REF or registry:ID@VERSION (the upstream it stands in for), or --vendor to pin the archive itself`,
    );
  }
  const paths = repoPaths(opts.root);
  const mainText = await Deno.readTextFile(paths.mainPackage);
  const got = await obtain(spec, source, env);
  const meta = readPackMeta(got.pack.files);
  const id = nodeId(opts.id ?? defaultId(got, meta, opts.spec));
  const attr = nodeAttr(id);
  const file = packageFile(attr);
  const folder = folderName(got, meta, opts.spec);
  const version = versionOf(got, meta);
  info(`${folder} ${version}: NAR hash ${got.pack.hash}`);

  const cs = new Changeset(opts.root);
  // Downloads of --missing create wait here until the changeset is applied.
  await using scratch = await tempDir("comfykit-add-node-");
  const nixpkgs = await openNixpkgsForFlag(
    opts.nixpkgsIndex,
    join(opts.root, NIXPKGS_INDEX),
  );
  let deps = await mapRequirements(meta.name ?? id, meta.requirements, {
    root: opts.root,
    python: opts.python,
    nixpkgs,
    comfyui: comfyuiDependencies(mainText, MAIN_PACKAGE),
  });
  for (const d of deps) info(`  ${describeNodeDep(d)}`);
  for (const u of meta.unpinnable) warn(`${u.where}: ${u.text}: ${u.why}`);
  const created = await createMissing(deps, opts, fe, cs, scratch.path);
  deps = deps.map((d) =>
    d.status === "missing" && created.includes(d.attr)
      ? { ...d, status: "custom" as const }
      : d
  );

  const notes = await compatibility(meta, mainText, nixpkgs);
  for (const n of notes) warn(n);
  const license = await chooseNodeLicense(fe, folder, meta, opts.license);
  const hazards = scanHazards(got.pack.files);
  const decision = await decideHazards(hazards, opts, fe);
  if (decision === undefined) {
    return result("cancelled", false);
  }

  // The upstream pin; with --vendor its URL is what the manifest records.
  const upstream = got.upstream ? sourceOf(got, meta, opts, id) : undefined;
  const nodeSource = opts.vendor
    ? await stageVendor(
      cs,
      got,
      id,
      version,
      upstream?.kind === "registry" ? upstream.url : opts.url,
    )
    : upstream ?? sourceOf(got, meta, opts, id);
  const fileSpec: NodeFile = {
    id,
    folder,
    version,
    description: meta.description,
    homepage: meta.homepage ?? homepageOf(got.upstream),
    license: license.attrs,
    licenseEvidence: license.evidence,
    spec: specText(opts, got),
    source: nodeSource,
    deps,
    unpinnable: meta.unpinnable,
    hazards,
    decision,
    requiresComfyui: meta.requiresComfyui,
    notes,
  };
  const text = renderNodeFile(fileSpec);
  await refuseFolderClash(opts.root, attr, folder);
  const existing = await cs.readText(file);
  if (existing !== undefined && existing !== text && !opts.force) {
    throw new KitError(
      `${file} exists: run with --force to replace it (--dry-run shows the diff)`,
    );
  }
  cs.write(file, text);
  const wire = opts.wire ?? true;
  if (wire) cs.write(MAIN_PACKAGE, wireNode(mainText, attr, MAIN_PACKAGE));
  const unchanged = existing === text &&
    (!wire || (await cs.readText(MAIN_PACKAGE)) === mainText) &&
    !created.length;
  if (!opts.json) {
    const diff = await cs.diff();
    if (diff && !unchanged) out(diff.trimEnd());
  }
  if (unchanged) return result("unchanged", wire);
  if (opts.dryRun) return result("would-write", wire);
  await checkWriteAccess(
    opts.root,
    cs.paths(),
    "run it through `deno task add-node` (write access to .flox and sources-manifest.json)",
  );
  await applyWithSourcesLock(cs);
  return result("written", wire);

  function result(
    action: AddNodeResult["action"],
    wired: boolean,
  ): AddNodeResult {
    return {
      id,
      attr,
      file,
      folder,
      version,
      source: action === "cancelled"
        ? sourceOf(got, meta, opts, id)
        : nodeSource!,
      hash: got.pack.hash,
      action,
      wired,
      requirements: deps,
      unpinnable: meta.unpinnable,
      hazards,
      decision: decision ?? "declined",
      ...(license?.attrs ? { license: license.attrs } : {}),
      created,
    };
  }
}

/** The pack's missing requirements, packaged with new-package when asked (--missing create). */
async function createMissing(
  deps: NodeDep[],
  opts: AddNodeOptions,
  fe: Frontend,
  cs: Changeset,
  scratch: string,
): Promise<string[]> {
  const missing = deps.filter((d) => d.status === "missing");
  if (!missing.length) return [];
  let action = opts.missing;
  if (!action && fe.interactive) {
    action = await fe.select<"list" | "create">({
      key: "missing",
      flag: "--missing",
      message:
        `${missing.length} requirement(s) are in neither nixpkgs nor .flox/pkgs:`,
      choices: [
        { value: "create", name: "package them now with new-package" },
        { value: "list", name: "stop and list them" },
      ],
    });
  }
  if (action !== "create") {
    throw new KitError(
      `Requirements missing from nixpkgs and .flox/pkgs (nothing written); package each, then run again:\n${
        missing.map((d) => `  deno task new-package ${d.requirement}`).join(
          "\n",
        )
      }\n(or pass --missing create)`,
    );
  }
  const created: string[] = [];
  for (const d of missing) {
    const results = await newPackage({
      target: newPackageTarget(d),
      root: opts.root,
      python: opts.python,
      main: join(opts.root, MAIN_PACKAGE),
      missing: "create",
      wire: false,
      force: false,
      dryRun: opts.dryRun,
      json: true,
      changeset: cs,
      scratchDir: scratch,
      ...(opts.nixpkgsIndex ? { nixpkgsIndex: opts.nixpkgsIndex } : {}),
    }, fe);
    for (const r of results) {
      if (r.action !== "declined" && r.action !== "use-nixpkgs") {
        created.push(r.attr);
      }
    }
  }
  return created;
}

/** The decision recorded in the file; undefined when the user declined. */
async function decideHazards(
  hazards: Hazard[],
  opts: AddNodeOptions,
  fe: Frontend,
): Promise<string | undefined> {
  if (!hazards.length) return "nothing to accept";
  warn(
    `${hazards.length} finding(s) that may not work from the read-only store:`,
  );
  for (const h of hazards) warn(`  ${formatHazard(h)} (${h.why})`);
  if (opts.acceptHazards) {
    return `accepted with --accept-hazards (${hazards.length} finding(s) above)`;
  }
  if (!fe.interactive) {
    throw new KitError(
      `Refused: ${hazards.length} hazard finding(s) above (nothing written); review them and pass --accept-hazards to add the pack anyway`,
    );
  }
  const ok = await fe.confirm({
    key: "accept-hazards",
    flag: "--accept-hazards",
    message: "Add the pack anyway (the findings are recorded in its file)?",
    default: false,
  });
  return ok
    ? `accepted interactively (${hazards.length} finding(s) above)`
    : undefined;
}

/** new-package's target for a requirement: NAME, or NAME==VERSION when the pack pins one. */
function newPackageTarget(d: NodeDep): string {
  const pin = parseRequirement(d.requirement).specifier.match(
    /^==\s*([^,*\s]+)$/,
  );
  return pin ? `${d.name}==${pin[1]}` : d.name;
}

/** What the pack declares it needs that this ComfyUI or nixpkgs' python3 does not give. */
async function compatibility(
  meta: PackMeta,
  mainText: string,
  nixpkgs: NixpkgsLookup,
): Promise<string[]> {
  const notes: string[] = [];
  const comfy = readMainPackage(mainText, MAIN_PACKAGE).version;
  if (meta.requiresComfyui && !specifierHolds(comfy, meta.requiresComfyui)) {
    notes.push(
      `[tool.comfy] requires-comfyui "${meta.requiresComfyui}" excludes the pinned ComfyUI ${comfy}`,
    );
  }
  const python = await nixpkgs.pythonVersion?.();
  if (
    meta.requiresPython && python &&
    !specifierHolds(python, meta.requiresPython)
  ) {
    notes.push(
      `[project] requires-python "${meta.requiresPython}" excludes nixpkgs' python3 ${python}`,
    );
  }
  return notes;
}

/** Two packs in one folder of ComfyUI's custom_nodes would collide: refuse the second. */
async function refuseFolderClash(root: string, attr: string, folder: string) {
  const dir = join(root, PKGS_DIR);
  for await (const e of Deno.readDir(dir)) {
    if (!/^comfyui-node-.+\.nix$/.test(e.name) || e.name === `${attr}.nix`) {
      continue;
    }
    const other = await Deno.readTextFile(join(dir, e.name));
    if (other.includes(`comfyuiNodeName = ${JSON.stringify(folder)};`)) {
      throw new KitError(
        `${PKGS_DIR}/${e.name} already loads a pack into the folder "${folder}": remove it first (deno task remove-node ${
          e.name.slice("comfyui-node-".length, -4)
        })`,
      );
    }
  }
}
