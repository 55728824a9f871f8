// Unwiring a package from the main package (.flox/pkgs/comfyui.nix), for remove-package: the
// argument and every list entry go, by surgical edit (text in, text out, re-parsed). Wiring
// itself is staged by new-package (lib/new_package/stage.ts stageWire).
//
//   const next = unwireText(text, "spandrel", ".flox/pkgs/comfyui.nix");
import { removeFormal } from "../nix/edit_formals.ts";
import { removeListItem } from "../nix/edit_list.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";

/**
 * The reverse of wiring: `attr` removed from the file's arguments and from every list binding
 * holding it (all platform blocks), surgically (text in, text out, re-parsed).
 */
export function unwireText(text: string, attr: string, path: string): string {
  let next = removeFormal(text, attr, { path });
  const lists = readPackage(parseNix(next, path)).lists;
  for (const name of lists.keys()) {
    if (name === "pythonImportsCheck") continue;
    next = removeListItem(next, name, attr, { path });
  }
  return next;
}

/**
 * The lines where `name` is used as a variable (not as an attribute name or an argument's own
 * declaration): what unwiring left behind and Nix would reject as undefined.
 */
export function variableUses(
  text: string,
  name: string,
  path: string,
): number[] {
  const file = parseNix(text, path);
  const lines: number[] = [];
  file.tree.iterate({
    enter(ref) {
      if (ref.name !== "Identifier") return;
      const parent = ref.node.parent?.name;
      if (parent === "AttrPath" || parent === "Formal") return;
      if (file.text.slice(ref.from, ref.to) === name) {
        lines.push(file.line(ref.from));
      }
    },
  });
  return lines;
}
