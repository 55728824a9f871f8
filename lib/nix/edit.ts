// Surgical edits of .nix files: text in, text out. Each edit changes one exact span found on the
// syntax tree, keeps every other byte (comments, indentation, blank lines), then re-parses the
// result; an edit that would produce a syntax error throws instead of returning broken text.
//
// The Nix library: parse.ts (syntax tree, positions; parse_paths.ts, syntax.ts: strings and tree
// helpers), query.ts (readPackage: formals, bindings, src, lists; bindings.ts, fetchers.ts with
// findHashSites, lists.ts with depListOf/findSystemLists), and the edits:
//
// lib/nix/edit.ts — this module:
//   setStringAttr(text, attrPath: string[], value, {path?, create?}) → text
//       e.g. ["version"], ["src","hash"], ["src","rev"], ["src","tag"], ["meta","description"];
//       the path walks the package call's attr set, through fetcher calls and `with …;`.
//       Replaces a string literal or any other value expression (lib.fakeHash) with "value";
//       create: true adds `name = "value";` when missing. KitError if the attribute is missing.
//   setAttrExpr(text, attrPath, nixExpr, opts?) → text   same, with raw Nix source as the value
//   renameAttr(text, attrPath, newName, opts?) → text    e.g. src.sha256 → src.hash
//   replaceSpans(text, edits: {from, to, insert}[], path?) → text   low-level, re-parsed
//   (edit_formals.ts) addFormal/removeFormal; (edit_list.ts) addListItem/removeListItem;
//   — see each module (writing: lib/kit/changeset.ts).
// Options: every edit takes {path?} (the file name used in error messages).
// Permissions: importing the library needs --allow-env=LOG (@lezer/lr reads it at load).
import type { SyntaxNode } from "@lezer/common";
import { KitError } from "../kit/errors.ts";
import { type NixFile, parseNix, type Span, tryParseNix } from "./parse.ts";
import {
  children,
  detectIndent,
  exprChildren,
  lineIndent,
  quoteNixString,
} from "./syntax.ts";
import { type PackageInfo, readPackage } from "./query.ts";
import { type Binding } from "./bindings.ts";
import { appParts, bindingsOf } from "./bindings.ts";

/** One replacement: the text between `from` and `to` becomes `insert`. */
export interface TextEdit {
  from: number;
  to: number;
  insert: string;
}

/** Options shared by the edits: `path` names the file in error messages. */
export interface EditOptions {
  path?: string;
}

/**
 * Applies non-overlapping edits and re-parses the result; a result that no longer parses throws
 * a KitError (the caller's text is never returned broken).
 */
export function replaceSpans(
  text: string,
  edits: TextEdit[],
  path = "<nix>",
): string {
  const sorted = [...edits].sort((a, b) => b.from - a.from);
  let out = text;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.to > limit || e.from > e.to || e.from < 0 || e.to > text.length) {
      throw new Error(`overlapping or invalid edit ${e.from}-${e.to}`);
    }
    out = out.slice(0, e.from) + e.insert + out.slice(e.to);
    limit = e.from;
  }
  const r = tryParseNix(out, path);
  if (r instanceof KitError) {
    throw new KitError(
      `Editing ${path} would break its syntax, nothing changed: ${r.message}`,
    );
  }
  return out;
}

/** A file opened for an edit: its tree, its package view and its name for messages. */
export interface Opened {
  file: NixFile;
  info: PackageInfo;
  p: string;
}

export function open(text: string, opts: EditOptions): Opened {
  const p = opts.path ?? "<nix>";
  const file = parseNix(text, p);
  return { file, info: readPackage(file), p };
}

/** The attr set passed to the package's builder; a KitError when there is none. */
export function packageSet({ info, p }: Opened): SyntaxNode {
  if (info.attrSet) return info.attrSet;
  throw new KitError(
    `${p}: no attribute set found (expected a buildPythonPackage { … } call)`,
  );
}

