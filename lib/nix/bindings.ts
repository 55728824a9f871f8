// The syntax the package queries walk: the body under function heads and `with`/`let`, the
// parts of an application, an attr set's bindings with string values resolved against a scope.
import type { SyntaxNode } from "@lezer/common";
import type { NixFile, Span } from "./parse.ts";
import {
  children,
  exprChildren,
  isComment,
  pathParts,
  type StringPart,
  stringValue,
} from "./syntax.ts";

/** A `name = value;` binding (or `inherit name;`). */
export interface Binding {
  name: string;
  /** The whole `name = value;` (for inherit, the name). */
  span: Span;
  node: SyntaxNode;
  value: SyntaxNode | undefined;
  valueSpan: Span;
  line: number;
  /** The value's source text. */
  text: string;
  /** The value as a string, when it is a string literal whose interpolations resolve. */
  string?: string | undefined;
  inherited: boolean;
}

/** The expression after stripping leading function heads, `with`, `let` and `assert`. */
export function bodyOf(node: SyntaxNode): SyntaxNode {
  let n = node;
  for (;;) {
    if (n.name === "Program" || n.name === "Parenthesized") {
      const c = exprChildren(n)[0];
      if (!c) return n;
      n = c;
    } else if (["Function", "With", "Let", "Assert"].includes(n.name)) {
      const c = exprChildren(n);
      const last = c[c.length - 1];
      if (!last) return n;
      n = last;
    } else return n;
  }
}

/** Flattens a curried application: `f a b` → [f, a, b]. */
export function appParts(node: SyntaxNode): SyntaxNode[] {
  if (node.name !== "App") return [node];
  const c = exprChildren(node);
  return [...appParts(c[0]!), ...c.slice(1)];
}

/** The attr set node of an AttrSet/RecAttrSet expression. */
export function attrSetOf(
  node: SyntaxNode | undefined,
): SyntaxNode | undefined {
  if (!node) return undefined;
  if (node.name === "AttrSet") return node;
  if (node.name === "RecAttrSet") {
    return children(node).find((c) => c.name === "AttrSet");
  }
  if (node.name === "Parenthesized" || node.name === "With") {
    return attrSetOf(bodyOf(node));
  }
  if (node.name === "Function") return attrSetOf(bodyOf(node));
  return undefined;
}

/** The bindings of an attr set node, in order (inherits included, `inherit (x) a` too). */
export function bindingsOf(
  file: NixFile,
  set: SyntaxNode,
  scope?: Map<string, string>,
): Binding[] {
  const out: Binding[] = [];
  const kids = children(set);
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.name === "Bind") {
      const path = c.getChild("AttrPath");
      const value = exprChildren(c).find((x) => x.name !== "AttrPath");
      const name = path ? attrPathName(file, path) : "";
      const valueSpan = value
        ? { from: value.from, to: value.to }
        : { from: c.to, to: c.to };
      out.push({
        name,
        span: { from: c.from, to: c.to },
        node: c,
        value,
        valueSpan,
        line: file.line(c.from),
        text: file.slice(valueSpan),
        string: value ? resolveString(file, value, scope) : undefined,
        inherited: false,
      });
    } else if (c.name === "inherit") {
      let j = i + 1;
      if (kids[j]?.name === "(") {
        while (j < kids.length && kids[j]!.name !== ")") j++;
        j++;
      }
      for (; j < kids.length; j++) {
        const k = kids[j]!;
        if (isComment(k)) continue;
        if (k.name !== "Identifier" && k.name !== "String") break;
        const name = k.name === "String"
          ? stringValue(file, k).value ?? file.slice(k)
          : file.slice(k);
        out.push({
          name,
          span: { from: k.from, to: k.to },
          node: k,
          value: undefined,
          valueSpan: { from: k.from, to: k.to },
          line: file.line(k.from),
          text: name,
          string: scope?.get(name),
          inherited: true,
        });
      }
      i = j - 1;
    }
  }
  return out;
}

/** Dotted name of an AttrPath (`meta.license`, `"foo-bar"`). */
function attrPathName(file: NixFile, path: SyntaxNode): string {
  return exprChildren(path).map((p) =>
    p.name === "String"
      ? stringValue(file, p).value ?? file.slice(p)
      : file.slice(p)
  ).join(".");
}

/**
 * The string a node evaluates to when it is a string literal (or a parenthesised one) whose
 * interpolations are names in `scope` (`"v${version}"` with version = "1.0" → "v1.0").
 */
export function resolveString(
  file: NixFile,
  node: SyntaxNode,
  scope?: Map<string, string>,
): string | undefined {
  const n = unparen(node);
  if (n?.name !== "String" && n?.name !== "IndentedString") return undefined;
  const { value, parts } = stringValue(file, n);
  return value ?? resolveParts(file, parts, scope);
}

/** A path literal with its interpolations resolved from `scope` (`./foo-${version}.whl`). */
export function resolvePath(
  file: NixFile,
  node: SyntaxNode,
  scope?: Map<string, string>,
): string | undefined {
  return resolveParts(file, pathParts(file, node), scope);
}

/** Joins literal pieces and interpolations of names in `scope` (or of string literals). */
function resolveParts(
  file: NixFile,
  parts: StringPart[],
  scope: Map<string, string> | undefined,
): string | undefined {
  let s = "";
  for (const p of parts) {
    if (p.kind === "text") s += p.value;
    else {
      const key = p.text.replace(/^(finalAttrs|self|attrs)\./, "");
      const v = scope?.get(key) ?? resolveString(file, p.node, scope);
      if (v === undefined) return undefined;
      s += v;
    }
  }
  return s;
}

/** The expression inside any parentheses (undefined for an empty, broken `()`). */
export function unparen(node: SyntaxNode): SyntaxNode | undefined {
  let n: SyntaxNode | undefined = node;
  while (n?.name === "Parenthesized") n = exprChildren(n)[0];
  return n;
}

/** The callee's last name: `python3.pkgs.fetchPypi` → `fetchPypi`. */
export function calleeName(file: NixFile, node: SyntaxNode): string {
  const t = file.slice(node);
  return t.slice(t.lastIndexOf(".") + 1);
}
