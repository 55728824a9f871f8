// Reading a failed build's output as Nix and Flox print it: colours and progress overdraws
// removed, `@nix {…}` JSON lines dropped, the prefixes of `nix build -L` (`pname> `) and of
// Nix's "last N log lines" (`> `) taken off, and each line tied to the derivation it came from
// (the `error: builder for '…drv' failed` above it, or the `nix log …drv` hint below it).
import { basename } from "node:path";
import { KitError } from "../kit/errors.ts";

/**
 * A build log's bytes as text: UTF-8, or UTF-16 (a BOM, or the NUL every other byte that
 * PowerShell's `>` leaves); anything else with NUL bytes is no build log and a KitError naming
 * `shown`.
 */
export function decodeLog(bytes: Uint8Array, shown: string): string {
  const le = bytes[0] === 0xff && bytes[1] === 0xfe;
  const be = bytes[0] === 0xfe && bytes[1] === 0xff;
  if (le || be || looksUtf16Le(bytes)) {
    return new TextDecoder(be ? "utf-16be" : "utf-16le").decode(bytes);
  }
  if (bytes.includes(0)) {
    throw new KitError(
      `${shown} is binary data, not a build log: give the text a build printed (flox build NAME 2>&1 > build.log)`,
    );
  }
  return new TextDecoder().decode(bytes);
}

/** ASCII text stored as UTF-16LE: a NUL after (almost) every character of the first KiB. */
function looksUtf16Le(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 1024) & ~1;
  if (n < 4) return false;
  let nulOdd = 0;
  for (let i = 1; i < n; i += 2) {
    if (bytes[i] === 0 && bytes[i - 1] !== 0) nulOdd++;
  }
  return nulOdd >= (n / 2) * 0.9;
}

// deno-lint-ignore no-control-regex -- control characters must not reach the terminal
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** A log line safe to print: control characters (a stray escape, a NUL) shown as U+FFFD. */
function printable(text: string): string {
  return text.replace(CONTROL, "\uFFFD");
}

const ANSI =
  // deno-lint-ignore no-control-regex -- terminal escape sequences in build logs
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Removes ANSI colour/cursor codes and carriage-return overdraws. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "").split("\n").map((l) => {
    const parts = l.split("\r").filter((p) => p !== "");
    return parts[parts.length - 1] ?? "";
  }).join("\n");
}

/** `/nix/store/<32 chars>-name.drv` → `name`. */
export function derivationName(path: string): string {
  return basename(path).replace(/^[0-9a-z]{32}-/, "").replace(/\.drv$/, "");
}

/** One line of build output, its prefixes removed. */
export interface LogLine {
  /** The text without colour codes and without `> ` / `pname> ` prefixes. */
  text: string;
  /** 1-based line number in the log as given. */
  line: number;
  /** The derivation whose builder printed the line, when the log says. */
  drv?: string | undefined;
  /** The `pname` of a `nix build -L` prefix. */
  prefix?: string | undefined;
}

const BUILDER =
  /builder for ['‘`"]?(\/nix\/store\/[^'’`"\s]+\.drv)['’`"]? failed/;
const NIX_LOG = /nix(?:-store)? (?:log|-l) (\/nix\/store\/\S+\.drv)/;
const LAST_LINES = /^\s*> ?(.*)$/;
const L_PREFIX = /^([A-Za-z0-9][\w.+-]*)> (.*)$/;

/** The lines of a build log, prefixes removed and tied to their derivation where the log says. */
export function readLog(text: string): LogLine[] {
  const raw = stripAnsi(text.replace(/^\uFEFF/, "")).split("\n");
  const out: LogLine[] = [];
  let builder: string | undefined;
  let block: LogLine[] = [];
  const closeBlock = (hint?: string) => {
    for (const l of block) l.drv ??= hint;
    block = [];
  };
  raw.forEach((r, i) => {
    if (/^\s*@nix \{/.test(r)) return;
    const b = r.match(BUILDER);
    if (b) {
      closeBlock();
      builder = derivationName(b[1]!);
      out.push({ text: r.trim(), line: i + 1, drv: builder });
      return;
    }
    const last = r.match(LAST_LINES);
    if (last) {
      const l: LogLine = { text: last[1]!, line: i + 1, drv: builder };
      block.push(l);
      out.push(l);
      return;
    }
    const hint = r.match(NIX_LOG);
    if (hint) closeBlock(derivationName(hint[1]!));
    else if (r.trim() !== "" && !/^\s*For full logs, run/.test(r)) {
      closeBlock();
      if (!/^\s/.test(r)) builder = undefined;
    }
    const pre = r.match(L_PREFIX);
    if (pre && !/^(error|warning|note|trace)$/.test(pre[1]!)) {
      out.push({ text: pre[2]!, line: i + 1, prefix: pre[1]! });
    } else out.push({ text: r, line: i + 1 });
  });
  closeBlock();
  return out;
}

/** Nix's `error:` line, or a compiler's `file.c:147:7: error: …` (also `fatal error:`). */
const ERROR_LINE = /^\s*(?:error:|\S+?:\d+(?::\d+)?: (?:fatal )?error:)/;

/**
 * The first real error of a log, with its context: Nix's innermost `error:` under a
 * `… while evaluating` trace, or the first `error:` line with the builder's last lines after it;
 * undefined when the log has no `error:` line.
 */
export function firstErrorExcerpt(
  lines: LogLine[],
  max = 12,
): string | undefined {
  const i = lines.findIndex((l) => ERROR_LINE.test(l.text));
  if (i < 0) {
    // No Nix error (a `nix log` or a -L build cut short): the first Python traceback, else
    // the last lines.
    const tb = lines.findIndex((l) =>
      /^Traceback \(most recent call last\)/.test(l.text.trim())
    );
    const from = tb >= 0 ? tb : Math.max(0, lines.length - max);
    const picked = lines.slice(from, from + max).map((l) => l.text.trimEnd())
      .filter((t) => t.trim() !== "");
    return picked.length ? printable(picked.join("\n")) : undefined;
  }
  let at = i;
  if (/^\s*error:\s*$/.test(lines[i]!.text)) {
    // A trace: the real message is the next `error:` line indented under it.
    for (let j = i + 1; j < lines.length; j++) {
      const t = lines[j]!.text;
      if (/^error:/.test(t)) break;
      if (/^\s+error:/.test(t)) {
        at = j;
        break;
      }
    }
  }
  const picked: string[] = [lines[at]!.text.trim()];
  for (let j = at + 1; j < lines.length && picked.length < max; j++) {
    const t = lines[j]!.text;
    if (/^\s*error:/.test(t) && !lines[j]!.drv) break;
    if (t.trim() === "") continue;
    picked.push(lines[j]!.drv && !/^\s/.test(t) ? `> ${t}` : t.trimEnd());
  }
  return printable(picked.join("\n"));
}
