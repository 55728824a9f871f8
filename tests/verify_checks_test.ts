// Unit tests of the verify checks one by one (lib/verify/<section>.ts); tests/verify_test.ts
// runs them together over stub repositories.
import assert from "node:assert/strict";
import { parseNix } from "../lib/nix/parse.ts";
import { readPackage } from "../lib/nix/query.ts";
import { findFetchers } from "../lib/nix/find.ts";
import type { Manifest } from "../lib/repo/manifest.ts";
import { renderSha256Sums } from "../lib/repo/manifest.ts";
import {
  checkNixStrings,
  dynamicUrlReason,
  pipInstallsOnline,
} from "../lib/verify/network.ts";
import { gitPin, hashPin, isCommit, isTagLike } from "../lib/verify/pinned.ts";
import { checkImportsAndLicense, closestSystem } from "../lib/verify/python.ts";
import { collector, type PkgFile } from "../lib/verify/types.ts";
import { checkSums, checkUnused } from "../lib/verify/vendored.ts";
import { checkArguments, wiredFrom } from "../lib/verify/wiring.ts";
import { GITHUB_PACKAGE, PACKAGE } from "./_fixtures/nix_files.ts";

function pkg(name: string, text: string): PkgFile {
  const file = parseNix(text, `.flox/pkgs/${name}.nix`);
  return {
    rel: `.flox/pkgs/${name}.nix`,
    abs: `/x/.flox/pkgs/${name}.nix`,
    name,
    file,
    info: readPackage(file),
  };
}

function fetcherOf(text: string) {
  const p = pkg("x", text);
  return findFetchers(p.file!, p.info!.scope)[0]!;
}

const MANIFEST: Manifest = {
  version: 1,
  sources: [{
    name: "foo",
    version: "1.0",
    kind: "pypi-wheel",
    file: "foo-1.0-py3-none-any.whl",
    url:
      "https://files.pythonhosted.org/packages/py3/f/foo/foo-1.0-py3-none-any.whl",
    sha256: "a".repeat(64),
  }],
};

Deno.test("isCommit() and isTagLike() tell commits and tags from branches", () => {
  assert.equal(isCommit("0123456789abcdef0123456789abcdef01234567"), true);
  assert.equal(isCommit("v1.0"), false);
  for (const t of ["v1.2.3", "0.3.75", "release-2.1", "1.0rc1"]) {
    assert.equal(isTagLike(t), true, t);
  }
  for (const b of ["main", "master", "HEAD", "nightly", "feature"]) {
    assert.equal(isTagLike(b), false, b);
  }
});

Deno.test("dynamicUrlReason() names what moves and passes pinned URLs", () => {
  assert.equal(
    dynamicUrlReason("https://github.com/o/r/releases/latest/download/x"),
    "a 'latest release' URL",
  );
  assert.equal(
    dynamicUrlReason("https://github.com/o/r/archive/main.tar.gz"),
    "a branch archive",
  );
  assert.equal(
    dynamicUrlReason("https://raw.githubusercontent.com/o/r/master/x.py"),
    "a file on a branch",
  );
  assert.equal(
    dynamicUrlReason("https://github.com/o/r/archive/v1.0.tar.gz"),
    undefined,
  );
});

Deno.test("gitPin() accepts a tag from ${version} and refuses a branch", () => {
  const good = gitPin(fetcherOf(GITHUB_PACKAGE));
  assert.deepEqual(good.problems, []);
  assert.match(good.pin, /^tag v/);
  const bad = gitPin(
    fetcherOf(GITHUB_PACKAGE.replace('rev = "v${version}"', 'rev = "main"')),
  );
  assert.equal(bad.problems[0]![0], "error");
  assert.match(bad.problems[0]![1], /rev "main" is a branch/);
});

Deno.test("hashPin() reports a placeholder, a malformed and a legacy hash", () => {
  const src = (h: string) =>
    fetcherOf(PACKAGE.replace(
      "src = ../../.flox/sources/foo-1.2.3-py3-none-any.whl;",
      `src = fetchurl { url = "https://example.org/foo.tar.gz"; ${h} };`,
    ));
  assert.match(
    hashPin(src("hash = lib.fakeHash;")).problems[0]![1],
    /^placeholder/,
  );
  assert.match(
    hashPin(src('hash = "sha256-nope";')).problems[0]![1],
    /^malformed/,
  );
  const legacy = hashPin(
    src('sha256 = "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic";'),
  );
  assert.equal(legacy.problems[0]![0], "warning");
  assert.equal(
    legacy.problems[0]![2],
    'write hash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="',
  );
  const ok = hashPin(
    src('hash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";'),
  );
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.pin, "sha256-LPJNul+wow4m…");
  assert.match(hashPin(src("")).problems[0]![1], /^no hash/);
});

