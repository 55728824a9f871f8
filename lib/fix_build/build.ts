// Running the build whose output fix-build reads: `sh -c CMD` (fix-hash --run) or
// `flox build PKG` (fix-build --run), streamed to stderr as it comes and kept for parsing.
import { echoCommand, writeErr } from "../kit/log.ts";

/** A finished build: its exit code and everything it printed (stdout and stderr, interleaved). */
export interface BuildOutput {
  code: number;
  output: string;
}

/** Runs `argv` in `cwd`, streaming its output to stderr; stdin is closed. */
export async function runBuild(
  argv: string[],
  cwd: string,
): Promise<BuildOutput> {
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
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, output: `${argv[0]}: command not found\n` };
    }
    throw e;
  }
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      const t = dec.decode(chunk, { stream: true });
      output += t;
      writeErr(t);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout),
    pump(child.stderr),
  ]);
  return { code: status.code, output };
}

/** Runs `sh -c cmd` as runBuild does. */
export function runShell(cmd: string, cwd: string): Promise<BuildOutput> {
  return runBuild(["sh", "-c", cmd], cwd);
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
