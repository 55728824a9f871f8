import assert from "node:assert/strict";
import { main } from "../../tasks/checksum.ts";
import { parseSums } from "../../lib/hash/sums.ts";
import {
  captureOutput,
  haveTool,
  REAL_SOURCES,
  realSourcesTest,
  ROOT,
  run,
  runTaskProcess,
  tmp,
} from "../_helpers.ts";
import { sha256File, toHex } from "../../lib/hash/sha256.ts";
import { buildTarGz, buildZip } from "../_fixtures/build.ts";
import { nixHash, writeTree } from "../_fixtures/trees.ts";
import { zerosZip } from "../_fixtures/zeros.ts";

// sha256("hello") in the three encodings.
const HELLO = {
  hex: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  nix32: "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic",
  sri: "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
};

/** Runs main() in-process, capturing what it prints. */
function checksum(...args: string[]) {
  return captureOutput(() => main(args));
}

async function helloDir() {
  const dir = await tmp();
  await Deno.writeTextFile(`${dir.path}/hello.txt`, "hello");
  return dir;
}

Deno.test("checksum prints `<sri>  <path>` for a file by default", async () => {
  await using dir = await helloDir();
  const p = `${dir.path}/hello.txt`;
  const r = await checksum(p);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${HELLO.sri}  ${p}\n`);
});

Deno.test("checksum --format nix32|hex|base64|all prints that encoding", async () => {
  await using dir = await helloDir();
  const p = `${dir.path}/hello.txt`;
  assert.equal(
    (await checksum("--format", "nix32", p)).stdout,
    `${HELLO.nix32}  ${p}\n`,
  );
  assert.equal(
    (await checksum("--format", "hex", p)).stdout,
    `${HELLO.hex}  ${p}\n`,
  );
  assert.equal(
    (await checksum("--format", "base64", p)).stdout,
    `${HELLO.sri.slice(7)}  ${p}\n`,
  );
  assert.equal(
    (await checksum("--format", "all", p)).stdout,
    `${HELLO.sri} ${HELLO.nix32} ${HELLO.hex}  ${p}\n`,
  );
});

Deno.test("checksum hashes a directory as NAR (= nix-hash) and several paths in order", async () => {
  await using dir = await helloDir();
  await writeTree(dir.path, [
    { path: "tree/x", kind: "file", content: "x", mode: 0o755 },
    { path: "tree/l", kind: "symlink", target: "x" },
  ]);
  const r = await checksum(
    "--format",
    "hex",
    `${dir.path}/tree`,
    `${dir.path}/hello.txt`,
  );
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  assert.equal(lines[1], `${HELLO.hex}  ${dir.path}/hello.txt`);
  if (haveTool("nix-hash")) {
    assert.equal(
      lines[0],
      `${await nixHash(`${dir.path}/tree`)}  ${dir.path}/tree`,
    );
  }
});

Deno.test("checksum --type nar on a file and --type flat on a directory", async () => {
  await using dir = await helloDir();
  const p = `${dir.path}/hello.txt`;
  const nar = await checksum("--type", "nar", "--format", "hex", p);
  assert.equal(nar.code, 0);
  assert.notEqual(nar.stdout, `${HELLO.hex}  ${p}\n`);
  if (haveTool("nix-hash")) {
    assert.equal(nar.stdout, `${await nixHash(p)}  ${p}\n`);
  }
  const flat = await checksum("--type", "flat", dir.path);
  assert.equal(flat.code, 1);
  assert.match(
    flat.stderr,
    /^error: ".*" is not a regular file: flat hashing needs a file \(use --type nar\)\n$/,
  );
});

Deno.test("checksum --json prints {path, type, sri, nix32, hex} per input", async () => {
  await using dir = await helloDir();
  const p = `${dir.path}/hello.txt`;
  const r = await checksum("--json", p, dir.path);
  assert.equal(r.code, 0);
  const parsed = JSON.parse(r.stdout);
  assert.deepEqual(parsed[0], { path: p, type: "flat", ...HELLO });
  assert.equal(parsed[1].type, "nar");
  assert.match(parsed[1].sri, /^sha256-[A-Za-z0-9+/]{43}=$/);
});

Deno.test("checksum --unpack gives the NAR hash of an archive's contents, top-level dir stripped", async () => {
  await using dir = await tmp();
  const files = [
    { path: "proj-1.0/a.py", content: "print(1)\n" },
    { path: "proj-1.0/bin/run", content: "#!/bin/sh\n", mode: 0o755 },
  ];
  await Deno.writeFile(`${dir.path}/p.tar.gz`, await buildTarGz(files));
  await Deno.writeFile(`${dir.path}/p.zip`, buildZip(files));
  const r = await checksum(
    "--unpack",
    "--json",
    `${dir.path}/p.tar.gz`,
    `${dir.path}/p.zip`,
  );
  assert.equal(r.code, 0, r.stderr);
  const [tgz, zip] = JSON.parse(r.stdout);
  assert.equal(tgz.type, "unpack");
  assert.equal(tgz.sri, zip.sri);
  if (haveTool("nix-hash")) {
    await writeTree(
      `${dir.path}/src`,
      files.map((f) => ({ ...f, kind: "file" as const })),
    );
    assert.equal(tgz.hex, await nixHash(`${dir.path}/src/proj-1.0`));
  }
  const notArchive = await checksum("--unpack", dir.path);
  assert.equal(notArchive.code, 1);
  assert.match(notArchive.stderr, /is not an archive file/);
});

Deno.test("checksum --convert converts between every encoding", async () => {
  for (
    const input of [
      HELLO.sri,
      HELLO.hex,
      HELLO.nix32,
      `sha256:${HELLO.nix32}`,
      `sha256:${HELLO.hex}`,
    ]
  ) {
    assert.equal(
      (await checksum("--convert", input)).stdout,
      `${HELLO.sri}\n`,
      input,
    );
    assert.equal(
      (await checksum("--convert", input, "--format", "nix32")).stdout,
      `${HELLO.nix32}\n`,
    );
    assert.equal(
      (await checksum("--convert", input, "--format", "hex")).stdout,
      `${HELLO.hex}\n`,
    );
  }
  const json = await checksum("--convert", HELLO.nix32, "--json");
  assert.deepEqual(JSON.parse(json.stdout), HELLO);
  const bad = await checksum("--convert", "sha256-nope");
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `error: Not a SHA-256 hash: "sha256-nope"\n`);
});

Deno.test("checksum reports a missing path as a one-line error, exit 1", async () => {
  const r = await checksum("/nonexistent/comfykit-file");
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `error: No such file or directory: "/nonexistent/comfykit-file"\n`,
  );
  assert.equal(r.stdout, "");
});

// --- --verify ------------------------------------------------------------------------------

async function sumsFixture() {
  const dir = await tmp();
  await Deno.mkdir(`${dir.path}/sub`);
  await Deno.writeTextFile(`${dir.path}/hello.txt`, "hello");
  await Deno.writeTextFile(`${dir.path}/sub/bin.dat`, "hello");
  await Deno.writeTextFile(`${dir.path}/changed.txt`, "hello!");
  return dir;
}

Deno.test("checksum --verify reports OK per line and a summary, exit 0 (text and *binary markers)", async () => {
  await using dir = await sumsFixture();
  await Deno.writeTextFile(
    `${dir.path}/SHA256SUMS.txt`,
    `${HELLO.hex}  hello.txt\n${HELLO.hex.toUpperCase()} *sub/bin.dat\n`,
  );
  const r = await checksum("--verify", `${dir.path}/SHA256SUMS.txt`);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "hello.txt: OK\nsub/bin.dat: OK\n");
  assert.equal(r.stderr, "2 of 2 OK\n");
});

Deno.test("checksum --verify reports FAILED and MISSING, exit 1", async () => {
  await using dir = await sumsFixture();
  await Deno.writeTextFile(
    `${dir.path}/SHA256SUMS.txt`,
    `${HELLO.hex}  hello.txt\n${HELLO.hex}  changed.txt\n${HELLO.hex}  gone.txt\n`,
  );
  const r = await checksum("--verify", `${dir.path}/SHA256SUMS.txt`);
  assert.equal(r.code, 1);
  assert.equal(
    r.stdout,
    "hello.txt: OK\nchanged.txt: FAILED\ngone.txt: MISSING\n",
  );
  assert.equal(
    r.stderr,
    "1 of 3 OK, 1 FAILED, 1 MISSING (missing: not on disk)\n",
  );
  const json = await checksum(
    "--verify",
    `${dir.path}/SHA256SUMS.txt`,
    "--json",
  );
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.deepEqual(report.map((x: { status: string }) => x.status), [
    "OK",
    "FAILED",
    "MISSING",
  ]);
  assert.equal(report[1].line, 2);
  assert.equal(report[1].expected, HELLO.hex);
  assert.notEqual(report[1].actual, HELLO.hex);
});

Deno.test("checksum --verify rejects malformed lines with their line numbers, hashing nothing", async () => {
  await using dir = await sumsFixture();
  const sums = `${dir.path}/SHA256SUMS.txt`;
  await Deno.writeTextFile(
    sums,
    `${HELLO.hex}  hello.txt\n# a comment\nnot a checksum line\n${
      HELLO.hex.slice(1)
    }  short.txt\n${HELLO.hex} hello.txt\n`,
  );
  const r = await checksum("--verify", sums);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  const errors = r.stderr.trimEnd().split("\n");
  assert.equal(errors.length, 3);
  assert.match(
    errors[0]!,
    /^error: .*SHA256SUMS\.txt:3: malformed line .*"not a checksum line"$/,
  );
  assert.match(errors[1]!, /SHA256SUMS\.txt:4: malformed line/);
  assert.match(errors[2]!, /SHA256SUMS\.txt:5: malformed line/);
});

Deno.test("checksum --verify of a file that is not a checksum file prints five errors and a count", async () => {
  await using dir = await sumsFixture();
  const sums = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(
    sums,
    Array.from({ length: 40 }, (_, i) => `prose line ${i}`).join("\n"),
  );
  const r = await checksum("--verify", sums);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  const errors = r.stderr.trimEnd().split("\n");
  assert.equal(errors.length, 6);
  assert.match(errors[4]!, /notes\.txt:5: malformed line/);
  assert.match(
    errors[5]!,
    /^error: .*notes\.txt: 35 more malformed lines \(no line is a checksum line\)$/,
  );
});

Deno.test("checksum --verify of .flox/sources/SHA256SUMS.txt names the restore command for missing files", async () => {
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/.flox/sources`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/.flox/sources/a.whl`, "hello");
  await Deno.writeTextFile(
    `${dir.path}/.flox/sources/SHA256SUMS.txt`,
    `${HELLO.hex}  a.whl\n${HELLO.hex}  b.whl\n`,
  );
  const r = await checksum(
    "--verify",
    `${dir.path}/.flox/sources/SHA256SUMS.txt`,
  );
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "a.whl: OK\nb.whl: MISSING\n");
  assert.equal(
    r.stderr,
    `1 of 2 OK, 1 MISSING (missing vendored sources: restore them with "deno task fetch-source --all")\n`,
  );
});

Deno.test("parseSums() handles CRLF, escaped names, BSD tags and comments", () => {
  const { lines, errors } = parseSums(
    `${HELLO.hex}  a b.txt\r\n\\${HELLO.hex}  new\\nline\\\\x\n# c\nSHA256 (bsd.txt) = ${HELLO.hex}\n`,
    "S",
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(lines.map((l) => [l.line, l.path]), [[1, "a b.txt"], [
    2,
    "new\nline\\x",
  ], [4, "bsd.txt"]]);
});

