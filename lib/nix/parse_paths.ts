// Nix's lexer rules for `${…}` inside path literals (`./foo-${version}.whl`), which the grammar's
// single Path token cannot lex: a scanner that skips comments and strings as Nix's lexer does and
// returns the outermost interpolation spans (parse.ts blanks them out and parses each alone).
/** A range of offsets (the same shape as parse.ts's Span, which builds on this file). */
type Span = { from: number; to: number };

// Nix's lexer: a path that goes on with `${` starts as `{PATH_CHAR}*/` or as a whole path
// (`./a/b`, `../x-`, `~/`), and after the `}` goes on with path characters.
const PATH_HEAD =
  /(?:~(?=\/)|[a-zA-Z0-9._+-]*)(?:\/[a-zA-Z0-9._+-]+)*\/?(?=\$\{)/y;
const PATH_TAIL = /[a-zA-Z0-9._+\-/]*/y;
// A character before a position that puts it inside an identifier, number, path or URI.
const IN_TOKEN = /[a-zA-Z0-9_'.+\-/~:]/;

/**
 * The `${…}` spans of path literals (outermost ones only), found by a small scanner that skips
 * comments and strings as Nix's lexer does.
 */
export function pathInterpolations(text: string): Span[] {
  const out: Span[] = [];
  scanCode(text, 0, out, false, false);
  return out;
}

/** Scans code from `i`; with `closing`, to past the `}` closing an interpolation (-1: none). */
function scanCode(
  text: string,
  i: number,
  out: Span[],
  closing: boolean,
  inPath: boolean,
): number {
  let depth = 0;
  while (i < text.length) {
    const c = text[i]!;
    const prev = i > 0 ? text[i - 1]! : " ";
    if (c === "#") {
      const e = text.indexOf("\n", i);
      i = e < 0 ? text.length : e;
    } else if (c === "/" && text[i + 1] === "*") {
      const e = text.indexOf("*/", i + 2);
      i = e < 0 ? text.length : e + 2;
    } else if (c === '"') {
      i = scanStr(text, i + 1, out, false, inPath);
    } else if (c === "'" && text[i + 1] === "'" && !/[\w']/.test(prev)) {
      i = scanStr(text, i + 2, out, true, inPath);
    } else if (c === "$" && text[i + 1] === "{") {
      depth++;
      i += 2;
    } else if (c === "{") {
      depth++;
      i++;
    } else if (c === "}") {
      if (depth === 0 && closing) return i + 1;
      depth--;
      i++;
    } else {
      PATH_HEAD.lastIndex = i;
      const m = IN_TOKEN.test(prev) ? null : PATH_HEAD.exec(text);
      if (m && m[0].includes("/")) {
        i = scanPathRest(text, i + m[0].length, out, inPath);
      } else i++;
    }
    if (i < 0) return -1;
  }
  return closing ? -1 : i;
}

/** From a path's first `${`: its interpolations and the path characters between them. */
function scanPathRest(
  text: string,
  i: number,
  out: Span[],
  inPath: boolean,
): number {
  while (text.startsWith("${", i)) {
    const end = scanCode(text, i + 2, out, true, true);
    if (end < 0) return -1;
    if (!inPath) out.push({ from: i, to: end });
    PATH_TAIL.lastIndex = end;
    i = end + PATH_TAIL.exec(text)![0].length;
  }
  return i;
}

/** Scans a "…" or ''…'' string from after its opening quote to past its end (-1: none). */
function scanStr(
  text: string,
  i: number,
  out: Span[],
  indented: boolean,
  inPath: boolean,
): number {
  while (i < text.length) {
    const c = text[i]!;
    if (!indented && c === "\\") i += 2;
    else if (!indented && c === '"') return i + 1;
    else if (indented && c === "'" && text[i + 1] === "'") {
      const c2 = text[i + 2];
      if (c2 === "$" || c2 === "'") i += 3;
      else if (c2 === "\\") i += 4;
      else return i + 2;
    } else if (c === "$" && text[i + 1] === "$") i += 2;
    else if (c === "$" && text[i + 1] === "{") {
      i = scanCode(text, i + 2, out, true, inPath);
      if (i < 0) return -1;
    } else i++;
  }
  return -1;
}
