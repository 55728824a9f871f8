import assert from "node:assert/strict";
import {
  compareNames,
  narDumpTree,
  narHashTree,
  type NarSink,
  type NarTree,
} from "../../lib/hash/nar_format.ts";
import { narDumpPath, narHashPath } from "../../lib/hash/nar.ts";
import { SMALL_FILE } from "../../lib/hash/nar_reader.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { toHex, toNix32 } from "../../lib/hash/sha256.ts";
import { haveTool, run, tmp } from "../_helpers.ts";
import { nixHash, TREE, writeTree } from "../_fixtures/trees.ts";

/** A sink collecting NAR bytes in memory (tests, small trees); `bytes()` concatenates them. */
function collectSink(): NarSink & { bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    update: (c: Uint8Array) => chunks.push(c.slice()),
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
  };
}

const enc = new TextEncoder();

async function dumpBytes(path: string, workers?: number): Promise<Uint8Array> {
  const sink = collectSink();
  await narDumpPath(
    path,
    sink,
    workers === undefined ? {} : { workers, parallelThreshold: 1 },
  );
  return sink.bytes();
}

function hex(bytes: Uint8Array): string {
  return toHex(bytes);
}

Deno.test("narDumpPath() of one file gives hand-checked bytes", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(`${dir.path}/f`, "hello");
  // Each token: u64 LE length, bytes, zero padding to a multiple of 8.
  const expected = [
    "0d00000000000000",
    "6e69782d617263686976652d31000000", // 13 "nix-archive-1" +3
    "0100000000000000",
    "2800000000000000", // 1 "(" +7
    "0400000000000000",
    "7479706500000000", // 4 "type" +4
    "0700000000000000",
    "726567756c617200", // 7 "regular" +1
    "0800000000000000",
    "636f6e74656e7473", // 8 "contents"
    "0500000000000000",
    "68656c6c6f000000", // 5 "hello" +3
    "0100000000000000",
    "2900000000000000", // 1 ")" +7
  ].join("");
  assert.equal(hex(await dumpBytes(`${dir.path}/f`)), expected);
});

Deno.test("narDumpPath() of a directory with an executable and a symlink gives hand-checked bytes", async () => {
  await using dir = await tmp();
  const root = `${dir.path}/t`;
  await Deno.mkdir(root);
  await Deno.writeTextFile(`${root}/x`, "#!");
  await Deno.chmod(`${root}/x`, 0o755);
  await Deno.symlink("x", `${root}/l`);
  const s = (t: string) => {
    const b = enc.encode(t);
    const out = new Uint8Array(8 + b.length + (-b.length & 7));
    out[0] = b.length;
    out.set(b, 8);
    return hex(out);
  };
  const expected = [
    s("nix-archive-1"),
    s("("),
    s("type"),
    s("directory"),
    // "l" sorts before "x"
    s("entry"),
    s("("),
    s("name"),
    s("l"),
    s("node"),
    s("("),
    s("type"),
    s("symlink"),
    s("target"),
    s("x"),
    s(")"),
    s(")"),
    s("entry"),
    s("("),
    s("name"),
    s("x"),
    s("node"),
    s("("),
    s("type"),
    s("regular"),
    s("executable"),
    s(""),
    s("contents"),
    s("#!"),
    s(")"),
    s(")"),
    s(")"),
  ].join("");
  assert.equal(hex(await dumpBytes(root)), expected);
});

Deno.test("compareNames() orders by UTF-8 bytes, not UTF-16 units or locale", () => {
  const names = ["a0", "\u{1F600}", "a.b", "B", "\u{FF71}", "a", "a-b", "é"];
  assert.deepEqual(names.sort(compareNames), [
    "B",
    "a",
    "a-b",
    "a.b",
    "a0",
    "é",
    "\u{FF71}",
    "\u{1F600}",
  ]);
});

Deno.test("narHashTree() of an in-memory tree equals narHashPath() of the same tree on disk", async () => {
  await using dir = await tmp();
  const root = `${dir.path}/t`;
  await Deno.mkdir(root);
  await writeTree(root, [
    { path: "b/x", kind: "file", content: "xx", mode: 0o755 },
    { path: "a", kind: "file", content: "" },
    { path: "c", kind: "symlink", target: "b/x" },
    { path: "e", kind: "dir" },
  ]);
  const tree: NarTree = {
    type: "directory",
    entries: new Map<string, NarTree>([
      ["c", { type: "symlink", target: "b/x" }],
      ["a", { type: "regular", executable: false, contents: new Uint8Array() }],
      ["e", { type: "directory", entries: new Map() }],
      ["b", {
        type: "directory",
        entries: new Map<string, NarTree>([["x", {
          type: "regular",
          executable: true,
          contents: { size: 2, read: (emit) => emit(enc.encode("xx")) },
        }]]),
      }],
    ]),
  };
  assert.equal(toHex(narHashTree(tree)), toHex(await narHashPath(root)));
  const sink = collectSink();
  narDumpTree(tree, sink);
  assert.equal(hex(sink.bytes()), hex(await dumpBytes(root)));
});

