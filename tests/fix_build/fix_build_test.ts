import assert from "node:assert/strict";
import { firstErrorExcerpt, readLog } from "../../lib/fix_build/log.ts";
import { findFailures } from "../../lib/fix_build/findings.ts";
import { writeAll } from "../../lib/fix_build/apply.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { main } from "../../tasks/fix_build.ts";
import { main as fixHashMain } from "../../tasks/fix_hash.ts";
import {
  captureOutput,
  copyTree,
  haveTool,
  ROOT,
  run,
  runTaskProcess,
  tmp,
  tmuxSession,
} from "../_helpers.ts";
import { makeRepo, pkg, standInFlox } from "./fix_build_helpers.ts";
import { evaluate } from "../_fixtures/stub_eval.ts";

const LOGS = `${ROOT}/tests/_fixtures/logs`;
const fixture = (name: string) => Deno.readTextFileSync(`${LOGS}/${name}`);

const read = (root: string, f: string) =>
  Deno.readTextFile(`${root}/.flox/pkgs/${f}`);

/** Runs fix-build in-process on a fixture log, writing without asking. */
async function fixLog(root: string, log: string, ...more: string[]) {
  await Deno.writeTextFile(`${root}/build.log`, log);
  return await captureOutput(() =>
    main([
      `${root}/build.log`,
      "--root",
      root,
      "--nixpkgs-index",
      `${root}/index.json`,
      "--yes",
      ...more,
    ])
  );
}

async function assertParses(path: string) {
  parseNix(await Deno.readTextFile(path), path);
  if (haveTool("nix-instantiate")) {
    const p = await run("nix-instantiate", ["--parse", path]);
    assert.equal(p.code, 0, p.stderr);
  }
}

Deno.test("readLog() ties Nix's '> ' last lines to the derivation named by the nix log hint", () => {
  const lines = readLog(fixture("runtime_deps_kde.log"));
  const hit = lines.find((l) => l.text.includes("python-magic not installed"))!;
  assert.equal(hit.text, "  - python-magic not installed");
  assert.equal(hit.drv, "python3.13-kde-material-you-colors-2.0.2");
  const mopidy = readLog(fixture("imports_check_mopidy.log"));
  assert.equal(mopidy[3]!.prefix, "mopidy-soundcloud");
  assert.equal(mopidy[3]!.text, "Executing pythonImportsCheckPhase");
});

Deno.test("firstErrorExcerpt() finds the innermost error under a '… while evaluating' trace", () => {
  const ex = firstErrorExcerpt(readLog(fixture("broken_catboost.log")))!;
  assert.match(
    ex,
    /^error: Package ‘python3\.13-catboost-1\.2\.7’ .* is marked as broken/,
  );
  // A cut-short -L log has no error line: its traceback is the excerpt.
  const tb = firstErrorExcerpt(readLog(fixture("imports_check_mopidy.log")))!;
  assert.match(tb, /^Traceback \(most recent call last\):/);
});

