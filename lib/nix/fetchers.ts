// Fetcher calls (`fetchFromGitHub`, `fetchPypi`, …) and what they hold: their attributes with
// `${version}` resolved, and every string literal of a file. Finding every fetcher and hash
// attribute of a file is lib/nix/find.ts.
import type { SyntaxNode } from "@lezer/common";
import type { NixFile, Span } from "./parse.ts";
import { exprChildren, stringValue } from "./syntax.ts";
import {
  appParts,
  attrSetOf,
  bindingsOf,
  calleeName,
  resolvePath,
  resolveString,
} from "./bindings.ts";

/** An attribute of a fetcher call. */
interface AttrValue {
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
const FETCHERS = new Set([
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
