// Checksum files as GNU coreutils writes them (sha256sum): parsing, and escaping a name the way
// coreutils prints it. Used by checksum --verify and its tests.

/** `s` with control characters (terminal escapes in a hostile file) shown as `\xNN`. */
function printable(s: string): string {
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** One line of a checksum file. */
interface SumLine {
  line: number;
  hex: string;
  path: string;
}

/**
 * Parses a GNU coreutils checksum file: "<hex>  <path>" (text) or "<hex> *<path>" (binary),
 * a leading "\" marking escaped names (\\, \n and, since coreutils 9.1, \r), "#" comments; also BSD
 * "SHA256 (path) = hex".
 * Returns the lines, or the line-numbered errors for malformed ones.
 */
export function parseSums(
  text: string,
  file: string,
): { lines: SumLine[]; errors: string[] } {
  const lines: SumLine[] = [];
  const errors: string[] = [];
  const raw = text.split("\n");
  if (raw.at(-1) === "") raw.pop();
  raw.forEach((l, i) => {
    const n = i + 1;
    let s = l.endsWith("\r") ? l.slice(0, -1) : l;
    if (s.startsWith("#")) return;
    let escaped = false;
    if (s.startsWith("\\")) {
      escaped = true;
      s = s.slice(1);
    }
    let m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(s);
    if (!m) {
      const bsd = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/.exec(s);
      if (bsd) m = [bsd[0], bsd[2]!, bsd[1]!] as unknown as RegExpExecArray;
    }
    if (!m) {
      errors.push(
        `${file}:${n}: malformed line (expected "<64 hex digits>  <file>" or "<64 hex digits> *<file>"): "${
          printable(s.length > 60 ? `${s.slice(0, 60)}…` : s)
        }"`,
      );
      return;
    }
    let path = m[2]!;
    if (escaped) {
      path = path.replace(
        /\\(.)/g,
        (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c),
      );
    }
    lines.push({ line: n, hex: m[1]!.toLowerCase(), path });
  });
  return { lines, errors };
}

/**
 * A name as coreutils prints it: one containing a newline or carriage return (which would split
 * the output line) gets those and backslashes escaped, and the line a leading "\".
 */
export function escapeName(name: string): { prefix: string; name: string } {
  if (!/[\n\r]/.test(name)) return { prefix: "", name };
  return {
    prefix: "\\",
    name: name.replace(
      /[\\\n\r]/g,
      (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\\\"),
    ),
  };
}
