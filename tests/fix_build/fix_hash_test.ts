import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { KitError } from "../../lib/kit/errors.ts";
import {
  collectCandidates,
  matchMismatches,
  packageFiles,
  parseMismatches,
} from "../../lib/fix_build/hash.ts";
import { stripAnsi } from "../../lib/fix_build/log.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { parseNix } from "../../lib/nix/parse.ts";
import { main } from "../../tasks/fix_hash.ts";
import {
  captureOutput,
  haveTool,
  ROOT,
  run,
  runTaskProcess,
  tmp,
  tmuxSession,
} from "../_helpers.ts";
import { GITHUB_PACKAGE, PYPI_PACKAGE } from "../_fixtures/nix_files.ts";

const FAKE = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const GOT_A = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
const GOT_B = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
// GOT_A in Nix's base32, as Nix < 2.4 prints it.
const GOT_A_NIX32 = "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic";
const ZERO32 = "0000000000000000000000000000000000000000000000000000";

/** A Nix 2.4+ report, with the colours Nix uses on a terminal and the dependents it lists. */
function modern(drv: string, specified: string, got: string, parent?: string) {
  return [
    `\x1b[31;1merror:\x1b[0m hash mismatch in fixed-output derivation '\x1b[35;1m/nix/store/0k3ms8xrl4q0hrwbsqr4vlj7c7hb1bm2-${drv}.drv\x1b[0m':`,
    `         specified: \x1b[35;1m${specified}\x1b[0m`,
    `            got:    \x1b[35;1m${got}\x1b[0m`,
    ...(parent
      ? [
        `\x1b[31;1merror:\x1b[0m 1 dependencies of derivation '\x1b[35;1m/nix/store/a5yjs7gqfjdv6rj3q5idk7zr7sv4wnfd-${parent}.drv\x1b[0m' failed to build`,
      ]
      : []),
  ].join("\n");
}

/** The Nix 2.0–2.3 report. */
function legacy(out: string, wanted: string, got: string) {
  return [
    `hash mismatch in fixed-output derivation '/nix/store/qy8a3qngzbq7d4w5fh7ka7zcv2l1hb3z-${out}':`,
    `  wanted: sha256:${wanted}`,
    `  got:    sha256:${got}`,
    `cannot build derivation '/nix/store/kp1yq6hxxvq4a1d0r2f0h1d6j1b7a0c8-python3.11-${out}.drv': 1 dependencies couldn't be built`,
  ].join("\n");
}

const NOISE = [
  "these 3 derivations will be built:",
  "  /nix/store/0k3ms8xrl4q0hrwbsqr4vlj7c7hb1bm2-source.drv",
  "building '/nix/store/0k3ms8xrl4q0hrwbsqr4vlj7c7hb1bm2-source.drv'...",
  "\r\x1b[K[1/0/3 built] downloading 'https://github.com/…'\r\x1b[K",
  "trying https://github.com/mit-han-lab/nunchaku/archive/v0.16.1.tar.gz",
  "  % Total    % Received % Xferd  Average Speed   Time",
].join("\n");

Deno.test("stripAnsi() removes colours, cursor codes and overdrawn progress", () => {
  assert.equal(stripAnsi("\x1b[31;1merror:\x1b[0m x"), "error: x");
  assert.equal(stripAnsi("50%\r\x1b[K100%\nnext"), "100%\nnext");
  assert.equal(stripAnsi("\x1b]8;;http://x\x07link\x1b]8;;\x07"), "link");
});

Deno.test("parseMismatches() reads the Nix 2.4+ form among noise and colours", () => {
  const log = `${NOISE}\n${
    modern("source", FAKE, GOT_A, "python3.12-nunchaku-0.16.1")
  }\nerror: build of '/nix/store/x-comfyui.drv' failed\n`;
  const [m, ...rest] = parseMismatches(log);
  assert.equal(rest.length, 0);
  assert.equal(m!.drvName, "source");
  assert.equal(m!.specified, FAKE);
  assert.equal(m!.gotSri, GOT_A);
  assert.deepEqual(m!.dependents, ["python3.12-nunchaku-0.16.1"]);
  assert.equal(m!.line, 7);
});

Deno.test("parseMismatches() reads the older wanted:/got: form and converts to SRI", () => {
  const [m] = parseMismatches(
    legacy("spandrel-0.4.0.tar.gz", ZERO32, GOT_A_NIX32),
  );
  assert.equal(m!.drvName, "spandrel-0.4.0.tar.gz");
  assert.equal(m!.specified, `sha256:${ZERO32}`);
  assert.equal(m!.gotSri, GOT_A);
  assert.deepEqual(m!.dependents, ["python3.11-spandrel-0.4.0.tar.gz"]);
});

