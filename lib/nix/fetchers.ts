// Fetcher calls (`fetchFromGitHub`, `fetchPypi`, …) and what they hold: their attributes with
// `${version}` resolved, every string literal, and every hash attribute of a file.
import type { SyntaxNode } from "@lezer/common";
import type { NixFile, Span } from "./parse.ts";
import { exprChildren, stringValue } from "./syntax.ts";
import { isPlaceholderHash } from "../hash/sha256.ts";
import {
  appParts,
  attrSetOf,
  bindingsOf,
  calleeName,
  resolvePath,
  resolveString,
} from "./bindings.ts";
import {
  type AttrValue,
  type Fetcher,
  type HashSite,
  readPackage,
} from "./query.ts";

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
