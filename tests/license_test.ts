import assert from "node:assert/strict";
import {
  detectLicense,
  KNOWN_LICENSE_ATTRS,
  type LicenseDecision,
  licenseNix,
  matchFreeText,
  normText,
  parseLicenseFlag,
  spdxToAttrs,
} from "../lib/python/license.ts";

const OSI = "License :: OSI Approved :: ";

Deno.test("spdxToAttrs() maps SPDX expressions to lib.licenses attributes", () => {
  const cases: [string, string[] | undefined][] = [
    ["MIT", ["mit"]],
    ["mit", ["mit"]],
    ["Apache-2.0", ["asl20"]],
    ["BSD-3-Clause", ["bsd3"]],
    ["GPL-3.0-only", ["gpl3Only"]],
    ["GPL-3.0-or-later", ["gpl3Plus"]],
    ["GPL-3.0", ["gpl3Only"]],
    ["LGPL-2.1-or-later", ["lgpl21Plus"]],
    ["MPL-2.0", ["mpl20"]],
    ["ISC", ["isc"]],
    ["PSF-2.0", ["psfl"]],
    ["Unlicense", ["unlicense"]],
    ["MIT OR Apache-2.0", ["asl20", "mit"]],
    ["(BSD-3-Clause AND MIT)", ["bsd3", "mit"]],
    ["LicenseRef-Proprietary", undefined],
    ["GPL-2.0-or-later WITH Classpath-exception-2.0", undefined],
    ["MIT OR", undefined],
    ["", undefined],
  ];
  for (const [expr, want] of cases) {
    assert.deepEqual(spdxToAttrs(expr), want, expr);
  }
});

Deno.test("normText() reduces licence names to their meaning", () => {
  const cases: [string, string][] = [
    ["GNU GPL V3.0", "gpl 3"],
    ["GPLv3", "gpl 3"],
    ["GNU General Public License v3 (GPLv3)", "gpl 3"],
    ["GPL-3.0 or later", "gpl 3+"],
    ["GPLv3+", "gpl 3+"],
    ["Apache License, Version 2.0", "apache 2"],
    ["The MIT License (MIT)", "mit"],
    ["LGPL v2.1", "lgpl 2 1"],
  ];
  for (const [text, want] of cases) assert.equal(normText(text), want, text);
});

Deno.test("matchFreeText() is conservative about ambiguous texts", () => {
  const cases: [string, string[] | undefined][] = [
    ["MIT", ["mit"]],
    ["MIT License", ["mit"]],
    ["Apache 2.0", ["asl20"]],
    ["Apache License 2.0", ["asl20"]],
    ["Apache", ["asl20", "asl11"]],
    ["BSD", ["bsd3", "bsd2"]],
    ["new BSD license", ["bsd3"]],
    ["GNU GPL V3.0", ["gpl3Only", "gpl3Plus"]],
    ["GPL-3.0", ["gpl3Only", "gpl3Plus"]],
    ["GPLv3+", ["gpl3Plus"]],
    ["GPL-3.0-only", ["gpl3Only"]],
    ["LGPL", ["lgpl21Only", "lgpl21Plus", "lgpl3Only", "lgpl3Plus"]],
    [
      "MIT License\n\nCopyright (c) 2024 Someone\n\nPermission is hereby granted",
      [
        "mit",
      ],
    ],
    [
      "                                 Apache License\n                           Version 2.0, January 2004\n",
      ["asl20"],
    ],
    ["Copyright 2024 ACME\nAll rights reserved", undefined],
    ["UNKNOWN", undefined],
    ["Proprietary", undefined],
    ["see LICENSE file", undefined],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(matchFreeText(text), want, JSON.stringify(text));
  }
});

