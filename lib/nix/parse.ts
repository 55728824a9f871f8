// Parsing .nix files into a syntax tree with source positions: the Lezer Nix grammar shipped in
// @replit/codemirror-lang-nix (its LR parser only; no editor code runs), with the two string
// tokenizers replaced so Nix's escapes (`''$`, `'''`, `''\x`, `$${`) lex as Nix lexes them, and
// two gaps of the grammar filled before parsing: a trailing comma in formals (`{ lib, }:`) and
// interpolation in paths (`./foo-${version}.whl`), which the grammar's single Path token cannot
// lex: such `${…}` is blanked to path characters of the same length (every offset stays), and
// the expression inside is parsed on its own (NixFile.pathInterpolations, pathParts()).
//
//   const file = parseNix(text, ".flox/pkgs/foo.nix");   // KitError "foo.nix:3:7: syntax error: …"
//   file.where(node.from)                                 // ".flox/pkgs/foo.nix:12:3"
import { parser as nixParser } from "@replit/codemirror-lang-nix";
import type { SyntaxNode, Tree } from "@lezer/common";
import { ExternalTokenizer, type InputStream, type LRParser } from "@lezer/lr";
import { KitError } from "../kit/errors.ts";

/** A half-open range of character offsets into a file's text. */
export type Span = { from: number; to: number };

/** 1-based line and column. */
export type LineCol = { line: number; col: number };

// Token ids of the external string tokens in the generated grammar of
// @replit/codemirror-lang-nix 6.0.1 (pinned in deno.json). tests/nix_parse_test.ts checks that
// escapes and interpolations still parse, so a grammar change cannot go unnoticed.
const T = {
  strContent: 63,
  strDollarBrace: 64,
  strEnd: 65,
  escapeSequence: 66,
  indStrContent: 67,
  indStrDollarBrace: 68,
  indStrEnd: 69,
  indEscapeSequence: 70,
} as const;

const QUOTE = 34, BACKSLASH = 92, BRACE_L = 123, DOLLAR = 36, APOS = 39;

/**
 * At a `$` in a string: `${` ends the text read so far (`content`) or is read as `open`
 * ("token": return); `$$` is two literal dollars, the first consumed here (1); else 0.
 */
function dollar(
  input: InputStream,
  i: number,
  content: number,
  open: number,
): "token" | number {
  const after = input.peek(1);
  if (after === BRACE_L) {
    if (i > 0) input.acceptToken(content);
    else input.acceptToken(open, 2);
    return "token";
  }
  if (after !== DOLLAR) return 0;
  input.advance();
  return 1;
}

// "…" strings: `\x` escapes, `${` opens an interpolation, `$$` is two literal dollars.
const scanString = new ExternalTokenizer((input) => {
  for (let i = 0;; i++) {
    const next = input.next;
    if (next < 0) {
      if (i > 0) input.acceptToken(T.strContent);
      return;
    }
    if (next === QUOTE) {
      if (i > 0) input.acceptToken(T.strContent);
      else input.acceptToken(T.strEnd, 1);
      return;
    }
    if (next === BACKSLASH) {
      if (i > 0) return input.acceptToken(T.strContent);
      input.advance();
      if (input.next >= 0) input.advance();
      return input.acceptToken(T.escapeSequence);
    }
    if (next === DOLLAR) {
      const d = dollar(input, i, T.strContent, T.strDollarBrace);
      if (d === "token") return;
      i += d;
    }
    input.advance();
  }
});