Deno.test("findFailures() recognises each kind in the real logs", () => {
  const f = (name: string) => {
    const t = fixture(name);
    return findFailures(readLog(t), t);
  };
  const [hash] = f("hash_mismatch_build123d.log");
  assert.equal(hash!.kind, "hash-mismatch");
  assert.deepEqual(
    hash!.kind === "hash-mismatch" && hash!.mismatch.dependents,
    ["python3.12-build123d-0.9.1", "cq-editor-local-env"],
  );
  assert.deepEqual(
    f("runtime_deps_whispers.log").map((x) =>
      x.kind === "runtime-dep-version"
        ? [x.kind, x.requirement, x.have, x.wheel]
        : x.kind === "runtime-dep-missing"
        ? [x.kind, x.dist, x.wheel]
        : [x.kind]
    ),
    [
      ["runtime-dep-version", "lxml==5.2.2", "5.3.0", "whispers-2.3.0"],
      ["runtime-dep-version", "pyyaml==6.0.1", "6.0.2", "whispers-2.3.0"],
      ["runtime-dep-missing", "wrapt", "whispers-2.3.0"],
      ["runtime-dep-missing", "semgrep", "whispers-2.3.0"],
    ],
  );
  assert.deepEqual(f("runtime_module_vulnix.log"), [{
    kind: "missing-module",
    line: 11,
    module: "zope.interface",
    drv: "vulnix-1.12.1",
    holds: [],
  }]);
  assert.deepEqual(
    f("imports_check_viu.log").map((
      x,
    ) => [x.kind, "module" in x && x.module, "drv" in x && x.drv]),
    [["missing-module", "viu", "viu-3.1.0"]],
  );
  assert.deepEqual(f("platform_pypy_i686.log")[0], {
    kind: "unavailable",
    line: 2,
    package: "pypy-7.3.19",
    system: "i686-linux",
    platforms: [
      "aarch64-linux",
      "x86_64-linux",
      "aarch64-darwin",
      "x86_64-darwin",
    ],
    dependent: undefined,
  });
  assert.equal(f("platform_glibc_darwin.log")[0]!.kind, "unavailable");
  assert.deepEqual(
    f("broken_catboost.log").map((x) => [x.kind, "package" in x && x.package]),
    [["broken", "python3.13-catboost-1.2.7"]],
  );
  const [arg] = f("missing_argument_ladybird.log");
  assert.deepEqual(arg, {
    kind: "missing-argument",
    line: 10,
    name: "prettier",
    at:
      "/nix/store/2jcaxkq68a8rd29a7kinw002z3k04s31-source/Toolchain/Nix/shell.nix:7",
    suggestions: ["prettierd"],
  });
  const [undef] = f("undefined_variable_nix_update.log");
  assert.equal(undef!.kind === "undefined-variable" && undef!.name, "nix_2_4");
  assert.deepEqual(f("imports_check_mopidy.log"), []);
  // Python 2's form, unquoted (https://github.com/namphuon/ViFi/issues/6).
  const py2 =
    'Traceback (most recent call last):\n  File "run_vifi.py", line 4, in <module>\n    import hg19util as hg19\nImportError: No module named hg19util\n';
  assert.deepEqual(
    findFailures(readLog(py2), py2).map((x) => "module" in x && x.module),
    ["hg19util"],
  );
});

Deno.test("main() adds what pythonRuntimeDepsCheckHook misses and reports the version conflicts", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "whispers.nix": pkg("whispers", "2.3.0"),
  });
  const r = await fixLog(root, fixture("runtime_deps_whispers.log"));
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^\+ {4}wrapt$/m);
  assert.match(
    r.stderr,
    /fix: \.flox\/pkgs\/whispers\.nix: whispers-2\.3\.0 needs "wrapt".* add wrapt \(nixpkgs 1\.16\.0\) to dependencies/,
  );
  assert.match(
    r.stderr,
    /cannot fix: .*whispers-2\.3\.0 wants lxml==5\.2\.2, the build has lxml 5\.3\.0; version conflict: .*has lxml 5\.3\.0\. Package a version/,
  );
  assert.match(
    r.stderr,
    /cannot fix: .*"semgrep".*deno task new-package semgrep/,
  );
  assert.match(
    r.stderr,
    /\nerror: 3 failures fix-build cannot fix \(see "cannot fix" above\); the others are fixed\n$/,
  );
  const info = readPackage(parseNix(await read(root, "whispers.nix")));
  assert.deepEqual(
    info.lists.get("dependencies")!.main!.items.map((i) => i.name),
    ["numpy", "wrapt"],
  );
  await assertParses(`${root}/.flox/pkgs/whispers.nix`);
});

Deno.test("main() adds a runtime dependency named only in Nix's last log lines (exit 0)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "kde-material-you-colors.nix": pkg("kde-material-you-colors", "2.0.2"),
  });
  // As a terminal shows it: colours and a progress line overdrawn with \r.
  const coloured = fixture("runtime_deps_kde.log")
    .replace(
      "python-magic not installed",
      "\x1b[31mpython-magic\x1b[0m not installed",
    )
    .replace("error:", "\x1b[31;1merror:\x1b[0m")
    .replace("For full logs", "[1/0/3 built]\r\x1b[KFor full logs");
  const r = await fixLog(root, coloured);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    await read(root, "kde-material-you-colors.nix"),
    /numpy\n {4}python-magic\n/,
  );
});