Deno.test("parseMismatches() finds several reports and counts a repeated one once", () => {
  const a = modern("source", FAKE, GOT_A, "python3.12-nunchaku-0.16.1");
  const b = modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B);
  const log = [NOISE, a, "noise", b, "flox: build failed", a].join("\n");
  const ms = parseMismatches(log);
  assert.deepEqual(ms.map((m) => [m.drvName, m.gotSri]), [
    ["source", GOT_A],
    ["spandrel-0.4.0.tar.gz", GOT_B],
  ]);
  assert.deepEqual(
    parseMismatches("error: builder failed\nno hashes here"),
    [],
  );
});

/** A repo with the two placeholder packages (GitHub + PyPI) and comfyui.nix. */
async function makeRepo(dir: string, extra: Record<string, string> = {}) {
  await mkdir(`${dir}/.flox/pkgs`, { recursive: true });
  const files: Record<string, string> = {
    nunchaku: GITHUB_PACKAGE,
    spandrel: PYPI_PACKAGE,
    ...extra,
  };
  for (const [n, t] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/.flox/pkgs/${n}.nix`, t);
  }
  return dir;
}

/** A second GitHub package with lib.fakeHash, so "source" alone is ambiguous. */
const OTHER_GH = GITHUB_PACKAGE.replace('pname = "nunchaku"', 'pname = "other"')
  .replace('version = "0.16.1"', 'version = "2.0"')
  .replace(
    'sha256 = "0000000000000000000000000000000000000000000000000000";',
    "hash = lib.fakeHash;",
  );

Deno.test("matchMismatches() uses the derivation name and dependents to pick the file", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { other: OTHER_GH });
  const cands = await collectCandidates(root, await packageFiles(root));
  assert.equal(cands.filter((c) => c.site.placeholder).length, 3);
  const log = [
    modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
    modern("source", FAKE, GOT_A, "python3.12-other-2.0"),
  ].join("\n");
  const { fixes } = await matchMismatches(parseMismatches(log), cands);
  assert.deepEqual(
    fixes.map((f) => [f.mismatch.drvName, f.candidate.file]).sort(),
    [
      ["source", ".flox/pkgs/other.nix"],
      ["spandrel-0.4.0.tar.gz", ".flox/pkgs/spandrel.nix"],
    ],
  );
});

Deno.test("matchMismatches() refuses an ambiguous match and names the candidates", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { other: OTHER_GH });
  const cands = await collectCandidates(root, await packageFiles(root));
  const log = modern("source", FAKE, GOT_A); // no dependents: both GitHub packages fit
  await assert.rejects(
    () => matchMismatches(parseMismatches(log), cands),
    (e: unknown) => {
      assert.ok(e instanceof KitError);
      assert.match(
        e.message,
        /^Ambiguous: the mismatch for derivation "source" \(specified sha256-AAAAAAAAAA…\) matches 2 hashes: \.flox\/pkgs\/nunchaku\.nix:12, \.flox\/pkgs\/other\.nix:12; rerun with --file FILE to pick one$/,
      );
      return true;
    },
  );
  // A chooser (the interactive prompt) settles it.
  const { fixes } = await matchMismatches(
    parseMismatches(log),
    cands,
    (_m, cs) => Promise.resolve(cs.find((c) => c.file.includes("other"))),
  );
  assert.equal(fixes[0]!.candidate.file, ".flox/pkgs/other.nix");
});

Deno.test("main() fixes a log file: lib.fakeHash, legacy sha256 → hash, diff shown", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const log = [
    NOISE,
    modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
    legacy("source", ZERO32, GOT_A_NIX32),
  ].join("\n");
  await Deno.writeTextFile(`${root}/build.log`, log);
  const r = await runTaskProcess("fix_hash.ts", ["build.log", "--root", root], {
    cwd: root,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^--- a\/\.flox\/pkgs\/spandrel\.nix\n\+\+\+ b\/\.flox\/pkgs\/spandrel\.nix\n/m,
  );
  assert.match(
    r.stdout,
    /^- {8}hash = lib\.fakeHash;\n\+ {8}hash = "sha256-T6O6UzcIcBsLWGHmgRnQB\/EgsM5Mw2OTmMRq\+BBtwsE=";$/m,
  );
  assert.match(
    r.stderr,
    /^fix: \.flox\/pkgs\/nunchaku\.nix: hash mismatch for "source" .* → write sha256-LPJNul\S+ at line 12 \(sha256\)$/m,
  );
  const spandrel = await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`);
  assert.equal(
    readPackage(parseNix(spandrel)).src!.attrs.get("hash")!.value,
    GOT_B,
  );
  const nunchaku = await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku.nix`);
  assert.equal(
    nunchaku,
    GITHUB_PACKAGE.replace(`sha256 = "${ZERO32}";`, `hash = "${GOT_A}";`),
  );
  if (haveTool("nix-instantiate")) {
    const p = await run("nix-instantiate", [
      "--parse",
      `${root}/.flox/pkgs/spandrel.nix`,
      `${root}/.flox/pkgs/nunchaku.nix`,
    ]);
    assert.equal(p.code, 0, p.stderr);
  }
  // Run again: the files already hold what Nix got, nothing to do, exit 0.
  const again = await runTaskProcess("fix_hash.ts", [
    "build.log",
    "--root",
    root,
  ], { cwd: root });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "");
});

Deno.test("main() reads stdin; --dry-run shows the diff and writes nothing", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const log = modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B);
  const r = await runTaskProcess("fix_hash.ts", ["--dry-run", "--root", root], {
    stdin: log,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\+ {8}hash = "sha256-T6O6/);
  assert.match(
    r.stderr,
    /^would fix: \.flox\/pkgs\/spandrel\.nix: .* at line 14 \(hash\)$/m,
  );
  assert.equal(
    await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`),
    PYPI_PACKAGE,
  );
  const json = await runTaskProcess("fix_hash.ts", [
    "--dry-run",
    "--json",
    "--root",
    root,
  ], {
    stdin: log,
  });
  // fix-build's JSON shape (fix-hash is fix-build filtered to hash mismatches).
  const report = JSON.parse(json.stdout);
  assert.equal(report.written, false);
  assert.deepEqual(report.files, [".flox/pkgs/spandrel.nix"]);
  assert.deepEqual(
    report.findings.map((f: Record<string, unknown>) => ({
      ...f,
      summary: undefined,
    })),
    [{
      kind: "hash-mismatch",
      line: 1,
      derivation: "spandrel-0.4.0.tar.gz",
      specified: FAKE,
      got: GOT_B,
      summary: undefined,
      file: ".flox/pkgs/spandrel.nix",
      fix: `write ${GOT_B} at line 14 (hash)`,
    }],
  );
});

