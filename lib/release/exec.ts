// Running the release's commands: git quietly (its output is data), flox and the git commands
// that change something echoed first (`$ git tag …`) with their output streamed to stderr, so
// stdout stays for the plan and the result.
import { capture, type Captured } from "../kit/command.ts";
import { KitError } from "../kit/errors.ts";
import { echoCommand, writeErr } from "../kit/log.ts";

/** Runs a command and returns its output; a KitError when the tool is not installed. */
export async function query(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<Captured> {
  const r = await capture(cmd, args, { cwd });
  if (!r) throw new KitError(`${cmd} is not installed`);
  return r;
}

/**
 * Runs a command that changes something: echoed, its output streamed to stderr. Resolves to the
 * exit code and the last lines it printed (for the error), or undefined when it is not installed.
 */
export async function perform(
  argv: readonly string[],
  cwd: string,
): Promise<{ code: number; tail: string } | undefined> {
  echoCommand(argv);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  let tail = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) {
      writeErr(dec.decode(chunk, { stream: true }));
      tail = (tail + dec.decode(chunk)).slice(-2000);
    }
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const { code } = await child.status;
  return { code, tail: lastLine(tail) };
}

/** The last non-empty line of a command's output, for a one-line error. */
export function lastLine(text: string): string {
  return text.trim().split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ??
    "";
}
