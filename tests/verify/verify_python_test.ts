// verify's checks of what the vendored distributions and package files say (issues 12 and 16):
// Requires-Python against the target interpreter, meta.license against the shipped licence
// text and nixpkgs' licence list, dependency names against the nixpkgs index.
import assert from "node:assert/strict";
import { licenseFamily, licenseFromText } from "../../lib/python/license.ts";
import { verifyRepo } from "../../lib/verify/run.ts";
import { readLicenseList } from "../../lib/verify/python.ts";
import { IN_CI, REAL_SOURCES, tmp } from "../_helpers.ts";
import { info } from "../../lib/kit/log.ts";
import { PACKAGE } from "../_fixtures/nix_files.ts";
import {
  entry,
  errors,
  MAIN_WITH_FOO,
  makeRepo,
  pick,
  wheel,
} from "./verify_helpers.ts";

const FILE = "foo-1.2.3-py3-none-any.whl";

/** foo's wheel with extra METADATA lines and files, vendored and listed. */
function withWheel(extra: string, files: Record<string, string> = {}) {
  const bytes = wheel("foo", "1.2.3", extra, files);
  return { sources: { [FILE]: bytes }, entries: [entry(FILE, bytes)] };
}

const INDEX = (python?: string) => ({
  description: "test index",
  nixpkgs: { rev: null, date: null, channel: null },
  ...(python ? { python } : {}),
  python3Packages: {
    numpy: "2.3.3",
    triton: "3.4.0",
    setuptools: "80.0.0",
    wheel: "0.45.1",
  },
});

const GPL3_HEAD = `                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 Everyone is permitted to copy and distribute verbatim copies
 of this license document, but changing it is not allowed.
 ... use the GNU Lesser General Public License instead of this License.
 ... the GNU Affero General Public License, version 3 ...`;

const MIT = `MIT License

Copyright (c) 2024 Someone

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.`;

Deno.test("licenseFromText() recognises the common licence texts by their wording", () => {
  assert.equal(licenseFromText(GPL3_HEAD), "gpl3Only");
  assert.equal(licenseFromText(MIT), "mit");
  assert.equal(
    licenseFromText(
      "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/",
    ),
    "asl20",
  );
  const bsd =
    "Copyright (c) X\nRedistribution and use in source and binary forms, with or without modification, are permitted";
  assert.equal(
    licenseFromText(bsd + "\n3. Neither the name of the copyright holder"),
    "bsd3",
  );
  assert.equal(licenseFromText(bsd), "bsd2");
  assert.equal(
    licenseFromText(
      "GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999",
    ),
    "lgpl21Only",
  );
  assert.equal(
    licenseFromText(
      "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted",
    ),
    "isc",
  );
  assert.equal(licenseFromText("All rights reserved. Do not copy."), undefined);
  assert.equal(licenseFamily("gpl3Plus"), "gpl3");
  assert.equal(licenseFamily("gpl3Only"), "gpl3");
  assert.equal(licenseFamily("mit"), "mit");
  assert.equal(licenseFamily("gpl3"), "gpl3");
});

Deno.test("licenseFromText() reads comfyui_workflow_templates' shipped LICENSE as the GPL 3 text", async () => {
  const file =
    `${REAL_SOURCES}/comfyui_workflow_templates-0.7.20-py3-none-any.whl`;
  const bytes = await Deno.readFile(file).catch(() => undefined);
  if (!bytes) {
    if (IN_CI) throw new Error(`${file} is required when CI=true`);
    info(`notice: ${file} not found, skipping`);
    return;
  }
  const { unzipSync } = await import("fflate");
  const files = unzipSync(bytes, {
    filter: (f) => /licenses\/LICENSE$/.test(f.name),
  });
  const text = new TextDecoder().decode(Object.values(files)[0]!);
  assert.equal(licenseFromText(text), "gpl3Only");
});

Deno.test("verifyRepo() errs when a wired package's Requires-Python excludes the interpreter", async () => {
  await using dir = await tmp();
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, {
      ...withWheel("Requires-Python: >=3.9,<3.13\n"),
      index: INDEX("3.13.5"),
    }),
  });
  const e = pick(
    fs,
    "error",
    /foo\.nix Requires-Python|foo\.nix .*Requires-Python/,
  )[0]!;
  assert.equal(e.where, ".flox/pkgs/foo.nix");
  assert.equal(
    e.message,
    `${FILE} says Requires-Python ">=3.9,<3.13": python 3.13.5 (python3 of nixpkgs-index.json) is excluded`,
  );
  assert.match(e.fix!, /^unwire foo from the main package/);
  // An interpreter it admits: ok.
  await using dir2 = await tmp();
  const ok = await verifyRepo({
    root: await makeRepo(dir2.path, {
      ...withWheel("Requires-Python: >=3.9,<3.13\n"),
      index: INDEX("3.12.11"),
    }),
  });
  assert.deepEqual(errors(ok), []);
  assert.equal(
    pick(ok, "ok", /foo\.nix Requires-Python .* admits python 3\.12\.11/)
      .length,
    1,
  );
  // Unknown interpreter: one warning naming the files.
  await using dir3 = await tmp();
  const unknown = await verifyRepo({
    root: await makeRepo(dir3.path, {
      ...withWheel("Requires-Python: >=3.9\n"),
      index: INDEX(),
    }),
  });
  const w = pick(unknown, "warning", /Requires-Python/);
  assert.equal(w.length, 1);
  assert.match(
    w[0]!.message,
    /1 wired distribution not checked: .*\(foo-1\.2\.3-py3-none-any\.whl\)/,
  );
});

