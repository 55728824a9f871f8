// A ComfyUI saved workflow (the frontend's "workflow" JSON, also embedded in PNGs ComfyUI saves):
// which ComfyUI version, which node packs and which model files it needs. Pure parsing lives in
// parseWorkflow; readWorkflow is the one function here that touches the disk.
//
// The format, as ComfyUI's frontend writes it (schema version 0.4 and 1):
//   nodes[].type, nodes[].properties.{cnr_id, aux_id, ver, models: [{name, url, directory}]},
//   nodes[].widgets_values (array, or an object for some packs),
//   definitions.subgraphs[].{id, name, nodes, definitions?}; a node whose type is a subgraph id is
//   an instance of that subgraph.
import { KitError } from "../kit/errors.ts";
import { parseJson } from "./json.ts";
import { baseName, isModelFileName, loaderDirectory } from "./loaders.ts";
import { isPng, pngTextChunks } from "./png.ts";

/** A model a workflow names with its download URL (`properties.models`). */
interface WorkflowModel {
  name: string;
  url?: string;
  /** The folder under ComfyUI's models/ (e.g. "vae"). */
  directory?: string;
  /** Node types that list it, sorted. */
  nodeTypes: string[];
}

/** A model file named only in a node's `widgets_values`: the workflow gives no URL for it. */
interface WidgetModel {
  name: string;
  nodeType: string;
  /** The folder a known core loader reads from. */
  directory?: string;
}

/** A custom node pack used by the workflow. */
export interface WorkflowPack {
  /** Comfy Registry id (`cnr_id`), or the GitHub "owner/repo" (`aux_id`) of a GitHub-only pack. */
  id: string;
  source: "registry" | "github";
  /** Every `ver` seen on its nodes, sorted (semver for registry releases, commit ids otherwise). */
  versions: string[];
  nodeTypes: string[];
}

/** What a workflow needs. */
export interface Workflow {
  /** The newest `comfy-core` `ver` on any node: the ComfyUI the workflow was last saved with. */
  comfyui?: { version: string; versions: string[] };
  packs: WorkflowPack[];
  models: WorkflowModel[];
  /** Widget file names that no `properties.models` entry names, sorted by name. */
  widgetModels: WidgetModel[];
  /** How many subgraph definitions (nested ones included). */
  subgraphs: number;
}

/** The largest workflow file read (PNG or JSON). */
const MAX_WORKFLOW_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Reads a workflow from a `.json` file or from the `workflow` text chunk of a PNG ComfyUI saved.
 * Throws a one-line `KitError` naming the file for anything unreadable or malformed.
 */
