// Parsing .nix files into a syntax tree with source positions: the Lezer Nix grammar shipped in
// @replit/codemirror-lang-nix (its LR parser only; no editor code runs), with the two string
// tokenizers replaced so Nix's escapes (`''$`, `'''`, `''\x`, `$${`) lex as Nix lexes them, and
// two gaps of the grammar filled before parsing: a trailing comma in formals (`{ lib, }:`) and
// interpolation in paths (`./foo-${version}.whl`), which the grammar's single Path token cannot
// lex: such `${…}` is blanked to path characters of the same length (every offset stays), and
// the expression inside is parsed on its own (NixFile.pathInterpolations; pathParts() in
// syntax.ts, the scanner in parse_paths.ts).
//
//   const file = parseNix(text, ".flox/pkgs/foo.nix");   // KitError "foo.nix:3:7: syntax error: …"
//   file.where(node.from)                                 // ".flox/pkgs/foo.nix:12:3"
import { parser as nixParser } from "@replit/codemirror-lang-nix";
import type { SyntaxNode, Tree } from "@lezer/common";
import { ExternalTokenizer, type InputStream, type LRParser } from "@lezer/lr";
import { KitError } from "../kit/errors.ts";
import { pathInterpolations } from "./parse_paths.ts";

/** A half-open range of character offsets into a file's text. */
export type Span = { from: number; to: number };

/** 1-based line and column. */
type LineCol = { line: number; col: number };

// Token ids of the external string tokens in the generated grammar of
// @replit/codemirror-lang-nix 6.0.1 (pinned in deno.json). tests/nix/nix_parse_test.ts checks that
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
interface PathInterpolation {
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
      node: firstExpression(sub.root) ?? sub.root,
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

const SLASH = 47;

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

/** The first child of a node that is no comment (the expression of a Program). */
function firstExpression(node: SyntaxNode): SyntaxNode | undefined {
  let c = node.firstChild;
  while (c && (c.name === "LineComment" || c.name === "BlockComment")) {
    c = c.nextSibling;
  }
  return c ?? undefined;
}
