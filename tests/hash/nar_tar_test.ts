// The tar route of narHashPath (lib/hash/nar_tar_fifo.ts, lib/hash/nar_tar.ts): one GNU tar
// stream parsed into the NAR, bit-identical to nix-hash on odd trees (non-UTF-8 and long names,
// long symlink targets, hard links, empty files and folders, executables, symlinks to folders
// never followed), and a fall-back to the walker, with its error, for what tar cannot stream.
import assert from "node:assert/strict";
import { narHashPath } from "../../lib/hash/nar.ts";
import { TarToNar } from "../../lib/hash/nar_tar.ts";
import { narHashDirByTar } from "../../lib/hash/nar_tar_fifo.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { toHex, toSri } from "../../lib/hash/sha256.ts";
import {
  haveRealSources,
  haveTool,
  ROOT,
  run,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import { nixHash } from "../_fixtures/trees.ts";

const NULL_SINK = { update(_chunk: Uint8Array) {} };

/** A tree with every oddity NAR and tar disagree on, made with the shell (raw byte names). */
async function oddTree(root: string): Promise<void> {
  const long = "n".repeat(150);
  const script = `
set -e
mkdir -p "$1" && cd "$1"
mkdir -p empty-dir "sp ace/inner" -- "-dash" "${long}/${long}" deep/a/b/c/d
printf 'x' > a; printf '' > empty-file; printf 'run' > exec.sh; chmod 755 exec.sh
printf 'nl' > "$(printf 'new\\nline')"
printf 'raw' > "$(printf 'lat\\351n')"
printf 'u' > "$(printf '\\360\\237\\230\\200-emoji')"
printf 'bmp' > "$(printf '\\357\\274\\241-fullwidth')"
printf 'deep' > deep/a/b/c/d/f
printf 'long' > "${long}/${long}/${long}.txt"
ln -s a link-to-file; ln -s deep link-to-dir; ln -s nowhere dangling
ln -s "$(printf '%0300d' 0)" long-target
ln a hard-link-of-a
printf 'A' > B; printf 'b' > b; printf 'dot' > a.b; mkdir a0; printf 'z' > a0/z
printf 'back' > 'back\\slash'
`;
  const r = await run("sh", ["-c", script, "sh", root]);
  assert.equal(r.code, 0, r.stderr);
}

Deno.test("narHashPath(): the tar stream gives nix-hash's hash on an odd tree", async () => {
  if (!haveTool("nix-hash") || !haveTool("tar")) return;
  await using dir = await tmp();
  const root = `${dir.path}/odd`;
  await oddTree(root);
  const expected = await nixHash(root);
  const viaTar = await narHashDirByTar(root);
  assert.ok(viaTar, "tar route used");
  assert.equal(toHex(viaTar), expected);
  assert.equal(toHex(await narHashPath(root)), expected);
  assert.equal(toHex(await narHashPath(`${root}/`)), expected);
  // A subfolder, and a symlink to a folder with a trailing slash (followed at the root only).
  assert.equal(
    toHex(await narHashPath(`${root}/deep`)),
    await nixHash(`${root}/deep`),
  );
  assert.equal(
    toHex(await narHashPath(`${root}/link-to-dir/`)),
    await nixHash(`${root}/deep`),
  );
  assert.equal(
    toHex(await narHashPath(`${root}/link-to-dir`)),
    await nixHash(`${root}/link-to-dir`),
  );
});

Deno.test("narHashPath(): what tar cannot stream falls back to the walk and its error", async () => {
  if (!haveTool("tar") || !haveTool("mkfifo")) return;
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/t`);
  await Deno.writeTextFile(`${dir.path}/t/a`, "a");
  assert.equal((await run("mkfifo", [`${dir.path}/t/fifo`])).code, 0);
  assert.equal(await narHashDirByTar(`${dir.path}/t`), undefined);
  await assert.rejects(narHashPath(`${dir.path}/t`), (e: Error) => {
    assert.ok(e instanceof KitError);
    assert.match(e.message, /it is a FIFO/);
    return true;
  });
});

/** Pseudo-random bytes (xorshift), so nothing compresses or repeats. */
function noise(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(size / 4);
  let x = seed;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer);
}

/** Processes whose command line mentions `text` (an orphaned tar would), from `ps`. */
async function processesMentioning(text: string): Promise<string[]> {
  const r = await run("ps", ["-eo", "args="]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l.includes(text));
}

Deno.test("narHashDirByTar(): a tree larger than the reader's ring (8 x 1 MiB) wraps it several times and still gives nix-hash's hash", async () => {
  if (!haveTool("nix-hash") || !haveTool("tar")) return;
  await using dir = await tmp();
  const root = `${dir.path}/big`;
  await Deno.mkdir(`${root}/small`, { recursive: true });
  for (let i = 0; i < 3; i++) {
    // 5 MiB + 3 bytes: file data ends mid-slot and mid-block.
    await Deno.writeFile(
      `${root}/f${i}`,
      noise(5 * (1 << 20) + 4, i + 1).subarray(1),
    );
  }
  for (let i = 0; i < 300; i++) {
    await Deno.writeFile(`${root}/small/s${i}`, noise(4 * i + 4, i + 7));
  }
  const viaTar = await narHashDirByTar(root);
  assert.ok(viaTar, "tar route used");
  assert.equal(toHex(viaTar), await nixHash(root));
});

Deno.test("narHashDirByTar(): a stream refused while the reader waits for a free slot ends at once, with tar gone", async () => {
  if (!haveTool("tar") || !haveTool("mkfifo") || !haveTool("ps")) return;
  await using dir = await tmp();
  const root = `${dir.path}/refused`;
  await Deno.mkdir(root);
  // The FIFO's header comes first and is refused; 24 MiB follow, more than the ring holds.
  assert.equal((await run("mkfifo", [`${root}/a-fifo`])).code, 0);
  await Deno.writeFile(`${root}/b`, noise(24 << 20, 3));
  const started = performance.now();
  assert.equal(await narHashDirByTar(root), undefined);
  assert.ok(performance.now() - started < 10_000, "no hang");
  assert.deepEqual(await processesMentioning(root), []);
});

async function emptyFiles(dir: string, n: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    await Deno.writeFile(`${dir}/e${i}`, new Uint8Array());
  }
}

Deno.test("checksum DIR under deno.json's permissions walks a tree of fewer than 600 entries and runs tar for a larger one, falling back to the walk when tar fails", async () => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  // A tar that only records that it ran, then fails as a broken tar would.
  const bin = `${dir.path}/bin`;
  const marker = `${dir.path}/tar-ran`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/tar`,
    `#!/bin/sh\necho "$@" >> "${marker}"\nexit 2\n`,
    { mode: 0o755 },
  );
  const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };
  const checksum = async (root: string) => {
    const r = await run(
      Deno.execPath(),
      [...await taskArgs("checksum", dir.path), "--format", "hex", root],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split(" ")[0];
  };
  const small = `${dir.path}/small`;
  await emptyFiles(small, 598);
  await Deno.writeTextFile(`${small}/x`, "x"); // 599 entries
  assert.equal(await checksum(small), await nixHash(small));
  const ran = await Deno.stat(marker).then(() => true, () => false);
  assert.equal(ran, false, "a tree of 599 entries is walked");
  await Deno.writeTextFile(`${small}/y`, "y"); // 600: tar runs, fails, the walk answers
  assert.equal(await checksum(small), await nixHash(small));
  assert.match(await Deno.readTextFile(marker), /--sort=name/);
});

