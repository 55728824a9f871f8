import assert from "node:assert/strict";
import {
  detectLicense,
  KNOWN_LICENSE_ATTRS,
  type LicenseDecision,
  licenseFromText,
  licenseNix,
  matchFreeText,
  normText,
  parseLicenseFlag,
  spdxToAttrs,
} from "../../lib/python/license.ts";
import { weighLicense } from "../../lib/python/license_weigh.ts";
import { REAL_SOURCES, realSourcesTest } from "../_helpers.ts";

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

const MIT_TEXT = `MIT License

Copyright (c) 2024 Someone

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.`;

const BSD_CLAUSES =
  `Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.`;

const BSD3_TAIL = `

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.`;

Deno.test("licenseFromText() recognises the common licence texts and title lines", () => {
  const cases: [string, string | undefined][] = [
    [MIT_TEXT.replace("MIT License\n", ""), "mit"],
    [`Copyright (c) 2020 X\n\n${BSD_CLAUSES}`, "bsd2"],
    [`Copyright (c) 2020 X\n\n${BSD_CLAUSES}${BSD3_TAIL}`, "bsd3"],
    [
      "Copyright (c) 2020 X\n\nPermission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee is hereby granted, provided that the above\ncopyright notice and this permission notice appear in all copies.",
      "isc",
    ],
    [
      'Mozilla Public License Version 2.0\n==================================\n1.1. \u201cContributor\u201d\n1.6. "Source Code Form"',
      "mpl20",
    ],
    [
      "GNU LESSER GENERAL PUBLIC LICENSE\n Version 2.1, February 1999\n This license, the Lesser General Public License, applies to some",
      "lgpl21Only",
    ],
    [
      "GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991\n",
      "gpl2Only",
    ],
    [
      "This is free and unencumbered software released into the public domain.",
      "unlicense",
    ],
    // A title line that names one licence; the text need not follow.
    ["BSD 3-Clause License\n\nCopyright (c) 2021, someone", "bsd3"],
    ["Apache-2.0\n", "asl20"],
    // Titles that do not decide, and texts that are not licences.
    ["BSD License\n\nCopyright (c) 2021", undefined],
    ["Copyright 2024 ACME\nAll rights reserved", undefined],
    ["", undefined],
  ];
  for (const [text, want] of cases) {
    assert.equal(
      licenseFromText(text),
      want,
      JSON.stringify(text.slice(0, 60)),
    );
  }
});

realSourcesTest(
  "licenseFromText() recognises the licence texts the real wheels ship",
  async () => {
    const { unzipSync } = await import("fflate");
    const member = async (file: string, path: string) =>
      new TextDecoder().decode(
        unzipSync(await Deno.readFile(`${REAL_SOURCES}/${file}`), {
          filter: (f) => f.name === path,
        })[path]!,
      );
    assert.equal(
      licenseFromText(
        await member(
          "comfyui_workflow_templates-0.7.20-py3-none-any.whl",
          "comfyui_workflow_templates-0.7.20.dist-info/licenses/LICENSE",
        ),
      ),
      "gpl3Only",
    );
    assert.equal(
      licenseFromText(
        await member(
          "controlnet_aux-0.0.10-py3-none-any.whl",
          "controlnet_aux-0.0.10.dist-info/LICENSE.txt",
        ),
      ),
      "asl20",
    );
  },
);

Deno.test("matchFreeText() recognises a licence text pasted into the License field", () => {
  assert.deepEqual(
    matchFreeText(`Copyright (c) 2020 X\n\n${BSD_CLAUSES}${BSD3_TAIL}`),
    ["bsd3"],
  );
  assert.deepEqual(
    matchFreeText("BSD 3-Clause License\n\nCopyright (c) 2021, someone"),
    ["bsd3"],
  );
  assert.deepEqual(
    detectLicense({
      license: `BSD 3-Clause License\n\n${BSD_CLAUSES}${BSD3_TAIL}`,
    }),
    {
      kind: "found",
      attrs: ["bsd3"],
      source: 'License "BSD 3-Clause License"',
    },
  );
});

Deno.test("weighLicense() checks the metadata against the licence texts shipped", () => {
  const gpl = {
    path: "x-1.0.dist-info/licenses/LICENSE",
    text: "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007",
  };
  const mit = { path: "x-1.0.dist-info/licenses/LICENSE", text: MIT_TEXT };
  // Disagreement: both pieces of evidence named, both licences offered.
  const conflict = weighLicense({ license: "MIT" }, [gpl]);
  assert.equal(conflict.kind, "conflict");
  assert.ok(conflict.kind === "conflict");
  assert.deepEqual(conflict.candidates, ["gpl3Only", "mit"]);
  assert.match(
    conflict.source,
    /License "MIT" vs .*LICENSE \(GNU GPL v3 text\)/,
  );
  assert.deepEqual(conflict.evidence, [
    'licence evidence: License "MIT"; x-1.0.dist-info/licenses/LICENSE is the GNU GPL v3 text',
  ]);
  // Agreement keeps the metadata's answer, which alone can say "or later".
  const plus = weighLicense({ licenseExpression: "GPL-3.0-or-later" }, [gpl]);
  assert.equal(plus.kind, "found");
  assert.ok(plus.kind === "found");
  assert.deepEqual(plus.attrs, ["gpl3Plus"]);
  assert.equal(plus.evidence.length, 1);
  // A text settles an ambiguous classifier, and stands in for a missing field.
  const bsd = weighLicense(
    { classifiers: ["License :: OSI Approved :: BSD License"] },
    [{ path: "LICENSE", text: `${BSD_CLAUSES}${BSD3_TAIL}` }],
  );
  assert.ok(bsd.kind === "found");
  assert.deepEqual(bsd.attrs, ["bsd3"]);
  const none = weighLicense({}, [mit]);
  assert.ok(none.kind === "found");
  assert.deepEqual(none.attrs, ["mit"]);
  // No texts: the metadata's decision, without evidence lines.
  const plain = weighLicense({ license: "MIT" }, []);
  assert.deepEqual(plain.evidence, []);
  assert.equal(plain.kind, "found");
  // An unrecognised text is evidence, not a conflict.
  const odd = weighLicense({ license: "MIT" }, [{
    path: "LICENSE",
    text: "All rights reserved",
  }]);
  assert.equal(odd.kind, "found");
  assert.match(odd.evidence[0]!, /LICENSE is not a text this tool recognises/);
});
