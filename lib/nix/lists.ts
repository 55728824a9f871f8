// List-valued bindings (`with python3.pkgs; [ … ] ++ lib.optionals (lib.elem … [ systems ]) [ … ]`)
// and platform lists (`lib.elem …system [ … ]`, `platforms = [ … ]`).
import type { SyntaxNode } from "@lezer/common";
import type { NixFile, Span } from "./parse.ts";
import { exprChildren, stringValue } from "./syntax.ts";
import { appParts, calleeName, unparen } from "./bindings.ts";
import type { Binding } from "./bindings.ts";

/** One element of a Nix list. */
export interface ListItem {
  /** Identifier/select text, or the decoded string for string items. */
  name: string;
  text: string;
  span: Span;
  line: number;
  isString: boolean;
}

/** One `[ … ]` list of a dependency binding, maybe guarded by `lib.optionals`. */
export interface ListBlock {
  span: Span;
  node: SyntaxNode;
  line: number;
  items: ListItem[];
  /** The systems of `lib.optionals (lib.elem … [ systems ])`. */
  systems?: string[] | undefined;
  systemsSpan?: Span | undefined;
  /** Source of the optionals condition, when guarded. */
  condition?: string | undefined;
  /** The whole operand (`lib.optionals (…) [ … ]`) for guarded blocks; the list otherwise. */
  operandSpan: Span;
}

/** A list-valued binding. */
export interface DepList {
  binding: string;
  with?: string | undefined;
  span: Span;
  line: number;
  main?: ListBlock | undefined;
  blocks: ListBlock[];
}

/** Splits `a ++ b ++ c` into its operands. */
function concatOperands(file: NixFile, node: SyntaxNode): SyntaxNode[] {
  if (node.name !== "BinaryExpr") return [node];
  const [l, r] = exprChildren(node);
  if (!l || !r) return [node];
  const op = file.text.slice(l.to, r.from).replace(/#.*$/gm, "")
    .replace(/\/\*[\s\S]*?\*\//g, "").trim();
  if (op !== "++") return [node];
  return [...concatOperands(file, l), ...concatOperands(file, r)];
}

function listBlock(
  file: NixFile,
  list: SyntaxNode,
  operand: SyntaxNode,
): ListBlock {
  const items: ListItem[] = [];
  for (const c of exprChildren(list)) {
    const isString = c.name === "String" || c.name === "IndentedString";
    const text = file.slice(c);
    items.push({
      name: isString ? stringValue(file, c).value ?? text : text,
      text,
      span: { from: c.from, to: c.to },
      line: file.line(c.from),
      isString,
    });
  }
  return {
    span: { from: list.from, to: list.to },
    node: list,
    line: file.line(list.from),
    items,
    operandSpan: { from: operand.from, to: operand.to },
  };
}

/** The list structure of a binding's value, or undefined when it is not a list expression. */
export function depListOf(file: NixFile, b: Binding): DepList | undefined {
  if (!b.value) return undefined;
  let expr = b.value;
  let withScope: string | undefined;
  if (expr.name === "With") {
    const c = exprChildren(expr);
    withScope = c[0] ? file.slice(c[0]) : undefined;
    expr = c[c.length - 1]!;
  }
  const operands = concatOperands(file, expr);
  const blocks: ListBlock[] = [];
  let main: ListBlock | undefined;
  operands.forEach((op, i) => {
    if (op.name === "List") {
      const bl = listBlock(file, op, op);
      if (i === 0) main = bl;
      else blocks.push(bl);
      return;
    }
    if (op.name !== "App") return;
    const parts = appParts(op);
    if (parts.length !== 3 || calleeName(file, parts[0]!) !== "optionals") {
      return;
    }
    const list = parts[2]!;
    if (list.name !== "List") return;
    const bl = listBlock(file, list, op);
    bl.condition = file.slice(parts[1]!);
    const sys = systemsOf(file, parts[1]!);
    if (sys) {
      bl.systems = sys.systems;
      bl.systemsSpan = sys.span;
    }
    blocks.push(bl);
  });
  if (!main && blocks.length === 0) return undefined;
  return {
    binding: b.name,
    with: withScope,
    span: b.valueSpan,
    line: b.line,
    main,
    blocks,
  };
}

/** `(lib.elem python3.stdenv.hostPlatform.system [ "x86_64-linux" … ])` → its systems. */
function systemsOf(
  file: NixFile,
  cond: SyntaxNode,
): { systems: string[]; span: Span } | undefined {
  const n = unparen(cond);
  if (n?.name !== "App") return undefined;
  const parts = appParts(n);
  if (parts.length !== 3 || calleeName(file, parts[0]!) !== "elem") {
    return undefined;
  }
  const list = parts[2]!;
  if (list.name !== "List") return undefined;
  return {
    systems: exprChildren(list).map((c) =>
      c.name === "String" ? stringValue(file, c).value ?? "" : file.slice(c)
    ),
    span: { from: list.from, to: list.to },
  };
}

/** A list of Nix systems: a `lib.elem … [ … ]` list or a literal `platforms = [ "…" ]`. */
interface SystemList {
  span: Span;
  line: number;
  systems: { name: string; span: Span; line: number }[];
}

/** Every platform list in the file. */
export function findSystemLists(file: NixFile): SystemList[] {
  const out: SystemList[] = [];
  const toList = (list: SyntaxNode): SystemList => ({
    span: { from: list.from, to: list.to },
    line: file.line(list.from),
    systems: exprChildren(list).map((c) => ({
      name: c.name === "String"
        ? stringValue(file, c).value ?? file.slice(c)
        : file.slice(c),
      span: { from: c.from, to: c.to },
      line: file.line(c.from),
    })),
  });
  file.tree.iterate({
    enter(ref) {
      if (ref.name === "App") {
        const parts = appParts(ref.node);
        if (
          parts.length === 3 && file.slice(parts[0]!).endsWith("elem") &&
          parts[2]!.name === "List" &&
          /\bsystem$/.test(file.slice(parts[1]!))
        ) out.push(toList(parts[2]!));
      } else if (ref.name === "Bind") {
        const node = ref.node;
        const path = node.getChild("AttrPath");
        if (!path || !/(^|\.)platforms$/.test(file.slice(path))) return;
        const v = exprChildren(node).find((x) => x.name !== "AttrPath");
        if (v?.name === "List") out.push(toList(v));
      }
    },
  });
  return out;
}
