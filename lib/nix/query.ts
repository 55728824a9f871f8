// Queries on parsed .nix package files: the function's formal arguments, the bindings of the
// buildPythonPackage/Application call, the `src` fetcher with `${version}` resolved, dependency
// lists (`with python3.pkgs; [ … ] ++ lib.optionals (lib.elem … [ systems ]) [ … ]`), every hash
// and every platform list. Pure: a NixFile in, plain data with spans out (see lib/nix/edit.ts).
import type { SyntaxNode } from "@lezer/common";
import {
  children,
  exprChildren,
  isComment,
  type NixFile,
  pathParts,
  type Span,
  type StringPart,
  stringValue,
} from "./parse.ts";
import { isPlaceholderHash } from "../hash/sha256.ts";

/** One formal argument of the file's function (`{ lib, python3, foo ? null }:`). */
export interface Formal {
  name: string;
  span: Span;
  line: number;
  default?: string | undefined;
}

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

/** An attribute of a fetcher call. */
export interface AttrValue {
  name: string;
  text: string;
  value?: string | undefined;
  span: Span;
  line: number;
  inherited: boolean;
  isString: boolean;
}

/** A fetcher call (fetchFromGitHub { … }) or a path literal used as `src`. */
export interface Fetcher {
  fetcher: string;
  /** The function as written (`python3.pkgs.fetchPypi`). */
  callee: string;
  span: Span;
  line: number;
  /** A path `src` as written (`../sources/foo-${version}.whl`). */
  path?: string | undefined;
  /** That path with its `${…}` resolved from the file's bindings, when they all resolve. */
  resolvedPath?: string | undefined;
  attrs: Map<string, AttrValue>;
  /** The attr set node of the call (undefined for paths). */
  node?: SyntaxNode | undefined;
}

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

/** What the tasks need to know about a package file. */
export interface PackageInfo {
  file: NixFile;
  formals: Formal[];
  formalsNode?: SyntaxNode | undefined;
  hasEllipsis: boolean;
  builder?: string | undefined;
  /** The attr set passed to the builder. */
  attrSet?: SyntaxNode | undefined;
  attrs: Map<string, Binding>;
  pname?: string | undefined;
  version?: string | undefined;
  format?: string | undefined;
  pyproject?: boolean | undefined;
  doCheck?: boolean | undefined;
  src?: Fetcher | undefined;
  lists: Map<string, DepList>;
  pythonImportsCheck?: string[] | undefined;
  license?: string | undefined;
  scope: Map<string, string>;
}

/** A hash attribute anywhere in the file. */
export interface HashSite {
  attr: string;
  /** The attribute name's span (for renaming sha256 → hash). */
  attrSpan: Span;
  span: Span;
  line: number;
  text: string;
  value?: string | undefined;
  isString: boolean;
  placeholder: boolean;
  fetcher?: Fetcher | undefined;
}

/** Names of the fetchers whose calls are `src` candidates. */
export const FETCHERS = new Set([
  "fetchFromGitHub",
  "fetchFromGitLab",
  "fetchFromGitea",
  "fetchFromSourcehut",
  "fetchFromBitbucket",
  "fetchPypi",
  "fetchurl",
  "fetchzip",
  "fetchgit",
  "fetchTarball",
  "fetchGit",
  "fetchhg",
  "fetchsvn",
]);

/** The list bindings the tasks treat as dependency lists. */
export const DEP_LISTS = [
  "propagatedBuildInputs",
  "dependencies",
  "nativeBuildInputs",
  "build-system",
  "buildInputs",
] as const;

