// The lock files the SBOM reads besides the package files: Flox's manifest.lock (the nixpkgs
// revision of the `toplevel` group) and workflow locks (workflows/*.lock.json: models with their
// sha256 and immutable URL, node packs, the ComfyUI version). Pure: text in, data out; a lock
// that does not have the expected shape is a KitError naming the file and field.
import { KitError } from "../kit/errors.ts";
import { NIXPKGS_SPDX } from "./spdx_ids.ts";
import type { License } from "./licenses.ts";
import { addEdge, type Bill, type Part } from "./model.ts";

/** The nixpkgs revision of manifest.lock's toplevel group, if it records one. */
export function nixpkgsRevOf(text: string, where: string): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KitError(`${where}: not JSON (${(e as Error).message})`);
  }
  const pkgs = (data as { packages?: unknown })?.packages;
  const list: unknown[] = Array.isArray(pkgs)
    ? pkgs
    : pkgs && typeof pkgs === "object"
    ? Object.values(pkgs).flatMap((v) =>
      v && typeof v === "object" ? Object.values(v) : []
    )
    : [];
  for (const p of list) {
    if (!p || typeof p !== "object") continue;
    const e = p as Record<string, unknown>;
    if ((e.group ?? "toplevel") !== "toplevel") continue;
    if (typeof e.rev === "string" && /^[0-9a-f]{40}$/.test(e.rev)) return e.rev;
    const url = typeof e.locked_url === "string" ? e.locked_url : "";
    const m = /[?&]rev=([0-9a-f]{40})/.exec(url);
    if (m) return m[1];
  }
  return undefined;
}

const SPDX_BY_LOWER = new Map(
  Object.values(NIXPKGS_SPDX).map((id) => [id.toLowerCase(), id]),
);

/** A licence as a model card or the Hub states it ("apache-2.0", "openrail++", "other"). */
function modelLicense(text: string): License {
  const id = SPDX_BY_LOWER.get(text.toLowerCase());
  return id && !id.includes(" ") ? { id } : { name: text };
}

function str(
  o: Record<string, unknown>,
  ...keys: string[]
): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

function records(
  data: Record<string, unknown>,
  keys: string[],
  where: string,
): Record<string, unknown>[] {
  for (const k of keys) {
    const v = data[k];
    if (v === undefined) continue;
    const items = Array.isArray(v)
      ? v
      : v && typeof v === "object"
      ? Object.entries(v).map(([name, x]) => ({ name, ...(x as object) }))
      : undefined;
    if (!items || items.some((x) => !x || typeof x !== "object")) {
      throw new KitError(`${where}: "${k}" must be a list of objects`);
    }
    return items as Record<string, unknown>[];
  }
  return [];
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
}

/** The model part of one `models[]` entry, or undefined when it has no sha256 (not pinned). */
function modelPart(
  m: Record<string, unknown>,
  i: number,
  where: string,
): { name: string; part?: Part } {
  const name = str(m, "name", "file", "filename");
  if (!name) throw new KitError(`${where}: models[${i}].name is missing`);
  const sha = str(m, "sha256")?.toLowerCase();
  if (!sha || !/^[0-9a-f]{64}$/.test(sha)) return { name };
  const hf = obj(m.huggingface) ?? {};
  const dir = str(m, "directory");
  const lic = str(m, "license") ?? str(hf, "license");
  const part: Part = {
    ref: `model:${sha}`,
    type: "machine-learning-model",
    name,
    sha256: sha,
    distribution: str(m, "url"),
    licenses: lic ? [modelLicense(lic)] : [],
    properties: {},
  };
  const p = part.properties;
  if (dir) p["comfyui:directory"] = dir;
  if (typeof m.size === "number") p["comfykit:size"] = String(m.size);
  if (typeof m.immutable === "boolean") {
    p["comfykit:immutable-url"] = String(m.immutable);
  }
  const from = str(m, "hashFrom");
  if (from) p["comfykit:hash-from"] = from;
  const source = str(m, "sourceUrl");
  if (source) p["comfykit:source-url"] = source;
  const repo = str(hf, "repo"), commit = str(hf, "commit");
  if (repo) p["huggingface:repo"] = repo;
  if (commit) p["huggingface:commit"] = commit;
  if (m.gated === true || hf.gated === true) p["huggingface:gated"] = "true";
  return { name, part };
}

