// fix-build and fix-hash, entered here: read a failed build's output (a file, stdin, or a build
// this module runs), name what went wrong, and fix in .flox/pkgs/ what the kit knows how to fix.
//
//   await fixBuild({ root, log, dryRun, json, fe, ... })          → exit code (tasks/fix_build.ts)
//   await fixBuild({ ..., only: HASH_ONLY, run: shellBuild(cmd) })  → fix-hash (tasks/fix_hash.ts)
import {
  type Candidate,
  type Chooser,
  type Mismatch,
  readBytes,
} from "./hash.ts";
import { join } from "node:path";
import { decodeLog } from "./log.ts";
import { argPath } from "../kit/cli.ts";
import { UsageError } from "../kit/errors.ts";
import { checkWriteAccess, PKGS_DIR } from "../repo/paths.ts";
import type { BuildCommand } from "./fix.ts";
export { fixBuild, floxBuild } from "./fix.ts";

/** fix-hash's filter: fix-build on hash mismatches only. */
export const HASH_ONLY = {
  kinds: new Set(["hash-mismatch"] as const),
  voice: {
    task: "fix-hash",
    noun: "hash mismatch",
    nouns: "hash mismatches",
  },
};

/** fix-hash --run CMD: the command run with `sh -c`. */
export function shellBuild(cmd: string): BuildCommand {
  return { argv: ["sh", "-c", cmd], display: cmd };
}

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

/** How fix-build and fix-hash take a log: LOG, "-" or nothing (stdin), or a build to run. */
interface LogArgs {
  positionals: string[];
  run: string | undefined;
  /** The usage error for a LOG given with --run. */
  bothMessage: string;
  /** The usage error when stdin is a terminal and no LOG was given. */
  stdinMessage: string;
}

/** True when the log comes from standard input (no --run, and LOG is "-" or absent). */
export function logFromStdin(a: Pick<LogArgs, "positionals" | "run">): boolean {
  return a.run === undefined &&
    (a.positionals.length === 0 || a.positionals[0] === "-");
}

/** Checks LOG against --run (usage errors). */
export function checkLogArgs(a: LogArgs): void {
  if (a.positionals.length > 1) throw new UsageError("Give at most one LOG");
  if (a.positionals.length && a.run !== undefined) {
    throw new UsageError(a.bothMessage);
  }
}

/** The log text (undefined with --run, where the build is run instead). */
export async function readLog(a: LogArgs): Promise<string | undefined> {
  if (a.run !== undefined) return undefined;
  if (logFromStdin(a)) {
    if (Deno.stdin.isTerminal()) throw new UsageError(a.stdinMessage);
    const bytes = new Uint8Array(
      await new Response(Deno.stdin.readable).arrayBuffer(),
    );
    return decodeLog(bytes, "standard input");
  }
  // A KitError names the file as typed when it cannot be read.
  const shown = a.positionals[0]!;
  return decodeLog(await readBytes(argPath(shown), shown), shown);
}

/** A rounds flag (`--rounds`, `--max-rounds`): a whole number from 1 to 50, default 5. */
export function roundsFrom(flag: string, raw: string | undefined): number {
  const n = raw === undefined ? 5 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 50) {
    throw new UsageError(
      `${flag} must be a whole number from 1 to 50, got "${raw}"`,
    );
  }
  return n;
}

/** One line before any question when this run may not write the root's packages. */
export async function checkPkgsWritable(
  root: string,
  hint: string,
): Promise<void> {
  await checkWriteAccess(root, [join(root, PKGS_DIR)], hint);
}
