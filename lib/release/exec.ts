// Running the release's commands: git quietly when its output is data (`query`), and the
// commands that change something through the kit's `stream` (echoed first, output passed to
// stderr as it comes, so stdout stays for the plan and the result).
import { capture, type Captured, stream } from "../kit/command.ts";
import { KitError } from "../kit/errors.ts";
import { writeErr } from "../kit/log.ts";

/** Runs a command and returns its output; a KitError when the tool is not installed. */
export async function query(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<Captured> {
  const r = await capture(cmd, args, { cwd });
  if (!r) throw new KitError(`"${cmd}" not found on PATH`);
  return r;
}

/**
 * Runs a command that changes something, echoed, its output shown on stderr; a non-zero exit
 * is a KitError with the command and the last line it printed.
 */
export async function perform(
  argv: readonly string[],
  cwd: string,
): Promise<void> {
  const r = await stream(argv[0]!, argv.slice(1), { cwd, onText: writeErr });
  if (r.code !== 0) {
    const tail = lastLine(r.output);
    throw new KitError(
      `${argv.join(" ")} exited with ${r.code}${tail ? `: ${tail}` : ""}`,
    );
  }
}

/** The last non-empty line of a command's output, for a one-line error. */
function lastLine(text: string): string {
  return text.trim().split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ??
    "";
}
