// Python licence metadata → nixpkgs `lib.licenses` attributes. Sources in order of trust:
// `License-Expression` (SPDX, PEP 639), then `License :: OSI Approved :: …` classifiers, then the
// free-text `License` field, matched conservatively: a text that could mean two licences
// ("GNU GPL V3.0": only or or-later?) is reported as ambiguous so the caller asks.
//
//   detectLicense({ license: "Apache", classifiers: ["License :: OSI Approved :: Apache Software License"] })
//   // → { kind: "found", attrs: ["asl20"], source: 'classifier "License :: OSI Approved :: Apache Software License"' }
//
// Pure functions, no I/O.

import {
  CLASSIFIERS,
  FREE_TEXT_SOURCE,
  KNOWN_LICENSE_ATTRS,
  SPDX,
} from "./license_tables.ts";
import { licenseFromFullText, type RecognisedText } from "./license_text.ts";

export { licenseFamily } from "./license_text.ts";
export { KNOWN_LICENSE_ATTRS } from "./license_tables.ts";

const DROP_WORDS = new Set([
  "the",
  "license",
  "licence",
  "licensed",
  "under",
  "version",
  "v",
  "gnu",
]);

/**
 * A licence name reduced to its meaning: lowercase, punctuation and filler words ("the",
 * "license", "version", "GNU") dropped, long names shortened ("General Public" → "gpl"),
 * "or later" → "+", "3.0" → "3". "GNU GPL V3.0" and "GPLv3" both become "gpl 3".
 */
