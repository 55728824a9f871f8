import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { KitError, UsageError } from "./errors.ts";
import * as log from "./log.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly with `node:util` `parseArgs`; an unknown or malformed option becomes a
 * `UsageError` whose message names it.
 */
export function parseCli<T extends Options>(
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    if (e instanceof TypeError) {
      throw new UsageError(e.message.split("\n")[0] ?? e.message);
    }
    throw e;
  }
}

/**
 * `--timeout -5` as `--timeout=-5`, `--org -x` as `--org=-x`: parseArgs calls a value that starts
 * with '-' "ambiguous"; joined, the value reaches the task's own check ("must be a whole number
 * from 1 to 3600", "is not a GitHub organisation"). A value that is itself one of the task's
 * options (`--file --dry-run`) stays a missing value.
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    const next = args[i + 1];
    if (
      name !== undefined && options[name]?.type === "string" &&
      next !== undefined && next.startsWith("-") && next !== "-" &&
      !isOption(next, options)
    ) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Whether `arg` names one of `options` (`--dry-run`, `--json=x`, `-h`, `-y`). */
function isOption(arg: string, options: Options): boolean {
  if (arg.startsWith("--")) {
    const name = arg.slice(2).split("=")[0]!;
    return name in options;
  }
  const short = arg.slice(1, 2);
  return Object.values(options).some((o) => o.short === short);
}

/**
 * Runs a task body and turns `KitError`s into `error: <message>` plus their exit code; a usage
 * error is followed by one line pointing at `--help` (not the whole help). A permission Deno
 * refuses (the task runs with `--no-prompt`, so Deno never asks) or the OS refuses is one
 * `error:` line too, exit 1. Other exceptions are bugs and keep their stack.
 */
export async function runTask(
  usage: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof KitError) {
      log.error(e.message);
      if (e instanceof UsageError) log.info(helpPointer(usage));
      return e.exitCode;
    }
    const denied = permissionMessage(e) ?? directoryMessage(e);
    if (denied !== undefined) {
      log.error(denied);
      return 1;
    }
    throw e;
  }
}

/** The line after a usage error: where the options are described. */
export function helpPointer(usage: string): string {
  const task = /deno task ([a-z][a-z0-9-]*)/.exec(usage)?.[1];
  return task
    ? `Run "deno task ${task} --help" for the options`
    : "Run with --help for the options";
}

/** The one-line message for a permission error, or undefined for anything else. */
export function permissionMessage(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const first = (e.message.split("\n")[0] ?? "").trim();
  if (e instanceof Deno.errors.NotCapable) {
    // "Requires write access to "/x", run again with the --allow-write flag"
    const what = first.split(", run again")[0]!.replace(
      /^Requires/,
      "requires",
    );
    return `Not permitted: ${what} (this task's permissions in deno.json do not cover it)`;
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return first.replace(/^permission denied/i, "Permission denied");
  }
  return undefined;
}

/**
 * The one-line message for a folder where a file is expected (`sources-manifest.json/`, a
 * vendored source made a directory): Deno's IsADirectory names the path after the operation.
 */
function directoryMessage(e: unknown): string | undefined {
  if (!(e instanceof Deno.errors.IsADirectory)) return undefined;
  const path = /: \w+ '([^']*)'/.exec(e.message)?.[1];
  return path
    ? `"${path}" is a directory where a file is expected: move it away or replace it with the file`
    : `A directory was found where a file is expected (${
      e.message.split("\n")[0]
    })`;
}

/** The project root: `deno task` runs every task here. */
const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The folder the command was typed in. `deno task` runs every task in the project root and
 * passes the caller's folder as INIT_CWD, so paths given on the command line are relative to it.
 * INIT_CWD is trusted only when the process does run in the project root: a task started some
 * other way may have inherited a stale INIT_CWD from an outer `deno task`.
 */
export function invocationDir(): string {
  const cwd = Deno.cwd();
  const init = Deno.env.get("INIT_CWD");
  return init && resolve(cwd) === resolve(PROJECT_ROOT) ? init : cwd;
}

/** Resolves a path given on the command line against the folder it was typed in. */
export function argPath(path: string): string {
  return resolve(invocationDir(), path);
}
