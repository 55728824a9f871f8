// Running the build whose output fix-build reads: `sh -c CMD` (fix-hash --run) or
// `flox build PKG` (fix-build --run), streamed to stderr as it comes and kept for parsing.
import { onPath, stream } from "../kit/command.ts";
import { writeErr } from "../kit/log.ts";

/** A finished build: its exit code and everything it printed (stdout and stderr, interleaved). */
interface BuildOutput {
  code: number;
  output: string;
}

/** Runs `argv` in `cwd` with the kit's process runner, streaming its output to stderr. */
export async function runBuild(
  argv: string[],
  cwd: string,
): Promise<BuildOutput> {
  const [cmd, ...args] = argv as [string, ...string[]];
  // A missing tool is a failed round with the shell's message, not an error of the kit.
  if (!onPath(cmd)) return { code: 127, output: `${cmd}: command not found\n` };
  const r = await stream(cmd, args, { cwd, onText: writeErr });
  return { code: r.code, output: r.output };
}

/** A word for a suggested shell command: quoted when it holds anything but safe characters. */
export function shellQuote(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word)
    ? word
    : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What a build loop says when round `round` builds. */
export function passedMessage(round: number): string {
  return round === 1
    ? "The build passes: nothing to fix"
    : `The build passes after ${round - 1} fix round${round > 2 ? "s" : ""}`;
}
