// Surgical edits of .nix files: text in, text out. Each edit changes one exact span found on the
// syntax tree, keeps every other byte (comments, indentation, blank lines), then re-parses the
// result; an edit that would produce a syntax error throws instead of returning broken text.
//
// The Nix library is three modules (all pure except writeNixFile/editNixFile):
//
// lib/nix/parse.ts — the syntax tree (Lezer grammar of @replit/codemirror-lang-nix, with fixed
// string tokenizers) and source positions:
//   parseNix(text, path?) → NixFile            throws KitError "path:line:col: syntax error: …"
//   tryParseNix(text, path?) → NixFile | KitError
//   NixFile { path, text, root: SyntaxNode, lineCol(offset) → {line, col} (1-based),
//             where(offset) → "path:line:col", slice(node|span) → string }
//   stringValue(file, node) → {value?: string, parts} decoded "…"/''…'' literal (value undefined
//     when it holds interpolations); quoteNixString(s) → a "…" literal with \ " ${ escaped
//   detectIndent(text) → "  " | "    " | "\t" (the file's indentation unit)
//   type Span = {from, to}
//
// lib/nix/query.ts — what the tasks ask about a package file:
//   readPackage(file) → PackageInfo {
//     formals: Formal[] {name, span, line, default?}, formalsNode?, hasEllipsis
//     builder?: "python3.pkgs.buildPythonPackage" | … (the function applied to the attr set)
//     attrSet?: the attr set node; attrs: Map<name, Binding> — its top-level bindings
//       Binding {name, span (whole `name = …;`), node, value?, valueSpan, line,
//                text (value source), string?: string (resolved string value), inherited}
//     pname?, version?, format?, pyproject?: boolean, doCheck?: boolean (resolved values)
//     src?: Fetcher   the `src` binding
//     lists: Map<bindingName, DepList>  every list-valued top-level binding
//       (propagatedBuildInputs, dependencies, nativeBuildInputs, build-system, buildInputs,
//       pythonImportsCheck, …)
//     pythonImportsCheck?: string[]; license?: string (meta.license source, e.g. "licenses.mit")
//     scope: Map<name, string>  string bindings used to resolve ${…}
//   }
//   Fetcher {fetcher: "fetchFromGitHub"|"fetchPypi"|"fetchurl"|"fetchzip"|"path"|<other fetch*>,
//            callee (as written), span, line, path?: string (path-literal src, as written),
//            attrs: Map<name, AttrValue>, node? (the attr set)}
//     AttrValue {name, text (source), value?: string (${version}/${pname}/finalAttrs.x resolved
//                against the file's own bindings; inherited attrs take the binding's value),
//                span (of the value), line, inherited, isString}
//   DepList {binding, with?: "python3.pkgs", span (value), line, main?: ListBlock, blocks: ListBlock[]}
//     ListBlock {span (the [ … ] list), node, line, operandSpan, items: ListItem[],
//                systems?: string[] (from lib.optionals (lib.elem … [ … ])), systemsSpan?,
//                condition?: string (the optionals condition source)}
//     ListItem {name (identifier text or decoded string), text, span, line, isString}
//   findFetchers(file, scope?) → Fetcher[]  every fetch* call anywhere (builtins.fetchTarball "url"
//                                           too) plus path-literal `src`s
//   findStrings(file) → {span, line, text, value?}[]  every string literal (pip/URL scans)
//   findHashSites(file) → HashSite[] {attr: "hash"|"sha256"|"outputHash"|…, attrSpan, span (value),
//                                    line, text, value?, isString, placeholder, fetcher?}
//   findSystemLists(file) → {span, line, systems: {name, span, line}[]}[]  `lib.elem …system [ … ]`
//                                    lists and literal `platforms = [ … ]`
//   appParts(node), bindingsOf(file, set, scope?), resolveString(file, node, scope?),
//   fetcherOf(file, node, scope?), depListOf(file, binding); FETCHERS, DEP_LISTS
//
// lib/nix/edit.ts — this module (text in, text out; every function re-parses its result):
//   setStringAttr(text, attrPath: string[], value, {path?, create?}) → text
//       e.g. ["version"], ["src","hash"], ["src","rev"], ["src","tag"], ["meta","description"];
//       the path walks the package call's attr set, through fetcher calls and `with …;`.
//       Replaces a string literal or any other value expression (lib.fakeHash) with "value";
//       create: true adds `name = "value";` when missing. KitError if the attribute is missing.
//   setAttrExpr(text, attrPath, nixExpr, opts?) → text   same, with raw Nix source as the value
//   renameAttr(text, attrPath, newName, opts?) → text    e.g. src.sha256 → src.hash
//   addFormal(text, name, opts?) / removeFormal(text, name, opts?) → text   (no-op if present/absent)
//   addListItem(text, binding, item, {systems?: string[], path?}) → text
//       item is an identifier (numpy) or, for string lists, a quoted literal is made when
//       opts.string is true. With systems, goes into the `++ lib.optionals (lib.elem
//       python3.stdenv.hostPlatform.system [ … ]) [ … ]` block with that system set (order-insensitive),
//       created after the last block when missing. Creates the binding
//       (`name = with python3.pkgs; [ … ];`) when the package has none. No-op if already there.
//   removeListItem(text, binding, item, {systems?, path?}) → text   (from the block(s) holding it;
//       an optionals block left empty is removed)
//   replaceSpans(text, edits: {from, to, insert}[], path?) → text   low-level, re-parsed
//   writeNixFile(path, before, after, {dryRun?, displayPath?}) → Promise<{changed, diff, before,
//       after}>  re-parses, refuses if the file changed on disk since `before` was read, atomic
//       write (temp + rename); nothing written with dryRun; diff is `diff -u` (lib/kit/diff.ts)
//   editNixFile(path, (text) => text, {dryRun?, displayPath?}) → same
// Options: every edit takes {path?} (the file name used in error messages).
// Permissions: importing the library needs --allow-env=LOG (@lezer/lr reads it at load).

