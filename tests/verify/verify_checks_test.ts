// Unit tests of the verify checks one by one (lib/verify/<section>.ts); tests/verify/verify_test.ts
// runs them together over stub repositories.
import assert from "node:assert/strict";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { findFetchers } from "../../lib/nix/find.ts";
import type { Manifest } from "../../lib/repo/manifest.ts";
import { renderSha256Sums } from "../../lib/repo/manifest.ts";
import {
  checkNixStrings,
  dynamicUrlReason,
  pipInstallsOnline,
} from "../../lib/verify/network.ts";
import {
  gitPin,
  hashPin,
  isCommit,
  isTagLike,
} from "../../lib/verify/pinned.ts";
import {
  checkImportsAndLicense,
  closestSystem,
} from "../../lib/verify/python.ts";
import type { PkgFile } from "../../lib/verify/types.ts";
import { checkSums, checkUnused } from "../../lib/verify/vendored.ts";
import { checkArguments, wiredFrom } from "../../lib/verify/wiring.ts";
import { GITHUB_PACKAGE, PACKAGE } from "../_fixtures/nix_files.ts";
import { CHECKS } from "../../lib/verify/checks.ts";
import { type Finding, SECTIONS, verifyRepo } from "../../lib/verify/run.ts";
import type { Check } from "../../lib/verify/types.ts";
import { tmp } from "../_helpers.ts";
import {
  collector,
  entry,
  MAIN_WITH_FOO,
  makeRepo,
  pick,
  runCommand,
  WHEEL,
} from "./verify_helpers.ts";

function pkg(name: string, text: string): PkgFile {
  const file = parseNix(text, `.flox/pkgs/${name}.nix`);
  return {
    rel: `.flox/pkgs/${name}.nix`,
    abs: `/x/.flox/pkgs/${name}.nix`,
    at: `.flox/pkgs/${name}.nix`,
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

Deno.test("CHECKS: unique names, every section has a check, only Release is release-only", () => {
  const names = CHECKS.map((c) => c.name);
  assert.deepEqual([...new Set(names)], names);
  for (const s of SECTIONS) {
    assert.ok(
      CHECKS.some((c) => [c.section].flat().includes(s)),
      `no check for "${s}"`,
    );
  }
  assert.deepEqual(
    [...new Set(CHECKS.filter((c) => c.releaseOnly).map((c) => c.section))],
    ["Release"],
  );
});

Deno.test("each check, run alone, finds what it finds in the whole run (no hidden order)", async () => {
  await using dir = await tmp();
  // A repository with something for most checks to say: an unused entry, a missing file, an
  // unknown file, an unwired package.
  const root = await makeRepo(dir.path, {
    pkgs: { comfyui: MAIN_WITH_FOO, foo: PACKAGE, bar: GITHUB_PACKAGE },
    entries: [
      entry("foo-1.2.3-py3-none-any.whl", WHEEL),
      entry("baz-1.2.3-py3-none-any.whl", WHEEL, "baz"),
    ],
    sources: { "foo-1.2.3-py3-none-any.whl": WHEEL, "stray.txt": WHEEL },
  });
  const opts = { root, release: true, runCommand };
  const all = await verifyRepo(opts);
  assert.ok(pick(all, "warning", /is used by no \.nix file/).length === 1);
  const alone = [];
  for (const c of CHECKS) alone.push(...await verifyRepo(opts, [c]));
  const key = (f: Finding) => `${f.section}|${f.where}|${f.message}`;
  assert.deepEqual(alone.map(key).sort(), all.map(key).sort());
});

Deno.test("verifyRepo() refuses a check that adds to a section it did not declare", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { git: false });
  const rogue: Check = {
    name: "rogue",
    section: "Release",
    run: (_c, add) => add("Vendored sources", "ok", "sneaked in"),
  };
  await assert.rejects(
    verifyRepo({ root }, [rogue]),
    /"rogue" added a finding to "Vendored sources", not to its section "Release"/,
  );
  // A check may declare several sections; its findings print under each, in section order.
  const both: Check = {
    name: "both",
    section: ["Release", "Vendored sources"],
    run: (_c, add) => {
      add("Release", "ok", "second");
      add("Vendored sources", "ok", "first");
    },
  };
  assert.deepEqual(
    (await verifyRepo({ root }, [both])).map((f) => f.message),
    ["first", "second"],
  );
  // A release-only check does not run without --release.
  const later: Check = { ...rogue, releaseOnly: true };
  assert.deepEqual(await verifyRepo({ root }, [later]), []);
});

Deno.test("checkArguments() knows nixpkgs' trivial builders (linkFarm, writeTextFile)", () => {
  const c = collector();
  const text = PACKAGE.replace(
    "{ lib\n",
    "{ lib\n, linkFarm\n, writeTextFile\n",
  );
  checkArguments(pkg("foo", text), new Map(), new Set(), c.add);
  assert.deepEqual(
    c.out.filter((f) => /linkFarm|writeTextFile/.test(f.message)),
    [],
  );
});