realSourcesTest(
  "checksum --verify of the real vendored files against their SHA256SUMS.txt",
  async () => {
    const r = await checksum("--verify", `${REAL_SOURCES}/SHA256SUMS.txt`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      r.stdout.split("\n").filter((l) => l.endsWith(": OK")).length,
      5,
    );
    assert.equal(r.stderr, "5 of 5 OK\n");
  },
);

Deno.test("checksum --verify hashes large files on two workers and still reports in order", async () => {
  await using dir = await tmp();
  const big = new Uint8Array(40 * 1024 * 1024).fill(7);
  const lines: string[] = [];
  for (const name of ["one", "two", "three"]) {
    await Deno.writeFile(`${dir.path}/${name}`, big);
    const sum =
      (await run("sha256sum", [`${dir.path}/${name}`])).stdout.split(" ")[0];
    lines.push(`${name === "two" ? "0".repeat(64) : sum}  ${name}`);
  }
  await Deno.writeTextFile(`${dir.path}/SUMS`, lines.join("\n") + "\n");
  const r = await checksum("--verify", `${dir.path}/SUMS`);
  assert.equal(r.stdout, "one: OK\ntwo: FAILED\nthree: OK\n");
  assert.equal(r.code, 1);
});

// --- usage errors and subprocesses ---------------------------------------------------------

