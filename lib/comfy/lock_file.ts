// workflows/<name>.lock.json: what `lock-workflow` pinned for one workflow, and what `models`
// fetches, checks and turns into Nix. The format is documented in docs/lock-workflow.md; this
// module validates it (one-line errors naming the field) and renders it deterministically:
// fixed key order, sorted lists, two-space JSON, a final newline, no timestamps.
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import { parseJson } from "./json.ts";
import { parseWith } from "../kit/schema.ts";

/** The format version written in `lockVersion`. */
export const LOCK_VERSION = 1;

const sha256 = z.string().regex(
  /^[0-9a-f]{64}$/,
  "expected a lower-case hex sha256",
);
const commit = z.string().regex(
  /^[0-9a-f]{40}$/,
  "expected a 40-hex commit id",
);
// A models/ sub-folder and a file name: no absolute paths, no "..", no empty segments.
const relPath = z.string().min(1).refine(
  (s) =>
    !s.startsWith("/") &&
    s.split(/[\\/]/).every((p) => p !== "" && p !== ".." && p !== "."),
  "expected a relative path without '..'",
);
const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}, "expected an http(s) URL");

const modelSchema = z.strictObject({
  name: relPath,
  directory: relPath,
  url: httpUrl,
  sourceUrl: httpUrl,
  immutable: z.boolean(),
  size: z.number().int().nonnegative(),
  sha256,
  hashFrom: z.enum(["lfs", "download"]),
  huggingface: z.strictObject({
    repo: z.string().min(1),
    kind: z.enum(["models", "datasets", "spaces"]),
    path: z.string().min(1),
    revision: z.string().min(1),
    commit,
    gated: z.union([z.literal(false), z.enum(["auto", "manual"])]).optional(),
    license: z.string().optional(),
  }).optional(),
  nodeTypes: z.array(z.string()),
});

const packSchema = z.strictObject({
  id: z.string().min(1),
  source: z.enum(["registry", "github"]),
  versions: z.array(z.string()),
  nodeTypes: z.array(z.string()),
  install: z.array(z.string()),
});

const unpinnedSchema = z.strictObject({
  name: z.string().min(1),
  directory: z.string().optional(),
  nodeType: z.string(),
  reason: z.string(),
});

const lockSchema = z.strictObject({
  lockVersion: z.literal(LOCK_VERSION),
  workflow: z.string().min(1),
  comfyui: z.strictObject({
    savedWith: z.string().nullable(),
    versions: z.array(z.string()),
    package: z.string().nullable(),
  }),
  nodePacks: z.array(packSchema),
  models: z.array(modelSchema),
  unpinned: z.array(unpinnedSchema),
});

/** A pinned model. */
export type LockedModel = z.infer<typeof modelSchema>;
/** A node pack and the add-node commands that install it. */
export type LockedPack = z.infer<typeof packSchema>;
/** A model the workflow names but the lock could not pin. */
export type UnpinnedModel = z.infer<typeof unpinnedSchema>;
/** A whole lock file. */
export type WorkflowLock = z.infer<typeof lockSchema>;

/** Parses and validates a lock file's text; `file` names it in errors. */
export function parseLock(text: string, file: string): WorkflowLock {
  const data = parseJson(text, file);
  const lock = parseWith(lockSchema, data, file);
  const seen = new Set<string>();
  for (const m of lock.models) {
    const key = modelPath(m);
    if (seen.has(key)) {
      throw new KitError(`${file}: models: "${key}" is listed twice`);
    }
    seen.add(key);
  }
  return lock;
}

/** Where a model goes under ComfyUI's models folder: "<directory>/<name>". */
export function modelPath(m: Pick<LockedModel, "directory" | "name">): string {
  return `${m.directory}/${m.name.replaceAll("\\", "/")}`;
}

const cmp = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

/** The lock as its file's text: canonical key order, sorted lists, trailing newline. */
export function renderLock(lock: WorkflowLock): string {
  const canonical: WorkflowLock = {
    lockVersion: lock.lockVersion,
    workflow: lock.workflow,
    comfyui: {
      savedWith: lock.comfyui.savedWith,
      versions: [...lock.comfyui.versions],
      package: lock.comfyui.package,
    },
    nodePacks: [...lock.nodePacks].sort((a, b) =>
      cmp(a.source, b.source) || cmp(a.id, b.id)
    ).map((p) => ({
      id: p.id,
      source: p.source,
      versions: [...p.versions],
      nodeTypes: [...p.nodeTypes].sort(cmp),
      install: [...p.install],
    })),
    models: [...lock.models].sort((a, b) => cmp(modelPath(a), modelPath(b)))
      .map((m) => ({
        name: m.name,
        directory: m.directory,
        url: m.url,
        sourceUrl: m.sourceUrl,
        immutable: m.immutable,
        size: m.size,
        sha256: m.sha256,
        hashFrom: m.hashFrom,
        ...(m.huggingface
          ? {
            huggingface: {
              repo: m.huggingface.repo,
              kind: m.huggingface.kind,
              path: m.huggingface.path,
              revision: m.huggingface.revision,
              commit: m.huggingface.commit,
              ...(m.huggingface.gated !== undefined
                ? { gated: m.huggingface.gated }
                : {}),
              ...(m.huggingface.license !== undefined
                ? { license: m.huggingface.license }
                : {}),
            },
          }
          : {}),
        nodeTypes: [...m.nodeTypes].sort(cmp),
      })),
    unpinned: [...lock.unpinned].sort((a, b) => cmp(a.name, b.name)).map((
      u,
    ) => ({
      name: u.name,
      ...(u.directory !== undefined ? { directory: u.directory } : {}),
      nodeType: u.nodeType,
      reason: u.reason,
    })),
  };
  return JSON.stringify(canonical, null, 2) + "\n";
}
