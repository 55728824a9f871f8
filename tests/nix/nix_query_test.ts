import assert from "node:assert/strict";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { findStrings } from "../../lib/nix/fetchers.ts";
import { findFetchers, findHashSites } from "../../lib/nix/find.ts";
import { findSystemLists } from "../../lib/nix/lists.ts";
import { SEED_MAIN } from "../_helpers.ts";
import {
  GITHUB_PACKAGE,
  PACKAGE,
  PYPI_PACKAGE,
} from "../_fixtures/nix_files.ts";

const COMFYUI = await Deno.readTextFile(SEED_MAIN);

Deno.test("readPackage() reads comfyui.nix: formals, builder, bindings, src", () => {
  const info = readPackage(parseNix(COMFYUI, "comfyui.nix"));
  assert.deepEqual(info.formals.map((f) => f.name), [
    "lib",
    "python3",
    "fetchFromGitHub",
    "makeWrapper",
    "writeShellScript",
  ]);
  assert.equal(info.formals[1]!.line, 13);
  assert.equal(info.builder, "python3.pkgs.buildPythonApplication");
  assert.equal(info.pname, "comfyui");
  assert.equal(info.version, "0.3.75");
  assert.equal(info.format, undefined);
  assert.equal(info.pyproject, false);
  assert.equal(info.doCheck, true);
  assert.equal(info.license, "licenses.gpl3Only");
  assert.deepEqual(info.pythonImportsCheck, []);
  const src = info.src!;
  assert.equal(src.fetcher, "fetchFromGitHub");
  assert.equal(src.attrs.get("owner")!.value, "comfyanonymous");
  // `rev = "v${version}"` resolved against the file's own version.
  assert.equal(src.attrs.get("rev")!.value, "v0.3.75");
  assert.equal(src.attrs.get("rev")!.text, '"v${version}"');
  assert.equal(
    src.attrs.get("hash")!.value,
    "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=",
  );
  assert.equal(
    COMFYUI.split("\n")[src.attrs.get("hash")!.line - 1]!.trim().slice(0, 6),
    "hash =",
  );
});

Deno.test("readPackage() lists dependency items, skipping comments", () => {
  const info = readPackage(parseNix(COMFYUI));
  const deps = info.lists.get("propagatedBuildInputs")!;
  assert.equal(deps.with, "python3.pkgs");
  assert.equal(deps.main!.items.length, 23);
  assert.equal(deps.main!.items[0]!.name, "torch");
  assert.equal(deps.main!.items.at(-1)!.name, "pydantic-settings");
  assert.deepEqual(deps.blocks, []);
  assert.deepEqual(
    info.lists.get("nativeBuildInputs")!.main!.items.map((i) => i.name),
    ["makeWrapper"],
  );
});

