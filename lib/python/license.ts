// Python licence metadata → nixpkgs `lib.licenses` attributes. Sources in order of trust:
// `License-Expression` (SPDX, PEP 639), then `License :: OSI Approved :: …` classifiers, then the
// free-text `License` field, matched conservatively: a text that could mean two licences
// ("GNU GPL V3.0": only or or-later?) is reported as ambiguous so the caller asks.
//
//   detectLicense({ license: "Apache", classifiers: ["License :: OSI Approved :: Apache Software License"] })
//   // → { kind: "found", attrs: ["asl20"], source: 'classifier "License :: OSI Approved :: Apache Software License"' }
//
// Pure functions, no I/O.

/** SPDX identifier (lowercased) → `lib.licenses` attribute. Deprecated ids keep their SPDX meaning. */
const SPDX: Readonly<Record<string, string>> = {
  "0bsd": "bsd0",
  "afl-2.1": "afl21",
  "afl-3.0": "afl3",
  "agpl-3.0": "agpl3Only",
  "agpl-3.0-only": "agpl3Only",
  "agpl-3.0-or-later": "agpl3Plus",
  "apache-1.1": "asl11",
  "apache-2.0": "asl20",
  "artistic-2.0": "artistic2",
  "blueoak-1.0.0": "blueOak100",
  "bsd-1-clause": "bsd1",
  "bsd-2-clause": "bsd2",
  "bsd-3-clause": "bsd3",
  "bsd-4-clause": "bsdOriginal",
  "bsl-1.0": "boost",
  "cc-by-4.0": "cc-by-40",
  "cc-by-nc-4.0": "cc-by-nc-40",
  "cc-by-nc-sa-4.0": "cc-by-nc-sa-40",
  "cc-by-sa-4.0": "cc-by-sa-40",
  "cc0-1.0": "cc0",
  "cddl-1.0": "cddl",
  "epl-1.0": "epl10",
  "epl-2.0": "epl20",
  "eupl-1.2": "eupl12",
  "gpl-2.0": "gpl2Only",
  "gpl-2.0+": "gpl2Plus",
  "gpl-2.0-only": "gpl2Only",
  "gpl-2.0-or-later": "gpl2Plus",
  "gpl-3.0": "gpl3Only",
  "gpl-3.0+": "gpl3Plus",
  "gpl-3.0-only": "gpl3Only",
  "gpl-3.0-or-later": "gpl3Plus",
  "hpnd": "hpnd",
  "isc": "isc",
  "lgpl-2.0": "lgpl2Only",
  "lgpl-2.0-only": "lgpl2Only",
  "lgpl-2.0-or-later": "lgpl2Plus",
  "lgpl-2.1": "lgpl21Only",
  "lgpl-2.1+": "lgpl21Plus",
  "lgpl-2.1-only": "lgpl21Only",
  "lgpl-2.1-or-later": "lgpl21Plus",
  "lgpl-3.0": "lgpl3Only",
  "lgpl-3.0+": "lgpl3Plus",
  "lgpl-3.0-only": "lgpl3Only",
  "lgpl-3.0-or-later": "lgpl3Plus",
  "mit": "mit",
  "mit-0": "mit0",
  "mpl-1.1": "mpl11",
  "mpl-2.0": "mpl20",
  "ncsa": "ncsa",
  "openssl": "openssl",
  "psf-2.0": "psfl",
  "python-2.0": "psfl",
  "unlicense": "unlicense",
  "upl-1.0": "upl",
  "wtfpl": "wtfpl",
  "zlib": "zlib",
  "zpl-2.1": "zpl21",
};

/** Attributes accepted by `--license` besides the SPDX table's. */
const EXTRA_ATTRS = [
  "free",
  "publicDomain",
  "unfree",
  "unfreeRedistributable",
];

/** Every `lib.licenses` attribute this module knows (sorted). */
export const KNOWN_LICENSE_ATTRS: readonly string[] = [
  ...new Set([...Object.values(SPDX), ...EXTRA_ATTRS]),
].sort();