// ''…'' strings: `''$`, `'''` and `''\x` are escapes, `''` alone ends the string.
const scanIndString = new ExternalTokenizer((input) => {
  for (let i = 0;; i++) {
    const next = input.next;
    if (next < 0) {
      if (i > 0) input.acceptToken(T.indStrContent);
      return;
    }
    if (next === APOS && input.peek(1) === APOS) {
      const c2 = input.peek(2);
      if (i > 0) return input.acceptToken(T.indStrContent);
      if (c2 === DOLLAR || c2 === APOS) {
        return input.acceptToken(T.indEscapeSequence, 3);
      }
      if (c2 === BACKSLASH) {
        return input.acceptToken(
          T.indEscapeSequence,
          input.peek(3) < 0 ? 3 : 4,
        );
      }
      return input.acceptToken(T.indStrEnd, 2);
    }
    if (next === DOLLAR) {
      const d = dollar(input, i, T.indStrContent, T.indStrDollarBrace);
      if (d === "token") return;
      i += d;
    }
    input.advance();
  }
});

let configured: LRParser | undefined;

/** The Nix LR parser with Nix-exact string tokenizers. */
function nixLrParser(): LRParser {
  if (configured) return configured;
  const base = nixParser as unknown as LRParser;
  // The generated parser keeps its external tokenizers in this (untyped) field, in grammar
  // order: the "…" scanner first, the ''…'' scanner second.
  const originals = (base as unknown as { tokenizers: unknown[] }).tokenizers
    .filter((t) => t instanceof ExternalTokenizer) as ExternalTokenizer[];
  if (originals.length !== 2) {
    throw new Error(
      "@replit/codemirror-lang-nix: unexpected grammar (expected 2 external tokenizers)",
    );
  }
  configured = base.configure({
    tokenizers: [
      { from: originals[0]!, to: scanString },
      { from: originals[1]!, to: scanIndString },
    ],
  });
  return configured;
}

/** A `${…}` inside a path literal: its span (from `$` to past `}`) and its parsed expression. */
export interface PathInterpolation {
  span: Span;
  /** The expression, from a parse of its own (offsets are the file's). */
  node: SyntaxNode;
  /** The expression's source, trimmed. */
  text: string;
}

/** A parsed .nix file: its text, its syntax tree and position helpers. */
export class NixFile {
  readonly path: string;
  readonly text: string;
  readonly tree: Tree;
  /** Interpolations in path literals, in order (the tree shows such a path as one Path node). */
  readonly pathInterpolations: readonly PathInterpolation[];
  #lineStarts: number[] | undefined;

  constructor(
    path: string,
    text: string,
    tree: Tree,
    pathInterpolations: readonly PathInterpolation[] = [],
  ) {
    this.path = path;
    this.text = text;
    this.tree = tree;
    this.pathInterpolations = pathInterpolations;
  }

  /** The Program node. */
  get root(): SyntaxNode {
    return this.tree.topNode;
  }

  /** 1-based line and column of an offset. */
  lineCol(offset: number): LineCol {
    if (!this.#lineStarts) {
      const starts = [0];
      for (let i = 0; i < this.text.length; i++) {
        if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
      }
      this.#lineStarts = starts;
    }
    const starts = this.#lineStarts;
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }

  /** 1-based line of an offset. */
  line(offset: number): number {
    return this.lineCol(offset).line;
  }

  /** `path:line:col` of an offset, as compilers print positions. */
  where(offset: number): string {
    const { line, col } = this.lineCol(offset);
    return `${this.path}:${line}:${col}`;
  }

  /** The source text of a node or span. */
  slice(span: Span): string {
    return this.text.slice(span.from, span.to);
  }
}

/** Parses Nix source; throws a KitError naming `path:line:col` of the first syntax error. */
export function parseNix(text: string, path = "<nix>"): NixFile {
  const r = tryParseNix(text, path);
  if (r instanceof KitError) throw r;
  return r;
}

