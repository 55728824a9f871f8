// Running external tools (nix-instantiate, flox, git …) to completion and capturing their output.
import { echoCommand } from "./log.ts";

/** What a finished command printed. */
export interface Captured {
  code: number;
  success: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` with stdin closed and returns its exit code and output, or undefined when the tool
 * is not installed. With `echo`, the command line is printed first (`$ cmd …`).
 */
export async function capture(
  cmd: string,
  args: string[],
  opts: { cwd?: string | undefined; echo?: boolean } = {},
): Promise<Captured | undefined> {
  if (opts.echo) echoCommand([cmd, ...args]);
  try {
    const r = await new Deno.Command(cmd, {
      args,
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return {
      code: r.code,
      success: r.success,
      stdout: dec.decode(r.stdout),
      stderr: dec.decode(r.stderr),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
