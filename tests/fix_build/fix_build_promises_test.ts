// fix-build and fix-hash keep their word (issue 22 #7, #28, #30, #34): a --run build that still
// fails never exits 0, the advice names commands that run, --file is read where it was typed,
// option values starting with '-' reach the task's own check; fix-hash is fix-build filtered to
// hash mismatches, and no failure kind can slip through a switch (issue 24 #5).
import assert from "node:assert/strict";
import { captureOutput, ROOT, runTaskProcess, tmp } from "../_helpers.ts";
import { makeRepo, pkg, standInFlox } from "./fix_build_helpers.ts";
import { main } from "../../tasks/fix_build.ts";
import { main as fixHashMain } from "../../tasks/fix_hash.ts";
import { main as releaseMain } from "../../tasks/release.ts";
import { parseCli } from "../../lib/kit/cli.ts";
import type { Finding } from "../../lib/fix_build/findings.ts";
import { planActions } from "../../lib/fix_build/plan.ts";
import { reportUnfixed } from "../../lib/fix_build/report.ts";
import type { NixpkgsLookup } from "../../lib/nix/nixpkgs_names.ts";

const LOGS = `${ROOT}/tests/_fixtures/logs`;
const fixture = (name: string) => Deno.readTextFileSync(`${LOGS}/${name}`);
const GOT = "sha256-mPcrfBFgvbPi6O7i9FCtN3iaaEOHIcDFHCOpV1NxKMY=";

Deno.test("fix-build --run exits 1 when the build still fails on a failure its files already fix (#7)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    // The file already holds the hash Nix got; the build (say, an untracked edit) still fails.
    "distant.nix": pkg("distant", "0.20.0").replace(
      /hash = "sha256-[^"]+"/,
      `hash = "${GOT}"`,
    ),
  });
  const env = await standInFlox(
    root,
    [fixture("hash_mismatch_empty_hash.log")],
    "never-there",
  );
  const r = await runTaskProcess("fix_build.ts", [
    "--run",
    "distant",
    "--yes",
    "--root",
    root,
  ], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /\nerror: The build still fails on what \.flox\/pkgs\/distant\.nix already fixes \(hash mismatch for "distant-vendor\.tar\.gz" .*\): the build does not see the edited file \(Flox builds only what git tracks: run "git add \.flox\/pkgs\/distant\.nix", then build again\)\n$/,
  );
  assert.doesNotMatch(r.stderr, /already fixed: nothing to do/);
});

Deno.test("fix-build's advice for a version conflict is a new-package command it accepts (#28)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "whispers.nix": pkg("whispers", "2.3.0"),
  });
  await Deno.writeTextFile(
    `${root}/b.log`,
    fixture("runtime_deps_whispers.log"),
  );
  const r = await captureOutput(() =>
    main([
      `${root}/b.log`,
      "--root",
      root,
      "--nixpkgs-index",
      `${root}/index.json`,
      "--dry-run",
    ])
  );
  assert.doesNotMatch(r.stderr, /new-package pypi:/);
  assert.match(
    r.stderr,
    /"deno task new-package lxml==VERSION", VERSION one that lxml==5\.2\.2 allows/,
  );
});

Deno.test("--file typed from a subfolder is read where it was typed (#30)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const sub = `${root}/docs/notes`;
  await Deno.mkdir(sub, { recursive: true });
  await Deno.writeTextFile(
    `${root}/b.log`,
    fixture("hash_mismatch_empty_hash.log"),
  );
  const before = Deno.env.get("INIT_CWD");
  Deno.env.set("INIT_CWD", sub);
  const cwd = Deno.cwd();
  Deno.chdir(ROOT);
  try {
    for (const m of [main, fixHashMain]) {
      const r = await captureOutput(() =>
        m([
          `${root}/b.log`,
          "--root",
          root,
          "--file",
          "../../.flox/pkgs/comfyui.nix",
          "--dry-run",
        ])
      );
      assert.doesNotMatch(r.stderr, /is not a \.nix file under/, r.stderr);
    }
  } finally {
    Deno.chdir(cwd);
    if (before === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", before);
  }
});

