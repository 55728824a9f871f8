// A package file's `meta.license` as CycloneDX licences: the nixpkgs `lib.licenses` attributes it
// names, each mapped to its SPDX id (lib/sbom/spdx_ids.ts) or, without one, kept as a name
// ("nixpkgs:unfree"), so --deny-license can match either.
import { NIXPKGS_SPDX } from "./spdx_ids.ts";

/** One licence of a component: an SPDX id, an SPDX expression, or a name. */
export type License =
  | { id: string }
  | { expression: string }
  | { name: string };

const WORD = /[A-Za-z0-9_][A-Za-z0-9_'-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_'-]*)*/g;

/**
 * The `lib.licenses` attributes in the source text of a `license = …;` value: `licenses.mit`,
 * `lib.licenses.asl20`, `[ licenses.mit licenses.bsd3 ]`, `with licenses; [ mit bsd3 ]`.
 */
export function licenseAttrs(text: string): string[] {
  const code = text.replace(/#.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
  const withLicenses = /\bwith\s+(?:lib\.)?licenses\s*;/.test(code);
  const attrs: string[] = [];
  for (const w of code.match(WORD) ?? []) {
    const m = /^(?:lib\.)?licenses\.(.+)$/.exec(w);
    if (m) attrs.push(m[1]!);
    else if (
      withLicenses && !w.includes(".") &&
      !["with", "lib", "licenses"].includes(w)
    ) attrs.push(w);
  }
  return [...new Set(attrs)];
}

/** The CycloneDX licence of a nixpkgs licence attribute. */
export function licenseOf(attr: string): License {
  const spdx = NIXPKGS_SPDX[attr];
  if (spdx === undefined) return { name: `nixpkgs:${attr}` };
  return spdx.includes(" ") ? { expression: spdx } : { id: spdx };
}

/** What --deny-license matches a licence by: its SPDX id or expression, or its name. */
export function licenseLabel(l: License): string {
  return "id" in l ? l.id : "expression" in l ? l.expression : l.name;
}

/**
 * Whether `l` is denied by one of `denied` (compared case-insensitively; a name also matches
 * without its "nixpkgs:" prefix, an expression when any of its ids is denied).
 */
export function isDenied(l: License, denied: readonly string[]): boolean {
  const set = new Set(denied.map((d) => d.toLowerCase()));
  const label = licenseLabel(l).toLowerCase();
  if (set.has(label)) return true;
  if ("name" in l) return set.has(label.replace(/^nixpkgs:/, ""));
  if ("expression" in l) {
    return label.split(/\s+/).some((t) => set.has(t));
  }
  return false;
}
