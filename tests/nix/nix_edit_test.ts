import assert from "node:assert/strict";
import { KitError } from "../../lib/kit/errors.ts";
import {
  replaceSpans,
  setAttrExpr,
  setStringAttr,
} from "../../lib/nix/edit.ts";
import { addFormal, removeFormal } from "../../lib/nix/edit_formals.ts";
import { addListItem, removeListItem } from "../../lib/nix/edit_list.ts";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { unifiedDiff } from "../../lib/kit/diff.ts";
import { haveTool, run, SEED_MAIN, tmp } from "../_helpers.ts";
import {
  GITHUB_PACKAGE,
  PACKAGE,
  PYPI_PACKAGE,
} from "../_fixtures/nix_files.ts";

const COMFYUI = await Deno.readTextFile(SEED_MAIN);

/** Every edited text, checked with real Nix at the end. */
const edited: [string, string][] = [];
function keep(name: string, text: string): string {
  edited.push([name, text]);
  return text;
}

/** The changed lines of a diff (without headers), to assert an edit touched nothing else. */
function changes(a: string, b: string): string[] {
  return unifiedDiff(a, b, "a", "b").split("\n").filter((l) =>
    /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)
  );
}

Deno.test("setStringAttr() changes one string and keeps every other byte", () => {
  const out = keep(
    "version",
    setStringAttr(COMFYUI, ["version"], "0.3.76", { path: "comfyui.nix" }),
  );
  assert.deepEqual(changes(COMFYUI, out), [
    '-  version = "0.3.75";',
    '+  version = "0.3.76";',
  ]);
  const info = readPackage(parseNix(out));
  assert.equal(info.src!.attrs.get("rev")!.value, "v0.3.76");
  // rev = "v${version}" already says v0.3.76: a no-op, interpolation kept.
  assert.equal(setStringAttr(out, ["src", "rev"], "v0.3.76"), out);
});

Deno.test("setStringAttr() reaches into the fetcher call and replaces lib.fakeHash", () => {
  const sri = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
  const out = keep(
    "pypi-hash",
    setStringAttr(PYPI_PACKAGE, ["src", "hash"], sri),
  );
  assert.deepEqual(changes(PYPI_PACKAGE, out), [
    "-        hash = lib.fakeHash;",
    `+        hash = "${sri}";`,
  ]);
  const rev = keep(
    "rev",
    setStringAttr(
      COMFYUI,
      ["src", "rev"],
      "0123456789abcdef0123456789abcdef01234567",
    ),
  );
  assert.deepEqual(changes(COMFYUI, rev), [
    '-    rev = "v${version}";',
    '+    rev = "0123456789abcdef0123456789abcdef01234567";',
  ]);
  const desc = keep(
    "meta",
    setStringAttr(COMFYUI, ["meta", "description"], 'Say "hi" ${not}'),
  );
  assert.equal(
    readPackage(parseNix(desc)).file.text.includes(
      'description = "Say \\"hi\\" \\${not}";',
    ),
    true,
  );
});

Deno.test("setStringAttr() creates a missing attribute only when asked", () => {
  assert.throws(
    () => setStringAttr(COMFYUI, ["src", "tag"], "v1", { path: "c.nix" }),
    /c\.nix: attribute "src\.tag" not found/,
  );
  const out = keep(
    "create",
    setStringAttr(COMFYUI, ["src", "tag"], "v0.3.75", { create: true }),
  );
  assert.deepEqual(
    changes(COMFYUI, out),
    [
      '-    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";',
      '+    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";',
      '+    tag = "v0.3.75";',
    ].filter((l) => l.includes("tag")),
  );
});

Deno.test("setAttrExpr() edits a value", () => {
  const out = keep(
    "rename",
    setAttrExpr(
      GITHUB_PACKAGE,
      ["src", "sha256"],
      '"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="',
    ),
  );
  assert.deepEqual(changes(GITHUB_PACKAGE, out), [
    '-    sha256 = "0000000000000000000000000000000000000000000000000000";',
    '+    sha256 = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";',
  ]);
  assert.throws(
    () => setAttrExpr(PYPI_PACKAGE, ["src", "version"], '"9"'),
    /"src\.version" is inherited/,
  );
});