Deno.test("readPackage() reads lib.optionals platform blocks and a vendored path src", () => {
  const info = readPackage(parseNix(PACKAGE));
  assert.deepEqual(info.formals.map((f) => f.name), [
    "lib",
    "python3",
    "comfyui-workflow-templates-core",
  ]);
  assert.equal(info.src!.fetcher, "path");
  assert.equal(
    info.src!.path,
    "../../.flox/sources/foo-1.2.3-py3-none-any.whl",
  );
  const deps = info.lists.get("propagatedBuildInputs")!;
  assert.deepEqual(deps.main!.items.map((i) => i.name), [
    "numpy",
    "comfyui-workflow-templates-core",
  ]);
  assert.equal(deps.blocks.length, 1);
  assert.deepEqual(deps.blocks[0]!.systems, ["x86_64-linux", "aarch64-linux"]);
  assert.deepEqual(deps.blocks[0]!.items.map((i) => i.name), ["triton"]);
  assert.match(deps.blocks[0]!.condition!, /^\(lib\.elem python3\.stdenv/);
  assert.deepEqual(
    info.lists.get("nativeBuildInputs")!.main!.items.map((i) => i.name),
    ["setuptools", "wheel"],
  );
  assert.deepEqual(info.pythonImportsCheck, ["foo"]);
  assert.equal(info.license, "licenses.mit");
});

Deno.test("readPackage() follows inherit in fetchPypi and nixfmt-style formals", () => {
  const info = readPackage(parseNix(PYPI_PACKAGE));
  assert.deepEqual(info.formals.map((f) => f.name), [
    "lib",
    "python3",
    "fetchPypi",
  ]);
  assert.equal(info.pyproject, true);
  const src = info.src!;
  assert.equal(src.fetcher, "fetchPypi");
  assert.equal(src.attrs.get("pname")!.inherited, true);
  assert.equal(src.attrs.get("pname")!.value, "spandrel");
  assert.equal(src.attrs.get("version")!.value, "0.4.0");
  assert.equal(src.attrs.get("hash")!.text, "lib.fakeHash");
  assert.equal(src.attrs.get("hash")!.value, undefined);
  assert.deepEqual(
    info.lists.get("build-system")!.main!.items.map((i) => i.name),
    ["setuptools"],
  );
  assert.equal(info.lists.get("dependencies")!.main!.items.length, 6);
  assert.equal(info.license, "lib.licenses.mit");
});

Deno.test("findHashSites() finds placeholders, legacy sha256 and their fetchers", () => {
  const pypi = findHashSites(parseNix(PYPI_PACKAGE));
  assert.equal(pypi.length, 1);
  assert.equal(pypi[0]!.placeholder, true);
  assert.equal(pypi[0]!.fetcher!.fetcher, "fetchPypi");
  const gh = findHashSites(parseNix(GITHUB_PACKAGE));
  assert.equal(gh[0]!.attr, "sha256");
  assert.equal(gh[0]!.placeholder, true, "52 zeros is lib.fakeSha256");
  assert.equal(gh[0]!.fetcher!.attrs.get("rev")!.value, "v0.16.1");
  assert.equal(findHashSites(parseNix(COMFYUI))[0]!.placeholder, false);
});

Deno.test("findFetchers() finds nested and builtins fetchers", () => {
  const text = `{ fetchurl, fetchzip }:
let
  extra = fetchzip { url = "https://example.org/a-\${v}.zip"; hash = ""; };
  v = "2";
in {
  a = fetchurl { url = "https://example.org/latest/x.tar.gz"; sha256 = "abc"; };
  b = builtins.fetchTarball "https://github.com/o/r/archive/main.tar.gz";
  src = ./vendored.whl;
}`;
  const fs = findFetchers(parseNix(text));
  assert.deepEqual(fs.map((f) => f.fetcher).sort(), [
    "fetchTarball",
    "fetchurl",
    "fetchzip",
    "path",
  ]);
  const zip = fs.find((f) => f.fetcher === "fetchzip")!;
  assert.equal(zip.attrs.get("url")!.value, "https://example.org/a-2.zip");
  const tb = fs.find((f) => f.fetcher === "fetchTarball")!;
  assert.equal(
    tb.attrs.get("url")!.value,
    "https://github.com/o/r/archive/main.tar.gz",
  );
});

Deno.test("findSystemLists() and findStrings() see platform lists and script text", () => {
  const lists = findSystemLists(parseNix(PACKAGE));
  assert.deepEqual(lists.map((l) => l.systems.map((s) => s.name)), [[
    "x86_64-linux",
    "aarch64-linux",
  ]]);
  const strings = findStrings(parseNix(COMFYUI));
  const install = strings.find((s) => s.text.includes("runHook preInstall"))!;
  assert.match(install.text, /makeWrapper \$\{passthru\.launcher\}/);
});

Deno.test("readPackage() reads formal defaults and ellipsis", () => {
  const info = readPackage(parseNix("{ a, b ? null, c ? { }, ... }: a"));
  assert.deepEqual(info.formals.map((f) => [f.name, f.default]), [
    ["a", undefined],
    ["b", "null"],
    ["c", "{ }"],
  ]);
  assert.equal(info.hasEllipsis, true);
});

Deno.test("readPackage() resolves ${version} in a path src", () => {
  const text = PACKAGE.replace(
    "../../.flox/sources/foo-1.2.3-py3-none-any.whl",
    "../../.flox/sources/${pname}-${version}-py3-none-any.whl",
  );
  const info = readPackage(parseNix(text, "foo.nix"));
  assert.equal(info.src!.fetcher, "path");
  assert.equal(
    info.src!.path,
    "../../.flox/sources/${pname}-${version}-py3-none-any.whl",
  );
  assert.equal(
    info.src!.resolvedPath,
    "../../.flox/sources/foo-1.2.3-py3-none-any.whl",
  );
  assert.equal(info.src!.line, 10);
  const unknown = readPackage(
    parseNix(text.replace("${pname}", "${lib.toLower pname}"), "foo.nix"),
  );
  assert.equal(unknown.src!.resolvedPath, undefined);
  assert.equal(findFetchers(parseNix(text)).length, 1);
});