/** Like parseNix, but returns the KitError instead of throwing it. */
export function tryParseNix(text: string, path = "<nix>"): NixFile | KitError {
  let input = text;
  let interps: Span[] | undefined;
  for (let attempt = 0;; attempt++) {
    const file = new NixFile(path, text, nixLrParser().parse(input));
    const at = errorOffset(file);
    if (at === undefined) return finish(file, interps ?? []);
    // Paths with `${…}` (Nix ≥ 2.4): blank every such interpolation out and parse again.
    if (interps === undefined) {
      interps = pathInterpolations(text);
      if (interps.length > 0) {
        input = blank(input, interps);
        continue;
      }
    }
    // The grammar lacks the trailing comma Nix allows in formals (`{ lib, python3, }:`, nixfmt's
    // style). Blank such a comma out (same length, so every position stays) and parse again.
    const comma = attempt < 8 ? formalsTrailingComma(input, at) : undefined;
    if (comma === undefined) return firstError(file)!;
    input = input.slice(0, comma) + " " + input.slice(comma + 1);
  }
}

/**
 * Checks what the grammar cannot: each blanked interpolation sits in a Path/HPath (not, say, a
 * `<…>` path, which Nix does not interpolate) and holds a valid expression; no path ends in `/`.
 */
function finish(file: NixFile, interps: Span[]): NixFile | KitError {
  const parsed: PathInterpolation[] = [];
  for (const span of interps) {
    let n: SyntaxNode | null = file.tree.resolveInner(span.from, 1);
    while (n && n.name !== "Path" && n.name !== "HPath") n = n.parent;
    if (!n || n.from > span.from || n.to < span.to) {
      return new KitError(
        `${file.where(span.from)}: syntax error: unexpected "\${"`,
      );
    }
    // The expression alone, after blanks that keep its lines and columns.
    const inner = file.text.slice(0, span.from + 2).replace(/[^\n]/g, " ") +
      file.text.slice(span.from + 2, span.to - 1);
    const sub = tryParseNix(inner, file.path);
    if (sub instanceof KitError) {
      // The piece ends where its `}` is: name that, not the end of the piece.
      return sub.message.endsWith("unexpected end of file")
        ? new KitError(
          `${file.where(span.to - 1)}: syntax error: unexpected "}"`,
        )
        : sub;
    }
    parsed.push({
      span,
      node: exprChildren(sub.root)[0] ?? sub.root,
      text: file.text.slice(span.from + 2, span.to - 1).trim(),
    });
  }
  const slash = trailingSlash(file);
  if (slash !== undefined) {
    return new KitError(
      `${file.where(slash)}: syntax error: path has a trailing slash`,
    );
  }
  return parsed.length === 0
    ? file
    : new NixFile(file.path, file.text, file.tree, parsed);
}

/** The offset of the first path literal ending in `/`, which Nix rejects. */
function trailingSlash(file: NixFile): number | undefined {
  let at: number | undefined;
  file.tree.iterate({
    enter(n) {
      if (at !== undefined) return false;
      if (
        (n.name === "Path" || n.name === "HPath") &&
        file.text.charCodeAt(n.to - 1) === SLASH
      ) at = n.from;
    },
  });
  return at;
}

/** `text` with each span overwritten by path characters of the same length. */
function blank(text: string, spans: Span[]): string {
  let out = "", pos = 0;
  for (const s of spans) {
    out += text.slice(pos, s.from) + "_".repeat(s.to - s.from);
    pos = s.to;
  }
  return out + text.slice(pos);
}

