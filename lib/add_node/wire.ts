// comfyui.nix's `customNodes` list (in its `let`) and its formals: a pack wired in is both an
// argument of the file and an item of the list. Surgical: the exact spans change, the rest
// stays byte for byte, and the result is re-parsed (replaceSpans).
import type { SyntaxNode } from "@lezer/common";
import { KitError } from "../kit/errors.ts";
import { parseNix } from "../nix/parse.ts";
import { replaceSpans } from "../nix/edit.ts";
import { addFormal, removeFormal } from "../nix/edit_formals.ts";
import { findBindingValue } from "../nix/find.ts";
import { exprChildren, lineIndent } from "../nix/syntax.ts";

/** The list node bound to `customNodes` in the file's outer `let`. */
function customNodesList(text: string, path: string): SyntaxNode {
  const value = findBindingValue(parseNix(text, path), "customNodes");
  const list = value?.name === "List" ? value : undefined;
  if (!list) {
    throw new KitError(
      `${path}: no \`customNodes = [ … ];\` list: the main package must declare one (see docs/add-node.md)`,
    );
  }
  return list;
}

/** The attributes listed in customNodes. */
export function wiredNodes(text: string, path: string): string[] {
  const list = customNodesList(text, path);
  return exprChildren(list).map((c) => text.slice(c.from, c.to));
}

/** Adds `attr` to customNodes and to the formals (no-op when already there). */
export function wireNode(text: string, attr: string, path: string): string {
  let out = addFormal(text, attr, { path });
  if (wiredNodes(out, path).includes(attr)) return out;
  const list = customNodesList(out, path);
  const items = exprChildren(list);
  const indent = lineIndent(out, list.from);
  const itemIndent = items.length
    ? lineIndent(out, items.at(-1)!.from)
    : `${indent}  `;
  const at = items.length ? items.at(-1)!.to : list.from + 1;
  const insert = `\n${itemIndent}${attr}`;
  out = replaceSpans(out, [{ from: at, to: at, insert }], path);
  return out;
}

/** Removes `attr` from customNodes and from the formals (no-op when absent). */
export function unwireNode(text: string, attr: string, path: string): string {
  const list = customNodesList(text, path);
  const item = exprChildren(list).find((c) =>
    text.slice(c.from, c.to) === attr
  );
  let out = text;
  if (item) {
    // The item's whole line when it stands alone on it.
    const lineStart = text.lastIndexOf("\n", item.from - 1);
    const lineEnd = text.indexOf("\n", item.to);
    const alone = text.slice(lineStart + 1, item.from).trim() === "" &&
      text.slice(item.to, lineEnd).trim() === "";
    out = replaceSpans(
      text,
      [
        alone
          ? { from: lineStart, to: lineEnd, insert: "" }
          : { from: item.from, to: item.to, insert: "" },
      ],
      path,
    );
  }
  return removeFormal(out, attr, { path });
}
