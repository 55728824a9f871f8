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
export function modelLicense(text: string): License {
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

/**
 * Adds one workflow lock to `bill`: the workflow (a file part), its models (deduplicated by
 * sha256 across workflows), its node packs (linked to a node pack part of the same name when
 * the repository builds it) and an edge to ComfyUI.
 */
export function addWorkflowLock(
  bill: Bill,
  text: string,
  where: string,
  fileSha256: string,
): void {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KitError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new KitError(`${where}: expected a JSON object`);
  }
  const wf: Part = {
    ref: `workflow:${where}`,
    type: "file",
    name: where,
    sha256: fileSha256,
    licenses: [],
    properties: { "comfykit:file": where },
  };
  const comfy = data.comfyui;
  const comfyVersion = typeof comfy === "string"
    ? comfy
    : comfy && typeof comfy === "object"
    ? str(comfy as Record<string, unknown>, "version")
    : undefined;
  if (comfyVersion) wf.properties["comfyui:version"] = comfyVersion;
  bill.parts.push(wf);
  addEdge(bill, wf.ref, bill.root.ref);
  const byRef = new Map(bill.parts.map((p) => [p.ref, p]));
  records(data, ["models"], where).forEach((m, i) => {
    const name = str(m, "name", "file", "filename");
    const sha = str(m, "sha256")?.toLowerCase();
    if (!name) throw new KitError(`${where}: models[${i}].name is missing`);
    if (!sha || !/^[0-9a-f]{64}$/.test(sha)) {
      // An unpinned model is named, not hashed: lock-workflow lists it as unresolved.
      wf.properties[`comfykit:unpinned-model:${name}`] = str(m, "url") ?? "";
      return;
    }
    const ref = `model:${sha}`;
    if (!byRef.has(ref)) {
      const dir = str(m, "directory");
      const lic = str(m, "license");
      const part: Part = {
        ref,
        type: "machine-learning-model",
        name,
        sha256: sha,
        distribution: str(m, "url", "immutableUrl", "immutable_url"),
        licenses: lic ? [modelLicense(lic)] : [],
        properties: {},
      };
      if (dir) part.properties["comfyui:directory"] = dir;
      if (typeof m.size === "number") {
        part.properties["comfykit:size"] = String(m.size);
      }
      if (m.gated === true) part.properties["huggingface:gated"] = "true";
      bill.parts.push(part);
      byRef.set(ref, part);
    }
    addEdge(bill, wf.ref, ref);
  });
  const nodes = records(
    data,
    ["nodePacks", "node_packs", "nodes", "packs"],
    where,
  );
  nodes.forEach((n, i) => {
    const id = str(n, "id", "cnr_id", "aux_id", "name");
    if (!id) throw new KitError(`${where}: node pack ${i + 1} has no id`);
    const version = str(n, "version", "ver");
    const local = [...byRef.values()].find((p) =>
      p.ref.startsWith("node:") &&
      (p.name === id || p.ref === `node:comfyui-node-${id}`)
    );
    if (local) {
      addEdge(bill, wf.ref, local.ref);
      return;
    }
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
      const repo = /^([\w.-]+)\/([\w.-]+)$/.exec(id);
      if (repo) {
        part.purl = `pkg:github/${id.toLowerCase()}${
          version ? `@${version}` : ""
        }`;
      }
      bill.parts.push(part);
      byRef.set(ref, part);
    }
    addEdge(bill, wf.ref, ref);
  });
}
