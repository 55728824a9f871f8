// lock-workflow: a saved ComfyUI workflow → workflows/<name>.lock.json, every model pinned at an
// immutable URL with its size and sha256, every node pack with its add-node command, and the
// ComfyUI version it was saved with beside the one comfyui.nix packages.
import { basename, dirname, join, relative } from "node:path";
import { Changeset } from "../kit/changeset.ts";
import type { EnvLike } from "../kit/env.ts";
import type { ProgressSink } from "../kit/progress.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { compareVersions, readWorkflow } from "../comfy/workflow.ts";
import {
  LOCK_VERSION,
  type LockedModel,
  renderLock,
  type WorkflowLock,
} from "../comfy/lock_file.ts";
import type { RequestOptions } from "../net/http.ts";
import { mirrorsFromEnv } from "../net/mirrors.ts";
import { hubFromEnv, tokenFromEnv } from "../net/huggingface.ts";
import { readMainPackage } from "../repo/main_package.ts";
import { repoPaths, WORKFLOWS_DIR } from "../repo/paths.ts";
import { lockPack } from "./packs.ts";
import { parseOverrides, planModels } from "./plan.ts";
import { resolveModel } from "./resolve.ts";

export { defaultCacheDir } from "../net/cache.ts";

/** What to lock. */
interface LockOptions {
  root: string;
  /** The workflow file (absolute). */
  file: string;
  /** `--model NAME=URL` flags, as given. */
  models: readonly string[];
  /** Lock file path (absolute); default `<root>/workflows/<name>.lock.json`. */
  output?: string;
  dryRun: boolean;
  /** Download LFS files too and compare them with the Hub's headers. */
  verifyLfs: boolean;
  /** The download cache, which keeps what was downloaded to be hashed. */
  cacheDir?: string;
  env: EnvLike;
  progress?: ProgressSink;
  /** Request options (retry policy, fetch) for tests. */
  request?: RequestOptions;
  /** Called before each model is resolved. */
  onModel?: (path: string) => void;
}

/** What locking did. */
interface LockResult {
  lock: WorkflowLock;
  /** The lock file, relative to the root when inside it. */
  path: string;
  /** True when the workflow was saved with a newer ComfyUI than comfyui.nix packages. */
  newerComfyui: boolean;
  /** "written", "unchanged", or "dry-run". */
  action: "written" | "unchanged" | "dry-run";
  diff: string;
}

/** The lock file name of a workflow file: "a/b/My flow.png" → "My flow.lock.json". */
function lockName(file: string): string {
  return basename(file).replace(/\.(json|png)$/i, "") + ".lock.json";
}

/** Locks one workflow (network for the models; writes the lock unless dry-run). */
export async function lockWorkflow(opts: LockOptions): Promise<LockResult> {
  const hub = hubFromEnv(opts.env);
  const overrides = parseOverrides(opts.models);
  const wf = await readWorkflow(opts.file);
  const plan = planModels(wf, overrides, hub);
  const ctx = {
    ...opts.request,
    hub,
    token: tokenFromEnv(opts.env),
    mirrors: mirrorsFromEnv(opts.env),
    verifyLfs: opts.verifyLfs,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  };
  const models: LockedModel[] = [];
  for (const req of plan.requests) {
    opts.onModel?.(`${req.directory}/${req.name}`);
    models.push(await resolveModel(req, ctx));
  }
  const lock: WorkflowLock = {
    lockVersion: LOCK_VERSION,
    workflow: basename(opts.file),
    comfyui: {
      savedWith: wf.comfyui?.version ?? null,
      versions: wf.comfyui?.versions ?? [],
      package: await packagedComfyui(opts.root),
    },
    nodePacks: wf.packs.map(lockPack),
    models,
    unpinned: plan.unpinned,
  };
  const text = renderLock(lock);
  const { savedWith, package: pkg } = lock.comfyui;
  const newerComfyui = savedWith !== null && pkg !== null &&
    compareVersions(savedWith, pkg) > 0;
  const abs = opts.output ??
    join(opts.root, WORKFLOWS_DIR, lockName(opts.file));
  const rel = relative(opts.root, abs);
  const path = rel.startsWith("..") ? abs : rel;
  const cs = new Changeset(opts.root);
  if ((await readTextIfExists(abs)) === text) {
    return { lock, path, newerComfyui, action: "unchanged", diff: "" };
  }
  cs.write(abs, text);
  const diff = await cs.diff();
  if (opts.dryRun) return { lock, path, newerComfyui, action: "dry-run", diff };
  // The task may write workflows/ only, not the root the changeset would probe for a new folder.
  await Deno.mkdir(dirname(abs), { recursive: true });
  await cs.apply();
  return { lock, path, newerComfyui, action: "written", diff };
}

/** The version .flox/pkgs/comfyui.nix packages, or null when there is none to read. */
async function packagedComfyui(root: string): Promise<string | null> {
  const file = repoPaths(root).mainPackage;
  const text = await readTextIfExists(file);
  if (text === undefined) return null;
  try {
    return readMainPackage(text, file).version;
  } catch {
    return null;
  }
}
