// What bump-comfyui shows: the requirements diff with each package's source and the actions, as
// lines, and the whole result as JSON. Pure: plain data in, strings or objects out.
import {
  describeAction,
  describeChange,
  describeSource,
  type ReqChange,
  type Source,
} from "./plan.ts";
import type { VersionTag } from "../python/versions.ts";
import type { PlannedAction } from "./actions.ts";
import type { ActionOutcome } from "./apply.ts";
import type { MainPackage } from "../repo/main_package.ts";

/** The requirements diff, each change with where the package comes from, then the actions. */
export function changeLines(
  changes: readonly ReqChange[],
  planned: readonly PlannedAction[],
): string[] {
  if (changes.length === 0) return ["requirements.txt: unchanged"];
  return [
    "requirements.txt:",
    ...changes.map((c, i) =>
      `  ${describeChange(c)}  [${describeSource(planned[i]!.source)}]`
    ),
    "actions:",
    ...planned.map((p) => `  ${describeAction(p.action)}`),
  ];
}

/** Everything `bumpJson` reports. */
interface BumpResult {
  main: MainPackage;
  target: VersionTag;
  hash: string;
  changes: readonly ReqChange[];
  sources: readonly Source[];
  outcomes: readonly ActionOutcome[];
  /** Each file the bump changes (path relative to the root) with its diff. */
  files: readonly { file: string; diff: string }[];
  dryRun: boolean;
}

/** The result of a bump (or dry run) as the object `--json` prints. */
export function bumpJson(r: BumpResult) {
  return {
    status: r.dryRun ? "dry-run" : "bumped",
    from: r.main.version,
    to: r.target.version,
    tag: r.target.tag,
    hash: r.hash,
    requirements: r.changes.map((c, i) => ({ ...c, source: r.sources[i] })),
    actions: r.outcomes.map((d) => ({
      ...d.action,
      status: d.status,
      description: describeAction(d.action),
    })),
    files: r.files,
  };
}
