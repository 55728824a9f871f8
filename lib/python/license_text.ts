// Recognising the common licence texts a distribution ships (LICENSE, COPYING,
// *.dist-info/licenses/*) by phrases every copy of the licence contains, so that what a
// package is actually licensed under can be checked against what its metadata claims.
// A text names no "or later" grant on its own: GPL-family texts map to the "Only" attributes.
//
//   licenseFromFullText("  GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007 …") // "gpl3Only"
//
// Pure functions, no I/O. lib/python/license.ts's licenseFromText() adds first-line titles.

/**
 * A licence recognised by phrases its text always holds (all must appear), most specific
 * first: the GPL mentions the LGPL and AGPL by name, so those are told by their preambles.
 */
const TEXTS: readonly {
  attr: string;
  name: string;
  all: readonly string[];
  none?: readonly string[];
}[] = [
  {
    attr: "agpl3Only",
    name: "GNU AGPL v3",
    all: ["gnu affero general public license", "version 3, 19 november 2007"],
  },
  {
    attr: "lgpl3Only",
    name: "GNU LGPL v3",
    all: [
      "gnu lesser general public license",
      "incorporates the terms and conditions of version 3 of the gnu general public license",
    ],
  },
  {
    attr: "lgpl21Only",
    name: "GNU LGPL v2.1",
    all: [
      "version 2.1, february 1999",
      "this license, the lesser general public license, applies",
    ],
  },
  {
    attr: "lgpl2Only",
    name: "GNU LGPL v2",
    all: [
      "version 2, june 1991",
      "this license, the library general public license, applies",
    ],
  },
  // A GNU text's title line followed by its version line names it too (the GPL's text names
  // the LGPL, but never with the LGPL's own version line after it).
  {
    attr: "lgpl3Only",
    name: "GNU LGPL v3",
    all: ["gnu lesser general public license version 3, 29 june 2007"],
  },
  {
    attr: "lgpl21Only",
    name: "GNU LGPL v2.1",
    all: ["gnu lesser general public license version 2.1, february 1999"],
  },
  {
    attr: "lgpl2Only",
    name: "GNU LGPL v2",
    all: ["gnu library general public license version 2, june 1991"],
  },
  {
    attr: "gpl3Only",
    name: "GNU GPL v3",
    all: ["gnu general public license", "version 3, 29 june 2007"],
  },
  {
    attr: "gpl2Only",
    name: "GNU GPL v2",
    all: ["gnu general public license", "version 2, june 1991"],
  },
  {
    attr: "asl20",
    name: "Apache-2.0",
    all: ["apache license", "version 2.0, january 2004"],
  },
  {
    attr: "mpl20",
    name: "MPL-2.0",
    all: ["mozilla public license", "2.0", '"source code form"'],
  },
  {
    attr: "boost",
    name: "BSL-1.0",
    all: ["boost software license - version 1.0"],
  },
  {
    attr: "psfl",
    name: "PSF-2.0",
    all: ["python software foundation license version 2"],
  },
  {
    attr: "unlicense",
    name: "Unlicense",
    all: [
      "this is free and unencumbered software released into the public domain",
    ],
  },
  {
    attr: "bsdOriginal",
    name: "BSD-4-Clause",
    all: [
      "redistribution and use in source and binary forms",
      "all advertising materials mentioning features",
    ],
  },
  {
    attr: "bsd3",
    name: "BSD-3-Clause",
    all: [
      "redistribution and use in source and binary forms",
      "neither the name of",
    ],
  },
  {
    attr: "bsd2",
    name: "BSD-2-Clause",
    // After BSD-4 and BSD-3: the permission line without their extra clauses.
    all: ["redistribution and use in source and binary forms"],
  },
  {
    attr: "mit0",
    name: "MIT-0",
    all: [
      "permission is hereby granted, free of charge, to any person obtaining a copy",
      "without restriction, including without limitation the rights",
    ],
    none: ["the above copyright notice and this permission notice shall be"],
  },
  {
    attr: "mit",
    name: "MIT",
    all: [
      "permission is hereby granted, free of charge, to any person obtaining a copy",
      "the above copyright notice and this permission notice shall be included",
    ],
  },
  {
    attr: "bsd0",
    name: "0BSD",
    all: [
      "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted.",
    ],
  },
  {
    attr: "isc",
    name: "ISC",
    // After 0BSD, whose grant ends with a period where ISC's goes on "provided that …".
    all: [
      "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted",
    ],
  },
  {
    attr: "zlib",
    name: "Zlib",
    all: [
      "this software is provided 'as-is', without any express or implied",
      "altered source versions must be plainly marked as such",
    ],
  },
];

/** A recognised licence text: the `lib.licenses` attribute and a readable name. */
export interface RecognisedText {
  attr: string;
  name: string;
}

/** The licence a full licence text is, by its fixed phrases; undefined when unrecognised. */
export function licenseFromFullText(text: string): RecognisedText | undefined {
  const t = text.toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(
    /[\u201c\u201d]/g,
    '"',
  ).replace(/\s+/g, " ");
  for (const l of TEXTS) {
    if (
      l.all.every((p) => t.includes(p)) &&
      !(l.none ?? []).some((p) => t.includes(p))
    ) return { attr: l.attr, name: l.name };
  }
  return undefined;
}

/** The family of an attribute ("gpl3Only" and "gpl3Plus" are both "gpl3"). */
export function licenseFamily(attr: string): string {
  return attr.replace(/(Only|Plus)$/, "");
}
