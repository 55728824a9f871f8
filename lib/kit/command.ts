// The one process runner: external tools (nix-instantiate, flox, git, pip, uv, a build command)
// run to completion, either captured (`capture`) or with their output streamed as it comes
// (`stream`); `onPath` tells beforehand whether a tool is installed. A streamed child is killed
// if the kit is interrupted (lib/kit/cleanup.ts).
import { onInterrupt } from "./cleanup.ts";
import { KitError } from "./errors.ts";
import { echoCommand } from "./log.ts";

/** What a finished command printed. */
export interface Captured {
  code: number;
  success: boolean;
  stdout: string;
  stderr: string;
  /** True when the command was killed for running past `timeoutMs`. */
  timedOut?: boolean;
}

/** True when `name` is an executable file on PATH. */
export function onPath(
  name: string,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): boolean {
  return (env("PATH") ?? "").split(":").some((d) => {
    try {
      return d !== "" && Deno.statSync(`${d}/${name}`).isFile;
    } catch {
      return false;
    }
  });
}

/**
 * Runs `cmd` with stdin closed and returns its exit code and output, or undefined when the tool
 * is not installed. With `echo`, the command line is printed first (`$ cmd …`).
 */
export async function capture(
  cmd: string,
  args: string[],
  opts: { cwd?: string | undefined; echo?: boolean; timeoutMs?: number } = {},
): Promise<Captured | undefined> {
  if (opts.echo) echoCommand([cmd, ...args]);
  // A tool that hangs (a network it waits on) is killed after timeoutMs: a failed run.
  const signal = opts.timeoutMs !== undefined
    ? AbortSignal.timeout(opts.timeoutMs)
    : undefined;
  try {
    const r = await new Deno.Command(cmd, {
      args,
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(signal ? { signal } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return {
      code: r.code,
      success: r.success && !signal?.aborted,
      stdout: dec.decode(r.stdout),
      stderr: dec.decode(r.stderr),
      ...(signal?.aborted ? { timedOut: true } : {}),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** How `stream` runs a command. */
interface StreamOptions {
  cwd?: string | undefined;
  /** Variables set for the child on top of the inherited environment. */
  env?: Record<string, string> | undefined;
  /** Print `$ cmd …` first (default true). */
  echo?: boolean;
  /** Receives each non-blank output line (stdout and stderr) as it arrives. */
  onLine?: ((line: string) => void) | undefined;
  /** Receives raw output text (stdout and stderr) as it arrives, e.g. to pass it through. */
  onText?: ((text: string) => void) | undefined;
}

/** What a streamed command printed: each stream, and both interleaved as they arrived. */
interface Streamed {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
}

/**
 * Runs `cmd` with stdin closed, streaming its output to `onLine` / `onText` while it runs, and
 * returns its exit code and output. A missing tool is a KitError; an interrupt kills the child.
 */
export async function stream(
  cmd: string,
  args: string[],
  opts: StreamOptions = {},
): Promise<Streamed> {
  if (opts.echo !== false) echoCommand([cmd, ...args]);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`"${cmd}" not found on PATH`);
    }
    throw e;
  }
  const unregister = onInterrupt(() => child.kill("SIGTERM"));
  let output = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    let all = "";
    let pending = "";
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      all += chunk;
      output += chunk;
      opts.onText?.(chunk);
      if (!opts.onLine) continue;
      pending += chunk;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop()!;
      for (const l of lines) if (l.trim()) opts.onLine(l);
    }
    if (pending.trim()) opts.onLine?.(pending);
    return all;
  };
  try {
    const [stdout, stderr, status] = await Promise.all([
      collect(child.stdout),
      collect(child.stderr),
      child.status,
    ]);
    return { code: status.code, stdout, stderr, output };
  } finally {
    unregister();
  }
}