Deno.test("addFormal() follows leading-comma, trailing-comma and one-line styles", () => {
  const lead = keep("formal-lead", addFormal(PACKAGE, "spandrel"));
  assert.deepEqual(changes(PACKAGE, lead), ["+, spandrel"]);
  assert.ok(
    lead.includes("function arguments\n, spandrel\n}:"),
    "goes after the comment of the last argument",
  );
  const rfc = keep("formal-rfc", addFormal(PYPI_PACKAGE, "spandrel-extra"));
  assert.deepEqual(changes(PYPI_PACKAGE, rfc), ["+    spandrel-extra,"]);
  const one = keep("formal-one", addFormal(GITHUB_PACKAGE, "torch"));
  assert.ok(one.startsWith("{ lib, python3, fetchFromGitHub, torch }:"));
  assert.equal(addFormal(lead, "spandrel"), lead, "already there: no-op");
  assert.throws(() => addFormal(PACKAGE, "bad name"), KitError);
});

Deno.test("removeFormal() removes the argument and its separator", () => {
  // Nix rejects unbound names, so only the unused arguments' removals are kept for the oracle.
  const unused = COMFYUI.replace("{ lib\n", "{ first\n, lib\n")
    .replace(", makeWrapper\n", ", makeWrapper\n, last # why\n");
  const last = keep("rm-last", removeFormal(unused, "last"));
  assert.deepEqual(changes(unused, last), ["-, last # why"]);
  const first = keep("rm-first", removeFormal(last, "first"));
  assert.equal(first, COMFYUI);
  const mid = removeFormal(COMFYUI, "python3");
  assert.deepEqual(changes(COMFYUI, mid), ["-, python3"]);
  const rfc = removeFormal(PYPI_PACKAGE, "fetchPypi");
  assert.deepEqual(changes(PYPI_PACKAGE, rfc), ["-    fetchPypi, # the sdist"]);
  const one = removeFormal(GITHUB_PACKAGE, "fetchFromGitHub");
  assert.ok(one.startsWith("{ lib, python3 }:"));
  const oneFirst = removeFormal(GITHUB_PACKAGE, "lib");
  assert.ok(oneFirst.startsWith("{ python3, fetchFromGitHub }:"));
  assert.equal(removeFormal(COMFYUI, "absent"), COMFYUI);
});

Deno.test("addListItem() appends in the list's own layout", () => {
  const multi = keep(
    "add-multi",
    addListItem(COMFYUI, "propagatedBuildInputs", "spandrel"),
  );
  assert.deepEqual(changes(COMFYUI, multi), ["+    spandrel"]);
  assert.ok(multi.includes("    pydantic-settings\n    spandrel\n  ];"));
  const one = keep(
    "add-one",
    addListItem(PACKAGE, "nativeBuildInputs", "cython"),
  );
  assert.ok(one.includes("[ setuptools wheel cython ];"));
  const str = keep(
    "add-str",
    addListItem(COMFYUI, "pythonImportsCheck", "comfy", { string: true }),
  );
  assert.ok(str.includes('pythonImportsCheck = [ "comfy" ];'));
  assert.equal(addListItem(multi, "propagatedBuildInputs", "spandrel"), multi);
  const four = keep(
    "add-4",
    addListItem(PYPI_PACKAGE, "dependencies", "pillow"),
  );
  assert.deepEqual(changes(PYPI_PACKAGE, four), ["+        pillow"]);
});

Deno.test("addListItem() goes into the matching platform block, or creates it", () => {
  const same = keep(
    "add-block",
    addListItem(PACKAGE, "propagatedBuildInputs", "xformers", {
      systems: ["aarch64-linux", "x86_64-linux"],
    }),
  );
  assert.deepEqual(changes(PACKAGE, same), ["+    xformers"]);
  assert.ok(same.includes("    triton\n    xformers\n  ];"));
  const created = keep(
    "new-block",
    addListItem(COMFYUI, "propagatedBuildInputs", "triton", {
      systems: ["x86_64-linux"],
    }),
  );
  assert.deepEqual(changes(COMFYUI, created), [
    '+  ] ++ lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ "x86_64-linux" ]) [',
    "+    triton",
  ]);
  assert.ok(created.includes("    pydantic-settings\n  ] ++ lib.optionals"));
  const deps = readPackage(parseNix(created)).lists.get(
    "propagatedBuildInputs",
  )!;
  assert.deepEqual(deps.blocks[0]!.systems, ["x86_64-linux"]);
  assert.deepEqual(deps.blocks[0]!.items.map((i) => i.name), ["triton"]);
});

