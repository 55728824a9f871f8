// deno task models fetch|check|nix LOCK — the models of a workflow lock (lock-workflow's
// workflows/<name>.lock.json): download them into ComfyUI's models folder (resumable, verified,
// through the cache and mirrors), check what is there offline, or print Nix fetchurl entries.
//
//   deno task models fetch workflows/qwen.lock.json
//   deno task models check workflows/qwen.lock.json --json
//   deno task models nix workflows/qwen.lock.json > qwen-models.nix
//
// Permissions: --allow-read, --allow-write=$COMFYUI_BASE_DIR/models, ~/.local/share/comfyui/models
// and the download cache, --allow-net (model hosts), --allow-env (COMFYUI_BASE_DIR,
// COMFYKIT_HF_URL, HF_TOKEN, COMFYKIT_MIRRORS, COMFYKIT_CACHE_DIR, XDG_*, HOME, …).
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import type { EnvLike } from "../lib/kit/env.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import { createProgress } from "../lib/kit/progress.ts";
import type * as Workflow from "../lib/models/run.ts";

// Loaded after --help (instant help, tests/suite/startup_test.ts).
let {
  checkModels,
  comfyuiBaseDir,
  defaultCacheDir,
  describeOutcome,
  fetchModels,
  hubFromEnv,
  mirrorsFromEnv,
  readLock,
  renderNix,
  tokenFromEnv,
  VerifiedState,
} = {} as typeof Workflow;

const USAGE = `Usage: deno task models fetch|check|nix LOCK [options]

The models of a workflow lock written by lock-workflow (workflows/<name>.lock.json):

  fetch   download each model into BASE/models/<directory>/<name>: from the download cache when
          it has the file, else from its locked URL (through COMFYKIT_MIRRORS), resuming a
          partial download with HTTP ranges; the file is moved into place only once its size and
          sha256 match the lock. Files already there and right are left alone.
  check   verify what is there, offline: size first, then sha256. A file verified before is not
          hashed again while its size and mtime are unchanged (the state is in the download
          cache directory, verified-models.json).
  nix     print a Nix file of fetchurl { name; url; hash; } entries, one per model.

BASE is ComfyUI's base directory, as the comfyui launcher picks it: --base-dir, else
$COMFYUI_BASE_DIR, else $XDG_DATA_HOME/comfyui, else ~/.local/share/comfyui. Under deno task,
the task may write BASE/models only for $COMFYUI_BASE_DIR or ~/.local/share/comfyui (set
COMFYUI_BASE_DIR rather than --base-dir), and the download cache.

Options:
  --base-dir DIR   ComfyUI's base directory (see above)
  --force          fetch: replace a file whose bytes differ from the lock
  --rehash         check: hash every file, ignoring what was verified before
  --no-cache       fetch: neither read nor fill the download cache
  --dry-run        fetch: list what would be downloaded, write nothing
  --json           print the result as JSON
  -h, --help       show this help

Environment: COMFYUI_BASE_DIR, COMFYKIT_HF_URL, HF_TOKEN (gated repositories: sent only to the
Hub), COMFYKIT_MIRRORS, COMFYKIT_CACHE_DIR.

Exit status: 0 all models present and right (fetch: fetched; nix: printed), 1 a model missing,
wrong or not fetched, or bad input, 2 usage error.`;

const VERBS = new Set(["fetch", "check", "nix"]);

/** Runs the task; `env` is where its variables come from (tests pass a record). */
export async function main(
  args: string[],
  env: EnvLike = Deno.env,
): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      "base-dir": { type: "string" },
      force: { type: "boolean" },
      rehash: { type: "boolean" },
      "no-cache": { type: "boolean" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({
      checkModels,
      comfyuiBaseDir,
      defaultCacheDir,
      describeOutcome,
      fetchModels,
      hubFromEnv,
      mirrorsFromEnv,
      readLock,
      renderNix,
      tokenFromEnv,
      VerifiedState,
    } = await import("../lib/models/run.ts"));
    const [verb, lockArg, ...rest] = positionals;
    if (verb === undefined || !VERBS.has(verb)) {
      throw new UsageError(
        verb === undefined
          ? "Give a verb: fetch, check or nix"
          : `Unknown verb "${verb}": expected fetch, check or nix`,
      );
    }
    if (lockArg === undefined || rest.length > 0) {
      throw new UsageError(
        lockArg === undefined
          ? `Give the lock file: deno task models ${verb} LOCK`
          : `Give one lock file, not ${rest.length + 1}`,
      );
    }
    const lockPath = argPath(lockArg);
    const lock = await readLock(lockPath);
    if (verb === "nix") {
      const text = renderNix(lock, lockArg);
      out(values.json ? JSON.stringify({ nix: text }) : text.trimEnd());
      return 0;
    }
    const base = comfyuiBaseDir(
      values["base-dir"] === undefined
        ? undefined
        : argPath(values["base-dir"]),
      env,
    );
    const cacheDir = defaultCacheDir(env);
    const state = await new VerifiedState(cacheDir).load();
    if (verb === "check") {
      const results = await checkModels(
        base,
        lock,
        state,
        values.rehash === true,
      );
      const bad = results.filter((r) => r.status !== "ok");
      if (values.json) out(JSON.stringify({ base, models: results }, null, 2));
      else {
        for (const r of results) {
          out(
            `${r.model}: ${
              r.status === "ok"
                ? (r.cached ? "ok (verified before, unchanged)" : "ok")
                : r.status
            }`,
          );
        }
      }
      if (bad.length > 0) {
        throw new KitError(
          `${bad.length} of ${results.length} models missing or wrong under ${base}/models: run "deno task models fetch ${lockArg}"`,
        );
      }
      return 0;
    }
    const outcomes = await fetchModels(lock, {
      base,
      hub: hubFromEnv(env),
      token: tokenFromEnv(env),
      mirrors: mirrorsFromEnv(env),
      ...(values["no-cache"] ? {} : { cacheDir }),
      state,
      dryRun: values["dry-run"] === true,
      force: values.force === true,
      progress: createProgress(),
    });
    if (values.json) out(JSON.stringify({ base, models: outcomes }, null, 2));
    else for (const o of outcomes) out(describeOutcome(o));
    for (const u of lock.unpinned) {
      warn(
        `not in the lock (no URL): ${
          u.directory ? `${u.directory}/` : ""
        }${u.name}`,
      );
    }
    const failed = outcomes.filter((o) =>
      o.action === "failed" || o.action === "differs"
    );
    if (failed.length > 0) {
      throw new KitError(
        `${failed.length} of ${outcomes.length} models not fetched (see above)`,
      );
    }
    if (!values.json) info(`models under ${base}/models`);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