/** The expression after stripping leading function heads, `with`, `let` and `assert`. */
function bodyOf(node: SyntaxNode): SyntaxNode {
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
function attrSetOf(node: SyntaxNode | undefined): SyntaxNode | undefined {
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
function unparen(node: SyntaxNode): SyntaxNode | undefined {
  let n: SyntaxNode | undefined = node;
  while (n?.name === "Parenthesized") n = exprChildren(n)[0];
  return n;
}

/** The callee's last name: `python3.pkgs.fetchPypi` → `fetchPypi`. */
function calleeName(file: NixFile, node: SyntaxNode): string {
  const t = file.slice(node);
  return t.slice(t.lastIndexOf(".") + 1);
}

/** Reads the formals, the builder call and its bindings, src, lists and checks of a package file. */
export function readPackage(file: NixFile): PackageInfo {
  const info: PackageInfo = {
    file,
    formals: [],
    hasEllipsis: false,
    attrs: new Map(),
    lists: new Map(),
    scope: new Map(),
  };
  const top = exprChildren(file.root)[0];
  if (top?.name === "Function") {
    const kids = children(top);
    if (kids[0]?.name === "{" || kids.some((k) => k.name === "Formal")) {
      info.formalsNode = top;
      for (const k of kids) {
        if (k.name === "Ellipses") info.hasEllipsis = true;
        if (k.name !== "Formal") continue;
        const id = k.getChild("Identifier");
        const dflt = exprChildren(k).filter((x) => x.from !== id?.from)[0];
        info.formals.push({
          name: id ? file.slice(id) : file.slice(k),
          span: { from: k.from, to: k.to },
          line: file.line(k.from),
          default: dflt ? file.slice(dflt) : undefined,
        });
      }
    }
  }
  // Let bindings on the way down resolve ${…} too.
  collectLetScope(file, file.root, info.scope);
  const body = bodyOf(file.root);
  let set: SyntaxNode | undefined;
  if (body.name === "App") {
    const parts = appParts(body);
    const arg = parts[parts.length - 1]!;
    set = attrSetOf(arg);
    if (set) info.builder = file.slice(parts[0]!);
  } else set = attrSetOf(body);
  if (!set) return info;
  info.attrSet = set;
  // Two passes: plain strings first, then strings interpolating them.
  for (const b of bindingsOf(file, set, info.scope)) {
    if (b.string !== undefined) info.scope.set(b.name, b.string);
  }
  for (const b of bindingsOf(file, set, info.scope)) {
    info.attrs.set(b.name, b);
    if (b.string !== undefined) info.scope.set(b.name, b.string);
  }
  const str = (k: string) => info.attrs.get(k)?.string;
  const bool = (k: string) => {
    const t = info.attrs.get(k)?.text;
    return t === "true" ? true : t === "false" ? false : undefined;
  };
  info.pname = str("pname");
  info.version = str("version");
  info.format = str("format");
  info.pyproject = bool("pyproject");
  info.doCheck = bool("doCheck");
  const src = info.attrs.get("src");
  if (src?.value) info.src = fetcherOf(file, src.value, info.scope);
  for (const b of info.attrs.values()) {
    if (!b.value) continue;
    const list = depListOf(file, b);
    if (list) info.lists.set(b.name, list);
  }
  const checks = info.lists.get("pythonImportsCheck");
  if (checks) {
    info.pythonImportsCheck = [checks.main, ...checks.blocks].flatMap((bl) =>
      bl ? bl.items.map((i) => i.name) : []
    );
  }
  const meta = info.attrs.get("meta");
  const license = info.attrs.get("meta.license");
  if (license) info.license = license.text;
  else if (meta?.value) {
    const ms = attrSetOf(meta.value);
    const lic = ms
      ? bindingsOf(file, ms).find((x) => x.name === "license")
      : undefined;
    if (lic) info.license = lic.text;
  }
  return info;
}

function collectLetScope(
  file: NixFile,
  node: SyntaxNode,
  scope: Map<string, string>,
): void {
  let n: SyntaxNode | undefined = node;
  while (n) {
    if (n.name === "Let") {
      for (const b of bindingsOf(file, n, scope)) {
        if (b.string !== undefined) scope.set(b.name, b.string);
      }
    }
    if (!["Program", "Function", "With", "Let", "Assert"].includes(n.name)) {
      break;
    }
    const c = exprChildren(n);
    n = c[c.length - 1];
  }
}

/** The fetcher behind an expression: a fetcher call, or a path literal. */
export function fetcherOf(
  file: NixFile,
  node: SyntaxNode,
  scope?: Map<string, string>,
): Fetcher | undefined {
  const span = { from: node.from, to: node.to };
  const line = file.line(node.from);
  if (node.name === "Path" || node.name === "HPath" || node.name === "SPath") {
    return {
      fetcher: "path",
      callee: "",
      span,
      line,
      path: file.slice(node),
      resolvedPath: resolvePath(file, node, scope),
      attrs: new Map(),
    };
  }
  if (node.name === "Parenthesized") {
    const c = exprChildren(node)[0];
    return c ? fetcherOf(file, c, scope) : undefined;
  }
  if (node.name !== "App") return undefined;
  const parts = appParts(node);
  const callee = parts[0]!;
  const name = calleeName(file, callee);
  if (!FETCHERS.has(name) && !name.startsWith("fetch")) return undefined;
  const set = attrSetOf(parts[1]);
  const attrs = new Map<string, AttrValue>();
  if (set) {
    for (const b of bindingsOf(file, set, scope)) {
      attrs.set(b.name, {
        name: b.name,
        text: b.text,
        value: b.string,
        span: b.valueSpan,
        line: b.line,
        inherited: b.inherited,
        isString: !b.inherited && b.value !== undefined &&
          (b.value.name === "String" || b.value.name === "IndentedString"),
      });
    }
  } else if (parts[1]) {
    // builtins.fetchurl "https://…" / fetchTarball "…": the URL is the argument.
    const url = resolveString(file, parts[1], scope);
    attrs.set("url", {
      name: "url",
      text: file.slice(parts[1]),
      value: url,
      span: { from: parts[1].from, to: parts[1].to },
      line: file.line(parts[1].from),
      inherited: false,
      isString: url !== undefined,
    });
  }
  return {
    fetcher: name,
    callee: file.slice(callee),
    span,
    line,
    attrs,
    node: set,
  };
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

/** Every fetcher call in the file, plus a path-literal `src`. */
export function findFetchers(
  file: NixFile,
  scope?: Map<string, string>,
): Fetcher[] {
  const sc = scope ?? readPackage(file).scope;
  const out: Fetcher[] = [];
  const seen = new Set<number>();
  file.tree.iterate({
    enter(ref) {
      if (ref.name === "App") {
        const node = ref.node;
        const parent = node.parent;
        // Only the outermost App of a curried call.
        if (
          parent?.name === "App" && exprChildren(parent)[0]?.from === node.from
        ) return;
        const f = fetcherOf(file, node, sc);
        if (f && !seen.has(f.span.from)) {
          seen.add(f.span.from);
          out.push(f);
        }
      } else if (ref.name === "Bind") {
        const node = ref.node;
        const path = node.getChild("AttrPath");
        if (!path || file.slice(path) !== "src") return;
        const v = exprChildren(node).find((x) => x.name !== "AttrPath");
        if (
          v && (v.name === "Path" || v.name === "HPath" || v.name === "SPath")
        ) {
          out.push(fetcherOf(file, v, sc)!);
        }
      }
    },
  });
  return out;
}

/** Every string literal in the file (not those nested inside another string's interpolation). */
export function findStrings(
  file: NixFile,
): { span: Span; line: number; text: string; value?: string | undefined }[] {
  const out: {
    span: Span;
    line: number;
    text: string;
    value?: string | undefined;
  }[] = [];
  file.tree.iterate({
    enter(ref) {
      if (ref.name === "String" || ref.name === "IndentedString") {
        const node = ref.node;
        const { parts } = stringValue(file, node);
        out.push({
          span: { from: node.from, to: node.to },
          line: file.line(node.from),
          text: parts.map((p) =>
            p.kind === "text" ? p.value : "${" + p.text + "}"
          )
            .join(""),
          value: stringValue(file, node).value,
        });
      }
    },
  });
  return out;
}

const HASH_ATTRS = new Set([
  "hash",
  "sha256",
  "outputHash",
  "sha512",
  "narHash",
]);

/** Every `hash`/`sha256`/`outputHash` binding in the file, with the fetcher it belongs to. */
export function findHashSites(file: NixFile): HashSite[] {
  const fetchers = findFetchers(file);
  const byNode = new Map<number, Fetcher>();
  for (const f of fetchers) if (f.node) byNode.set(f.node.from, f);
  const out: HashSite[] = [];
  file.tree.iterate({
    enter(ref) {
      if (ref.name !== "Bind") return;
      const node = ref.node;
      const path = node.getChild("AttrPath");
      if (!path) return;
      const attr = file.slice(path);
      if (!HASH_ATTRS.has(attr)) return;
      const v = exprChildren(node).find((x) => x.name !== "AttrPath");
      if (!v) return;
      const isString = v.name === "String";
      const value = isString ? stringValue(file, v).value : undefined;
      const text = file.slice(v);
      const set = node.parent;
      out.push({
        attr,
        attrSpan: { from: path.from, to: path.to },
        span: { from: v.from, to: v.to },
        line: file.line(v.from),
        text,
        value,
        isString,
        placeholder: isPlaceholderHash(value ?? text),
        fetcher: set ? byNode.get(set.from) : undefined,
      });
    },
  });
  return out;
}

/** A list of Nix systems: a `lib.elem … [ … ]` list or a literal `platforms = [ "…" ]`. */
export interface SystemList {
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
