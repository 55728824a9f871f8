// String literals and syntax-tree helpers over a parsed NixFile: decoded string values, the
// pieces of interpolated paths, quoting, the file's indentation unit, and node children.
import type { SyntaxNode } from "@lezer/common";
import type { NixFile } from "./parse.ts";

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

/**
 * The file's text with every comment blanked to spaces (offsets and lines kept), so a search
 * for a name finds only code: a `#` inside a string is no comment.
 */
export function codeOnly(file: NixFile): string {
  let text = file.text;
  const cursor = file.tree.cursor();
  do {
    if (cursor.name === "LineComment" || cursor.name === "BlockComment") {
      const { from, to } = cursor;
      text = text.slice(0, from) +
        text.slice(from, to).replace(/[^\n]/g, " ") + text.slice(to);
    }
  } while (cursor.next());
  return text;
}