/**
 * Adds one workflow lock (lock-workflow's format, docs/lock-workflow.md; lockVersion 1) to
 * `bill`: the workflow (a file part), its models (deduplicated by sha256 across workflows), its
 * node packs (linked to the node pack part the repository builds for the same id) and an edge to
 * ComfyUI. Models it could not pin are properties of the workflow.
 */
export function addWorkflowLock(
  bill: Bill,
  text: string,
  where: string,
  fileSha256: string,
): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new KitError(`${where}: not JSON (${(e as Error).message})`);
  }
  const data = obj(parsed);
  if (!data) throw new KitError(`${where}: expected a JSON object`);
  if (data.lockVersion !== undefined && data.lockVersion !== 1) {
    throw new KitError(
      `${where}: lockVersion ${
        JSON.stringify(data.lockVersion)
      } is not one this kit reads (1)`,
    );
  }
  const wf: Part = {
    ref: `workflow:${where}`,
    type: "file",
    name: where,
    sha256: fileSha256,
    licenses: [],
    properties: { "comfykit:file": where },
  };
  const p = wf.properties;
  const workflow = str(data, "workflow");
  if (workflow) p["comfykit:workflow"] = workflow;
  const comfy = typeof data.comfyui === "string"
    ? { version: data.comfyui }
    : obj(data.comfyui) ?? {};
  const saved = str(comfy, "savedWith", "version");
  if (saved) p["comfyui:saved-with"] = saved;
  const pkg = str(comfy, "package");
  if (pkg) p["comfyui:package"] = pkg;
  bill.parts.push(wf);
  addEdge(bill, wf.ref, bill.root.ref);
  const byRef = new Map(bill.parts.map((x) => [x.ref, x]));
  records(data, ["models"], where).forEach((m, i) => {
    const { name, part } = modelPart(m, i, where);
    if (!part) {
      const dir = str(m, "directory");
      p[`comfykit:unpinned-model:${dir ? `${dir}/` : ""}${name}`] =
        str(m, "url") ?? "no sha256";
      return;
    }
    if (!byRef.has(part.ref)) {
      bill.parts.push(part);
      byRef.set(part.ref, part);
    }
    addEdge(bill, wf.ref, part.ref);
  });
  records(data, ["unpinned"], where).forEach((u, i) => {
    const name = str(u, "name");
    if (!name) throw new KitError(`${where}: unpinned[${i}].name is missing`);
    const dir = str(u, "directory");
    p[`comfykit:unpinned-model:${dir ? `${dir}/` : ""}${name}`] =
      str(u, "reason") ?? "";
  });
  const nodes = records(data, ["nodePacks"], where);
  nodes.forEach((n, i) => {
    const id = str(n, "id", "cnr_id", "aux_id");
    if (!id) throw new KitError(`${where}: nodePacks[${i}].id is missing`);
    const local = [...byRef.values()].find((x) =>
      x.ref.startsWith("node:") &&
      (x.ref === `node:comfyui-node-${id.toLowerCase()}` || x.name === id)
    );
    if (local) {
      addEdge(bill, wf.ref, local.ref);
      return;
    }
    const versions = strings(n.versions);
    const single = str(n, "version", "ver");
    if (single) versions.push(single);
    const source = str(n, "source");
    for (const version of versions.length > 0 ? versions : [undefined]) {
      const ref = `nodepack:${id}${version ? `@${version}` : ""}`;
      if (!byRef.has(ref)) {
        const part: Part = {
          ref,
          type: "library",
          name: id,
          version,
          licenses: [],
          properties: { "comfykit:not-built-here": "true" },
        };
        if (source) part.properties["comfyui:pack-source"] = source;
        const install = strings(n.install);
        if (install.length > 0) {
          part.properties["comfykit:install"] = install.join("; ");
        }
        if (/^[\w.-]+\/[\w.-]+$/.test(id)) {
          part.purl = `pkg:github/${id.toLowerCase()}${
            version ? `@${version}` : ""
          }`;
        }
        bill.parts.push(part);
        byRef.set(ref, part);
      }
      addEdge(bill, wf.ref, ref);
    }
  });
}
