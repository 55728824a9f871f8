// deno task lock-workflow FILE — pin everything a saved ComfyUI workflow needs: each model at an
// immutable URL (Hugging Face commit) with its size and sha256, each node pack with the add-node
// command that installs it, the ComfyUI version it was saved with. Writes
// workflows/<name>.lock.json (format: docs/lock-workflow.md).
//
//   deno task lock-workflow ~/Downloads/qwen_t2i.json
//   deno task lock-workflow image.png --model "lora.safetensors=https://huggingface.co/o/r/resolve/main/lora.safetensors"
//
// Permissions: --allow-read, --allow-write=workflows and the download cache, --allow-net (the Hub
// and model hosts), --allow-env (COMFYKIT_HF_URL, HF_TOKEN, COMFYKIT_MIRRORS, COMFYKIT_ROOT,
// COMFYKIT_CACHE_DIR, XDG_CACHE_HOME, HOME, NO_COLOR, INIT_CWD, LOG).
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import type { EnvLike } from "../lib/kit/env.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import { createProgress, formatBytes } from "../lib/kit/progress.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import type * as Workflow from "../lib/lock_workflow/run.ts";

// Loaded after --help (instant help, tests/suite/startup_test.ts).
let { defaultCacheDir, lockWorkflow } = {} as typeof Workflow;

const USAGE = `Usage: deno task lock-workflow FILE [options]

Reads a ComfyUI workflow (a saved .json, or a PNG ComfyUI saved with its workflow) and writes
workflows/<name>.lock.json: every model with an immutable URL, size and sha256, every node pack
with its add-node command, the ComfyUI version it was saved with. Hugging Face URLs are pinned to
the commit their branch points at now (size and sha256 from the Hub's LFS metadata, or by
downloading files kept in git); other URLs are downloaded, hashed and marked not immutable.
Models the workflow names only in a loader's widgets are listed as not pinned, with the flag to
pin them.

Options:
  --model NAME=URL   the URL of a model the workflow names without one (repeatable);
                     DIRECTORY/NAME=URL for a loader the kit does not know
  --output FILE      lock file to write (default: workflows/<name>.lock.json)
  --verify-lfs       also download Hub LFS files and check them against the Hub's metadata
  --no-cache         do not keep downloaded files in the download cache
  --strict           exit 1 when a model could not be pinned
  --dry-run          print the lock file's diff, write nothing
  --json             print the lock as JSON on stdout
  --root DIR         ${ROOT_HELP}
  -h, --help         show this help

Environment: COMFYKIT_HF_URL (Hub base, default https://huggingface.co), HF_TOKEN (gated
repositories; sent only to the Hub, never written), COMFYKIT_MIRRORS (FROM=TO URL prefixes).

Exit status: 0 locked (or unchanged, or dry run), 1 failure or (with --strict) models not pinned,
2 usage error.`;

/** Runs the task; `env` is where its variables come from (tests pass a record). */
export async function main(
  args: string[],
  env: EnvLike = Deno.env,
): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      model: { type: "string", multiple: true },
      output: { type: "string" },
      "verify-lfs": { type: "boolean" },
      "no-cache": { type: "boolean" },
      strict: { type: "boolean" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      root: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({
      defaultCacheDir,
      lockWorkflow,
    } = await import("../lib/lock_workflow/run.ts"));
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? "Give the workflow to lock: FILE (.json or .png)"
          : `Give one workflow, not ${positionals.length}: ${
            positionals.join(" ")
          }`,
      );
    }
    const root = await resolveRoot(values.root, env);
    const r = await lockWorkflow({
      root,
      file: argPath(positionals[0]!),
      models: values.model ?? [],
      ...(values.output !== undefined
        ? { output: argPath(values.output) }
        : {}),
      dryRun: values["dry-run"] === true,
      verifyLfs: values["verify-lfs"] === true,
      ...(values["no-cache"] ? {} : { cacheDir: defaultCacheDir(env) }),
      env,
      progress: createProgress(),
      onModel: (p) => info(`pinning ${p}`),
    });
    const { lock } = r;
    if (values.json) {
      out(JSON.stringify({ path: r.path, action: r.action, lock }, null, 2));
    } else {
      if (r.action === "dry-run") out(r.diff.trimEnd());
      const c = lock.comfyui;
      if (c.savedWith !== null) {
        const pkg = c.package === null
          ? ""
          : c.package === c.savedWith
          ? " (comfyui.nix packages the same)"
          : `; comfyui.nix packages ${c.package}`;
        out(`ComfyUI: saved with ${c.savedWith}${pkg}`);
      }
      for (const m of lock.models) {
        const where = m.huggingface
          ? `${m.huggingface.repo}@${m.huggingface.commit.slice(0, 12)}`
          : "not immutable (not on the Hub)";
        out(
          `model ${m.directory}/${m.name}: ${formatBytes(m.size)} sha256 ${
            m.sha256.slice(0, 16)
          }… ${where}`,
        );
      }
      for (const p of lock.nodePacks) {
        for (const cmd of p.install) {
          // A registry pack saved from a nightly install names a commit, not a release.
          const nightly = p.source === "registry" && !cmd.includes("@")
            ? ` (the workflow used commit ${
              p.versions.join(", ")
            }, which the registry has no release for)`
            : "";
          out(`node pack ${p.id}: ${cmd}${nightly}`);
        }
      }
      const verb = {
        written: "wrote",
        unchanged: "unchanged:",
        "dry-run": "would write",
      }[r.action];
      out(`${verb} ${r.path}`);
    }
    if (r.newerComfyui) {
      warn(
        `the workflow was saved with ComfyUI ${lock.comfyui.savedWith}, newer than the ${lock.comfyui.package} comfyui.nix packages: its nodes may be missing (deno task bump-comfyui)`,
      );
    }
    for (const u of lock.unpinned) {
      warn(
        `not pinned: ${
          u.directory ? `${u.directory}/` : ""
        }${u.name} (${u.nodeType}): ${u.reason}`,
      );
    }
    if (r.action === "written" && lock.models.length > 0) {
      info(`\nNext:\n  deno task models fetch ${r.path}`);
    }
    return values.strict && lock.unpinned.length > 0 ? 1 : 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