/** Trove classifier (after "License :: ") → attributes; two or more means it is ambiguous. */
const CLASSIFIERS: Readonly<Record<string, string[]>> = {
  "OSI Approved :: Academic Free License (AFL)": ["afl21", "afl3"],
  "OSI Approved :: Apache Software License": ["asl20"],
  "OSI Approved :: Artistic License": ["artistic2"],
  "OSI Approved :: Boost Software License 1.0 (BSL-1.0)": ["boost"],
  "OSI Approved :: BSD License": ["bsd3", "bsd2"],
  "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": ["epl20"],
  "OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": ["eupl12"],
  "OSI Approved :: GNU Affero General Public License v3": [
    "agpl3Only",
    "agpl3Plus",
  ],
  "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": [
    "agpl3Plus",
  ],
  "OSI Approved :: GNU General Public License (GPL)": [
    "gpl3Only",
    "gpl3Plus",
    "gpl2Only",
    "gpl2Plus",
  ],
  "OSI Approved :: GNU General Public License v2 (GPLv2)": [
    "gpl2Only",
    "gpl2Plus",
  ],
  "OSI Approved :: GNU General Public License v2 or later (GPLv2+)": [
    "gpl2Plus",
  ],
  "OSI Approved :: GNU General Public License v3 (GPLv3)": [
    "gpl3Only",
    "gpl3Plus",
  ],
  "OSI Approved :: GNU General Public License v3 or later (GPLv3+)": [
    "gpl3Plus",
  ],
  "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": [
    "lgpl2Only",
    "lgpl2Plus",
  ],
  "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": [
    "lgpl2Plus",
  ],
  "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": [
    "lgpl3Only",
    "lgpl3Plus",
  ],
  "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": [
    "lgpl3Plus",
  ],
  "OSI Approved :: GNU Library or Lesser General Public License (LGPL)": [
    "lgpl21Only",
    "lgpl21Plus",
    "lgpl3Only",
    "lgpl3Plus",
  ],
  "OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": [
    "hpnd",
  ],
  "OSI Approved :: ISC License (ISCL)": ["isc"],
  "OSI Approved :: MIT License": ["mit"],
  "OSI Approved :: MIT No Attribution License (MIT-0)": ["mit0"],
  "OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": ["mpl11"],
  "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": ["mpl20"],
  "OSI Approved :: Python Software Foundation License": ["psfl"],
  "OSI Approved :: The Unlicense (Unlicense)": ["unlicense"],
  "OSI Approved :: Universal Permissive License (UPL)": ["upl"],
  "OSI Approved :: zlib/libpng License": ["zlib"],
  "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": ["cc0"],
  "Public Domain": ["publicDomain"],
};

/**
 * Free-text `License` values, written naturally and normalised by `normText` when looked up;
 * two or more attributes means the text is ambiguous.
 */
