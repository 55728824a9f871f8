// fix-build and fix-hash, entered here: read a failed build's output (a file, stdin, or a build
// this module runs), name what went wrong, and fix in .flox/pkgs/ what the kit knows how to fix.
//
//   await fixBuild({ root, log, dryRun, yes, json, ... })   → exit code (tasks/fix_build.ts)
//   await fixHash({ root, log | run, rounds, ... })        → exit code (tasks/fix_hash.ts)
import {
  type Candidate,
  type Chooser,
  type Mismatch,
  readText,
} from "./hash.ts";
export { fixHash, type FixHashOptions } from "./hash_run.ts";
export { fixBuild, type FixBuildOptions } from "./fix.ts";

/** Asks which file a mismatch is about (terminal only; the prompt library loads on demand). */
export const askFile: Chooser = async (
  m: Mismatch,
  candidates: Candidate[],
) => {
  const { TerminalFrontend } = await import("../kit/prompt.ts");
  const picked = await new TerminalFrontend().select({
    key: "file",
    flag: "--file",
    message:
      `Which hash does the mismatch for "${m.drvName}" (got ${m.gotSri}) belong to?`,
    choices: candidates.map((c, i) => ({
      value: String(i),
      name: `${c.file}:${c.site.line} ${c.site.attr}${
        c.pname ? ` (${c.pname} ${c.version ?? ""})` : ""
      }`,
    })),
  });
  return candidates[Number(picked)];
};

/** A build log file's text; a KitError naming it (as typed) when it cannot be read. */
export function readLogFile(abs: string, shown: string): Promise<string> {
  return readText(abs, shown);
}
