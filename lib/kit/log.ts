// deno-lint-ignore-file no-console
// The one module allowed to write to the console: results go to stdout, everything else to stderr.

const encoder = new TextEncoder();

/** Prints a result line on stdout. */
export function out(line: string): void {
  console.log(line);
}

/** Prints a progress or informational message on stderr. */
export function info(message: string): void {
  console.error(message);
}

/** Prints a warning on stderr. */
export function warn(message: string): void {
  console.error(`warning: ${message}`);
}

/** Prints a user-facing error on stderr. */
export function error(message: string): void {
  console.error(`error: ${message}`);
}

/** Echoes an external command before it runs, as nix-update and nurl do. */
export function echoCommand(argv: readonly string[]): void {
  console.error(`$ ${argv.map(shellQuote).join(" ")}`);
}

/** Writes raw text to stderr without a newline (progress bars, prompts). */
export function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** True when colour may be used on stderr. */
export function useColor(): boolean {
  return Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg)
    ? arg
    : `'${arg.replaceAll("'", `'\\''`)}'`;
}