Deno.test("main() maps a run-time ModuleNotFoundError to the distribution and adds it", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "vulnix.nix": pkg("vulnix", "1.12.1"),
  });
  const r = await fixLog(root, fixture("runtime_module_vulnix.log"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /No module named "zope\.interface" in "vulnix-1\.12\.1": provided by "zope-interface" → add zope-interface/,
  );
  assert.match(await read(root, "vulnix.nix"), /numpy\n {4}zope-interface\n/);
  // The same log again: the dependency is there, yet the build failed on it. Said, not re-added.
  const again = await fixLog(root, fixture("runtime_module_vulnix.log"));
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    /cannot fix: .*add zope-interface \(nixpkgs 7\.1\.1\) to dependencies: it is already there, yet the build still fails on it/,
  );
});

Deno.test("main() maps cv2 to opencv-python → nixpkgs' opencv4 in comfyui.nix (synthetic -L log)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const log = await Deno.readTextFile(`${LOGS}/synthetic_cv2_comfyui.log`);
  const r = await fixLog(root, log);
  assert.equal(r.code, 0, r.stderr);
  const main = await read(root, "comfyui.nix");
  assert.match(main, /pydantic-settings\n {4}opencv4\n {2}\];/);
  await assertParses(`${root}/.flox/pkgs/comfyui.nix`);
  // The same output as plain nix-build prints it (no prefixes, the builder line after it).
  const plain = await makeRepo(`${dir.path}/plain`);
  const p = await fixLog(plain, log.replace(/^comfyui> /gm, ""));
  assert.equal(p.code, 0, p.stderr);
  assert.match(
    p.stderr,
    /No module named "cv2" in "python3\.12-comfyui-0\.3\.75"/,
  );
  assert.equal(await read(plain, "comfyui.nix"), main);
});

Deno.test("main() replaces a wrong pythonImportsCheck name with the modules the build added", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { "viu.nix": pkg("viu", "3.1.0") });
  // The real log does not list the built modules: reported, not guessed.
  const real = await fixLog(root, fixture("imports_check_viu.log"));
  assert.equal(real.code, 1);
  assert.match(
    real.stderr,
    /cannot fix: \.flox\/pkgs\/viu\.nix: No module named "viu" in "viu-3\.1\.0": pythonImportsCheck names a module the built package does not hold; the log does not list/,
  );
  assert.match(
    real.stderr,
    /The build's first error:\nerror: builder for '\/nix\/store\/0nhx5bq91g64pqmp535w7pkn2bj264fx-viu-3\.1\.0\.drv' failed/,
  );
  assert.equal(await read(root, "viu.nix"), pkg("viu", "3.1.0"));
  const r = await fixLog(
    root,
    await Deno.readTextFile(`${LOGS}/synthetic_imports_check_viu.log`),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    await read(root, "viu.nix"),
    /pythonImportsCheck = \[ "viu_media" \];/,
  );
});

Deno.test("main() writes the hash of a real mismatch into the package its dependents name", async () => {
  await using dir = await tmp();
  const build123d = pkg("build123d", "0.9.1").replace(
    /src = fetchPypi \{[^}]*\};/,
    `src = fetchFromGitHub {
    owner = "gumyr";
    repo = "build123d";
    tag = "v\${version}";
    hash = "sha256-A4XgB10QVU/zv6TXILIQ73FyZ/msb7vDss3vXAEaJiA=";
  };`,
  ).replace("fetchPypi }", "fetchFromGitHub }");
  const root = await makeRepo(dir.path, { "build123d.nix": build123d });
  const r = await fixLog(root, fixture("hash_mismatch_build123d.log"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^\+ {4}hash = "sha256-XHBli47MvaX8BNxQeBoVw3Vxp80eNi9WFSKDenw5dJE=";$/m,
  );
  assert.match(await read(root, "build123d.nix"), /sha256-XHBli47M/);
  // Read again: already fixed, nothing to do.
  const again = await fixLog(root, fixture("hash_mismatch_build123d.log"));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already fixed/);
});