Deno.test("checksum DIR under deno.json's permissions streams through a FIFO, and Ctrl-C leaves no tar and no temp folder", async () => {
  if (!haveTool("tar") || !haveTool("mkfifo") || !haveTool("ps")) return;
  await using dir = await tmp();
  const root = `${dir.path}/tree`;
  const scratch = `${dir.path}/tmp`;
  await Deno.mkdir(root);
  await Deno.mkdir(scratch);
  // 8 GiB of holes: tar reads zeros for seconds, long enough to interrupt; 600 more entries, so
  // that the tree is not one the walk takes.
  await emptyFiles(`${root}/many`, 600);
  await Deno.writeFile(`${root}/sparse`, new Uint8Array());
  await Deno.truncate(`${root}/sparse`, 8 * 2 ** 30);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...await taskArgs("checksum", dir.path), root],
    env: { TMPDIR: scratch },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  // The FIFO's folder appears once the route is taken: the task may run tar and mkfifo.
  const deadline = Date.now() + 20_000;
  while (
    ![...Deno.readDirSync(scratch)].some((e) =>
      e.name.startsWith("comfykit-nar-")
    ) || (await processesMentioning(root)).length === 0
  ) {
    assert.ok(Date.now() < deadline, "the FIFO route was never taken");
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGINT");
  const { code, stdout } = await output;
  assert.equal(code, 130);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.deepEqual([...Deno.readDirSync(scratch)], []);
  for (
    let i = 0;
    (await processesMentioning(root)).length > 0 && i < 100;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(await processesMentioning(root), []);
});

Deno.test("TarToNar: out-of-order entries and truncated streams are refused, never hashed", () => {
  const header = (name: string, type: string, size = 0) => {
    const h = new Uint8Array(512);
    h.set(new TextEncoder().encode(name));
    h.set(new TextEncoder().encode("0000644\0"), 100);
    h.set(
      new TextEncoder().encode(size.toString(8).padStart(11, "0") + "\0"),
      124,
    );
    h[156] = type.charCodeAt(0);
    return h;
  };
  const t = new TarToNar(NULL_SINK, "x");
  t.push(header("./", "5"));
  t.push(header("./b", "0"));
  assert.throws(() => t.push(header("./a", "0")), /out of NAR order/);
  const u = new TarToNar(NULL_SINK, "y");
  u.push(header("./", "5"));
  u.push(header("./f", "0", 10));
  u.push(new Uint8Array(5));
  assert.throws(() => u.end(), /truncated/);
  const v = new TarToNar(NULL_SINK, "z");
  v.push(header("./", "5"));
  assert.throws(() => v.push(header("./h", "1")), /hard link/);
});

const REAL_NODES = `${ROOT}/../shared/real-nodes`;

Deno.test({
  name:
    "narHashPath(): the tar stream gives Nix's own hashes of the real node packs",
  ignore: !haveRealSources(REAL_NODES),
  async fn() {
    if (!haveTool("tar")) return;
    const readme = await Deno.readTextFile(`${REAL_NODES}/README.md`);
    const rows = [
      ...readme.matchAll(
        /^\| `([^`]+\.tar\.gz)` \| [^|]+ \| `(sha256-[^`]+)` \|/gm,
      ),
    ];
    assert.ok(rows.length >= 3, "README lists the packs");
    await using dir = await tmp();
    for (const [, file, sri] of rows) {
      const into = `${dir.path}/${file}`;
      await Deno.mkdir(into);
      const r = await run("tar", ["-xzf", `${REAL_NODES}/${file}`, "-C", into]);
      assert.equal(r.code, 0, r.stderr);
      const [top] = [...Deno.readDirSync(into)];
      const d = await narHashDirByTar(`${into}/${top!.name}`);
      assert.ok(d, file);
      assert.equal(toSri(d), sri, file);
    }
  },
});
