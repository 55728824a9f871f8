// models fetch: every locked model into `<base>/models/<directory>/`, through the kit's cache and
// mirrors, resumable, verified before it is moved into place. A file already there is checked
// (size, then hash unless verified before at this size and mtime) and left alone when right.
import { formatBytes, type ProgressSink } from "../kit/progress.ts";
import { KitError } from "../kit/errors.ts";
import { modelPath, type WorkflowLock } from "../comfy/lock_file.ts";
import type { RequestOptions } from "../net/http.ts";
import { applyMirrors, type Mirror } from "../net/mirrors.ts";
import { downloadResumable } from "../net/resumable.ts";
import { downloadHeaders, onHub } from "../net/huggingface.ts";
import { checkModel, modelFile } from "./check.ts";
import type { VerifiedState } from "./state.ts";

/** How to fetch. */
interface FetchOptions {
  base: string;
  hub: string;
  token: string | undefined;
  mirrors: readonly Mirror[];
  cacheDir?: string;
  state: VerifiedState;
  dryRun: boolean;
  /** Replace files whose bytes differ from the lock. */
  force: boolean;
  progress?: ProgressSink;
  request?: RequestOptions;
}

/** What happened to one model. */
interface FetchOutcome {
  model: string;
  path: string;
  action:
    | "present"
    | "downloaded"
    | "from-cache"
    | "would-download"
    | "differs"
    | "failed";
  size: number;
  resumedFrom?: number;
  error?: string;
}

/** Fetches every model of `lock`; failures are reported per model, the others still fetched. */
export async function fetchModels(
  lock: WorkflowLock,
  opts: FetchOptions,
): Promise<FetchOutcome[]> {
  const out: FetchOutcome[] = [];
  for (const m of lock.models) {
    const model = modelPath(m);
    const path = modelFile(opts.base, m);
    const base = { model, path, size: m.size };
    try {
      const st = await checkModel(opts.base, m, opts.state);
      if (st.status === "ok") {
        out.push({ ...base, action: "present" });
        continue;
      }
      if (st.status !== "missing" && !opts.force) {
        out.push({
          ...base,
          action: "differs",
          error:
            `${path} is there with other bytes (${st.status}): --force replaces it`,
        });
        continue;
      }
      if (opts.dryRun) {
        out.push({ ...base, action: "would-download" });
        continue;
      }
      const onHubUrl = onHub(m.url, opts.hub);
      const url = applyMirrors(onHubUrl, opts.mirrors);
      const r = await downloadResumable(url, {
        ...opts.request,
        dest: path,
        sha256: m.sha256,
        size: m.size,
        authHeaders: downloadHeaders(url, opts.hub, opts.token),
        label: model,
        ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
        ...(opts.progress ? { progress: opts.progress } : {}),
      });
      opts.state.record(path, await Deno.stat(path), m.sha256);
      out.push({
        ...base,
        action: r.from === "cache" ? "from-cache" : "downloaded",
        ...(r.resumedFrom > 0 ? { resumedFrom: r.resumedFrom } : {}),
      });
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) {
        out.push({
          ...base,
          action: "failed",
          error:
            `no write access to "${path}" for this task: set COMFYUI_BASE_DIR to ComfyUI's base directory (under deno task it may write only $COMFYUI_BASE_DIR/models and ~/.local/share/comfyui/models)`,
        });
        continue;
      }
      if (!(e instanceof KitError)) throw e;
      out.push({ ...base, action: "failed", error: e.message.split("\n")[0]! });
    }
  }
  await opts.state.save();
  return out;
}

/** One line per outcome, for people. */
export function describeOutcome(o: FetchOutcome): string {
  switch (o.action) {
    case "present":
      return `${o.model}: present, verified`;
    case "downloaded":
      return `${o.model}: downloaded ${formatBytes(o.size)}${
        o.resumedFrom ? ` (resumed at ${formatBytes(o.resumedFrom)})` : ""
      }`;
    case "from-cache":
      return `${o.model}: from the cache`;
    case "would-download":
      return `${o.model}: would download ${formatBytes(o.size)}`;
    default:
      return `${o.model}: ${o.error}`;
  }
}
