// Queries on parsed .nix package files: the function's formal arguments, the bindings of the
// buildPythonPackage/Application call, the `src` fetcher with `${version}` resolved, dependency
// lists (`with python3.pkgs; [ … ] ++ lib.optionals (lib.elem … [ systems ]) [ … ]`, read by
// lib/nix/lists.ts) and every platform list. Pure: a NixFile in, plain data with spans out (see lib/nix/edit.ts).
import type { SyntaxNode } from "@lezer/common";
import type { NixFile, Span } from "./parse.ts";
import { children, exprChildren } from "./syntax.ts";
import {
  appParts,
  attrSetOf,
  type Binding,
  bindingsOf,
  bodyOf,
} from "./bindings.ts";
import { type Fetcher, fetcherOf } from "./fetchers.ts";
import { type DepList, depListOf } from "./lists.ts";

/** One formal argument of the file's function (`{ lib, python3, foo ? null }:`). */
interface Formal {
  name: string;
  span: Span;
  line: number;
  default?: string | undefined;
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

/** The list bindings the tasks treat as dependency lists. */
export const DEP_LISTS = [
  "propagatedBuildInputs",
  "dependencies",
  "nativeBuildInputs",
  "build-system",
  "buildInputs",
] as const;

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