Deno.test("main() refuses when ambiguous without a terminal; --file settles it", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { other: OTHER_GH });
  await Deno.writeTextFile(`${root}/b.log`, modern("source", FAKE, GOT_A));
  const r = await runTaskProcess("fix_hash.ts", [
    `${root}/b.log`,
    "--root",
    root,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Ambiguous: .*--file FILE to pick one$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const ok = await runTaskProcess("fix_hash.ts", [
    `${root}/b.log`,
    "--root",
    root,
    "--file",
    ".flox/pkgs/other.nix",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(
    await Deno.readTextFile(`${root}/.flox/pkgs/other.nix`),
    new RegExp(`hash = "${GOT_A.replace(/[+/]/g, "\\$&")}"`),
  );
});

Deno.test("main() reports mismatches it cannot place and usage errors", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  await Deno.writeTextFile(`${root}/b.log`, modern("x", GOT_B, GOT_A));
  assert.equal(await main([`${root}/b.log`, "--root", root]), 1);
  assert.equal(await main(["a", "b"]), 2);
  assert.equal(await main(["--rounds", "0", "--run", "true"]), 2);
  assert.equal(await main(["--help"]), 0);
});

/** A fake build: fails with a mismatch (coloured) until the file holds the right hash. */
const BUILD = `#!/bin/sh
if grep -q '${GOT_B}' .flox/pkgs/spandrel.nix; then
  if grep -q '${GOT_A}' .flox/pkgs/nunchaku.nix; then echo "built /nix/store/…-comfyui"; exit 0; fi
  printf '%s\\n' "building..." >&2
  printf '\\033[31;1merror:\\033[0m hash mismatch in fixed-output derivation %s:\\n' "'/nix/store/0k3ms8xrl4q0hrwbsqr4vlj7c7hb1bm2-source.drv'" >&2
  printf '         specified: sha256:${ZERO32}\\n            got:    ${GOT_A}\\n' >&2
  exit 1
fi
printf 'error: hash mismatch in fixed-output derivation %s:\\n  specified: ${FAKE}\\n     got:    ${GOT_B}\\n' "'/nix/store/1k3ms8xrl4q0hrwbsqr4vlj7c7hb1bm2-spandrel-0.4.0.tar.gz.drv'" >&2
exit 1
`;

Deno.test("main() --run builds, fixes and rebuilds until the build passes", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  await Deno.writeTextFile(`${root}/build.sh`, BUILD);
  const r = await runTaskProcess("fix_hash.ts", [
    "--run",
    "sh build.sh",
    "--root",
    root,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^\$ sh -c 'sh build\.sh'$/m);
  assert.match(r.stderr, /round 3\/5/);
  assert.match(r.stderr, /The build passes after 2 fix rounds/);
  assert.match(
    await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku.nix`),
    /hash = "sha256-LPJNul/,
  );
});

Deno.test("main() --run stops on a non-hash error and after the last round", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  await Deno.writeTextFile(
    `${root}/fail.sh`,
    "echo 'error: builder for x failed: gcc: not found' >&2\nexit 1\n",
  );
  const r = await runTaskProcess("fix_hash.ts", [
    "--run",
    "sh fail.sh",
    "--root",
    root,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /gcc: not found/);
  assert.match(
    r.stderr,
    /\nerror: Nothing in the build output is a hash mismatch fix-hash knows how to fix \(exit 1\); its first error is above\n$/,
  );
  // A build that reports a fresh mismatch every time never converges (canonical base64: the
  // last character before '=' carries 4 zero bits, so each hash is really new).
  await Deno.writeTextFile(
    `${root}/loop.sh`,
    `h=$(grep -o 'sha256-[A-Za-z0-9+/]*=' .flox/pkgs/spandrel.nix || echo ${FAKE})
n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n
new=$(printf '%042dA=' $n | tr 0 B | sed 's/^/sha256-/')
printf "error: hash mismatch in fixed-output derivation '/nix/store/1k3ms8xrl4q0hrwbsqr4vlj7c7hb1bm2-spandrel-0.4.0.tar.gz.drv':\\n  specified: %s\\n  got:    %s\\n" "$h" "$new" >&2
exit 1
`,
  );
  const loop = await runTaskProcess("fix_hash.ts", [
    "--run",
    "sh loop.sh",
    "--rounds",
    "2",
    "--root",
    root,
  ]);
  assert.equal(loop.code, 1, loop.stderr);
  assert.match(loop.stderr, /error: Still failing after 2 rounds/);
});

Deno.test("main() asks in a terminal when the match is ambiguous (tmux)", async () => {
  if (!haveTool("tmux")) return;
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { other: OTHER_GH });
  await Deno.writeTextFile(`${root}/b.log`, modern("source", FAKE, GOT_A));
  {
    await using t = await tmuxSession(
      "fixhash",
      `cd ${root} && NO_COLOR=1 ${Deno.execPath()} run -A ${ROOT}/tasks/fix_hash.ts b.log; echo "RC=$?"; sleep 60`,
      {
        height: 40,
      },
    );
    const question = await t.waitFor(
      /Which hash does the mismatch for "source"/,
    );
    assert.match(question, /nunchaku\.nix:12 sha256 \(nunchaku 0\.16\.1\)/);
    assert.match(question, /other\.nix:12 hash \(other 2\.0\)/);
    await t.keys("Down", "Enter");
    await t.waitFor(/RC=0/);
  }
  assert.match(
    await Deno.readTextFile(`${root}/.flox/pkgs/other.nix`),
    /hash = "sha256-LPJNul/,
  );
  assert.equal(
    await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku.nix`),
    GITHUB_PACKAGE,
  );
});