Deno.test("main() renames a misnamed argument of comfyui.nix to the package nixpkgs suggests (synthetic)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "spandrel.nix": pkg("spandrel", "0.4.0"),
  });
  const seed = await read(root, "comfyui.nix");
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui.nix`,
    seed.replace(", writeShellScript\n}", ", writeShellScript\n, spandrell\n}")
      .replace(
        "    av\n",
        "    av\n    spandrell\n",
      ),
  );
  const r = await fixLog(
    root,
    await Deno.readTextFile(`${LOGS}/synthetic_missing_argument_comfyui.log`),
  );
  assert.equal(r.code, 0, r.stderr);
  const main = await read(root, "comfyui.nix");
  assert.match(main, /, spandrel\n\}/);
  assert.match(main, /^ {4}spandrel$/m);
  assert.doesNotMatch(main, /spandrell/);
  // The real log is about a file outside .flox/pkgs: named, not edited.
  const real = await fixLog(root, fixture("missing_argument_ladybird.log"));
  assert.equal(real.code, 1);
  assert.match(
    real.stderr,
    /cannot fix: called without required argument "prettier" at \/nix\/store\/.*shell\.nix:7; not in a package file under \.flox\/pkgs\//,
  );
});

Deno.test("main() wires an undefined custom package and maps a PyPI name to its nixpkgs attribute (synthetic)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "spandrel.nix": pkg("spandrel", "0.4.0"),
  });
  const seed = await read(root, "comfyui.nix");
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui.nix`,
    seed.replace("    av\n", "    av\n    spandrel\n    opencv_python\n"),
  );
  const r = await fixLog(
    root,
    await Deno.readTextFile(`${LOGS}/synthetic_undefined_variable_comfyui.log`),
  );
  assert.equal(r.code, 0, r.stderr);
  const main = await read(root, "comfyui.nix");
  assert.match(main, /, writeShellScript\n, spandrel\n\}/);
  assert.match(main, /^ {4}opencv4$/m);
  await assertParses(`${root}/.flox/pkgs/comfyui.nix`);
  const real = await fixLog(root, fixture("undefined_variable_nix_update.log"));
  assert.equal(real.code, 1);
  assert.match(real.stderr, /undefined variable "nix_2_4"/);
});