Deno.test("addListItem() creates a missing dependency binding", () => {
  const out = keep(
    "new-binding",
    addListItem(GITHUB_PACKAGE, "build-system", "setuptools"),
  );
  assert.deepEqual(changes(GITHUB_PACKAGE, out), [
    "+  build-system = with python3.pkgs; [",
    "+    setuptools",
    "+  ];",
  ]);
  assert.throws(
    () => addListItem(COMFYUI, "pname", "x"),
    /"pname" is not a list/,
  );
});

Deno.test("removeListItem() removes lines, words, and emptied platform blocks", () => {
  const line = keep(
    "rm-line",
    removeListItem(COMFYUI, "propagatedBuildInputs", "kornia"),
  );
  assert.deepEqual(changes(COMFYUI, line), ["-    kornia"]);
  const word = keep(
    "rm-word",
    removeListItem(PACKAGE, "nativeBuildInputs", "setuptools"),
  );
  assert.ok(word.includes("[ wheel ];"));
  const block = keep(
    "rm-block",
    removeListItem(PACKAGE, "propagatedBuildInputs", "triton"),
  );
  assert.deepEqual(changes(PACKAGE, block), [
    '-  ] ++ lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ "x86_64-linux" "aarch64-linux" ]) [',
    "-    triton",
  ]);
  assert.ok(block.includes("    comfyui-workflow-templates-core\n  ];"));
  assert.equal(
    removeListItem(COMFYUI, "propagatedBuildInputs", "absent"),
    COMFYUI,
  );
});

Deno.test("replaceSpans() refuses an edit that breaks the syntax", () => {
  assert.throws(
    () => replaceSpans(COMFYUI, [{ from: 0, to: 0, insert: "{" }], "c.nix"),
    /Editing c\.nix would break its syntax, nothing changed: c\.nix:\d+:\d+: syntax error/,
  );
});

Deno.test("round trip: edit after edit, each result re-parses to what was asked", () => {
  let t = PACKAGE;
  t = setStringAttr(t, ["version"], "1.3.0");
  t = addFormal(t, "spandrel");
  t = addListItem(t, "propagatedBuildInputs", "spandrel");
  t = addListItem(t, "propagatedBuildInputs", "nvidia-ml-py", {
    systems: ["x86_64-linux"],
  });
  t = removeListItem(t, "propagatedBuildInputs", "numpy");
  t = removeListItem(t, "propagatedBuildInputs", "spandrel");
  t = removeFormal(t, "spandrel");
  keep("round-trip", t);
  const info = readPackage(parseNix(t));
  assert.equal(info.version, "1.3.0");
  assert.deepEqual(info.formals.map((f) => f.name), [
    "lib",
    "python3",
    "comfyui-workflow-templates-core",
  ]);
  const deps = info.lists.get("propagatedBuildInputs")!;
  assert.deepEqual(deps.main!.items.map((i) => i.name), [
    "comfyui-workflow-templates-core",
  ]);
  assert.deepEqual(deps.blocks.map((b) => b.items.map((i) => i.name)), [[
    "triton",
  ], [
    "nvidia-ml-py",
  ]]);
  // Comments survive all of it.
  assert.ok(
    t.includes("# custom packages from .flox/pkgs are function arguments"),
  );
});

Deno.test("every edited file parses with nix-instantiate --parse", async () => {
  if (!haveTool("nix-instantiate")) return;
  assert.ok(edited.length >= 20, `only ${edited.length} edited files`);
  await using dir = await tmp();
  const paths: string[] = [];
  for (const [name, text] of edited) {
    const p = `${dir.path}/${name}.nix`;
    await Deno.writeTextFile(p, text);
    paths.push(p);
  }
  const r = await run("nix-instantiate", ["--parse", ...paths]);
  assert.equal(r.code, 0, r.stderr);
});
