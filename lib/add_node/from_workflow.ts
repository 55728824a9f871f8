// add-node --from-workflow: the packs a saved workflow uses (planWorkflow), listed, confirmed
// once, then each added by its own add-node run.
import { KitError } from "../kit/errors.ts";
import { info, warn } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import { addNode, type AddNodeOptions, type AddNodeResult } from "./add.ts";
import { planWorkflow, type WorkflowNodePlan } from "./workflow.ts";

/** What --from-workflow did: each pack's plan and, for those added, add-node's result. */
interface WorkflowResult {
  workflow: string;
  packs: (WorkflowNodePlan & { result?: AddNodeResult; error?: string })[];
}

/**
 * --from-workflow FILE: lists the packs the workflow uses, asks once, then adds each one that is
 * missing (its own question-free add-node run; a failure is reported and the rest go on).
 */
export async function addFromWorkflow(
  opts: Omit<AddNodeOptions, "spec"> & { workflow: string },
  fe: Frontend,
): Promise<WorkflowResult> {
  const env = opts.env ?? Deno.env;
  const plans = await planWorkflow(opts.workflow, opts.root, env);
  const packs: WorkflowResult["packs"] = plans.map((p) => ({ ...p }));
  info(`${opts.workflow}: ${plans.length} node pack(s)`);
  for (const p of plans) {
    const what = p.present
      ? `already in ${p.present}`
      : p.spec
      ? `add ${p.spec}`
      : "cannot be pinned";
    info(
      `  ${p.pack} (${p.nodeTypes.join(", ")}): ${what}${
        p.note ? ` (${p.note})` : ""
      }`,
    );
  }
  const todo = packs.filter((p) => p.spec && !p.present);
  if (!todo.length) return { workflow: opts.workflow, packs };
  if (!opts.dryRun) {
    const ok = await fe.confirm({
      key: "add-workflow-packs",
      flag: "--yes",
      message: `Add ${todo.length} node pack(s)?`,
      default: true,
    });
    if (!ok) return { workflow: opts.workflow, packs };
  }
  for (const p of todo) {
    info(`\n${p.spec}`);
    try {
      p.result = await addNode({ ...opts, spec: p.spec! }, fe);
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      p.error = e.message;
      warn(`${p.spec}: ${e.message}`);
    }
  }
  return { workflow: opts.workflow, packs };
}
