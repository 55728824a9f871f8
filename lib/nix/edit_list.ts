// Adding and removing items of list bindings (dependencies, pythonImportsCheck), in the main list
// or in a platform block (`++ lib.optionals (lib.elem …system [ … ]) [ … ]`).

import { KitError } from "../kit/errors.ts";
import { type NixFile, type Span } from "./parse.ts";
import { detectIndent, lineIndent, quoteNixString } from "./syntax.ts";
import { DEP_LISTS } from "./query.ts";
import { type ListBlock, type ListItem } from "./lists.ts";
import {
  appendBinding,
  type EditOptions,
  endOfLine,
  open,
  type Opened,
  packageSet,
  replaceSpans,
  type TextEdit,
  wholeLine,
} from "./edit.ts";

/** Options of addListItem/removeListItem. */
interface ListOptions extends EditOptions {
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