/** The attr set node behind a binding value: `{…}`, `rec {…}`, `with x; {…}`, `f {…}`. */
function innerSet(node: SyntaxNode | undefined): SyntaxNode | undefined {
  let n = node;
  while (n) {
    switch (n.name) {
      case "AttrSet":
        return n;
      case "RecAttrSet":
      case "Parenthesized":
        n = children(n).find((c) =>
          c.name !== "rec" && c.name !== "(" && c.name !== ")" &&
          !c.name.endsWith("Comment")
        );
        break;
      case "With":
      case "Let":
      case "Function": {
        const c = exprChildren(n);
        n = c[c.length - 1];
        break;
      }
      case "App": {
        const parts = appParts(n);
        n = parts[parts.length - 1];
        break;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

interface Located extends Opened {
  set: SyntaxNode;
  binding?: Binding | undefined;
  name: string;
}

/**
 * Parses `text` and walks `attrPath` from the package call's attr set through nested sets and
 * fetcher calls; `binding` is undefined when the last name is missing.
 */
function locate(text: string, attrPath: string[], opts: EditOptions): Located {
  if (attrPath.length === 0) throw new Error("empty attribute path");
  const opened = open(text, opts);
  const { file, info } = opened;
  let set = packageSet(opened);
  for (let i = 0; i < attrPath.length; i++) {
    const bindings = bindingsOf(file, set, info.scope);
    const rest = attrPath.slice(i).join(".");
    const dotted = bindings.find((b) => b.name === rest);
    if (dotted) return { ...opened, set, binding: dotted, name: rest };
    const name = attrPath[i]!;
    const b = bindings.find((x) => x.name === name);
    if (i === attrPath.length - 1) return { ...opened, set, binding: b, name };
    const next = b?.value ? innerSet(b.value) : undefined;
    if (!b || !next) {
      throw new KitError(
        `${opened.p}: no attribute set at "${
          attrPath.slice(0, i + 1).join(".")
        }"`,
      );
    }
    set = next;
  }
  throw new Error("unreachable");
}

/** The edit that adds `name = expr;` as the last binding of `set`. */
export function appendBinding(
  file: NixFile,
  set: SyntaxNode,
  name: string,
  expr: string,
): TextEdit {
  const text = file.text;
  const kids = children(set);
  const close = kids[kids.length - 1]!;
  const last = [...kids].reverse().find((k) =>
    k.name !== "}" && !k.name.endsWith("Comment")
  );
  const multiLine = text.slice(set.from, set.to).includes("\n");
  const bind = `${name} = ${expr};`;
  if (!multiLine) {
    const at = last && last.name !== "{" ? last.to : set.from + 1;
    return { from: at, to: at, insert: ` ${bind}` };
  }
  if (!last || last.name === "{") {
    const indent = lineIndent(text, close.from) + detectIndent(text);
    return {
      from: set.from + 1,
      to: set.from + 1,
      insert: `\n${indent}${bind}`,
    };
  }
  const indent = lineIndent(text, last.from);
  const at = endOfLine(text, last.to, close.from);
  return { from: at, to: at, insert: `\n${indent}${bind}` };
}

/** The end of the line holding `pos` (after a trailing comment), but not past `limit`. */
export function endOfLine(text: string, pos: number, limit: number): number {
  const nl = text.indexOf("\n", pos);
  const end = nl < 0 ? text.length : nl;
  return Math.min(end, limit);
}

/**
 * Sets an attribute to a Nix expression given as source text. `attrPath` walks the package
 * call's attr set (["version"], ["src", "hash"], ["meta", "description"]).
 */
export function setAttrExpr(
  text: string,
  attrPath: string[],
  expr: string,
  opts: EditOptions & { create?: boolean } = {},
): string {
  const loc = locate(text, attrPath, opts);
  const { file, p } = loc;
  if (!loc.binding) {
    if (!opts.create) throw notFound(p, attrPath);
    return replaceSpans(
      text,
      [appendBinding(file, loc.set, loc.name, expr)],
      p,
    );
  }
  if (loc.binding.inherited) {
    throw new KitError(
      `${p}:${loc.binding.line}: "${
        attrPath.join(".")
      }" is inherited; change the attribute it comes from`,
    );
  }
  if (file.slice(loc.binding.valueSpan) === expr) return text;
  return replaceSpans(text, [{ ...loc.binding.valueSpan, insert: expr }], p);
}

/**
 * Sets an attribute to a string. A no-op when the current value already evaluates to `value`
 * (`rev = "v${version}"` after the version changed); otherwise the value expression (a string,
 * `lib.fakeHash`, …) becomes a plain "…" literal.
 */
export function setStringAttr(
  text: string,
  attrPath: string[],
  value: string,
  opts: EditOptions & { create?: boolean } = {},
): string {
  const loc = locate(text, attrPath, opts);
  if (loc.binding && loc.binding.string === value) return text;
  return setAttrExpr(text, attrPath, quoteNixString(value), opts);
}

function notFound(p: string, attrPath: string[]): KitError {
  return new KitError(`${p}: attribute "${attrPath.join(".")}" not found`);
}

/**
 * The span of the whole line (with its newline) holding `span`, when what precedes it on the
 * line matches `before` and what follows matches `after`; otherwise undefined.
 */
export function wholeLine(
  text: string,
  span: Span,
  before: RegExp,
  after: RegExp,
): Span | undefined {
  const start = text.lastIndexOf("\n", span.from - 1) + 1;
  const nl = text.indexOf("\n", span.to);
  const end = nl < 0 ? text.length : nl;
  if (!before.test(text.slice(start, span.from))) return undefined;
  if (!after.test(text.slice(span.to, end))) return undefined;
  return { from: start, to: nl < 0 ? end : nl + 1 };
}
