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
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    if (e instanceof TypeError) {
      throw new UsageError(e.message.split("\n")[0] ?? e.message);
    }
    throw e;
  }
}

/**
 * Runs a task body and turns `KitError`s into `error: <message>` plus their exit code; with
 * `usage`, usage errors also print the usage text. Other exceptions are bugs and keep their stack.
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
      if (e instanceof UsageError) log.info(`\n${usage.trimEnd()}`);
      return e.exitCode;
    }
    throw e;
  }
}