const FREE_TEXT_SOURCE: readonly [string, string[]][] = [
  ["MIT", ["mit"]],
  ["MIT-0", ["mit0"]],
  ["Expat", ["mit"]],
  ["Apache", ["asl20", "asl11"]],
  ["Apache Software License", ["asl20", "asl11"]],
  ["Apache 2.0", ["asl20"]],
  ["ASL 2.0", ["asl20"]],
  ["BSD", ["bsd3", "bsd2"]],
  ["BSD 2-Clause", ["bsd2"]],
  ["2-Clause BSD", ["bsd2"]],
  ["Simplified BSD", ["bsd2"]],
  ["BSD 3-Clause", ["bsd3"]],
  ["3-Clause BSD", ["bsd3"]],
  ["New BSD", ["bsd3"]],
  ["Modified BSD", ["bsd3"]],
  ["Revised BSD", ["bsd3"]],
  ["ISC", ["isc"]],
  ["MPL 2.0", ["mpl20"]],
  ["PSF", ["psfl"]],
  ["PSFL", ["psfl"]],
  ["Python Software Foundation", ["psfl"]],
  ["Unlicense", ["unlicense"]],
  ["Public Domain", ["publicDomain"]],
  ["CC0", ["cc0"]],
  ["CC0 1.0", ["cc0"]],
  ["zlib", ["zlib"]],
  ["Boost", ["boost"]],
  ["WTFPL", ["wtfpl"]],
  ["GPL", ["gpl2Only", "gpl2Plus", "gpl3Only", "gpl3Plus"]],
  ["GPL 2", ["gpl2Only", "gpl2Plus"]],
  ["GPL 2 only", ["gpl2Only"]],
  ["GPL 2+", ["gpl2Plus"]],
  ["GPL 3", ["gpl3Only", "gpl3Plus"]],
  ["GPL 3 only", ["gpl3Only"]],
  ["GPL 3+", ["gpl3Plus"]],
  ["LGPL", ["lgpl21Only", "lgpl21Plus", "lgpl3Only", "lgpl3Plus"]],
  ["LGPL 2+", ["lgpl2Plus"]],
  ["LGPL 2.1", ["lgpl21Only", "lgpl21Plus"]],
  ["LGPL 2.1 only", ["lgpl21Only"]],
  ["LGPL 2.1+", ["lgpl21Plus"]],
  ["LGPL 3", ["lgpl3Only", "lgpl3Plus"]],
  ["LGPL 3 only", ["lgpl3Only"]],
  ["LGPL 3+", ["lgpl3Plus"]],
  ["AGPL", ["agpl3Only", "agpl3Plus"]],
  ["AGPL 3", ["agpl3Only", "agpl3Plus"]],
  ["AGPL 3 only", ["agpl3Only"]],
  ["AGPL 3+", ["agpl3Plus"]],
];

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

  const fromClassifiers: { classifier: string; attrs: string[] }[] = [];
  for (const c of fields.classifiers ?? []) {
    const m = /^License\s*::\s*(.+)$/.exec(c.trim());
    if (!m) continue;
    const key = m[1]!.replace(/\s*::\s*/g, " :: ");
    const attrs = CLASSIFIERS[key];
    if (attrs) fromClassifiers.push({ classifier: c.trim(), attrs });
  }
  const text = fields.license?.trim();
  const fromText = text ? matchFreeText(text) : undefined;

  if (fromClassifiers.length) {
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

  if (text) {
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
  return { kind: "unknown", reason: "the metadata declares no licence" };
}

function oneLine(text: string): string {
  const first = text.split("\n")[0]!.trim();
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** The attributes of a free-text licence, or undefined when it is not recognised. */
export function matchFreeText(text: string): string[] | undefined {
  // A pasted licence text: judge by its first lines only when they name the licence.
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.length > 1) {
    const head = lines.slice(0, 3).join(" ");
    if (/^(the )?mit licen[cs]e/i.test(head)) return ["mit"];
    if (/^apache licen[cs]e,? version 2\.0/i.test(head)) return ["asl20"];
    return undefined;
  }
  const t = text.trim();
  if (!DEPRECATED_SPDX.test(t)) {
    const spdx = spdxToAttrs(t);
    if (spdx) return spdx;
  }
  return FREE_TEXT.get(normText(t));
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

// Licence texts as distributions ship them (LICENSE, COPYING, *.dist-info/licenses/*): phrases
// each text carries, checked in order. The GNU and Apache texts are known by their title line
// followed by their version line (the GPL's own text names the LGPL and the AGPL further down).
// A GNU text alone does not say "only" or "or later" (the notice does): it is given as "…Only".
const TEXTS: readonly [string, RegExp[]][] = [
  ["agpl3Only", [
    /gnu affero general public license version 3, 19 november 2007/,
  ]],
  ["lgpl3Only", [/gnu lesser general public license version 3, 29 june 2007/]],
  ["lgpl21Only", [
    /gnu lesser general public license version 2\.1, february 1999/,
  ]],
  ["lgpl2Only", [/gnu library general public license version 2, june 1991/]],
  ["gpl3Only", [/gnu general public license version 3, 29 june 2007/]],
  ["gpl2Only", [/gnu general public license version 2, june 1991/]],
  ["asl20", [/apache license,? version 2\.0, january 2004/]],
  ["mpl20", [/mozilla public license,? version 2\.0/]],
  ["mit0", [
    /permission is hereby granted, free of charge, to any person obtaining a copy/,
    /^(?!.*above copyright notice and this permission notice shall be included)/,
  ]],
  ["mit", [
    /permission is hereby granted, free of charge, to any person obtaining a copy/,
  ]],
  ["isc", [
    /permission to use, copy, modify, and(\/or)? distribute this software for any purpose with or without fee is hereby granted/,
  ]],
  ["bsdOriginal", [
    /redistribution and use in source and binary forms/,
    /all advertising materials mentioning features/,
  ]],
  ["bsd3", [
    /redistribution and use in source and binary forms/,
    /neither the name of/,
  ]],
  ["bsd2", [/redistribution and use in source and binary forms/]],
  ["unlicense", [
    /this is free and unencumbered software released into the public domain/,
  ]],
];

/**
 * The `lib.licenses` attribute of a shipped licence text, by the phrases of the common
 * licences; undefined when it is not one of them.
 */
export function licenseFromText(text: string): string | undefined {
  const t = text.toLowerCase().replace(/\s+/g, " ");
  for (const [attr, phrases] of TEXTS) {
    if (phrases.every((p) => p.test(t))) return attr;
  }
  return undefined;
}

/** The family of an attribute ("gpl3Only", "gpl3Plus" and the old "gpl3" are all "gpl3"). */
export function licenseFamily(attr: string): string {
  return attr.replace(/(Only|Plus)$/, "");
}