Deno.test("checksum usage errors exit 2 with the usage text", async () => {
  for (
    const args of [
      [],
      ["--format", "base58", "x"],
      ["--type", "sha1", "x"],
      ["--unpack", "--type", "flat", "x"],
      ["--verify", "S", "x"],
      ["--convert", HELLO.hex, "--unpack"],
      ["--nope"],
    ]
  ) {
    const r = await checksum(...args);
    assert.equal(r.code, 2, args.join(" "));
    // The error and one line pointing at --help, not the whole help (issue 16 #29).
    assert.match(
      r.stderr,
      /^error: [^\n]+\nRun "deno task checksum --help" for the options\n$/,
      args.join(" "),
    );
  }
});

Deno.test("checksum subprocess: --help exits 0, results on stdout, errors on stderr without a stack", async () => {
  const help = await runTaskProcess("checksum.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage:\n {2}deno task checksum/);
  await using dir = await helloDir();
  const ok = await runTaskProcess("checksum.ts", [
    "--format",
    "nix32",
    "hello.txt",
  ], { cwd: dir.path });
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, `${HELLO.nix32}  hello.txt\n`);
  assert.equal(ok.stderr, "");
  const missing = await runTaskProcess("checksum.ts", ["missing.txt"], {
    cwd: dir.path,
  });
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `error: No such file or directory: "missing.txt"\n`,
  );
  const usage = await runTaskProcess("checksum.ts", ["--format"]);
  assert.equal(usage.code, 2);
  assert.ok(!usage.stderr.includes("    at "), "no stack trace");
});

