// deno task remove-package, the workflow: plan the removal (lib/remove_package/plan.ts), show
// the diff, confirm, then apply every change together under the sources lock, after checking
// that no file changed on disk since it was read.
//
//   const r = await removePackage({ root, name: "spandrel", keepFile: false, keepSource: false,
//     force: false, dryRun: false, json: false, fe });
import type { Frontend } from "../kit/prompt.ts";
import { KitError } from "../kit/errors.ts";
import { info, out } from "../kit/log.ts";
import { withLock } from "../repo/lock.ts";
import { repoPaths } from "../repo/paths.ts";
import { planRemoval, type RemoveOptions } from "./plan.ts";

/** What a run did (or would do). */
interface RemoveResult {
  package: string;
  file: string;
  /** "removed", "would-remove" (dry run) or "cancelled". */
  action: "removed" | "would-remove" | "cancelled";
  deleted: boolean;
  unwiredFrom: string[];
  sources: string[];
  entries: string[];
  kept: string[];
}

/** Runs a removal: diff first, then a confirmation (unless dry run), then all or nothing. */
export async function removePackage(
  opts: RemoveOptions & { dryRun: boolean; json: boolean; fe: Frontend },
): Promise<RemoveResult> {
  const plan = await planRemoval(opts);
  const result: RemoveResult = {
    package: plan.attr,
    file: plan.file,
    action: "would-remove",
    deleted: !opts.keepFile,
    unwiredFrom: plan.unwiredFrom,
    sources: plan.sources,
    entries: plan.entries,
    kept: plan.kept,
  };
  const cs = plan.changes;
  if (!opts.json) {
    const diff = await cs.diff();
    if (diff) out(diff.trimEnd());
  }
  for (const k of plan.kept) info(`kept: ${k}`);
  if (opts.dryRun) return result;
  const ok = await opts.fe.confirm({
    key: "remove",
    flag: "--yes",
    message: `Remove ${plan.attr} (${cs.size} file${
      cs.size === 1 ? "" : "s"
    } changed)?`,
    default: true,
  });
  if (!ok) return { ...result, action: "cancelled" };
  // Staged from what was read before the question: re-plan under the lock and refuse if the
  // tree moved meanwhile (another run, an editor).
  await withLock(repoPaths(opts.root).lock, async () => {
    let again;
    try {
      again = (await planRemoval(opts)).changes;
    } catch (e) {
      // Another run (or an editor) got there first: what was planned no longer holds.
      if (!(e instanceof KitError) && !(e instanceof Deno.errors.NotFound)) {
        throw e;
      }
      throw new KitError(
        `The repository changed while ${plan.attr} was being removed (${
          e.message.split("\n")[0]
        }): run again (nothing was changed)`,
      );
    }
    const paths = cs.paths();
    let same = again.paths().join("\n") === paths.join("\n");
    for (const p of paths) {
      if (!same) break;
      same = (await cs.readText(p)) === (await again.readText(p));
    }
    if (!same) {
      throw new KitError(
        `The repository changed while ${plan.attr} was being removed: run again (nothing was changed)`,
      );
    }
    await cs.apply();
  });
  return { ...result, action: "removed" };
}