// Nix's lexer: a path that goes on with `${` starts as `{PATH_CHAR}*/` or as a whole path
// (`./a/b`, `../x-`, `~/`), and after the `}` goes on with path characters.
const PATH_HEAD =
  /(?:~(?=\/)|[a-zA-Z0-9._+-]*)(?:\/[a-zA-Z0-9._+-]+)*\/?(?=\$\{)/y;
const PATH_TAIL = /[a-zA-Z0-9._+\-/]*/y;
// A character before a position that puts it inside an identifier, number, path or URI.
const IN_TOKEN = /[a-zA-Z0-9_'.+\-/~:]/;
const SLASH = 47;

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

const BLANKS = /^(?:\s|#[^\n]*|\/\*[\s\S]*?\*\/)*$/;

/** The offset of a `,` ending formals just before the `}` at `at`, if that is what failed. */
function formalsTrailingComma(text: string, at: number): number | undefined {
  let close = at;
  while (close < text.length && /\s/.test(text[close]!)) close++;
  if (text[close] !== "}" || !/^\s*[:@]/.test(text.slice(close + 1))) {
    return undefined;
  }
  const comma = text.lastIndexOf(",", close);
  if (comma < 0 || !BLANKS.test(text.slice(comma + 1, close))) return undefined;
  return comma;
}

function errorOffset(file: NixFile): number | undefined {
  let at: number | undefined;
  file.tree.iterate({
    enter(n) {
      if (at !== undefined) return false;
      if (n.type.isError) {
        at = n.from;
        return false;
      }
    },
  });
  return at;
}

function firstError(file: NixFile): KitError | undefined {
  let at: number | undefined;
  let errTo = 0;
  file.tree.iterate({
    enter(n) {
      if (at !== undefined) return false;
      if (n.type.isError) {
        at = n.from;
        errTo = n.to;
        return false;
      }
    },
  });
  if (at === undefined) return undefined;
  const text = file.text;
  let what: string;
  if (errTo > at) what = `unexpected ${describe(text.slice(at, errTo))}`;
  else {
    // An empty error node marks a missing piece; name what stands there instead.
    let p = at;
    while (p < text.length && /\s/.test(text[p]!)) p++;
    what = p >= text.length
      ? "unexpected end of file"
      : `unexpected ${describe(text.slice(p).match(/^(\w[\w'-]*|\S)/)![0])}`;
    at = p >= text.length ? at : p;
  }
  return new KitError(`${file.where(at)}: syntax error: ${what}`);
}

function describe(token: string): string {
  const t = token.split("\n")[0]!.trim();
  return `"${t.length > 30 ? t.slice(0, 30) + "…" : t}"`;
}

/** A string literal's pieces: literal text and interpolated expressions. */
export type StringPart =
  | { kind: "text"; value: string }
  | { kind: "interp"; node: SyntaxNode; text: string };

/**
 * The value of a `"…"` or `''…''` literal: escapes decoded, `''` strings' common indentation
 * stripped. `value` is undefined when the string contains interpolations (see `parts`).
 */
export function stringValue(
  file: NixFile,
  node: SyntaxNode,
): { value: string | undefined; parts: StringPart[] } {
  const indented = node.name === "IndentedString";
  const open = indented ? 2 : 1;
  const end = node.to - (indented ? 2 : 1);
  const parts: StringPart[] = [];
  let pos = node.from + open;
  const pushText = (raw: string) => {
    const v = indented ? decodeIndented(raw) : decodeDouble(raw);
    const last = parts[parts.length - 1];
    if (last?.kind === "text") last.value += v;
    else if (v !== "") parts.push({ kind: "text", value: v });
  };
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.name !== "Interpolation") continue;
    pushText(file.text.slice(pos, c.from));
    const inner = c.firstChild;
    parts.push({
      kind: "interp",
      node: inner ?? c,
      text: file.text.slice(c.from + 2, c.to - 1).trim(),
    });
    pos = c.to;
  }
  pushText(file.text.slice(pos, Math.max(pos, end)));
  if (indented) stripIndent(parts);
  const value = parts.every((p) => p.kind === "text")
    ? parts.map((p) => (p as { value: string }).value).join("")
    : undefined;
  return { value, parts };
}

/** The pieces of a Path/HPath literal: its text and its `${…}` interpolations. */
export function pathParts(file: NixFile, node: SyntaxNode): StringPart[] {
  const parts: StringPart[] = [];
  let pos = node.from;
  for (const p of file.pathInterpolations) {
    if (p.span.from < node.from || p.span.to > node.to) continue;
    if (p.span.from > pos) {
      parts.push({ kind: "text", value: file.text.slice(pos, p.span.from) });
    }
    parts.push({ kind: "interp", node: p.node, text: p.text });
    pos = p.span.to;
  }
  if (pos < node.to) {
    parts.push({ kind: "text", value: file.text.slice(pos, node.to) });
  }
  return parts;
}

function decodeDouble(raw: string): string {
  return raw.replace(/\\(.)|\$\$/gs, (m, c: string | undefined) => {
    if (m === "$$") return "$$";
    return c === "n" ? "\n" : c === "t" ? "\t" : c === "r" ? "\r" : c!;
  });
}

function decodeIndented(raw: string): string {
  return raw.replace(/''(\$|'|\\(.))/gs, (_m, e: string, c?: string) => {
    if (e === "$") return "$";
    if (e === "'") return "''";
    return c === "n" ? "\n" : c === "t" ? "\t" : c === "r" ? "\r" : c ?? "";
  });
}

// Nix strips the smallest indentation of the non-empty lines of a ''…'' string and a first
// line that holds only spaces.
function stripIndent(parts: StringPart[]): void {
  const texts = parts.filter((p) => p.kind === "text") as {
    kind: "text";
    value: string;
  }[];
  const whole = parts.map((p) => p.kind === "text" ? p.value : "x").join("");
  const lines = whole.split("\n");
  let min = Infinity;
  lines.forEach((l, i) => {
    if (i === 0 && lines.length > 1 && /^[ ]*$/.test(l)) return;
    if (/^[ ]*$/.test(l)) return;
    min = Math.min(min, l.match(/^ */)![0].length);
  });
  if (!Number.isFinite(min)) min = 0;
  let atLineStart = true;
  texts.forEach((t, idx) => {
    let v = t.value;
    if (idx === 0 && parts[0] === t) v = v.replace(/^[ ]*\n/, "");
    const out = v.split("\n").map((l, i) =>
      (i > 0 || atLineStart)
        ? l.slice(Math.min(min, l.match(/^ */)![0].length))
        : l
    ).join("\n");
    atLineStart = v.endsWith("\n");
    t.value = out;
  });
}

/** A `"…"` Nix literal for `s`, escaping `\`, `"` and `${`. */
export function quoteNixString(s: string): string {
  return `"${
    s.replace(/[\\"]/g, (c) => "\\" + c).replace(/\$\{/g, "\\${")
      .replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r")
  }"`;
}

/**
 * The file's indentation unit: a tab when lines are indented with tabs, otherwise the most
 * common step between nested lines (2 spaces when nothing is indented).
 */
export function detectIndent(text: string): string {
  const counts = new Map<number, number>();
  let prev = 0, tabs = 0, spaces = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const ws = line.match(/^[ \t]*/)![0];
    if (ws.startsWith("\t")) tabs++;
    else if (ws.length > 0) spaces++;
    const n = ws.length;
    if (!ws.includes("\t") && n > prev) {
      counts.set(n - prev, (counts.get(n - prev) ?? 0) + 1);
    }
    prev = n;
  }
  if (tabs > spaces) return "\t";
  let best = 2, bestN = 0;
  for (const [step, n] of counts) {
    if (n > bestN || (n === bestN && step < best)) [best, bestN] = [step, n];
  }
  return " ".repeat(best);
}

/** The indentation (leading blanks) of the line holding `offset`. */
export function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  return text.slice(start).match(/^[ \t]*/)![0];
}

/** Children of a node, in order. */
export function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** Children that are expressions or bindings (punctuation and comments left out). */
export function exprChildren(node: SyntaxNode): SyntaxNode[] {
  return children(node).filter((c) => !PUNCT.has(c.name));
}

const PUNCT = new Set([
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  "LineComment",
  "BlockComment",
  "with",
  "let",
  "in",
  "rec",
  "inherit",
  "assert",
  "if",
  "then",
  "else",
  "or",
]);

/** True for comment nodes. */
export function isComment(node: SyntaxNode): boolean {
  return node.name === "LineComment" || node.name === "BlockComment";
}