Deno.test("checkSums() accepts the rendered sums and names a line that disagrees", () => {
  const c = collector();
  checkSums(MANIFEST, renderSha256Sums(MANIFEST), c.add);
  assert.deepEqual(c.out.map((f) => f.level), ["ok"]);
  const d = collector();
  checkSums(MANIFEST, `${"b".repeat(64)}  foo-1.0-py3-none-any.whl\n`, d.add);
  assert.equal(d.out.length, 1);
  assert.equal(d.out[0]!.level, "error");
  assert.match(
    d.out[0]!.message,
    /SHA256SUMS\.txt says bbbbbbbbbbbb…, the manifest aaaaaaaaaaaa…/,
  );
  const e = collector();
  checkSums(MANIFEST, undefined, e.add);
  assert.equal(e.out[0]!.message, "missing");
});

Deno.test("checkUnused() warns about entries no package file uses", () => {
  const c = collector();
  checkUnused(MANIFEST, new Set(), c.add);
  assert.equal(c.out[0]!.level, "warning");
  assert.match(c.out[0]!.message, /foo 1\.0 .* is used by no \.nix file/);
  const d = collector();
  checkUnused(MANIFEST, new Set(["foo-1.0-py3-none-any.whl"]), d.add);
  assert.deepEqual(d.out, []);
});

Deno.test("wiredFrom() follows arguments that are also listed, transitively", () => {
  const core = pkg("comfyui-workflow-templates-core", PACKAGE);
  const main = pkg(
    "comfyui",
    PACKAGE.replace("comfyui-workflow-templates-core   #", "foo #")
      .replace("    comfyui-workflow-templates-core\n", "    foo\n"),
  );
  const foo = pkg("foo", PACKAGE);
  const custom = new Map([["foo", foo], [core.name, core]]);
  assert.deepEqual([...wiredFrom(main, custom)].sort(), [core.name, "foo"]);
  const unlisted = pkg(
    "comfyui",
    PACKAGE.replace("    comfyui-workflow-templates-core\n", ""),
  );
  assert.deepEqual([...wiredFrom(unlisted, custom)], []);
});

Deno.test("checkArguments() errs on a listed argument without a package file", () => {
  const c = collector();
  checkArguments(pkg("foo", PACKAGE), new Map(), new Set(), c.add);
  assert.equal(c.out.length, 1);
  assert.equal(c.out[0]!.where, ".flox/pkgs/foo.nix:3");
  assert.match(
    c.out[0]!.message,
    /argument comfyui-workflow-templates-core has no package file/,
  );
});

Deno.test("closestSystem() maps common misspellings to Nix systems", () => {
  assert.equal(closestSystem("x86_64-macos"), "x86_64-darwin");
  assert.equal(closestSystem("arm64-linux"), "aarch64-linux");
  assert.equal(closestSystem("amd64-linux"), "x86_64-linux");
  assert.equal(closestSystem("zzz"), undefined);
});

Deno.test("pipInstallsOnline() lets an offline pip install --no-index through (nixpkgs' install check)", () => {
  assert.equal(pipInstallsOnline("pip install torch"), true);
  assert.equal(pipInstallsOnline("python -m pip install --user x"), true);
  assert.equal(
    pipInstallsOnline(
      "${pip}/bin/pip install --dry-run --no-index \\\n  -r requirements.txt",
    ),
    false,
  );
  // Each command is judged on its own line; --no-index-url is another option.
  assert.equal(
    pipInstallsOnline("pip install --no-index -r a.txt\npip install evil"),
    true,
  );
  assert.equal(pipInstallsOnline("pip install x --no-index-url y"), true);
});

Deno.test("checkNixStrings() flags pip install but not the offline install check", () => {
  const withCheck = (cmd: string) =>
    pkg(
      "foo",
      PACKAGE.replace(
        "doCheck = false;",
        `doCheck = true;\n  checkPhase = ''\n    ${cmd}\n  '';`,
      ),
    );
  const c = collector();
  checkNixStrings(
    withCheck("pip install --dry-run --no-index -r requirements.txt"),
    c.add,
  );
  assert.deepEqual(c.out, []);
  const d = collector();
  checkNixStrings(withCheck("pip install -r requirements.txt"), d.add);
  assert.deepEqual(d.out.map((f) => `${f.where}: ${f.message}`), [
    ".flox/pkgs/foo.nix:19: runs pip install",
  ]);
});

Deno.test('checkImportsAndLicense() exempts an application with pyproject = false, as with format = "other"', () => {
  const app = (fmt: string) =>
    pkg(
      "app",
      PACKAGE.replace("buildPythonPackage", "buildPythonApplication")
        .replace('format = "wheel";', fmt)
        .replace(
          'pythonImportsCheck = [ "foo" ];',
          "pythonImportsCheck = [ ];",
        ),
    );
  for (const fmt of ["pyproject = false;", 'format = "other";']) {
    const c = collector();
    checkImportsAndLicense(app(fmt), c.add);
    assert.equal(c.out.length, 1, fmt);
    assert.equal(c.out[0]!.level, "ok");
    assert.match(c.out[0]!.message, /^pythonImportsCheck not required/);
  }
  const c = collector();
  checkImportsAndLicense(app("pyproject = true;"), c.add);
  assert.equal(c.out[0]!.level, "error");
});
