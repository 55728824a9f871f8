// deno-lint-ignore-file no-console
// The one module allowed to write to the console: results go to stdout, everything else to stderr.

const encoder = new TextEncoder();

/** True while a status line (no newline) is on the terminal: the next message clears it. */
let statusShown = false;

function clearStatus(): void {
  if (!statusShown) return;
  statusShown = false;
  Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
}

/**
 * Draws a one-line status on stderr in place (`checking upstream 3/12 torch`); "" removes it.
 * Any message printed meanwhile first clears it, so nothing runs into it; the next call
 * draws it again.
 */
export function statusLine(text: string): void {
  clearStatus();
  if (text === "") return;
  Deno.stderr.writeSync(encoder.encode(text));
  statusShown = true;
}

/** Prints a result line on stdout. */
export function out(line: string): void {
  clearStatus();
  console.log(line);
}

/** Prints a progress or informational message on stderr. */
export function info(message: string): void {
  clearStatus();
  console.error(message);
}

/** Prints a warning on stderr. */
export function warn(message: string): void {
  clearStatus();
  console.error(`warning: ${message}`);
}

/** Prints a user-facing error on stderr. */
export function error(message: string): void {
  clearStatus();
  console.error(`error: ${message}`);
}

/** Echoes an external command before it runs, as nix-update and nurl do. */
export function echoCommand(argv: readonly string[]): void {
  clearStatus();
  console.error(`$ ${argv.map(shellQuote).join(" ")}`);
}

/** Writes raw text to stderr without a newline (progress bars, prompts). */
export function writeErr(text: string): void {
  clearStatus();
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