import type { SyntaxNode } from "@lezer/common";
import { KitError } from "../kit/errors.ts";
import { atomicWrite } from "../kit/fsutil.ts";
import {
  children,
  detectIndent,
  exprChildren,
  lineIndent,
  type NixFile,
  parseNix,
  quoteNixString,
  type Span,
  tryParseNix,
} from "./parse.ts";
import {
  appParts,
  type Binding,
  bindingsOf,
  DEP_LISTS,
  type ListBlock,
  type ListItem,
  type PackageInfo,
  readPackage,
} from "./query.ts";
import { unifiedDiff } from "../kit/diff.ts";

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
interface Opened {
  file: NixFile;
  info: PackageInfo;
  p: string;
}

function open(text: string, opts: EditOptions): Opened {
  const p = opts.path ?? "<nix>";
  const file = parseNix(text, p);
  return { file, info: readPackage(file), p };
}

/** The attr set passed to the package's builder; a KitError when there is none. */
function packageSet({ info, p }: Opened): SyntaxNode {
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
function appendBinding(
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
function endOfLine(text: string, pos: number, limit: number): number {
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

/** Renames an attribute (`src.sha256` → `hash`), keeping its value. */
export function renameAttr(
  text: string,
  attrPath: string[],
  newName: string,
  opts: EditOptions = {},
): string {
  const loc = locate(text, attrPath, opts);
  if (!loc.binding || loc.binding.inherited) throw notFound(loc.p, attrPath);
  const ap = loc.binding.node.getChild("AttrPath")!;
  return replaceSpans(
    text,
    [{ from: ap.from, to: ap.to, insert: newName }],
    loc.p,
  );
}

function notFound(p: string, attrPath: string[]): KitError {
  return new KitError(`${p}: attribute "${attrPath.join(".")}" not found`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/**
 * Adds a formal argument after the last one, in the file's style: leading commas
 * (`{ lib\n, python3\n}`), trailing commas (`{\n  lib,\n}`) or one line (`{ lib, python3 }`).
 */
export function addFormal(
  text: string,
  name: string,
  opts: EditOptions = {},
): string {
  if (!IDENT.test(name)) throw new KitError(`Not a Nix identifier: "${name}"`);
  const { info, p } = open(text, opts);
  if (!info.formalsNode) {
    throw new KitError(`${p}: the file is not a function of an attribute set`);
  }
  if (info.formals.some((f) => f.name === name)) return text;
  const kids = children(info.formalsNode);
  const open_ = kids.find((k) => k.name === "{")!;
  const close = kids.find((k) => k.name === "}")!;
  const formals = info.formals;
  const last = formals[formals.length - 1];
  if (!last) {
    return replaceSpans(text, [{
      from: open_.to,
      to: close.from,
      insert: ` ${name} `,
    }], p);
  }
  const between = text.slice(open_.from, close.to);
  const prev = formals[formals.length - 2];
  const afterLast = text.slice(last.span.to, close.from);
  // The separator between the last two formals tells the style.
  const sep = prev ? text.slice(prev.span.to, last.span.from) : undefined;
  const leading = sep ? /\n[ \t]*,/.test(sep.replace(/#[^\n]*/g, "")) : (
    /^\s*\n/.test(afterLast) && !/^[ \t]*,/.test(afterLast)
  );
  if (!between.includes("\n")) {
    return replaceSpans(text, [{
      from: last.span.to,
      to: last.span.to,
      insert: `, ${name}`,
    }], p);
  }
  if (leading) {
    const linePrefix = sep
      ? sep.slice(sep.lastIndexOf("\n") + 1).replace(/,.*$/, "")
      : lineIndent(text, close.from);
    const commaPart = sep
      ? sep.slice(sep.lastIndexOf("\n") + 1).match(/,[ \t]*/)?.[0] ?? ", "
      : ", ";
    const at = endOfLine(text, last.span.to, close.from);
    return replaceSpans(text, [{
      from: at,
      to: at,
      insert: `\n${linePrefix}${commaPart}${name}`,
    }], p);
  }
  // Trailing commas: after the comma that follows the last formal (and its comment).
  const comma = afterLast.match(/^[ \t]*,/);
  const indent = lineIndent(text, last.span.from);
  if (comma) {
    const at = endOfLine(text, last.span.to + comma[0].length, close.from);
    return replaceSpans(text, [{
      from: at,
      to: at,
      insert: `\n${indent}${name},`,
    }], p);
  }
  return replaceSpans(text, [{
    from: last.span.to,
    to: last.span.to,
    insert: `,\n${indent}${name}`,
  }], p);
}

/** Removes a formal argument with its separator (and its line, when it stands alone). */
export function removeFormal(
  text: string,
  name: string,
  opts: EditOptions = {},
): string {
  const { info, p } = open(text, opts);
  const i = info.formals.findIndex((f) => f.name === name);
  if (i < 0) return text;
  const f = info.formals[i]!;
  const whole = wholeLine(
    text,
    f.span,
    /^[ \t]*,?[ \t]*$/,
    /^[ \t]*,?[ \t]*(#.*)?$/,
  );
  if (whole) return replaceSpans(text, [{ ...whole, insert: "" }], p);
  const next = info.formals[i + 1]?.span.from ??
    children(info.formalsNode!).find((k) => k.name === "Ellipses")?.from;
  if (next !== undefined) {
    return replaceSpans(text, [{ from: f.span.from, to: next, insert: "" }], p);
  }
  const prev = info.formals[i - 1];
  const from = prev ? prev.span.to : f.span.from;
  return replaceSpans(text, [{ from, to: f.span.to, insert: "" }], p);
}

/**
 * The span of the whole line (with its newline) holding `span`, when what precedes it on the
 * line matches `before` and what follows matches `after`; otherwise undefined.
 */
function wholeLine(
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

/** Options of addListItem/removeListItem. */
export interface ListOptions extends EditOptions {
  /** The platform block (`lib.optionals (lib.elem … [ systems ])`); order does not matter. */
  systems?: string[] | undefined;
  /** Write the item as a "…" string literal (pythonImportsCheck). */
  string?: boolean;
}

function sameSystems(a: string[] | undefined, b: string[]): boolean {
  if (!a || a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/**
 * Adds `item` to a list binding: the main `[ … ]`, or with `systems` the `lib.optionals
 * (lib.elem …system [ systems ]) [ … ]` block (created after the last block when missing). The
 * binding itself is created (`name = with python3.pkgs; [ … ];`) when the package has none.
 */
export function addListItem(
  text: string,
  binding: string,
  item: string,
  opts: ListOptions = {},
): string {
  if (!opts.string && !/^[A-Za-z_][A-Za-z0-9_'.-]*$/.test(item)) {
    throw new KitError(`Not a Nix identifier: "${item}"`);
  }
  const itemText = opts.string ? quoteNixString(item) : item;
  const opened = open(text, opts);
  const { file, info, p } = opened;
  const unit = detectIndent(text);
  const list = info.lists.get(binding);
  if (!list) {
    if (info.attrs.has(binding)) {
      throw new KitError(`${p}: "${binding}" is not a list expression`);
    }
    return addListItem(
      createListBinding(opened, binding),
      binding,
      item,
      opts,
    );
  }
  const systems = opts.systems;
  if (!systems || systems.length === 0) {
    if (!list.main) {
      throw new KitError(
        `${p}:${list.line}: "${binding}" has no plain list to add to`,
      );
    }
    if (list.main.items.some((i) => i.name === item)) return text;
    return replaceSpans(
      text,
      [insertIntoList(file, list.main, itemText, unit)],
      p,
    );
  }
  const block = list.blocks.find((b) => sameSystems(b.systems, systems));
  if (block) {
    if (block.items.some((i) => i.name === item)) return text;
    return replaceSpans(text, [insertIntoList(file, block, itemText, unit)], p);
  }
  const lastOp = list.blocks[list.blocks.length - 1]?.operandSpan ??
    list.main?.operandSpan;
  if (!lastOp) throw new KitError(`${p}: "${binding}" has no list`);
  const closeIndent = lineIndent(text, lastOp.to);
  const systemExpr = systemExpression(file, info.formals.map((f) => f.name));
  const sysList = systems.map((s) => quoteNixString(s)).join(" ");
  const insert =
    ` ++ lib.optionals (lib.elem ${systemExpr} [ ${sysList} ]) [\n` +
    `${closeIndent}${unit}${itemText}\n${closeIndent}]`;
  return replaceSpans(text, [{ from: lastOp.to, to: lastOp.to, insert }], p);
}

/** The host-system expression other platform blocks use, or python3's. */
function systemExpression(file: NixFile, formals: string[]): string {
  const m = file.text.match(/lib\.elem\s+([\w.]+hostPlatform\.system)\b/);
  if (m) return m[1]!;
  return formals.includes("python3") || !formals.includes("stdenv")
    ? "python3.stdenv.hostPlatform.system"
    : "stdenv.hostPlatform.system";
}

/** Adds `binding = with python3.pkgs; [ ];` (multi-line) after the other dependency lists. */
function createListBinding(opened: Opened, binding: string): string {
  const { file, info, p } = opened;
  const set = packageSet(opened);
  const attrs = [...info.attrs.values()];
  const anchor =
    [...attrs].reverse().find((b) =>
      (DEP_LISTS as readonly string[]).includes(b.name)
    ) ?? attrs.find((b) => b.name === "src") ?? attrs[attrs.length - 1];
  const withPkgs = binding === "pythonImportsCheck"
    ? ""
    : "with python3.pkgs; ";
  const text = file.text;
  if (!anchor) {
    return replaceSpans(text, [
      appendBinding(file, set, binding, `${withPkgs}[ ]`),
    ], p);
  }
  const indent = lineIndent(text, anchor.span.from);
  const at = endOfLine(text, anchor.span.to, set.to - 1);
  const insert = `\n${indent}${binding} = ${withPkgs}[\n${indent}];`;
  return replaceSpans(text, [{ from: at, to: at, insert }], p);
}

/** The edit inserting `itemText` as the last element of a list, in the list's layout. */
function insertIntoList(
  file: NixFile,
  block: ListBlock,
  itemText: string,
  unit: string,
): TextEdit {
  const text = file.text;
  const open_ = block.span.from;
  const closePos = block.span.to - 1;
  const inner = text.slice(open_ + 1, closePos);
  const last: ListItem | undefined = block.items[block.items.length - 1];
  if (!inner.includes("\n")) {
    if (!last) {
      return { from: open_ + 1, to: closePos, insert: ` ${itemText} ` };
    }
    return { from: last.span.to, to: last.span.to, insert: ` ${itemText}` };
  }
  const closeAtLineStart = /^[ \t]*$/.test(
    text.slice(text.lastIndexOf("\n", closePos - 1) + 1, closePos),
  );
  const itemIndent = last
    ? lineIndent(text, last.span.from)
    : lineIndent(text, closePos) + unit;
  if (closeAtLineStart) {
    const lineStart = text.lastIndexOf("\n", closePos - 1) + 1;
    return {
      from: lineStart,
      to: lineStart,
      insert: `${itemIndent}${itemText}\n`,
    };
  }
  const after = last ? last.span.to : open_ + 1;
  return { from: after, to: after, insert: ` ${itemText}` };
}

/**
 * Removes `item` from a list binding (from the block with `systems` when given, else from every
 * block holding it). A platform block left empty is removed whole. No-op when absent.
 */
export function removeListItem(
  text: string,
  binding: string,
  item: string,
  opts: ListOptions = {},
): string {
  const { info, p } = open(text, opts);
  const list = info.lists.get(binding);
  if (!list) return text;
  const all = [list.main, ...list.blocks].filter((b): b is ListBlock => !!b);
  const edits: TextEdit[] = [];
  all.forEach((block, bi) => {
    if (opts.systems && !sameSystems(block.systems, opts.systems)) return;
    const hits = block.items.filter((i) => i.name === item);
    if (hits.length === 0) return;
    const emptyAfter = block.items.length === hits.length;
    const hasComment = /#|\/\*/.test(
      text.slice(block.span.from, block.span.to),
    );
    if (emptyAfter && block !== list.main && !hasComment) {
      const prev = all[bi - 1]!;
      edits.push({
        from: prev.operandSpan.to,
        to: block.operandSpan.to,
        insert: "",
      });
      return;
    }
    for (const hit of hits) {
      edits.push({ ...itemRemoval(text, hit.span), insert: "" });
    }
  });
  if (edits.length === 0) return text;
  return replaceSpans(text, edits, p);
}

/** The span to delete for a list item: its whole line when alone, else it and one space run. */
function itemRemoval(text: string, span: Span): Span {
  const line = wholeLine(text, span, /^[ \t]*$/, /^[ \t]*(#.*)?$/);
  if (line) return line;
  const after = text.slice(span.to).match(/^[ \t]+/)?.[0].length ?? 0;
  if (after > 0 && !/^[ \t]*\]/.test(text.slice(span.to))) {
    return { from: span.from, to: span.to + after };
  }
  const before = text.slice(0, span.from).match(/[ \t]+$/)?.[0].length ?? 0;
  return { from: span.from - before, to: span.to };
}

/** Result of writing an edited file. */
export interface WriteResult {
  changed: boolean;
  diff: string;
  before: string;
  after: string;
}

/**
 * Writes `after` to `path` if it differs from `before`: re-parses it, checks the file on disk
 * still holds `before`, then writes atomically. With `dryRun` only the diff is computed.
 */
export async function writeNixFile(
  path: string,
  before: string,
  after: string,
  opts: { dryRun?: boolean; displayPath?: string } = {},
): Promise<WriteResult> {
  const shown = opts.displayPath ?? path;
  if (before === after) return { changed: false, diff: "", before, after };
  parseNix(after, shown);
  const diff = unifiedDiff(before, after, `a/${shown}`, `b/${shown}`);
  if (!opts.dryRun) {
    const now = await Deno.readTextFile(path);
    if (now !== before) {
      throw new KitError(
        `${shown} changed on disk while it was being edited; run again`,
      );
    }
    await atomicWrite(path, after);
  }
  return { changed: true, diff, before, after };
}

/** Reads `path`, applies `edit` (text in, text out) and writes the result as writeNixFile does. */
export async function editNixFile(
  path: string,
  edit: (text: string) => string,
  opts: { dryRun?: boolean; displayPath?: string } = {},
): Promise<WriteResult> {
  const before = await Deno.readTextFile(path);
  return await writeNixFile(path, before, edit(before), opts);
}