Deno.test("main() turns bad input into one error line and writes nothing", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { broken: "{ a = 1 }\n" });
  const log = `${root}/build.log`;
  await Deno.writeTextFile(
    log,
    modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
  );
  const before = await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`);
  const cases: [string[], number, RegExp][] = [
    [
      [`${root}/nope.log`, "--root", root],
      1,
      /^error: Cannot read ".*nope\.log": no such file\n$/,
    ],
    [
      [log, "--root", root],
      1,
      /^error: \.flox\/pkgs\/broken\.nix:1:9: syntax error: unexpected "}"\n$/,
    ],
    [
      [log, "--root", root, "--file", ".flox/pkgs/gone.nix"],
      1,
      /^error: Cannot read "\.flox\/pkgs\/gone\.nix": no such file\n$/,
    ],
    [
      [log, "--root", `${root}/nowhere`],
      1,
      /^error: --root ".*nowhere" does not exist\n$/, // resolveRoot(), as in every task
    ],
    [
      [log, "--root", `${root}/.flox`],
      1,
      /^error: No \.flox\/pkgs\/ in ".*\.flox"; run fix-hash in the repository or give --root DIR\n$/,
    ],
    [["--frobnicate"], 2, /^error: Unknown option '--frobnicate'/],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await captureOutput(() => main(args));
    assert.equal(r.code, code, args.join(" "));
    assert.match(r.stderr, stderr);
    assert.equal(r.stdout, "");
  }
  assert.equal(
    await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`),
    before,
  );
});

