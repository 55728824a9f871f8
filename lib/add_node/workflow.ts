// --from-workflow: the node packs a saved workflow uses (lib/comfy's parser: `cnr_id` / `aux_id`
// with `ver`, subgraphs included, PNGs too) turned into add-node SPECs: a Registry release as
// registry:ID@VER, a pack saved from a git checkout (a commit as `ver`) as github:OWNER/REPO@COMMIT
// (for a Registry id, the repository the Registry records), packs already in .flox/pkgs left out.
import { join } from "node:path";
import { readWorkflow } from "../comfy/workflow.ts";
import type { EnvLike } from "../kit/env.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { warn } from "../kit/log.ts";
import { PKGS_DIR } from "../repo/paths.ts";
import { isCommit } from "../net/github.ts";
import { fetchNode, registryUrl } from "../net/registry.ts";
import { nodeAttr, nodeId } from "./spec.ts";

/** One pack of the workflow and what add-node would do with it. */
export interface WorkflowNodePlan {
  /** `cnr_id` or `aux_id` as saved. */
  pack: string;
  nodeTypes: string[];
  /** The SPEC to add, or undefined when it cannot be pinned (see `note`). */
  spec?: string;
  /** Already in .flox/pkgs (that file), nothing to do. */
  present?: string;
  note?: string;
}

/** The packs of `file` as add-node SPECs (asks the Registry for repositories when needed). */
export async function planWorkflow(
  file: string,
  root: string,
  env: EnvLike,
): Promise<WorkflowNodePlan[]> {
  const wf = await readWorkflow(file);
  const existing = await nodeFiles(root);
  const plans: WorkflowNodePlan[] = [];
  for (const p of wf.packs) {
    const plan: WorkflowNodePlan = { pack: p.id, nodeTypes: p.nodeTypes };
    plans.push(plan);
    const releases = p.versions.filter((v) => !isCommit(v));
    const commits = p.versions.filter(isCommit);
    const pick = (vs: string[]) => {
      if (vs.length > 1) {
        warn(
          `${p.id}: the workflow was saved with several versions (${
            vs.join(", ")
          }): using ${vs.at(-1)}`,
        );
      }
      return vs.at(-1);
    };
    if (p.source === "registry") {
      const attr = nodeAttr(nodeId(p.id));
      if (existing.has(attr)) {
        plan.present = `${PKGS_DIR}/${attr}.nix`;
        continue;
      }
      if (releases.length) {
        plan.spec = `registry:${p.id}@${pick(releases)}`;
        continue;
      }
      if (!commits.length) {
        plan.spec = `registry:${p.id}`;
        plan.note = "no version saved: the Registry's latest";
        continue;
      }
      const node = await fetchNode(registryUrl(env), p.id);
      const gh = node.repository?.match(
        /^https?:\/\/github\.com\/([^/]+)\/([^/#?]+?)(?:\.git)?\/?$/,
      );
      if (!gh) {
        plan.note = `saved from a git checkout (${
          commits.join(", ")
        }) and the Registry records no GitHub repository for it`;
        continue;
      }
      plan.spec = `github:${gh[1]}/${gh[2]}@${pick(commits)}`;
      plan.note = "saved from a git checkout: pinned as the commit";
      continue;
    }
    const [owner, repo] = p.id.split("/");
    const present = [...existing].find(([, text]) =>
      text.includes(`owner = "${owner}";`) && text.includes(`repo = "${repo}";`)
    );
    if (present) {
      plan.present = `${PKGS_DIR}/${present[0]}.nix`;
      continue;
    }
    const ver = pick(p.versions);
    if (!ver) {
      plan.note =
        "a GitHub pack saved without a version: add it with github:OWNER/REPO@REF";
      continue;
    }
    plan.spec = `github:${p.id}@${ver}`;
  }
  return plans;
}

/** The node pack files under .flox/pkgs: attribute → text. */
async function nodeFiles(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    for await (const e of Deno.readDir(join(root, PKGS_DIR))) {
      if (!e.isFile || !/^comfyui-node-.+\.nix$/.test(e.name)) continue;
      out.set(
        e.name.slice(0, -4),
        (await readTextIfExists(join(root, PKGS_DIR, e.name))) ?? "",
      );
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}
