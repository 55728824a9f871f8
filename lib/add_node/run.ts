// add-node's wing, entered here (tasks and other wings import only this file): add one pack
// (add.ts), the packs of a saved workflow (from_workflow.ts), remove one (remove.ts), and what
// outdated / freeze-deps read of the packs (upstream.ts).
//
//   const r = await addNode({ spec: "github:Kosinkadink/ComfyUI-VideoHelperSuite@1.7.9", root,
//     python: "3.12", dryRun: false, json: false, force: false, acceptHazards: false },
//     chooseFrontend({ yes: true }));
export { addNode, type AddNodeOptions, type AddNodeResult } from "./add.ts";
export { addFromWorkflow } from "./from_workflow.ts";
export { parseLicenseFlag } from "../python/license.ts";
export { removeNode } from "./remove.ts";
// What outdated and freeze-deps read of a pack.
export {
  isNodePack,
  nodeRequirements,
  packsRequirements,
  registryCandidates,
} from "./upstream.ts";