Deno.test("main() turns a LOG that is a folder and a --root that is a file into one error line", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  const folder = await captureOutput(() => main([root, "--root", root]));
  assert.equal(folder.code, 1);
  assert.match(
    folder.stderr,
    /^error: Cannot read "[^"]+": it is a folder, not a file\n$/,
  );
  await Deno.writeTextFile(
    `${root}/build.log`,
    modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
  );
  const file = await captureOutput(() =>
    main([`${root}/build.log`, "--root", `${root}/build.log`])
  );
  assert.equal(file.code, 1);
  assert.match(
    file.stderr,
    /^error: --root "[^"]+build\.log" is not a directory\n$/, // resolveRoot(), as in every task
  );
});

Deno.test("main() on an already fixed log writes nothing into another placeholder and says so", async () => {
  await using dir = await tmp();
  // nunchaku.nix keeps its own placeholder: the second run must not give it spandrel's hash.
  const root = await makeRepo(dir.path);
  const nunchaku = await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku.nix`);
  await Deno.writeTextFile(
    `${root}/build.log`,
    modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
  );
  const first = await captureOutput(() =>
    main([`${root}/build.log`, "--root", root])
  );
  assert.equal(first.code, 0, first.stderr);
  const again = await captureOutput(() =>
    main([`${root}/build.log`, "--root", root])
  );
  assert.equal(again.code, 0);
  assert.match(
    again.stderr,
    /^already fixed: \.flox\/pkgs\/spandrel\.nix: hash mismatch for "spandrel-0\.4\.0\.tar\.gz" .*\nThe build output's hash mismatch is already fixed: nothing to do\n$/,
  );
  assert.equal(again.stdout, "");
  assert.equal(
    await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku.nix`),
    nunchaku,
  );
});

Deno.test("fix-hash without write permission for --root's .flox/pkgs is one error line, nothing written", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path);
  await Deno.writeTextFile(
    `${root}/build.log`,
    modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
  );
  const before = await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`);
  // deno.json's grant: this repository's .flox/pkgs only.
  const r = await run(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-env",
    "--allow-run=sh",
    `--allow-write=${ROOT}/.flox/pkgs`,
    `${ROOT}/tasks/fix_hash.ts`,
    `${root}/build.log`,
    "--root",
    root,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    // Refused up front (checkWriteAccess), before any question.
    /^error: No write access to "[^"]+\/\.flox\/pkgs": [^\n]+--allow-write=[^\n]+\n$/,
  );
  assert.equal(
    await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`),
    before,
  );
  assert.deepEqual(
    [...Deno.readDirSync(`${root}/.flox/pkgs`)].map((e) => e.name).sort(),
    ["nunchaku.nix", "spandrel.nix"],
  );
});

Deno.test("fix-hash finds NAME/default.nix and symlinked package files, as Flox does, and keeps the link", async () => {
  await using dir = await tmp();
  const root = `${dir.path}/repo`;
  await mkdir(`${root}/.flox/pkgs/nunchaku`, { recursive: true });
  await mkdir(`${root}/.flox/pkgs/impl`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/nunchaku/default.nix`,
    GITHUB_PACKAGE,
  );
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/impl/spandrel.nix`,
    PYPI_PACKAGE,
  );
  await Deno.symlink("impl/spandrel.nix", `${root}/.flox/pkgs/spandrel.nix`);
  await Deno.writeTextFile(
    `${root}/build.log`,
    [
      modern("spandrel-0.4.0.tar.gz", FAKE, GOT_B),
      legacy("source", ZERO32, GOT_A_NIX32),
    ].join("\n"),
  );
  const r = await captureOutput(() =>
    main([`${root}/build.log`, "--root", root])
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku/default.nix`),
    GITHUB_PACKAGE.replace(`sha256 = "${ZERO32}";`, `hash = "${GOT_A}";`),
  );
  // The link's target changed; the link is still a link.
  assert.ok((await Deno.lstat(`${root}/.flox/pkgs/spandrel.nix`)).isSymlink);
  const spandrel = await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`);
  assert.equal(
    readPackage(parseNix(spandrel)).src!.attrs.get("hash")!.value,
    GOT_B,
  );
});