Deno.test("detectLicense() prefers License-Expression, then classifiers, then free text", () => {
  const cases: [
    Parameters<typeof detectLicense>[0],
    LicenseDecision["kind"],
    string[],
  ][] = [
    // License-Expression wins over everything else.
    [
      {
        licenseExpression: "MIT",
        license: "GPL",
        classifiers: [`${OSI}Apache Software License`],
      },
      "found",
      ["mit"],
    ],
    [{ licenseExpression: "LicenseRef-Foo" }, "unknown", []],
    // Classifiers: real controlnet_aux (License: Apache + the Apache classifier) → asl20.
    [
      { license: "Apache", classifiers: [`${OSI}Apache Software License`] },
      "found",
      ["asl20"],
    ],
    // Real nunchaku / spandrel: License MIT + MIT classifier.
    [{ license: "MIT", classifiers: [`${OSI}MIT License`] }, "found", ["mit"]],
    [
      { classifiers: [`${OSI}MIT License`, `${OSI}Apache Software License`] },
      "found",
      ["asl20", "mit"],
    ],
    [
      { classifiers: [`${OSI}GNU General Public License v3 (GPLv3)`] },
      "ambiguous",
      ["gpl3Only", "gpl3Plus"],
    ],
    // A free text can settle an ambiguous classifier when it names one of its meanings.
    [
      {
        license: "GPLv3+",
        classifiers: [`${OSI}GNU General Public License v3 (GPLv3)`],
      },
      "found",
      ["gpl3Plus"],
    ],
    [{ classifiers: [`${OSI}BSD License`] }, "ambiguous", ["bsd3", "bsd2"]],
    // Free text contradicting the classifier: ask.
    [
      { license: "MIT", classifiers: [`${OSI}Apache Software License`] },
      "ambiguous",
      ["asl20", "mit"],
    ],
    // Free text only.
    [{ license: "MIT" }, "found", ["mit"]],
    [{ license: "GNU GPL V3.0" }, "ambiguous", ["gpl3Only", "gpl3Plus"]],
    [{ license: "Apache" }, "ambiguous", ["asl20", "asl11"]],
    [{ license: "Copyright ACME, all rights reserved" }, "unknown", []],
    [{}, "unknown", []],
    [{ classifiers: ["Programming Language :: Python :: 3"] }, "unknown", []],
  ];
  for (const [fields, kind, attrs] of cases) {
    const d = detectLicense(fields);
    const label = JSON.stringify(fields);
    assert.equal(d.kind, kind, label);
    if (d.kind === "found") assert.deepEqual(d.attrs, attrs, label);
    if (d.kind === "ambiguous") assert.deepEqual(d.candidates, attrs, label);
  }
});

Deno.test("detectLicense() names its source and the reason it cannot decide", () => {
  const d = detectLicense({ license: "GNU GPL V3.0" });
  assert.equal(d.kind, "ambiguous");
  assert.match(
    d.kind === "ambiguous" ? d.reason : "",
    /"GNU GPL V3.0" could mean licenses.gpl3Only or licenses.gpl3Plus/,
  );
  const e = detectLicense({ licenseExpression: "Apache-2.0" });
  assert.equal(
    e.kind === "found" ? e.source : "",
    'License-Expression "Apache-2.0"',
  );
});

Deno.test("parseLicenseFlag() accepts attributes and SPDX expressions", () => {
  assert.deepEqual(parseLicenseFlag("gpl3Only"), ["gpl3Only"]);
  assert.deepEqual(parseLicenseFlag("licenses.mit"), ["mit"]);
  assert.deepEqual(parseLicenseFlag("GPL-3.0"), ["gpl3Only"]);
  assert.deepEqual(parseLicenseFlag("MIT OR Apache-2.0"), ["asl20", "mit"]);
  assert.deepEqual(parseLicenseFlag("mit, asl20"), ["asl20", "mit"]);
  assert.equal(parseLicenseFlag("nonsense"), undefined);
  assert.equal(parseLicenseFlag(""), undefined);
  assert.ok(KNOWN_LICENSE_ATTRS.includes("unfree"));
});

Deno.test("licenseNix() renders one attribute or a list", () => {
  assert.equal(licenseNix(["mit"]), "licenses.mit");
  assert.equal(licenseNix(["asl20", "mit"]), "with licenses; [ asl20 mit ]");
});