export function normText(text: string): string {
  const words = text.toLowerCase()
    .replace(/\bor (later|newer|any later)\b/g, "+")
    .replace(/\+/g, " + ")
    .replace(/[(),;:/_."'-]/g, " ")
    .replace(/\b(a|l)?gpl ?v?(\d)/g, "$1gpl $2")
    .replace(/\b(mpl|apache|bsd|asl) ?v?(\d)/g, "$1 $2")
    .replace(/\bv(\d)/g, "$1")
    .replace(/\blesser general public\b|\blibrary general public\b/g, "lgpl")
    .replace(/\baffero general public\b/g, "agpl")
    .replace(/\bgeneral public\b/g, "gpl")
    .replace(/\bmozilla public\b/g, "mpl")
    .split(/\s+/)
    .filter((w) => w && !DROP_WORDS.has(w))
    .filter((w, i, all) => w !== all[i - 1]);
  const norm = words.join(" ").replace(/\b(\d) 0\b/g, "$1").replace(
    / \+/g,
    "+",
  );
  // "GNU General Public License v3 (GPLv3)" names the licence twice.
  return norm.replace(/^(.+) \1$/, "$1");
}

const FREE_TEXT: ReadonlyMap<string, string[]> = new Map(
  FREE_TEXT_SOURCE.map(([text, attrs]) => [normText(text), attrs]),
);

// Deprecated SPDX ids ("GPL-3.0") are exact in License-Expression but not in free text.
const DEPRECATED_SPDX = /^(a|l)?gpl-\d\.\d$/i;

/** Licence fields of a distribution's core metadata. */
export interface LicenseFields {
  licenseExpression?: string | undefined;
  license?: string | undefined;
  classifiers?: readonly string[] | undefined;
}

/** What the metadata says about the licence. */
export type LicenseDecision =
  /** Certain: `attrs` are `lib.licenses` attributes (several = a choice, `meta.license` list). */
  | { kind: "found"; attrs: string[]; source: string }
  /** Could mean any one of `candidates`: ask, never guess. */
  | { kind: "ambiguous"; candidates: string[]; source: string; reason: string }
  /** Nothing usable: ask. */
  | { kind: "unknown"; source?: string; reason: string };

/**
 * Decides the licence from `License-Expression`, classifiers and the free-text `License`
 * field, in that order of trust. A free text that contradicts the classifiers is ambiguous.
 */
export function detectLicense(fields: LicenseFields): LicenseDecision {
  const expr = fields.licenseExpression?.trim();
  if (expr) {
    const attrs = spdxToAttrs(expr);
    const source = `License-Expression "${expr}"`;
    return attrs ? { kind: "found", attrs, source } : {
      kind: "unknown",
      source,
      reason: `no lib.licenses attribute is known for ${source}`,
    };
  }

  const fromClassifiers = classifierLicenses(fields.classifiers ?? []);
  const text = fields.license?.trim();
  const fromText = text ? matchFreeText(text) : undefined;
  if (fromClassifiers.length) {
    return byClassifiers(fromClassifiers, text, fromText);
  }
  if (text) return byFreeText(text, fromText);
  return { kind: "unknown", reason: "the metadata declares no licence" };
}

/** A `License ::` classifier and the attributes it maps to. */
interface ClassifierLicense {
  classifier: string;
  attrs: string[];
}

/** The known `License ::` classifiers among `classifiers`. */
function classifierLicenses(
  classifiers: readonly string[],
): ClassifierLicense[] {
  const found: ClassifierLicense[] = [];
  for (const c of classifiers) {
    const m = /^License\s*::\s*(.+)$/.exec(c.trim());
    if (!m) continue;
    const key = m[1]!.replace(/\s*::\s*/g, " :: ");
    const attrs = CLASSIFIERS[key];
    if (attrs) found.push({ classifier: c.trim(), attrs });
  }
  return found;
}

/**
 * The decision from licence classifiers, the free text (`fromText`: its attributes) settling
 * an ambiguous one or contradicting them.
 */
function byClassifiers(
  fromClassifiers: readonly ClassifierLicense[],
  text: string | undefined,
  fromText: string[] | undefined,
): LicenseDecision {
  const source = fromClassifiers.map((c) => `classifier "${c.classifier}"`)
    .join(", ");
  const ambiguous = fromClassifiers.find((c) => c.attrs.length > 1);
  let attrs = [...new Set(fromClassifiers.flatMap((c) => c.attrs))];
  if (ambiguous) {
    // The free text may settle it ("GPLv3+" beside "GPLv3 (GPLv3)"), if it is one of them.
    if (
      fromText?.length === 1 && fromClassifiers.length === 1 &&
      attrs.includes(fromText[0]!)
    ) {
      return {
        kind: "found",
        attrs: fromText,
        source: `${source} and License "${text}"`,
      };
    }
    return {
      kind: "ambiguous",
      candidates: attrs,
      source,
      reason: `${source} does not say which version or variant`,
    };
  }
  if (fromText && !fromText.some((a) => attrs.includes(a))) {
    attrs = [...new Set([...attrs, ...fromText])];
    return {
      kind: "ambiguous",
      candidates: attrs,
      source: `${source} and License "${text}"`,
      reason: `License "${text}" does not agree with ${source}`,
    };
  }
  return { kind: "found", attrs: attrs.sort(), source };
}

/** The decision from the free-text `License` field alone (`fromText`: its attributes). */
function byFreeText(
  text: string,
  fromText: string[] | undefined,
): LicenseDecision {
  const source = `License "${oneLine(text)}"`;
  if (!fromText) {
    return {
      kind: "unknown",
      source,
      reason: `${source} is not a licence name this tool recognises`,
    };
  }
  if (fromText.length > 1) {
    return {
      kind: "ambiguous",
      candidates: fromText,
      source,
      reason: `${source} could mean ${
        fromText.map((a) => `licenses.${a}`).join(" or ")
      }`,
    };
  }
  return { kind: "found", attrs: fromText, source };
}

function oneLine(text: string): string {
  const first = text.split("\n")[0]!.trim();
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** The attributes of a free-text licence, or undefined when it is not recognised. */
export function matchFreeText(text: string): string[] | undefined {
  // A licence text pasted into the field: recognised by its text or its title line.
  if (text.trim().includes("\n")) {
    const attr = licenseFromText(text);
    return attr ? [attr] : undefined;
  }
  const t = text.trim();
  if (!DEPRECATED_SPDX.test(t)) {
    const spdx = spdxToAttrs(t);
    if (spdx) return spdx;
  }
  return FREE_TEXT.get(normText(t));
}

/**
 * The `lib.licenses` attribute of a licence text (a LICENSE file, or a text pasted into the
 * License field): by the phrases of the common licences (MIT, Apache-2.0, BSD-2/3-Clause,
 * GPL-2/3, LGPL, AGPL, MPL-2.0, ISC …), else by a title line that names exactly one licence
 * ("BSD 3-Clause License" → "bsd3"). Undefined when it is neither.
 */
export function licenseFromText(text: string): string | undefined {
  return recogniseText(text)?.attr;
}

/** licenseFromText() with a readable name of what was recognised. */
export function recogniseText(text: string): RecognisedText | undefined {
  const full = licenseFromFullText(text);
  if (full) return full;
  const title = text.split("\n").map((l) => l.trim()).find(Boolean);
  if (!title || title.length > 80) return undefined;
  const t = title.replace(/^copyright\b.*$/i, "");
  if (!t) return undefined;
  const attrs = DEPRECATED_SPDX.test(t) ? undefined : spdxToAttrs(t);
  const byName = attrs ?? FREE_TEXT.get(normText(t));
  return byName?.length === 1
    ? { attr: byName[0]!, name: `"${t}"` }
    : undefined;
}

/**
 * The attributes of an SPDX expression ("MIT", "MIT OR Apache-2.0", "(BSD-3-Clause AND MIT)"),
 * or undefined when it uses an identifier without a known attribute (LicenseRef-…, WITH …).
 */
export function spdxToAttrs(expression: string): string[] | undefined {
  const tokens = expression.replace(/[()]/g, " ").trim().split(/\s+/);
  if (!tokens.length || tokens[0] === "") return undefined;
  const attrs: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (i % 2 === 1) {
      if (!/^(AND|OR)$/i.test(t)) return undefined;
      continue;
    }
    const attr = SPDX[t.toLowerCase()];
    if (!attr) return undefined;
    attrs.push(attr);
  }
  if (tokens.length % 2 === 0) return undefined;
  return [...new Set(attrs)].sort();
}

/**
 * Reads a `--license` value: `lib.licenses` attribute names or SPDX expressions, comma
 * separated ("gpl3Only", "MIT OR Apache-2.0", "mit,asl20"). Undefined when unrecognised.
 */
export function parseLicenseFlag(value: string): string[] | undefined {
  const attrs: string[] = [];
  for (const part of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    const bare = part.replace(/^(lib\.)?licenses\./, "");
    if (KNOWN_LICENSE_ATTRS.includes(bare)) attrs.push(bare);
    else {
      const spdx = spdxToAttrs(part);
      if (!spdx) return undefined;
      attrs.push(...spdx);
    }
  }
  return attrs.length ? [...new Set(attrs)].sort() : undefined;
}

/** The Nix value of `meta.license` (inside `meta = with lib; { … }`). */
export function licenseNix(attrs: readonly string[]): string {
  if (attrs.length === 1) return `licenses.${attrs[0]}`;
  return `with licenses; [ ${attrs.join(" ")} ]`;
}