Deno.test("a string option's value may start with '-'; --run takes an attribute, never a path (#34)", async () => {
  const opts = {
    org: { type: "string" },
    "dry-run": { type: "boolean" },
    file: { type: "string" },
    yes: { type: "boolean", short: "y" },
  } as const;
  assert.equal(parseCli(["--org", "-x"], opts).values.org, "-x");
  assert.equal(parseCli(["--org", "-"], opts).values.org, "-");
  // A value that is one of the task's own options is still a missing value.
  assert.throws(() => parseCli(["--file", "--dry-run"], opts), /ambiguous/);
  assert.throws(() => parseCli(["--file", "-y"], opts), /ambiguous/);
  // release's --org / --remote reach its own check instead of "argument is ambiguous".
  for (const flag of ["--org", "--remote"]) {
    const r = await captureOutput(() => releaseMain([flag, "-x"]));
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(`^error: ${flag} "-x" is not a plain name`),
    );
  }
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  for (const bad of ["-x", "../x", "a/b"]) {
    const r = await captureOutput(() => main(["--run", bad, "--root", root]));
    assert.equal(r.code, 1, bad);
    assert.equal(
      r.stderr,
      `error: "${bad}" is not a package attribute Flox can build (letters, digits, _ ' -)\n`,
    );
  }
});

Deno.test("a failure kind without a plan is never 'already fixed' (issue 24 #5)", async () => {
  // A kind the planner does not know (one added to findings.ts, not to plan.ts): a type error
  // in the exhaustive switches, and at run time an open failure, exit 1.
  const finding = { kind: "new-kind", line: 3 } as unknown as Finding;
  const round = {
    findings: [finding],
    actions: [],
    applied: { changed: [], failed: [] },
    written: false,
  };
  const r = await captureOutput(() =>
    Promise.resolve(
      reportUnfixed(
        { task: "fix-build", noun: "failure", nouns: "failures" },
        round,
      ),
    )
  );
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, /already fixed/);
  await assert.rejects(
    planActions({ root: "/nowhere", pkgs: [], nixpkgs: {} as NixpkgsLookup }, [
      finding,
    ]),
    /unhandled failure kind new-kind/,
  );
});

/** A raw builder log (`nix log`): a compiler error among make's lines, no Nix `error:` line. */
const GCC_LOG = [
  "Running phase: unpackPhase",
  "unpacking source archive /nix/store/aaaa-foo-1.0.tar.gz",
  "Running phase: configurePhase",
  "checking for gcc... gcc",
  "Running phase: buildPhase",
  "build flags: SHELL=/nix/store/bbbb-bash/bin/bash",
  "gcc -O2 -c src/parse.c -o parse.o",
  "src/parse.c: In function 'parse_header':",
  "src/parse.c:147:7: error: 'len' undeclared (first use in this function)",
  "  147 |   if (len > MAX) {",
  "      |       ^~~",
  "src/parse.c:147:7: note: each undeclared identifier is reported only once",
  "make: *** [Makefile:12: parse.o] Error 1",
].join("\n");

Deno.test("fix-build's first error starts at the compiler's error line; control characters never reach the terminal (#31)", async () => {
  const { firstErrorExcerpt, readLog } = await import(
    "../../lib/fix_build/log.ts"
  );
  const ex = firstErrorExcerpt(readLog(GCC_LOG))!;
  assert.match(ex, /^src\/parse\.c:147:7: error: 'len' undeclared/);
  const bell = firstErrorExcerpt(
    readLog("error: builder failed\n\x07\x00weird\x1b bytes\x7f\n"),
  )!;
  // deno-lint-ignore no-control-regex -- what must not be printed
  assert.doesNotMatch(bell, /[\x00-\x08\x0b-\x1f\x7f]/);
  assert.match(bell, /\uFFFDweird/);
});

Deno.test("fix-build and fix-hash read a UTF-16 log and refuse a binary one in one line (#31)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    "distant.nix": pkg("distant", "0.20.0"),
  });
  const text = fixture("hash_mismatch_empty_hash.log");
  // PowerShell's `>` writes UTF-16LE with a BOM; some tools write it without one.
  const utf16 = (bom: boolean) => {
    const out = new Uint8Array((bom ? 2 : 0) + text.length * 2);
    if (bom) out.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      out[(bom ? 2 : 0) + 2 * i] = c & 0xff;
      out[(bom ? 2 : 0) + 2 * i + 1] = c >> 8;
    }
    return out;
  };
  for (const bom of [true, false]) {
    await Deno.writeFile(`${root}/b.log`, utf16(bom));
    for (const m of [main, fixHashMain]) {
      const r = await captureOutput(() =>
        m([`${root}/b.log`, "--root", root, "--dry-run", "--json"])
      );
      const report = JSON.parse(r.stdout);
      assert.equal(report.findings[0]?.kind, "hash-mismatch", r.stderr);
      assert.equal(report.findings[0]?.got, GOT);
    }
  }
  const binary = new Uint8Array(4096).map((_, i) => (i * 7919) % 256);
  await Deno.writeFile(`${root}/core`, binary);
  for (const m of [main, fixHashMain]) {
    const r = await captureOutput(() => m([`${root}/core`, "--root", root]));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: ${root}/core is binary data, not a build log: give the text a build printed (flox build NAME 2>&1 > build.log)\n`,
    );
  }
});