export async function readWorkflow(path: string): Promise<Workflow> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (e) {
    throw new KitError(
      `${path}: cannot read: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  if (size > MAX_WORKFLOW_FILE_BYTES) {
    throw new KitError(
      `${path}: ${size} bytes is larger than a workflow can be (limit ${MAX_WORKFLOW_FILE_BYTES})`,
    );
  }
  const bytes = await Deno.readFile(path);
  return parseWorkflow(workflowText(bytes, path), path);
}

/** The workflow JSON text of a file's bytes: the PNG `workflow` chunk, or the file itself. */
export function workflowText(bytes: Uint8Array, file: string): string {
  if (!isPng(bytes)) {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })
        .decode(bytes);
    } catch {
      throw new KitError(`${file}: neither a PNG nor UTF-8 JSON`);
    }
  }
  const chunks = pngTextChunks(bytes, file);
  const text = chunks.get("workflow");
  if (text !== undefined) return text;
  const found = [...chunks.keys()].map((k) => `"${k}"`).join(", ") || "none";
  throw new KitError(
    `${file}: the PNG has no "workflow" text chunk (text chunks: ${found}); save the image from ComfyUI with metadata on`,
  );
}

/** Parses a saved workflow's JSON text; `file` names it in errors. */
export function parseWorkflow(text: string, file: string): Workflow {
  const data = parseJson(text, file);
  const root = obj(data, file, "the top level");
  if (!Array.isArray(root.nodes)) {
    const hint = Object.values(root).some((v) => isObj(v) && "class_type" in v)
      ? ' (this is an API-format prompt; use the "workflow" the UI saves, which carries model URLs)'
      : "";
    throw new KitError(`${file}: "nodes": expected an array${hint}`);
  }
  const acc = new Collector(file);
  acc.graph(root, "");
  return acc.result();
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, file: string, where: string): Obj {
  if (!isObj(v)) throw new KitError(`${file}: ${where}: expected an object`);
  return v;
}

function optString(
  o: Obj,
  key: string,
  file: string,
  where: string,
): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    throw new KitError(`${file}: ${where}.${key}: expected a string`);
  }
  return v;
}

const MAX_DEPTH = 32;

class Collector {
  readonly #file: string;
  readonly #packs = new Map<string, WorkflowPack>();
  readonly #models = new Map<string, WorkflowModel>();
  readonly #widgets = new Map<string, WidgetModel>();
  readonly #core = new Set<string>();
  readonly #subgraphNames = new Map<string, string>();
  #subgraphs = 0;

  constructor(file: string) {
    this.#file = file;
  }

  /** A graph (the workflow or a subgraph): its subgraph definitions first, so instances get names. */
  graph(g: Obj, at: string, depth = 0): void {
    if (depth > MAX_DEPTH) {
      throw new KitError(
        `${this.#file}: ${at}: subgraphs nested deeper than ${MAX_DEPTH}`,
      );
    }
    const defs = g.definitions;
    if (defs !== undefined && defs !== null) {
      const d = obj(defs, this.#file, `${at}definitions`);
      const subs = d.subgraphs ?? [];
      if (!Array.isArray(subs)) {
        throw new KitError(
          `${this.#file}: ${at}definitions.subgraphs: expected an array`,
        );
      }
      subs.forEach((s, i) => {
        const where = `${at}definitions.subgraphs[${i}]`;
        const sub = obj(s, this.#file, where);
        const id = optString(sub, "id", this.#file, where);
        const name = optString(sub, "name", this.#file, where);
        if (id !== undefined) this.#subgraphNames.set(id, name ?? id);
        this.#subgraphs++;
        if (!Array.isArray(sub.nodes)) {
          throw new KitError(
            `${this.#file}: ${where}.nodes: expected an array`,
          );
        }
        this.graph(sub, `${where}.`, depth + 1);
      });
    }
    (g.nodes as unknown[]).forEach((n, i) => this.#node(n, `${at}nodes[${i}]`));
  }

  #node(n: unknown, where: string): void {
    const node = obj(n, this.#file, where);
    const rawType = optString(node, "type", this.#file, where) ?? "(untyped)";
    const type = this.#subgraphNames.get(rawType) ?? rawType;
    const props = node.properties === undefined || node.properties === null
      ? {}
      : obj(node.properties, this.#file, `${where}.properties`);
    const pw = `${where}.properties`;
    const cnr = optString(props, "cnr_id", this.#file, pw);
    const aux = optString(props, "aux_id", this.#file, pw);
    const ver = optString(props, "ver", this.#file, pw);
    if (cnr === "comfy-core") {
      if (ver !== undefined) this.#core.add(ver);
    } else if (cnr !== undefined || aux !== undefined) {
      const id = cnr ?? aux!;
      const source = cnr !== undefined ? "registry" : "github";
      const key = `${source}:${id}`;
      const pack = this.#packs.get(key) ??
        { id, source, versions: [], nodeTypes: [] };
      this.#packs.set(key, pack);
      addSorted(pack.versions, ver);
      addSorted(pack.nodeTypes, type);
    }
    const models = props.models ?? [];
    if (!Array.isArray(models)) {
      throw new KitError(`${this.#file}: ${pw}.models: expected an array`);
    }
    models.forEach((m, i) => this.#model(m, type, `${pw}.models[${i}]`));
    this.#widgetValues(node.widgets_values, type);
  }

  #model(m: unknown, type: string, where: string): void {
    const o = obj(m, this.#file, where);
    const name = optString(o, "name", this.#file, where);
    if (name === undefined || name.trim() === "") {
      throw new KitError(`${this.#file}: ${where}.name: expected a file name`);
    }
    const url = optString(o, "url", this.#file, where);
    const directory = optString(o, "directory", this.#file, where);
    const key = JSON.stringify([name, directory ?? "", url ?? ""]);
    const model = this.#models.get(key) ?? {
      name,
      ...(url !== undefined ? { url } : {}),
      ...(directory !== undefined ? { directory } : {}),
      nodeTypes: [],
    };
    this.#models.set(key, model);
    addSorted(model.nodeTypes, type);
  }

  #widgetValues(values: unknown, type: string): void {
    const list = Array.isArray(values)
      ? values
      : isObj(values)
      ? Object.values(values)
      : [];
    for (const v of list) {
      if (!isModelFileName(v)) continue;
      const name = v.trim();
      if (this.#widgets.has(name)) continue;
      const directory = loaderDirectory(type);
      this.#widgets.set(name, {
        name,
        nodeType: type,
        ...(directory !== undefined ? { directory } : {}),
      });
    }
  }

  result(): Workflow {
    const named = new Set(
      [...this.#models.values()].flatMap((m) => [m.name, baseName(m.name)]),
    );
    const widgetModels = [...this.#widgets.values()]
      .filter((w) => !named.has(w.name) && !named.has(baseName(w.name)))
      .sort((a, b) => cmp(a.name, b.name));
    const versions = [...this.#core].sort(compareVersions);
    return {
      ...(versions.length > 0
        ? { comfyui: { version: versions[versions.length - 1]!, versions } }
        : {}),
      packs: [...this.#packs.values()].sort((a, b) =>
        cmp(a.source, b.source) || cmp(a.id, b.id)
      ),
      models: [...this.#models.values()].sort((a, b) =>
        cmp(a.directory ?? "", b.directory ?? "") || cmp(a.name, b.name) ||
        cmp(a.url ?? "", b.url ?? "")
      ),
      widgetModels,
      subgraphs: this.#subgraphs,
    };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function addSorted(list: string[], v: string | undefined): void {
  if (v === undefined || list.includes(v)) return;
  list.push(v);
  list.sort(compareVersions);
}

/** Orders dotted numeric versions numerically ("0.3.9" < "0.3.10"), anything else as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split("."), pb = b.split(".");
  const numeric = (p: string[]) => p.every((x) => /^\d+$/.test(x));
  if (!numeric(pa) || !numeric(pb)) return cmp(a, b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