Deno.test("main() proposes a platform condition for an unavailable dependency, never drops it", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const seed = await read(root, "comfyui.nix");
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui.nix`,
    seed.replace("    av\n", "    av\n    triton\n    catboost\n"),
  );
  const r = await fixLog(
    root,
    await Deno.readTextFile(`${LOGS}/synthetic_unavailable_triton.log`),
    "--dry-run",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^- {4}triton$/m);
  assert.match(
    r.stdout,
    /\+ {2}\] \+\+ lib\.optionals \(lib\.elem python3\.stdenv\.hostPlatform\.system \[ "x86_64-linux" "aarch64-linux" \]\) \[\n\+ {4}triton\n {3}\];/,
  );
  assert.match(
    await read(root, "comfyui.nix"),
    /^ {4}triton$/m,
    "--dry-run writes nothing",
  );
  await fixLog(
    root,
    await Deno.readTextFile(`${LOGS}/synthetic_unavailable_triton.log`),
  );
  await assertParses(`${root}/.flox/pkgs/comfyui.nix`);
  const info = readPackage(parseNix(await read(root, "comfyui.nix")));
  const list = info.lists.get("propagatedBuildInputs")!;
  assert.ok(!list.main!.items.some((i) => i.name === "triton"));
  assert.deepEqual(
    list.blocks.map((b) => [b.systems, b.items.map((i) => i.name)]),
    [[["x86_64-linux", "aarch64-linux"], ["triton"]]],
  );
  // Broken (issue 22 #32): nixpkgs does not say where it builds, so the condition is nixpkgs'
  // own: shown first as a diff, written with --yes, never dropped.
  const before = await read(root, "comfyui.nix");
  const shown = await fixLog(root, fixture("broken_catboost.log"), "--dry-run");
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^- {4}catboost$/m);
  assert.match(
    shown.stdout,
    /^\+ {2}\] \+\+ lib\.optionals \(lib\.meta\.availableOn python3\.stdenv\.hostPlatform catboost && !catboost\.meta\.broken\) \[\n\+ {4}catboost\n {3}\];$/m,
  );
  assert.equal(await read(root, "comfyui.nix"), before, "--dry-run");
  const broken = await fixLog(root, fixture("broken_catboost.log"));
  assert.equal(broken.code, 0, broken.stderr);
  assert.match(
    broken.stderr,
    /fix: \.flox\/pkgs\/comfyui\.nix: python3\.13-catboost-1\.2\.7 is marked as broken → keep catboost only where nixpkgs builds it/,
  );
  await assertParses(`${root}/.flox/pkgs/comfyui.nix`);
  const gated = readPackage(parseNix(await read(root, "comfyui.nix")))
    .lists.get("propagatedBuildInputs")!;
  assert.ok(!gated.main!.items.some((i) => i.name === "catboost"));
  // The real glibc report names a package no file lists.
  const glibc = await fixLog(root, fixture("platform_glibc_darwin.log"));
  assert.equal(glibc.code, 1);
  assert.match(
    glibc.stderr,
    /glibc-nolibgcc-2\.40-66 is not available on aarch64-darwin; no package file under \.flox\/pkgs\/ lists "glibc-nolibgcc"/,
  );
});

Deno.test("main() on a log with nothing fixable prints the first error and exits 1 saying so", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const r = await fixLog(root, fixture("imports_check_mopidy.log"));
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^The build's first error:\nTraceback \(most recent call last\):/m,
  );
  assert.match(
    r.stderr,
    /\nerror: Nothing in the build output is a failure fix-build knows how to fix; its first error is above\n$/,
  );
  const json = await fixLog(
    root,
    fixture("imports_check_mopidy.log"),
    "--json",
  );
  assert.deepEqual(Object.keys(JSON.parse(json.stdout)), [
    "written",
    "findings",
    "files",
    "firstError",
  ]);
});

Deno.test("main() --json lists findings and fixes; --dry-run writes nothing", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "whispers.nix": pkg("whispers", "2.3.0"),
  });
  const r = await fixLog(
    root,
    fixture("runtime_deps_whispers.log"),
    "--json",
    "--dry-run",
  );
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout);
  assert.equal(j.written, false);
  assert.deepEqual(j.files, [".flox/pkgs/whispers.nix"]);
  assert.deepEqual(
    j.findings.map((
      f: { kind: string; fix?: string },
    ) => [f.kind, f.fix ?? null]),
    [
      ["runtime-dep-version", null],
      ["runtime-dep-version", null],
      ["runtime-dep-missing", "add wrapt (nixpkgs 1.16.0) to dependencies"],
      ["runtime-dep-missing", null],
    ],
  );
  assert.equal(await read(root, "whispers.nix"), pkg("whispers", "2.3.0"));
});

Deno.test("main() without --yes and without a terminal asks for --yes and writes nothing", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "vulnix.nix": pkg("vulnix", "1.12.1"),
  });
  const r = await runTaskProcess("fix_build.ts", [
    "-",
    "--root",
    root,
    "--nixpkgs-index",
    `${root}/index.json`,
  ], {
    stdin: fixture("runtime_module_vulnix.log"),
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^error: Write 1 file \(\.flox\/pkgs\/vulnix\.nix\): stdin is not a terminal; pass --yes$/m,
  );
  assert.equal(await read(root, "vulnix.nix"), pkg("vulnix", "1.12.1"));
});

Deno.test("writeAll() writes nothing when a file changed on disk since the log was read", async () => {
  await using dir = await tmp();
  const a = `${dir.path}/a.nix`, b = `${dir.path}/b.nix`;
  await Deno.writeTextFile(a, "{ a = 1; }\n");
  await Deno.writeTextFile(b, "{ b = 1; }\n");
  await assert.rejects(
    () =>
      writeAll(dir.path, [
        {
          abs: a,
          file: "a.nix",
          before: "{ a = 1; }\n",
          after: "{ a = 2; }\n",
          diff: "",
        },
        // b changed on disk since it was read: its write is refused.
        {
          abs: b,
          file: "b.nix",
          before: "{ b = 0; }\n",
          after: "{ b = 2; }\n",
          diff: "",
        },
      ]),
    (e: unknown) =>
      e instanceof KitError && /b\.nix changed on disk/.test(e.message),
  );
  assert.equal(await Deno.readTextFile(a), "{ a = 1; }\n");
  assert.equal(await Deno.readTextFile(b), "{ b = 1; }\n");
});

Deno.test("main() refuses --file outside .flox/pkgs and a --run name that is no attribute (#26, #27)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const log = fixture("hash_mismatch_empty_hash.log");
  for (const m of [main, fixHashMain]) {
    await Deno.writeTextFile(`${root}/b.log`, log);
    const r = await captureOutput(() =>
      m([`${root}/b.log`, "--root", root, "--file", "/etc/passwd"])
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: --file "\/etc\/passwd" is not a \.nix file under \.flox\/pkgs\/ of "[^"]+": fix-(build|hash) edits only package files \(give e\.g\. --file \.flox\/pkgs\/spandrel\.nix\)\n$/,
    );
  }
  const bad = await captureOutput(() =>
    main(["--run", "my pkg", "--root", root])
  );
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^error: "my pkg" is not a package attribute Flox can build/,
  );
});

Deno.test("main() never suggests an attribute from a file name that cannot be one (my pkg.nix, #27)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "my pkg.nix": pkg("mypkg", "1.0"),
    "vulnix.nix": pkg("vulnix", "1.12.1"),
  });
  const log = fixture("runtime_module_vulnix.log").replace(
    "'zope.interface'",
    "'mypkg'",
  );
  const r = await fixLog(root, log);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /cannot fix: .*No module named "mypkg".*\.flox\/pkgs\/my pkg\.nix provides it, but its file name is not a Nix attribute name/,
  );
  assert.doesNotMatch(r.stderr + r.stdout, /wire my pkg|\+\s+my pkg/);
});

Deno.test("main() --run builds with flox, fixes, and rebuilds until the build passes", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "kde-material-you-colors.nix": pkg("kde-material-you-colors", "2.0.2"),
  });
  const env = await standInFlox(
    root,
    [fixture("runtime_deps_kde.log")],
    "python-magic",
  );
  const r = await runTaskProcess("fix_build.ts", [
    "--run",
    "comfyui",
    "--yes",
    "--root",
    root,
    "--nixpkgs-index",
    `${root}/index.json`,
  ], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    await Deno.readTextFile(`${root}/flox-args`),
    "build comfyui\nbuild comfyui\n",
  );
  assert.match(r.stderr, /^\$ flox build comfyui$/m);
  assert.match(
    r.stderr,
    /round 2\/5\n[^]*The build passes after 1 fix round\n$/,
  );
  assert.match(await read(root, "kde-material-you-colors.nix"), /python-magic/);
});

Deno.test("main() --run stops when the same failure comes back after its fix, and without flox", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "vulnix.nix": pkg("vulnix", "1.12.1"),
  });
  // The build never sees the edit (an untracked file, say): the same failure twice.
  const env = await standInFlox(
    root,
    [fixture("runtime_module_vulnix.log")],
    "never-there",
  );
  const r = await runTaskProcess("fix_build.ts", [
    "--run",
    "vulnix",
    "--yes",
    "--root",
    root,
    "--nixpkgs-index",
    `${root}/index.json`,
  ], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /\nerror: The build reports the same failure again after a fix was written \(No module named "zope\.interface" in "vulnix-1\.12\.1": provided by "zope-interface"\): the build does not see the edited file \(Flox builds only what git tracks: run "git add \.flox\/pkgs\/vulnix\.nix", then build again\)\n$/,
  );
  // A build that fails with nothing fixable: its first error, exit 1.
  const other = await makeRepo(`${dir.path}/other`);
  const env2 = await standInFlox(
    other,
    [fixture("imports_check_mopidy.log")],
    "never-there",
  );
  const r2 = await runTaskProcess("fix_build.ts", [
    "--run",
    "comfyui",
    "--yes",
    "--root",
    other,
  ], { env: env2 });
  assert.equal(r2.code, 1);
  assert.match(
    r2.stderr,
    /\nerror: Nothing in the build output is a failure fix-build knows how to fix \(exit 1\); its first error is above\n$/,
  );
  const none = await runTaskProcess("fix_build.ts", [
    "--run",
    "comfyui",
    "--root",
    root,
  ], {
    env: { PATH: "/nonexistent" },
  });
  assert.equal(none.code, 1);
  assert.match(
    none.stderr,
    /^error: flox is not installed \(not on PATH\): build where it is and pipe the output in \("flox build comfyui 2>&1 \| deno task fix-build -"\)\n$/,
  );
});

Deno.test("fix-hash ends with one error line after only a warning, and names a repeated mismatch (#25)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  // A mismatch whose specified hash no file holds: a warning, then the error line.
  await Deno.writeTextFile(
    `${root}/b.log`,
    fixture("hash_mismatch_build123d.log"),
  );
  const r = await captureOutput(() =>
    fixHashMain([`${root}/b.log`, "--root", root])
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^warning: cannot fix: hash mismatch for "source" .*; no hash under \.flox\/pkgs\/ is the one Nix specified: fix the source by hand or give --file FILE\n/,
  );
  assert.match(
    r.stderr,
    /\nerror: Nothing in the build output is something fix-hash can fix: 1 hash mismatch it cannot fix \(see "cannot fix" above\)\n$/,
  );
  // --run: round 2 shows the mismatch round 1 fixed (the build does not see the edit).
  const build123d = pkg("build123d", "0.9.1").replace(
    /hash = "sha256-[^"]+";/,
    'hash = "sha256-A4XgB10QVU/zv6TXILIQ73FyZ/msb7vDss3vXAEaJiA=";',
  );
  await Deno.writeTextFile(`${root}/.flox/pkgs/my build.nix`, build123d);
  const loop = await captureOutput(() =>
    fixHashMain(["--run", `cat ${root}/b.log >&2; exit 1`, "--root", root])
  );
  assert.equal(loop.code, 1, loop.stderr);
  assert.match(
    loop.stderr,
    /^fix: \.flox\/pkgs\/my build\.nix: .* at line \d+ \(hash\)$/m,
  );
  assert.match(
    loop.stderr,
    /\nerror: The build reports the same hash mismatch again after a fix was written \(hash mismatch for "source" \(specified sha256-A4XgB10QVU…, got sha256-XHBli47MvaX8BNxQeBoVw3Vxp80eNi9WFSKDenw5dJE=\)\): the build does not see the edited file \(Flox builds only what git tracks: run "git add '\.flox\/pkgs\/my build\.nix'", then build again\)\n$/,
  );
  assert.doesNotMatch(loop.stderr, /without a hash mismatch/);
});

Deno.test("fix-build with deno.json's permissions and a --root elsewhere is one error line, nothing written", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "vulnix.nix": pkg("vulnix", "1.12.1"),
  });
  await Deno.writeTextFile(
    `${root}/b.log`,
    fixture("runtime_module_vulnix.log"),
  );
  const task = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`))
    .tasks["fix-build"].command as string;
  const flags = task.split(" ").filter((w) => w.startsWith("--allow-"))
    .map((w) =>
      w.replace("--allow-write=.flox/pkgs", `--allow-write=${ROOT}/.flox/pkgs`)
    );
  const r = await run(Deno.execPath(), [
    "run",
    ...flags,
    `${ROOT}/tasks/fix_build.ts`,
    `${root}/b.log`,
    "--root",
    root,
    "--nixpkgs-index",
    `${root}/index.json`,
    "--yes",
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /\nerror: No write access to "[^"\n]+\/\.flox\/pkgs": deno task fix-build may write only this repository's \.flox\/pkgs\n$/,
  );
  assert.equal(await read(root, "vulnix.nix"), pkg("vulnix", "1.12.1"));
});

