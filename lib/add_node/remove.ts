// remove-node: a pack taken out cleanly: unwired from comfyui.nix (customNodes and its
// argument), its file deleted, its vendored archive dropped when nothing else names it
// (remove-package's stageSourceDrop), all applied together under the sources lock.
import { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { out } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import { MAIN_PACKAGE, packageFile } from "../repo/paths.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import {
  applyWithSourcesLock,
  stageSourceDrop,
} from "../repo/staged_sources.ts";
import { nodeAttr } from "./spec.ts";
import { unwireNode, wiredNodes } from "./wire.ts";

/** What a removal did. */
interface RemoveNodeResult {
  attr: string;
  file: string;
  action: "removed" | "would-remove" | "cancelled";
  unwired: boolean;
  droppedSource?: string;
}

/** Removes the pack `id` (or its attribute `comfyui-node-<id>`). */
export async function removeNode(
  opts: { root: string; id: string; dryRun: boolean; json: boolean },
  fe: Frontend,
): Promise<RemoveNodeResult> {
  const attr = opts.id.startsWith("comfyui-node-")
    ? opts.id
    : nodeAttr(opts.id);
  const file = packageFile(attr);
  const cs = new Changeset(opts.root);
  const text = await cs.readText(file);
  const mainText = await cs.readText(MAIN_PACKAGE);
  if (mainText === undefined) throw new KitError(`No ${MAIN_PACKAGE}`);
  const wired = wiredNodes(mainText, MAIN_PACKAGE).includes(attr);
  if (text === undefined && !wired) {
    throw new KitError(`No node pack "${opts.id}": ${file} does not exist`);
  }
  if (wired) {
    const unwired = unwireNode(mainText, attr, MAIN_PACKAGE);
    if (unwired !== mainText) cs.write(MAIN_PACKAGE, unwired);
  }
  let droppedSource: string | undefined;
  if (text !== undefined) {
    cs.remove(file);
    const src = readPackage(parseNix(text, file)).src;
    if (src?.path !== undefined) {
      const drop = await stageSourceDrop(cs, src.path.split("/").pop()!);
      droppedSource = drop.removed;
    }
  }
  const result = (action: RemoveNodeResult["action"]): RemoveNodeResult => ({
    attr,
    file,
    action,
    unwired: wired,
    ...(droppedSource ? { droppedSource } : {}),
  });
  if (!opts.json) {
    const diff = await cs.diff();
    if (diff) out(diff.trimEnd());
  }
  if (opts.dryRun) return result("would-remove");
  const ok = await fe.confirm({
    key: "remove",
    flag: "--yes",
    message: `Remove node pack ${attr} (${cs.size} file(s) changed)?`,
    default: true,
  });
  if (!ok) return result("cancelled");
  await applyWithSourcesLock(cs);
  return result("removed");
}