Deno.test("verifyRepo() warns when meta.license disagrees with the shipped licence text", async () => {
  await using dir = await tmp();
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, {
      ...withWheel("License: MIT\n", { "{di}/licenses/LICENSE": GPL3_HEAD }),
    }),
  });
  const w = pick(fs, "warning", /foo\.nix:\d+ meta\.license/)[0]!;
  assert.equal(w.where, ".flox/pkgs/foo.nix:20");
  assert.equal(
    w.message,
    `meta.license is licenses.mit but ${FILE} ships foo-1.2.3.dist-info/licenses/LICENSE, a gpl3 licence text`,
  );
  assert.match(w.fix!, /--license ATTR/);
  // The MIT text agrees with licenses.mit.
  await using dir2 = await tmp();
  const ok = await verifyRepo({
    root: await makeRepo(dir2.path, {
      ...withWheel("License: MIT\n", { "{di}/LICENSE": MIT }),
    }),
  });
  assert.equal(pick(ok, "warning", /meta\.license/).length, 0);
  assert.equal(
    pick(ok, "ok", /foo\.nix:20 meta\.license agrees with the shipped foo-/)
      .length,
    1,
  );
});

Deno.test("verifyRepo() checks licence names against nixpkgs' list", async () => {
  await using dir = await tmp();
  const foo = PACKAGE.replace(
    "license = licenses.mit;",
    "license = licenses.notalicense;",
  );
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, { pkgs: { comfyui: MAIN_WITH_FOO, foo } }),
  });
  const e = pick(fs, "error", /not a nixpkgs licence/)[0]!;
  assert.equal(e.message, "licenses.notalicense is not a nixpkgs licence");
  assert.equal(e.where, ".flox/pkgs/foo.nix:20");
  // A wrong case gets the right name; a deprecated alias is a warning.
  await using dir2 = await tmp();
  const foo2 = PACKAGE.replace(
    "license = licenses.mit;",
    "license = with licenses; [ Mit gpl3 ];",
  );
  const fs2 = await verifyRepo({
    root: await makeRepo(dir2.path, {
      pkgs: { comfyui: MAIN_WITH_FOO, foo: foo2 },
    }),
  });
  assert.equal(pick(fs2, "error", /licenses\.Mit/)[0]!.fix, "use licenses.mit");
  assert.equal(
    pick(fs2, "warning", /licenses\.gpl3 is a deprecated alias/).length,
    1,
  );
});

Deno.test("verifyRepo() warns about a dependency name the nixpkgs index does not know", async () => {
  await using dir = await tmp();
  const foo = PACKAGE.replace("    numpy\n", "    numpy\n    torchsdee\n");
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, {
      pkgs: { comfyui: MAIN_WITH_FOO, foo },
      index: INDEX(),
    }),
  });
  const w = pick(fs, "warning", /torchsdee/);
  assert.equal(w.length, 1);
  assert.equal(w[0]!.where, ".flox/pkgs/foo.nix:14");
  assert.equal(
    w[0]!.message,
    "dependency torchsdee is not in the nixpkgs index (nixpkgs-index.json)",
  );
  assert.equal(pick(fs, "warning", /dependency numpy /).length, 0);
});

Deno.test("verify says so when nixpkgs-licenses.json is garbage or missing, instead of skipping licence names (#22.15)", async () => {
  await using dir = await tmp();
  const foo = PACKAGE.replace(
    "license = licenses.mit;",
    "license = licenses.notalicense;",
  );
  const root = await makeRepo(dir.path, {
    pkgs: { comfyui: MAIN_WITH_FOO, foo },
  });
  for (
    const [text, why] of [
      ["not json", /not valid JSON/],
      ['{"licenses": []}', /no "licenses" list of names/],
      ['{"licenses": "mit"}', /no "licenses" list of names/],
    ] as const
  ) {
    await Deno.writeTextFile(`${root}/nixpkgs-licenses.json`, text);
    const fs = await verifyRepo({ root });
    const e = pick(fs, "error", /nixpkgs-licenses\.json/);
    assert.equal(e.length, 1, `${text}: ${JSON.stringify(fs)}`);
    assert.match(e[0]!.message, why);
    assert.equal(e[0]!.where, "nixpkgs-licenses.json");
    assert.equal(e[0]!.section, "Python packages");
    assert.match(e[0]!.fix!, /update-nixpkgs-index/);
  }
  // Missing here and in the kit: a warning that licence names were not checked.
  await Deno.remove(`${root}/nixpkgs-licenses.json`);
  const none = await readLicenseList(root, `${root}/no-such-file.json`);
  assert.ok("problem" in none! && none.level === "warning");
  assert.match(none.problem, /missing: licence names are not checked/);
  // Missing here only: the kit's own copy is used, and the bad name is found.
  const fs = await verifyRepo({ root });
  assert.equal(pick(fs, "error", /licenses\.notalicense/).length, 1);
});
