// Adding and removing formal arguments of a package file's function (`{ lib, python3, foo }:`).

import { KitError } from "../kit/errors.ts";
import { children, lineIndent } from "./syntax.ts";
import {
  type EditOptions,
  endOfLine,
  open,
  replaceSpans,
  wholeLine,
} from "./edit.ts";

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