Deno.test("narDumpPath() matches `nix-store --dump` and nix-hash on the issue's tree", async (t) => {
  if (!haveTool("nix-store") || !haveTool("nix-hash")) return;
  await using dir = await tmp();
  const root = `${dir.path}/tree`;
  await Deno.mkdir(root);
  await writeTree(root, TREE);
  const dump = await new Deno.Command("nix-store", { args: ["--dump", root] })
    .output();
  assert.equal(dump.code, 0);
  for (const workers of [0, 2]) {
    await t.step(`workers=${workers}`, async () => {
      assert.equal(hex(await dumpBytes(root, workers)), hex(dump.stdout));
      const d = await narHashPath(root, {
        workers,
        parallelThreshold: 1,
        tar: false,
      });
      assert.equal(toHex(d), await nixHash(root));
      assert.equal(toNix32(d), await nixHash(root, true));
    });
  }
  await t.step(
    "single file, executable file, symlink and subdirectory roots",
    async () => {
      for (
        const p of [
          "a",
          "a0",
          "bin/run.sh",
          "bin/link-to-run",
          "dangling",
          "unicode",
          "empty",
        ]
      ) {
        const path = `${root}/${p}`;
        assert.equal(toHex(await narHashPath(path)), await nixHash(path), p);
      }
    },
  );
});

Deno.test("narHashPath() matches nix-hash on a generated tree of many files, sequential and parallel", async () => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  const root = `${dir.path}/gen`;
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let d = 0; d < 30; d++) {
    await Deno.mkdir(`${root}/d${d}/s${d % 3}`, { recursive: true });
    for (let f = 0; f < 50; f++) {
      const size = f === 7 ? SMALL_FILE + 1 + d : rand() % 300;
      const p = `${root}/d${d}/${f % 2 ? `s${d % 3}/` : ""}f${f}`;
      await Deno.writeFile(p, new Uint8Array(size).fill(rand() & 0xff));
      if (f % 5 === 0) await Deno.chmod(p, 0o755);
    }
  }
  const expected = await nixHash(root);
  // The walk itself (tar: false), on this thread and with reader workers; then the tar stream.
  assert.equal(
    toHex(await narHashPath(root, { workers: 0, tar: false })),
    expected,
  );
  assert.equal(
    toHex(
      await narHashPath(root, {
        workers: 2,
        parallelThreshold: 100,
        tar: false,
      }),
    ),
    expected,
  );
  assert.equal(toHex(await narHashPath(root)), expected, "tar stream");
  assert.equal(
    toHex(await narHashPath(`${root}/`)),
    expected,
    "trailing slash",
  );
});

Deno.test("narDumpPath() reads files at the whole-read / streamed boundary like `nix-store --dump`", async (t) => {
  if (!haveTool("nix-store")) return;
  await using dir = await tmp();
  const root = `${dir.path}/edge`;
  await Deno.mkdir(`${root}/sub`, { recursive: true });
  for (const size of [0, SMALL_FILE - 1, SMALL_FILE, SMALL_FILE + 1]) {
    for (const exec of [false, true]) {
      const p = `${root}/${exec ? "sub/" : ""}f${size}`;
      await Deno.writeFile(p, new Uint8Array(size).map((_, i) => i * 7));
      if (exec) await Deno.chmod(p, 0o755);
    }
  }
  const dump = await new Deno.Command("nix-store", { args: ["--dump", root] })
    .output();
  assert.equal(dump.code, 0);
  for (const workers of [0, 2]) {
    await t.step(`workers=${workers}`, async () => {
      assert.equal(hex(await dumpBytes(root, workers)), hex(dump.stdout));
    });
  }
});

Deno.test("narHashPath() rejects FIFOs and sockets with a one-line KitError", async () => {
  await using dir = await tmp();
  const fifo = `${dir.path}/sub/fifo`;
  await Deno.mkdir(`${dir.path}/sub`);
  const r = await run("mkfifo", [fifo]);
  assert.equal(r.code, 0, r.stderr);
  await assert.rejects(narHashPath(`${dir.path}/sub`), (e: Error) => {
    assert.ok(e instanceof KitError);
    assert.match(
      e.message,
      /Cannot NAR-serialise ".*\/sub\/fifo": it is a FIFO/,
    );
    assert.ok(!e.message.includes("\n"));
    return true;
  });
  await Deno.remove(fifo);
  // A bound unix socket stays in the file system after its creator exits.
  const sock = await run("python3", [
    "-c",
    "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
    `${dir.path}/sub/sock`,
  ]);
  assert.equal(sock.code, 0, sock.stderr);
  await assert.rejects(narHashPath(`${dir.path}/sub`), /it is a socket/);
});

Deno.test("narHashPath() of a missing path is a KitError naming it", async () => {
  await assert.rejects(
    narHashPath("/nonexistent/comfykit-nar"),
    (e: Error) =>
      e instanceof KitError &&
      /No such file or directory: "\/nonexistent\/comfykit-nar"/.test(
        e.message,
      ),
  );
});

Deno.test("narHashPath() never follows symlinks, even a symlink root", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(`${dir.path}/target`, "secret");
  await Deno.symlink(`${dir.path}/target`, `${dir.path}/link`);
  const sink = collectSink();
  await narDumpPath(`${dir.path}/link`, sink);
  const text = new TextDecoder().decode(sink.bytes());
  assert.ok(text.includes("symlink"));
  assert.ok(!text.includes("secret"));
});
