// Searches over a whole file: every fetcher call (and a path-literal `src`) and every hash
// attribute with the fetcher it belongs to (fix-hash, verify's pinning check).
import type { SyntaxNode } from "@lezer/common";
import type { NixFile } from "./parse.ts";
import { exprChildren, stringValue } from "./syntax.ts";
import { isPlaceholderHash } from "../hash/sha256.ts";
import { type Fetcher, fetcherOf, type HashSite } from "./fetchers.ts";
import { readPackage } from "./query.ts";

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

/** The value of the first binding named `name` anywhere in the file (`customNodes = [ … ];`). */
export function findBindingValue(
  file: NixFile,
  name: string,
): SyntaxNode | undefined {
  let found: SyntaxNode | undefined;
  file.tree.iterate({
    enter(ref) {
      if (found) return false;
      if (ref.name !== "Bind") return;
      const path = ref.node.getChild("AttrPath");
      if (!path || file.slice(path) !== name) return;
      found = exprChildren(ref.node).find((x) => x.name !== "AttrPath");
      return false;
    },
  });
  return found;
}
