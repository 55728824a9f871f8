// The .nix edits fix-build makes, each text in → text out through the Nix-file library
// (re-parsed after every change): add a dependency (wiring a custom package as an argument),
// rename a misnamed argument or list item, replace import checks, gate an item by platform.
import { KitError } from "../kit/errors.ts";
import { replaceSpans, type TextEdit } from "../nix/edit.ts";
import { detectIndent, lineIndent } from "../nix/syntax.ts";
import { addFormal, removeFormal } from "../nix/edit_formals.ts";
import { addListItem, removeListItem } from "../nix/edit_list.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";

/** Adds `attr` to `binding`; a custom package (.flox/pkgs) also becomes an argument. */
export function addDependency(
  text: string,
  path: string,
  binding: string,
  attr: string,
  custom: boolean,
): string {
  const withArg = custom ? addFormal(text, attr, { path }) : text;
  return addListItem(withArg, binding, attr, { path });
}

/** Renames every identifier list item `from` (in any list binding) to `to`. */
export function renameListItems(
  text: string,
  path: string,
  from: string,
  to: string,
): string {
  const info = readPackage(parseNix(text, path));
  const edits: TextEdit[] = [];
  for (const list of info.lists.values()) {
    for (const block of [list.main, ...list.blocks]) {
      for (const item of block?.items ?? []) {
        if (!item.isString && item.name === from) {
          edits.push({ ...item.span, insert: to });
        }
      }
    }
  }
  return edits.length ? replaceSpans(text, edits, path) : text;
}

/** Renames the formal argument `from` to `to` (and the list items naming it). */
export function renameArgument(
  text: string,
  path: string,
  from: string,
  to: string,
): string {
  const info = readPackage(parseNix(text, path));
  const f = info.formals.find((x) => x.name === from);
  let out = text;
  if (f && text.startsWith(from, f.span.from)) {
    out = info.formals.some((x) => x.name === to)
      ? removeFormal(text, from, { path })
      : replaceSpans(text, [{
        from: f.span.from,
        to: f.span.from + from.length,
        insert: to,
      }], path);
  }
  return renameListItems(out, path, from, to);
}

/** Drops the argument `name` (a python3.pkgs package taken as an argument by mistake). */
export function dropArgument(text: string, path: string, name: string): string {
  return removeFormal(text, name, { path });
}

/** Replaces the pythonImportsCheck entry `wrong` with `names`. */
export function replaceImportsCheck(
  text: string,
  path: string,
  wrong: string,
  names: string[],
): string {
  let out = removeListItem(text, "pythonImportsCheck", wrong, { path });
  for (const n of names) {
    out = addListItem(out, "pythonImportsCheck", n, { path, string: true });
  }
  return out;
}

/** Moves the dependency `attr` of `binding` into the platform block of `systems`. */
export function gateBySystems(
  text: string,
  path: string,
  binding: string,
  attr: string,
  systems: string[],
): string {
  const out = removeListItem(text, binding, attr, { path });
  return addListItem(out, binding, attr, { path, systems });
}

/**
 * Moves `attr` out of `binding`'s main list into a block nixpkgs itself decides:
 * `++ lib.optionals (lib.meta.availableOn python3.stdenv.hostPlatform attr && !attr.meta.broken)
 * [ attr ]` — kept wherever nixpkgs says it builds, left out (never evaluated) elsewhere or
 * while it is marked broken. For a dependency nixpkgs marks broken, or one without platforms.
 */
export function gateByAvailability(
  text: string,
  path: string,
  binding: string,
  attr: string,
): string {
  const out = removeListItem(text, binding, attr, { path });
  const info = readPackage(parseNix(out, path));
  const formals = info.formals.map((f) => f.name);
  if (!formals.includes("lib")) {
    throw new KitError(
      `${path}: no "lib" argument to write the condition with`,
    );
  }
  const list = info.lists.get(binding);
  const lastOp = list?.blocks.at(-1)?.operandSpan ?? list?.main?.operandSpan;
  if (!lastOp) throw new KitError(`${path}: "${binding}" has no list`);
  const host = formals.includes("python3") || !formals.includes("stdenv")
    ? "python3.stdenv.hostPlatform"
    : "stdenv.hostPlatform";
  const close = lineIndent(out, lastOp.to);
  const insert =
    ` ++ lib.optionals (lib.meta.availableOn ${host} ${attr} && !${attr}.meta.broken) [\n` +
    `${close}${detectIndent(out)}${attr}\n${close}]`;
  return replaceSpans(out, [{ from: lastOp.to, to: lastOp.to, insert }], path);
}
