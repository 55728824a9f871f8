import assert from "node:assert/strict";
import { packTar, type TarEntry } from "modern-tar";
import { zipSync } from "fflate";
import {
  detectFormat,
  readArchive,
  readArchiveBytes,
} from "../../lib/archive/read.ts";
import { narHashArchive } from "../../lib/archive/nar_archive.ts";
import {
  type ArchiveEntry,
  toNarTree,
  TreeBuilder,
} from "../../lib/archive/tree.ts";
import { narHashTree } from "../../lib/hash/nar_format.ts";
import type { Digest } from "../../lib/hash/sha256.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { toHex } from "../../lib/hash/sha256.ts";
import {
  haveTool,
  REAL_SOURCES,
  realSourcesTest,
  ROOT,
  run,
  tmp,
} from "../_helpers.ts";
import {
  buildTarGz,
  buildZip,
  type FileSpec,
  gzip,
} from "../_fixtures/build.ts";
import { nixHash, pyPack, TREE, writeTree } from "../_fixtures/trees.ts";
import {
  zerosTar,
  zerosTarBz2,
  zerosTarGz,
  zerosZip,
} from "../_fixtures/zeros.ts";

const enc = new TextEncoder();

/** Asserts a one-line KitError whose message matches. */
async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof KitError, `expected KitError, got ${e}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

function tarOf(entries: TarEntry[]): Promise<Uint8Array> {
  return packTar(
    entries.map((e) => ({ ...e, header: { mtime: new Date(0), ...e.header } })),
  );
}

/** The NAR hash of entries as fetchzip would unpack them (single top-level directory stripped). */
function narHashEntries(
  entries: ArchiveEntry[],
  name = "archive",
): Digest {
  const b = new TreeBuilder(name);
  for (const e of entries) {
    if (e.type === "directory") b.directory(e.path);
    else if (e.type === "symlink") b.symlink(e.path, e.target ?? "");
    else b.file(e.path, e.executable, e.data ?? new Uint8Array());
  }
  return narHashTree(toNarTree(b));
}

Deno.test("readArchiveBytes() reads a tar.gz: files, modes, symlinks, implied directories", async () => {
  const bytes = await buildTarGz([
    { path: "pkg-1.0/bin/tool", content: "#!", mode: 0o755 },
    { path: "pkg-1.0/README", content: "hi" },
    { path: "pkg-1.0/link", symlink: "README" },
  ]);
  const entries = await readArchiveBytes(bytes, "pkg.tar.gz");
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.equal(byPath.get("pkg-1.0")?.type, "directory");
  assert.equal(byPath.get("pkg-1.0/bin")?.type, "directory");
  assert.equal(byPath.get("pkg-1.0/bin/tool")?.executable, true);
  assert.equal(byPath.get("pkg-1.0/README")?.executable, false);
  assert.equal(
    new TextDecoder().decode(byPath.get("pkg-1.0/README")?.data),
    "hi",
  );
  assert.deepEqual(
    {
      type: byPath.get("pkg-1.0/link")?.type,
      target: byPath.get("pkg-1.0/link")?.target,
    },
    { type: "symlink", target: "README" },
  );
  // Every directory comes before its contents.
  const seen = new Set<string>();
  for (const e of entries) {
    const parent = e.path.includes("/")
      ? e.path.slice(0, e.path.lastIndexOf("/"))
      : "";
    assert.ok(parent === "" || seen.has(parent), `${e.path} before its parent`);
    seen.add(e.path);
  }
});

Deno.test("readArchiveBytes() reads a zip with unix modes: executables and symlinks", async () => {
  const bytes = buildZip([
    { path: "x/run", content: "#!", mode: 0o755 },
    { path: "x/data", content: "d" },
    { path: "x/l", symlink: "data" },
  ]);
  const entries = await readArchiveBytes(bytes, "x.whl");
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.equal(byPath.get("x/run")?.executable, true);
  assert.equal(byPath.get("x/data")?.executable, false);
  assert.equal(byPath.get("x/l")?.type, "symlink");
  assert.equal(byPath.get("x/l")?.target, "data");
  assert.equal(byPath.get("x")?.type, "directory");
});

Deno.test("readArchiveBytes() resolves a hard link to an earlier file as a copy", async () => {
  const tar = await tarOf([
    { header: { name: "a", size: 3, mode: 0o755 }, body: "abc" },
    { header: { name: "b", type: "link", linkname: "a", size: 0 } },
  ]);
  const entries = await readArchiveBytes(tar, "t.tar");
  const b = entries.find((e) => e.path === "b")!;
  assert.equal(b.type, "file");
  assert.equal(b.executable, true);
  assert.equal(new TextDecoder().decode(b.data), "abc");
});

Deno.test("readArchiveBytes() handles PAX and GNU long names", async () => {
  const long = `${"d".repeat(120)}/${"f".repeat(150)}`;
  const tar = await tarOf([{ header: { name: long, size: 1 }, body: "z" }]);
  const entries = await readArchiveBytes(tar, "long.tar");
  assert.ok(entries.some((e) => e.path === long && e.type === "file"));
  if (haveTool("tar")) {
    await using dir = await tmp();
    await Deno.mkdir(`${dir.path}/src/${"g".repeat(120)}`, { recursive: true });
    await Deno.writeTextFile(
      `${dir.path}/src/${"g".repeat(120)}/${"h".repeat(140)}`,
      "x",
    );
    const r = await run("tar", [
      "--format=gnu",
      "-C",
      `${dir.path}/src`,
      "-cf",
      `${dir.path}/gnu.tar`,
      ".",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const gnu = await readArchive(`${dir.path}/gnu.tar`);
    assert.ok(
      gnu.some((e) => e.path === `${"g".repeat(120)}/${"h".repeat(140)}`),
    );
  }
});

Deno.test("detectFormat() sniffs magic bytes before trusting the name", () => {
  assert.equal(
    detectFormat(new Uint8Array([0x1f, 0x8b, 8]), "x.zip"),
    "tar.gz",
  );
  assert.equal(detectFormat(enc.encode("BZh91AY"), "x"), "tar.bz2");
  assert.equal(detectFormat(enc.encode("PK\x03\x04"), "x.tar"), "zip");
  const ustar = new Uint8Array(512);
  ustar.set(enc.encode("ustar"), 257);
  assert.equal(detectFormat(ustar, "noext"), "tar");
  assert.equal(detectFormat(new Uint8Array(512), "old.tar"), "tar");
  assert.throws(
    () =>
      detectFormat(
        new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]),
        "a.tar.xz",
      ),
    /xz/,
  );
  assert.throws(() => detectFormat(enc.encode("hello"), "notes.txt"), KitError);
});

// --- hostile and broken archives -----------------------------------------------------------

const HOSTILE: [string, () => Promise<Uint8Array>, string, RegExp][] = [
  [
    "absolute path (tar)",
    () => tarOf([{ header: { name: "/etc/passwd", size: 1 }, body: "x" }]),
    "h.tar",
    /"h\.tar" entry "\/etc\/passwd": absolute path/,
  ],
  [
    "'..' component (tar)",
    () => tarOf([{ header: { name: "a/../../evil", size: 1 }, body: "x" }]),
    "h.tar",
    /entry "a\/\.\.\/\.\.\/evil": '\.\.' path component/,
  ],
  [
    "duplicate entry (tar)",
    () =>
      tarOf([{ header: { name: "a", size: 1 }, body: "x" }, {
        header: { name: "./a", size: 1 },
        body: "y",
      }]),
    "h.tar",
    /entry "\.\/a": duplicate entry/,
  ],
  [
    "file where a directory was implied (tar)",
    () =>
      tarOf([{ header: { name: "d/x", size: 1 }, body: "x" }, {
        header: { name: "d", size: 1 },
        body: "y",
      }]),
    "h.tar",
    /entry "d": duplicate entry/,
  ],
  [
    "entry inside a symlink (tar)",
    () =>
      tarOf([{
        header: { name: "l", type: "symlink", linkname: "/etc", size: 0 },
      }, { header: { name: "l/passwd", size: 1 }, body: "x" }]),
    "h.tar",
    /entry "l\/passwd": it lies inside "l", which is a symlink/,
  ],
  [
    "hard link to a missing entry (tar)",
    () =>
      tarOf([{
        header: { name: "b", type: "link", linkname: "nowhere", size: 0 },
      }]),
    "h.tar",
    /entry "b": hard link to missing entry "nowhere"/,
  ],
  [
    "hard link to a later entry (tar)",
    () =>
      tarOf([{ header: { name: "b", type: "link", linkname: "a", size: 0 } }, {
        header: { name: "a", size: 1 },
        body: "x",
      }]),
    "h.tar",
    /hard link to missing entry "a"/,
  ],
  [
    "character device (tar)",
    () =>
      tarOf([{
        header: { name: "dev/null", type: "character-device", size: 0 },
      }]),
    "h.tar",
    /entry "dev\/null": character-device entries cannot be unpacked/,
  ],
  [
    "block device (tar)",
    () => tarOf([{ header: { name: "sda", type: "block-device", size: 0 } }]),
    "h.tar",
    /entry "sda": block-device/,
  ],
  [
    "FIFO (tar)",
    () => tarOf([{ header: { name: "pipe", type: "fifo", size: 0 } }]),
    "h.tar",
    /entry "pipe": fifo entries cannot be unpacked/,
  ],
  [
    "absolute path (zip)",
    () => Promise.resolve(zipSync({ "/abs": enc.encode("x") })),
    "h.zip",
    /"h\.zip" entry "\/abs": absolute path/,
  ],
  [
    "'..' component (zip)",
    () => Promise.resolve(zipSync({ "../evil": enc.encode("x") })),
    "h.zip",
    /entry "\.\.\/evil": '\.\.' path component/,
  ],
  [
    "duplicate entry (zip)",
    () => Promise.resolve(duplicateZip()),
    "h.zip",
    /entry "same": duplicate entry/,
  ],
  [
    "FIFO (zip)",
    () =>
      Promise.resolve(
        zipSync({
          p: [new Uint8Array(), { os: 3, attrs: (0o010644 << 16) >>> 0 }],
        }),
      ),
    "h.zip",
    /entry "p": device, FIFO or socket/,
  ],
  [
    "corrupt gzip",
    async () =>
      (await gzip(enc.encode("x".repeat(600)))).map((b, i) =>
        i > 12 && i < 20 ? b ^ 0xff : b
      ),
    "h.tar.gz",
    /"h\.tar\.gz": cannot decompress|not a valid tar/,
  ],
  [
    "tar with a bad header checksum",
    async () =>
      (await tarOf([{ header: { name: "a", size: 1 }, body: "x" }])).map((
        b,
        i,
      ) => i === 0 ? 0x62 : b),
    "h.tar",
    /"h\.tar": not a valid tar stream/,
  ],
  [
    "truncated tar",
    async () =>
      (await tarOf([{
        header: { name: "a", size: 5000 },
        body: "x".repeat(5000),
      }])).subarray(0, 1500),
    "h.tar",
    /not a valid tar stream \(Tar archive is truncated/,
  ],
  [
    "zip with a CRC mismatch",
    () => Promise.resolve(corruptZipCrc()),
    "h.zip",
    /"h\.zip": CRC mismatch in "f"/,
  ],
];

/** Two central-directory records with the same name (fflate's own reader would merge them). */
function duplicateZip(): Uint8Array {
  const one = zipSync({ same: enc.encode("1") }, { level: 0 });
  const two = zipSync({ samf: enc.encode("2") }, { level: 0 });
  // Same lengths: rename the second file's name in both its local and central headers.
  const patched = two.slice();
  for (let i = 0; i + 4 <= patched.length; i++) {
    if (String.fromCharCode(...patched.subarray(i, i + 4)) === "samf") {
      patched[i + 3] = 0x65;
    }
  }
  return concatZips(one, patched);
}

/** Concatenates two single-entry stored zips into one zip with two entries. */
function concatZips(a: Uint8Array, b: Uint8Array): Uint8Array {
  const parse = (z: Uint8Array) => {
    const v = new DataView(z.buffer, z.byteOffset, z.length);
    const eocd = z.length - 22;
    return {
      cdOffset: v.getUint32(eocd + 16, true),
      cdSize: v.getUint32(eocd + 12, true),
    };
  };
  const pa = parse(a);
  const pb = parse(b);
  const localA = a.subarray(0, pa.cdOffset);
  const localB = b.subarray(0, pb.cdOffset);
  const cdA = a.slice(pa.cdOffset, pa.cdOffset + pa.cdSize);
  const cdB = b.slice(pb.cdOffset, pb.cdOffset + pb.cdSize);
  new DataView(cdB.buffer).setUint32(42, localA.length, true);
  const out = new Uint8Array(
    localA.length + localB.length + cdA.length + cdB.length + 22,
  );
  let at = 0;
  for (const part of [localA, localB, cdA, cdB]) {
    out.set(part, at);
    at += part.length;
  }
  const v = new DataView(out.buffer);
  v.setUint32(at, 0x06054b50, true);
  v.setUint16(at + 8, 2, true);
  v.setUint16(at + 10, 2, true);
  v.setUint32(at + 12, cdA.length + cdB.length, true);
  v.setUint32(at + 16, localA.length + localB.length, true);
  return out;
}

function corruptZipCrc(): Uint8Array {
  const z = zipSync({ f: enc.encode("content") }, { level: 0 });
  // Stored data starts after the 30-byte local header and the 1-byte name.
  assert.equal(String.fromCharCode(z[31]!), "c");
  z[31] = 0x43;
  return z;
}

for (const [what, build, name, re] of HOSTILE) {
  Deno.test(`readArchiveBytes() rejects a hostile or broken archive: ${what}`, async () => {
    await rejectsWith(build().then((b) => readArchiveBytes(b, name)), re);
  });
}

Deno.test("narHashArchive() rejects hostile archives on both the in-memory and the spill path, leaving no temp dir", async () => {
  await using dir = await tmp();
  const before = await listTempDirs();
  for (const [what, build, name, re] of HOSTILE) {
    const path = `${dir.path}/${name}`;
    await Deno.writeFile(path, await build());
    for (const memoryLimit of [undefined, 0]) {
      await assert.rejects(
        narHashArchive(path, memoryLimit === undefined ? {} : { memoryLimit }),
        (e: Error) =>
          e instanceof KitError &&
          re.test(e.message.replace(dir.path + "/", "")),
        `${what} (memoryLimit ${memoryLimit})`,
      );
    }
  }
  assert.deepEqual(await listTempDirs(), before);
});

async function listTempDirs(): Promise<string[]> {
  const base = Deno.env.get("TMPDIR") ?? "/tmp";
  const out: string[] = [];
  for await (const e of Deno.readDir(base)) {
    if (e.name.startsWith("comfykit-unpack-")) out.push(e.name);
  }
  return out.sort();
}

// --- differential: archives of the issue's tree vs nix-hash of the tree ---------------------

Deno.test("narHashArchive() equals nix-hash of the unpacked tree (tar, tar.gz, tar.bz2, zip; with and without a top-level dir; in memory and spilled)", async (t) => {
  if (!haveTool("nix-hash") || !haveTool("python3")) return;
  await using dir = await tmp();
  const src = `${dir.path}/src`;
  await Deno.mkdir(src);
  await writeTree(src, TREE);
  const expected = await nixHash(src);
  for (const kind of ["", "gz", "bz2", "zip"] as const) {
    for (const prefix of [".", "project-1.0"]) {
      const out = `${dir.path}/a-${kind || "tar"}-${
        prefix === "." ? "flat" : "top"
      }.${kind === "zip" ? "zip" : kind ? `tar.${kind}` : "tar"}`;
      await pyPack(kind, src, out, prefix);
      await t.step(`${out.split("/").pop()}`, async () => {
        assert.equal(toHex(await narHashArchive(out)), expected, "in memory");
        assert.equal(
          toHex(await narHashArchive(out, { memoryLimit: 1000 })),
          expected,
          "spilled",
        );
        assert.equal(
          toHex(await narHashArchive(out, { memoryLimit: 0 })),
          expected,
          "all spilled",
        );
        assert.equal(
          toHex(narHashEntries(await readArchive(out))),
          expected,
          "entries",
        );
      });
    }
  }
  await t.step("GNU tar czf (with ./ prefix and a top-level dir)", async () => {
    if (!haveTool("tar")) return;
    const a = `${dir.path}/gnu.tgz`;
    const r = await run("tar", ["-C", src, "-czf", a, "."]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(toHex(await narHashArchive(a)), expected);
    await Deno.rename(src, `${dir.path}/top`);
    const b = `${dir.path}/gnu-top.tar.gz`;
    const r2 = await run("tar", ["-C", dir.path, "-czf", b, "top"]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(toHex(await narHashArchive(b)), expected);
    assert.equal(toHex(await narHashArchive(b, { memoryLimit: 0 })), expected);
    await Deno.rename(`${dir.path}/top`, src);
  });
});

Deno.test("narHashArchive() of the fixture builders' archives equals nix-hash of the same files on disk", async () => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  const files: FileSpec[] = [
    { path: "repo-abc/setup.py", content: "print()\n" },
    { path: "repo-abc/bin/x", content: "#!/bin/sh\n", mode: 0o755 },
    { path: "repo-abc/pkg/__init__.py", content: "" },
    { path: "repo-abc/l", symlink: "setup.py" },
  ];
  await writeTree(
    `${dir.path}`,
    files.map((f) =>
      f.symlink !== undefined
        ? { path: f.path, kind: "symlink" as const, target: f.symlink }
        : {
          path: f.path,
          kind: "file" as const,
          content: f.content ?? "",
          ...(f.mode ? { mode: f.mode } : {}),
        }
    ),
  );
  const expected = await nixHash(`${dir.path}/repo-abc`);
  await Deno.writeFile(`${dir.path}/a.tar.gz`, await buildTarGz(files));
  await Deno.writeFile(`${dir.path}/a.zip`, buildZip(files));
  assert.equal(toHex(await narHashArchive(`${dir.path}/a.tar.gz`)), expected);
  assert.equal(toHex(await narHashArchive(`${dir.path}/a.zip`)), expected);
  // Two top-level entries: nothing is stripped.
  const two = [...files, { path: "other.txt", content: "o" }];
  await Deno.writeTextFile(`${dir.path}/other.txt`, "o");
  await Deno.remove(`${dir.path}/a.tar.gz`);
  await Deno.remove(`${dir.path}/a.zip`);
  const whole = await nixHash(dir.path);
  const tgz = await buildTarGz(two);
  assert.equal(
    toHex(narHashEntries(await readArchiveBytes(tgz, "two.tgz"))),
    whole,
  );
});

Deno.test("narHashArchive() of an empty archive is the empty directory's hash", async () => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/empty`);
  await Deno.writeFile(`${dir.path}/e.tar`, await tarOf([]));
  assert.equal(
    toHex(await narHashArchive(`${dir.path}/e.tar`)),
    await nixHash(`${dir.path}/empty`),
  );
});