realSourcesTest(
  "checksum subprocess with deno.json's task permissions verifies the real sources",
  async () => {
    const r = await run("deno", [
      "task",
      "-q",
      "checksum",
      "--verify",
      `${REAL_SOURCES}/SHA256SUMS.txt`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split("\n").length, 5);
  },
);

Deno.test("deno task checksum resolves paths against the folder it was typed in (INIT_CWD)", async () => {
  const want = toHex(await sha256File(`${ROOT}/README.md`));
  // Typed in lib/: "../README.md" is the project's README, although deno task runs in the root.
  const r = await run("deno", [
    "task",
    "-q",
    "checksum",
    "--format",
    "hex",
    "../README.md",
  ], { cwd: `${ROOT}/lib` });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${want}  ../README.md\n`);
  const missing = await run("deno", ["task", "-q", "checksum", "README.md"], {
    cwd: `${ROOT}/lib`,
  });
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    'error: No such file or directory: "README.md"\n',
  );
});

Deno.test("parseSums() decodes the \\r escape coreutils 9.1 writes for carriage returns", () => {
  const { lines, errors } = parseSums(`\\${HELLO.hex}  cr\\rname\n`, "S");
  assert.deepEqual(errors, []);
  assert.deepEqual(lines.map((l) => l.path), ["cr\rname"]);
});

Deno.test("checksum --verify escapes names with newlines as coreutils does, one line per file", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(`${dir.path}/new\nline`, "hello");
  await Deno.writeTextFile(`${dir.path}/cr\rname`, "hello");
  await Deno.writeTextFile(
    `${dir.path}/SUMS`,
    `\\${HELLO.hex}  new\\nline\n\\${HELLO.hex}  cr\\rname\n`,
  );
  const r = await checksum("--verify", `${dir.path}/SUMS`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "\\new\\nline: OK\n\\cr\\rname: OK\n");
  const h = await checksum("--format", "hex", `${dir.path}/new\nline`);
  assert.equal(h.stdout, `\\${HELLO.hex}  ${dir.path}/new\\nline\n`);
});

Deno.test("checksum --verify of a folder or a missing file is one error line naming it as typed", async () => {
  await using dir = await tmp();
  const folder = await checksum("--verify", dir.path);
  assert.equal(folder.code, 1);
  assert.match(
    folder.stderr,
    /^error: Cannot read checksum file "[^"]+": Is a directory[^\n]*\n$/,
  );
  const missing = await checksum("--verify", "no-such-SUMS.txt");
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    'error: No such checksum file: "no-such-SUMS.txt"\n',
  );
});

Deno.test("checksum --verify shows a malformed line's control characters escaped", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(`${dir.path}/S`, "abc\x1b]0;pwned\x07 x\n");
  const r = await checksum("--verify", `${dir.path}/S`);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes('"abc\\x1b]0;pwned\\x07 x"'), r.stderr);
  assert.ok(!r.stderr.includes("\x1b"));
});

Deno.test("checksum of a symlink to a directory matches real nix-hash: 'link' hashes the symlink, 'link/' the directory", async () => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/d`);
  await writeTree(`${dir.path}/d`, [
    { path: "sub/f", kind: "file", content: "x" },
    { path: "a.txt", kind: "file", content: "hello" },
  ]);
  await Deno.symlink("d", `${dir.path}/link`);
  await Deno.symlink("link", `${dir.path}/link2`);
  for (const p of ["link", "link/", "link2", "link2/", "d/"]) {
    const r = await checksum("--format", "nix32", `${dir.path}/${p}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.split(" ")[0],
      await nixHash(`${dir.path}/${p}`, true),
      `checksum ${p} = nix-hash ${p}`,
    );
  }
});

Deno.test("checksum of a symlink loop is one error line, exit 1", async () => {
  await using dir = await tmp();
  await Deno.symlink("b", `${dir.path}/a`);
  await Deno.symlink("a", `${dir.path}/b`);
  const r = await runTaskProcess("checksum.ts", [`${dir.path}/a`]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `error: "${dir.path}/a" is a symlink loop: it never reaches a file\n`,
  );
});

Deno.test("checksum --unpack shows unpacking and hashing progress on a terminal (pty via script), and none in a pipe", async () => {
  if (!haveTool("script")) return;
  await using dir = await tmp();
  const archive = `${dir.path}/z.zip`;
  await zerosZip(archive, 256);
  const cmd =
    `${Deno.execPath()} run -A ${ROOT}/tasks/checksum.ts --unpack ${archive}`;
  const env = { COMFYKIT_UNPACK_MEMORY_MIB: "0", TMPDIR: dir.path };
  const tty = await run("script", ["-qec", cmd, "/dev/null"], { env });
  assert.equal(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /unpacking z\.zip .*\d/);
  assert.match(tty.stdout, /hashing z\.zip .*\d/);
  assert.match(tty.stdout, /sha256-[A-Za-z0-9+/]{43}= {2}/);
  const piped = await runTaskProcess("checksum.ts", ["--unpack", archive], {
    env,
  });
  assert.equal(piped.code, 0);
  assert.equal(piped.stderr, "", "no progress when stderr is not a terminal");
});