Deno.test("main() shows the diff and asks before writing in a terminal (tmux)", async () => {
  if (!haveTool("tmux")) return;
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "vulnix.nix": pkg("vulnix", "1.12.1"),
  });
  await Deno.writeTextFile(
    `${root}/b.log`,
    fixture("runtime_module_vulnix.log"),
  );
  {
    await using t = await tmuxSession(
      "fixbuild",
      `cd ${root} && NO_COLOR=1 ${Deno.execPath()} run -A ${ROOT}/tasks/fix_build.ts b.log --nixpkgs-index index.json; echo "RC=$?"; sleep 60`,
    );
    const question = await t.waitFor(
      /Write 1 file \(\.flox\/pkgs\/vulnix\.nix\)\?/,
    );
    assert.match(question, /^\+ {4}zope-interface$/m);
    assert.equal(
      await read(root, "vulnix.nix"),
      pkg("vulnix", "1.12.1"),
      "nothing written before the answer",
    );
    await t.keys("Enter");
    await t.waitFor(/RC=0/);
  }
  assert.match(await read(root, "vulnix.nix"), /^ {4}zope-interface$/m);
});

Deno.test({
  name:
    "fix-build's gate for a broken package evaluates: the repository's comfyui.nix keeps catboost out where nixpkgs marks it broken, in where not (#32)",
  ignore: !haveTool("nix-instantiate"),
  fn: async () => {
    await using dir = await tmp();
    const root = dir.path;
    await copyTree(`${ROOT}/.flox`, `${root}/.flox`);
    const file = `${root}/.flox/pkgs/comfyui.nix`;
    const text = await Deno.readTextFile(file);
    assert.match(text, /\n {4}# requirements\.txt\n {4}torch\n/);
    await Deno.writeTextFile(
      file,
      text.replace(
        "\n    # requirements.txt\n    torch\n",
        "\n    # requirements.txt\n    torch\n    catboost\n",
      ),
    );
    // nixpkgs has catboost; the kit's offline index does not list it.
    const extra = { catboost: "1.2.7" };
    const index = JSON.parse(
      await Deno.readTextFile(`${ROOT}/nixpkgs-index.json`),
    );
    index.python3Packages = { ...index.python3Packages, ...extra };
    await Deno.writeTextFile(`${root}/index.json`, JSON.stringify(index));
    const pkgs = `${root}/.flox/pkgs`;
    const modules = async (broken: string[]) => {
      const ev = await evaluate(pkgs, "x86_64-linux", true, { extra, broken });
      if (!ev.ok) return ev.error;
      return ev.pkgs.comfyui!.pythonEnvModules!;
    };
    // Before: nixpkgs refuses to evaluate the build, as the log shows.
    assert.match(
      String(await modules(["catboost"])),
      /python3\.13-catboost-1\.2\.7' is marked as broken/,
    );
    const r = await fixLog(root, fixture("broken_catboost.log"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /keep catboost only where nixpkgs builds it/);
    const gated = await modules(["catboost"]);
    assert.ok(Array.isArray(gated), String(gated));
    assert.ok(!gated.includes("catboost"));
    assert.ok(gated.includes("torch"));
    const fixed = await modules([]);
    assert.ok(Array.isArray(fixed), String(fixed));
    assert.ok(fixed.includes("catboost"));
  },
});