realSourcesTest(
  "narHashArchive() matches nix-hash for the real spandrel sdist and a real wheel",
  async () => {
    if (!haveTool("nix-hash") || !haveTool("tar") || !haveTool("python3")) {
      return;
    }
    await using dir = await tmp();
    const sdist = `${REAL_SOURCES}/spandrel-0.4.0.tar.gz`;
    await Deno.mkdir(`${dir.path}/s`);
    assert.equal(
      (await run("tar", ["-C", `${dir.path}/s`, "-xzf", sdist])).code,
      0,
    );
    assert.equal(
      toHex(await narHashArchive(sdist)),
      await nixHash(`${dir.path}/s/spandrel-0.4.0`),
    );
    const whl = `${REAL_SOURCES}/nunchaku-0.16.1-py3-none-any.whl`;
    await Deno.mkdir(`${dir.path}/w`);
    const r = await run("python3", [
      "-m",
      "zipfile",
      "-e",
      whl,
      `${dir.path}/w`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    // Python's extractor drops modes; wheels made on Unix record 0644 files, so nothing is executable.
    const entries = await readArchive(whl);
    assert.ok(entries.every((e) => !e.executable));
    assert.equal(
      toHex(await narHashArchive(whl)),
      await nixHash(`${dir.path}/w`),
    );
  },
);

Deno.test("narHashArchive() of a missing file or a non-archive is a KitError", async () => {
  await rejectsWith(
    narHashArchive("/nonexistent/x.tar.gz"),
    /No such file: "\/nonexistent\/x\.tar\.gz"/,
  );
  await using dir = await tmp();
  await Deno.writeTextFile(`${dir.path}/notes.txt`, "just text");
  await rejectsWith(
    narHashArchive(`${dir.path}/notes.txt`),
    /not a recognised archive/,
  );
});

Deno.test("narHashArchive() without write access to the temp directory fails the spill path with a one-line error", async () => {
  await using dir = await tmp();
  const archive = `${dir.path}/big.tar.gz`;
  await Deno.writeFile(
    archive,
    await buildTarGz([{ path: "top/a.txt", content: "spill me" }]),
  );
  const script = `${dir.path}/spill.ts`;
  await Deno.writeTextFile(
    script,
    `import { narHashArchive } from ${
      JSON.stringify(
        new URL("../../lib/archive/nar_archive.ts", import.meta.url).href,
      )
    };
import { KitError } from ${
      JSON.stringify(new URL("../../lib/kit/errors.ts", import.meta.url).href)
    };
try {
  await narHashArchive(Deno.args[0]!, { memoryLimit: 0 });
  console.log("hashed");
} catch (e) {
  console.log(e instanceof KitError ? "KitError: " + e.message : "other: " + e);
}
`,
  );
  await Deno.mkdir(`${dir.path}/tmp`);
  const r = await run(Deno.execPath(), [
    "run",
    `--config=${ROOT}/deno.json`,
    "--allow-read",
    `--allow-write=${dir.path}/elsewhere`,
    script,
    archive,
  ], { env: { TMPDIR: `${dir.path}/tmp` } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^KitError: Cannot unpack ".*big\.tar\.gz": its contents exceed the 0 MiB memory limit and no private temp directory could be created \(.*write access.*\): allow writing to the temp directory/,
  );
  assert.equal(r.stdout.trim().split("\n").length, 1);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/tmp`)], []);
});

// ---------------------------------------------------------------- issue 16: bounds, Ctrl-C, names

/** The permissions deno.json gives `deno task checksum`. */
async function checksumTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const line: string = config.tasks.checksum.command;
  return line.split(" ").filter((w) => w.startsWith("--allow-"));
}

Deno.test("checksum --unpack of a 512 MiB entry (zip, tar.gz) stays within the memory bound: peak RSS from /usr/bin/time", async () => {
  if (!haveTool("time") && !(await Deno.stat("/usr/bin/time").catch(() => 0))) {
    return;
  }
  await using dir = await tmp();
  const flags = await checksumTaskFlags();
  const zip = `${dir.path}/z.zip`;
  const tgz = `${dir.path}/z.tar.gz`;
  await zerosZip(zip, 512);
  await zerosTarGz(tgz, 512);
  const hashes = new Set<string>();
  for (const archive of [zip, tgz]) {
    // A lowered budget (16 MiB) so the bound shows on a small machine: the entry is spilled and
    // streamed, never held (before: the whole entry was inflated at once, RSS > 600 MB).
    const r = await run("/usr/bin/time", [
      "-v",
      Deno.execPath(),
      "run",
      `--config=${ROOT}/deno.json`,
      ...flags,
      `${ROOT}/tasks/checksum.ts`,
      "--unpack",
      archive,
    ], { env: { COMFYKIT_UNPACK_MEMORY_MIB: "16", TMPDIR: dir.path } });
    assert.equal(r.code, 0, r.stderr);
    const rss =
      Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]) /
      1024;
    assert.ok(
      rss < 400,
      `${archive}: peak RSS ${rss.toFixed(0)} MiB, bound 400 MiB`,
    );
    hashes.add(r.stdout.split(" ")[0]!);
  }
  assert.equal(hashes.size, 1, "zip and tar.gz of the same tree hash the same");
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), [
    "z.tar.gz",
    "z.zip",
  ], "no spill directory left");
});

Deno.test("checksum --unpack exits 130 within a second of Ctrl-C, spill directory removed (zip, tar.gz, tar, tar.bz2)", async (t) => {
  const builders = {
    "zip": zerosZip,
    "tar.gz": zerosTarGz,
    "tar": zerosTar,
    "tar.bz2": zerosTarBz2,
  };
  const flags = await checksumTaskFlags();
  for (const [ext, build] of Object.entries(builders)) {
    if (ext === "tar.bz2" && !haveTool("bzip2")) continue;
    await t.step(ext, async () => {
      await using dir = await tmp();
      const spillRoot = `${dir.path}/tmp`;
      await Deno.mkdir(spillRoot);
      const archive = `${dir.path}/big.${ext}`;
      await build(archive, 1024);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--config=${ROOT}/deno.json`,
          ...flags,
          `${ROOT}/tasks/checksum.ts`,
          "--unpack",
          archive,
        ],
        env: {
          TMPDIR: spillRoot,
          COMFYKIT_UNPACK_MEMORY_MIB: "0",
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Wait until the entry is being spilled, then interrupt.
      const deadline = Date.now() + 30_000;
      while ([...Deno.readDirSync(spillRoot)].length === 0) {
        assert.ok(Date.now() < deadline, "the spill directory never appeared");
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      const sent = performance.now();
      child.kill("SIGINT");
      const out = await child.output();
      const took = performance.now() - sent;
      assert.equal(out.code, 130, new TextDecoder().decode(out.stdout));
      assert.ok(took < 1000, `exited ${took.toFixed(0)} ms after SIGINT`);
      assert.equal(new TextDecoder().decode(out.stdout), "", "no hash printed");
      assert.deepEqual(
        [...Deno.readDirSync(spillRoot)],
        [],
        "spill dir removed",
      );
    });
  }
});

Deno.test("narHashArchive() reads '\\' in zip entry names as a separator and refuses 'top\\..\\..\\x', as Nix does (tar keeps '\\')", async () => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  // Nix (libarchive) unpacks zip "top\sub\f" as top/sub/f: the same hash as that tree.
  const zip = `${dir.path}/win.zip`;
  await Deno.writeFile(
    zip,
    zipSync({ "top/a.txt": enc.encode("hi"), "top\\sub\\f": enc.encode("x") }),
  );
  await Deno.mkdir(`${dir.path}/tree/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/tree/a.txt`, "hi");
  await Deno.writeTextFile(`${dir.path}/tree/sub/f`, "x");
  assert.equal(
    toHex(await narHashArchive(zip)),
    await nixHash(`${dir.path}/tree`),
  );
  const evil = `${dir.path}/evil.zip`;
  await Deno.writeFile(
    evil,
    zipSync({
      "top/a.txt": enc.encode("hi"),
      "top\\..\\..\\x": enc.encode("x"),
    }),
  );
  await rejectsWith(
    narHashArchive(evil),
    /entry "top\\\.\.\\\.\.\\x": '\.\.' path component/,
  );
  await rejectsWith(
    readArchiveBytes(await Deno.readFile(evil), "evil.zip"),
    /'\.\.' path component/,
  );
  // In a tar, '\' is an ordinary character (Nix accepts it): a file named "a\..\..\x".
  const tar = `${dir.path}/bs.tar`;
  await Deno.writeFile(
    tar,
    await tarOf([{
      header: { name: "top/a\\..\\..\\x", size: 4, type: "file" },
      body: enc.encode("evil"),
    }]),
  );
  await Deno.mkdir(`${dir.path}/tartree`);
  await Deno.writeTextFile(`${dir.path}/tartree/a\\..\\..\\x`, "evil");
  assert.equal(
    toHex(await narHashArchive(tar)),
    await nixHash(`${dir.path}/tartree`),
  );
});

