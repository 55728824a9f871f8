// Node packs a workflow uses, as the add-node commands that install them (tasks/add_node.ts,
// built by the nodes wing): `registry:ID@VERSION` for a Comfy Registry release,
// `github:OWNER/REPO@COMMIT` for a GitHub-only pack (aux_id).
import type { LockedPack } from "../comfy/lock_file.ts";
import type { WorkflowPack } from "../comfy/workflow.ts";

const RELEASE = /^\d+\.\d+(\.\d+)?([-+.][0-9A-Za-z.+-]*)?$/;

/** The lock entry of a pack: its versions and one install command per version. */
export function lockPack(p: WorkflowPack): LockedPack {
  const install = p.source === "github"
    ? p.versions.map((v) => `deno task add-node github:${p.id}@${v}`)
    : p.versions.map((v) =>
      // A registry pack saved from a nightly install records a commit, not a release.
      RELEASE.test(v)
        ? `deno task add-node registry:${p.id}@${v}`
        : `deno task add-node registry:${p.id}`
    );
  if (install.length === 0) {
    install.push(
      p.source === "github"
        ? `deno task add-node github:${p.id}`
        : `deno task add-node registry:${p.id}`,
    );
  }
  return {
    id: p.id,
    source: p.source,
    versions: p.versions,
    nodeTypes: p.nodeTypes,
    install: [...new Set(install)],
  };
}