Deno.test("readArchiveBytes() names the hard-link entry, not its target, when the target is unsafe", async () => {
  const tar = await tarOf([
    { header: { name: "top/a", size: 1, type: "file" }, body: enc.encode("a") },
    {
      header: {
        name: "top/link",
        type: "link",
        linkname: "../../etc/passwd",
        size: 0,
      },
    },
  ]);
  await rejectsWith(
    readArchiveBytes(tar, "h.tar"),
    /entry "top\/link": hard link target "\.\.\/\.\.\/etc\/passwd": '\.\.' path component/,
  );
});

Deno.test("narHashArchive() reports unpacking and hashing progress to a progress sink (checksum's terminal bar)", async () => {
  await using dir = await tmp();
  const archive = `${dir.path}/z.zip`;
  await zerosZip(archive, 64);
  const seen: {
    label: string;
    total?: number;
    last: number;
    ended: boolean;
  }[] = [];
  const digest = await narHashArchive(archive, {
    memoryLimit: 0,
    progress: {
      start(label, total) {
        const bar = {
          label,
          ...(total ? { total } : {}),
          last: 0,
          ended: false,
        };
        seen.push(bar);
        return {
          update: (n) => void (bar.last = n),
          done: () => void (bar.ended = true),
          fail: () => void (bar.ended = true),
        };
      },
      note() {},
    },
  });
  assert.equal(digest.length, 32);
  assert.ok(seen.length >= 1, "a bar was shown");
  assert.match(seen[0]!.label, /^unpacking z\.zip$/);
  assert.equal(seen[0]!.total, 64 * 1024 * 1024);
  assert.ok(seen.every((b) => b.ended), "every bar is cleared at the end");
});
