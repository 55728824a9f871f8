// The fast path of narHashPath for directories: GNU `find -printf` lists every entry's type,
// mode, size and symlink target in one subprocess, and batches of small files are read by
// `tail` subprocesses (two at a time, on the other core) whose output is split by the listed
// sizes. Deno itself then does almost no per-file system calls: under any permission set but
// -A, every Deno open re-resolves each folder of its path for the permission check (~60 µs per
// file here, against ~20 µs for all of nix-hash's work on it). Large files, few by nature, are
// still read by Deno, streamed.
//
// Nothing is taken on trust: find and tail must be permitted (--allow-run=find,tail; never
// prompted), find must be GNU (-printf), names must be UTF-8, and anything NAR cannot hold
// (FIFOs, sockets, devices), any message on stderr, any failed command, or a batch whose length
// is not the sum of the listed sizes makes narDumpListed return false: the caller discards what
// was written and walks the tree in-process, which gives the precise error. A tree modified
// while it is hashed has no meaningful NAR hash either way (as with Nix).
// Not a public module: import lib/nar.ts.
import {
  CLOSE,
  compareNames,
  DIRECTORY,
  enc,
  ENTRY,
  EXECUTABLE,
  MAGIC,
  type NarSink,
  NarWriter,
  NODE,
  REGULAR,
  SYMLINK,
} from "./_nar_writer.ts";

/** Files up to this size are read by tail batches; larger ones by Deno, streamed. */
const SMALL = 64 * 1024;
/** Limits of one tail batch: bytes of output, files, bytes of argv. */
const BATCH_BYTES = 32 * 1024 * 1024;
const BATCH_FILES = 2000;
const BATCH_ARGV = 512 * 1024;
/** tail batches running ahead of the writer. */
const AHEAD = 2;
const CHUNK = 1024 * 1024;

/** Whether this process may run find and tail (never prompts). */
export function listingAllowed(): boolean {
  try {
    return ["find", "tail"].every((command) =>
      Deno.permissions.querySync({ name: "run", command }).state === "granted"
    );
  } catch {
    return false;
  }
}

/** Thrown when the fast path cannot be used; the caller falls back. */
class Unsuitable extends Error {}

type Node =
  | { type: "d"; entries: [string, Node][] }
  | { type: "f"; path: string; executable: boolean; size: number }
  | { type: "l"; target: string };

type FileNode = Extract<Node, { type: "f" }>;

/**
 * Runs a command in `cwd` with a clean environment; its stdout, or Unsuitable. With `expect`,
 * stdout must be exactly that many bytes and is read straight into one buffer (`output()`
 * concatenates small reads, which costs more than the reading here).
 */
async function runQuiet(
  command: string,
  args: string[],
  cwd: string,
  expect?: number,
): Promise<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    // A clean environment: nothing like POSIXLY_CORRECT may change what the tools print.
    child = new Deno.Command(command, {
      args,
      cwd,
      clearEnv: true,
      env: { LC_ALL: "C" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    throw new Unsuitable();
  }
  const stderr = new Response(child.stderr).arrayBuffer();
  let out: Uint8Array;
  if (expect === undefined) {
    out = new Uint8Array(await new Response(child.stdout).arrayBuffer());
  } else {
    out = new Uint8Array(expect);
    let at = 0;
    for await (const chunk of child.stdout) {
      if (at + chunk.length > expect) {
        at = -1;
        break;
      }
      out.set(chunk, at);
      at += chunk.length;
    }
    if (at !== expect) {
      try {
        child.kill();
      } catch {
        // already exited
      }
      await Promise.allSettled([child.status, stderr]);
      throw new Unsuitable();
    }
  }
  const [status, messages] = await Promise.all([child.status, stderr]);
  if (!status.success || messages.byteLength > 0) throw new Unsuitable();
  return out;
}

/** Lists the tree under `dir` (cwd) as a Node, from one `find -printf` run. */
async function list(dir: string): Promise<Node> {
  const raw = await runQuiet("find", [
    ".",
    "-printf",
    "%y %m %s %P\\0%l\\0",
  ], dir);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new Unsuitable(); // a name that is not UTF-8
  }
  const fields = text.split("\0");
  const dirs = new Map<string, Extract<Node, { type: "d" }>>();
  let root: Node | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i]!;
    const target = fields[i + 1]!;
    const s1 = meta.indexOf(" ");
    const s2 = meta.indexOf(" ", s1 + 1);
    const s3 = meta.indexOf(" ", s2 + 1);
    if (s1 !== 1 || s2 < 0 || s3 < 0) throw new Unsuitable();
    const type = meta[0];
    const path = meta.slice(s3 + 1);
    let node: Node;
    if (type === "d") {
      node = { type: "d", entries: [] };
      dirs.set(path, node);
    } else if (type === "f") {
      const mode = parseInt(meta.slice(s1 + 1, s2), 8);
      const size = Number(meta.slice(s2 + 1, s3));
      if (!Number.isSafeInteger(size) || Number.isNaN(mode)) {
        throw new Unsuitable();
      }
      node = { type: "f", path, executable: (mode & 0o100) !== 0, size };
    } else if (type === "l") {
      node = { type: "l", target };
    } else {
      throw new Unsuitable(); // socket, FIFO, device, or an error marker
    }
    if (path === "") {
      if (root || type !== "d") throw new Unsuitable();
      root = node;
      continue;
    }
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    const parent = dirs.get(slash < 0 ? "" : path.slice(0, slash));
    if (!parent || name === "" || name === "." || name === "..") {
      throw new Unsuitable();
    }
    parent.entries.push([name, node]);
  }
  if (!root) throw new Unsuitable();
  return root;
}

/** The NAR skeleton: bytes with every non-empty file's contents cut out, and those files. */
function skeleton(root: Node): { bytes: Uint8Array[]; files: FileNode[] } {
  const bytes: Uint8Array[] = [];
  const files: FileNode[] = [];
  let chunks: Uint8Array[] = [];
  const w = new NarWriter({ update: (c) => chunks.push(c.slice()) });
  const cut = () => {
    w.flush();
    bytes.push(concat(chunks));
    chunks = [];
  };
  const node = (n: Node) => {
    switch (n.type) {
      case "f":
        w.raw(n.executable ? EXECUTABLE : REGULAR);
        w.u64(n.size);
        if (n.size > 0) {
          cut();
          files.push(n);
          w.pad(n.size);
        }
        break;
      case "l":
        w.raw(SYMLINK);
        w.str(enc.encode(n.target));
        break;
      case "d":
        w.raw(DIRECTORY);
        n.entries.sort((a, b) => compareNames(a[0], b[0]));
        for (const [name, child] of n.entries) {
          w.raw(ENTRY);
          w.str(enc.encode(name));
          w.raw(NODE);
          node(child);
          w.raw(CLOSE);
        }
        break;
    }
    w.raw(CLOSE);
  };
  w.raw(MAGIC);
  node(root);
  cut();
  return { bytes, files };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Consecutive small files read by one tail, by index into the file list. */
interface Batch {
  start: number;
  end: number;
  bytes: number;
}

function batches(files: FileNode[]): Map<number, Batch> {
  const out = new Map<number, Batch>();
  let cur: Batch | undefined;
  let argv = 0;
  files.forEach((f, i) => {
    if (f.size > SMALL) {
      cur = undefined;
      return;
    }
    const arg = f.path.length * 3 + 1; // UTF-8 bytes, at most
    if (
      !cur || cur.end - cur.start >= BATCH_FILES ||
      cur.bytes + f.size > BATCH_BYTES || argv + arg > BATCH_ARGV
    ) {
      cur = { start: i, end: i, bytes: 0 };
      out.set(i, cur);
      argv = 0;
    }
    cur.end = i + 1;
    cur.bytes += f.size;
    argv += arg;
  });
  return out;
}

/** Streams a large file into the writer; it must still have the listed size. */
function writeLarge(w: NarWriter, dir: string, f: FileNode): void {
  using file = Deno.openSync(`${dir}/${f.path}`, { read: true });
  if (!file.statSync().isFile) throw new Unsuitable();
  const buf = new Uint8Array(CHUNK);
  let total = 0;
  while (true) {
    const n = file.readSync(buf);
    if (n === null) break;
    total += n;
    if (total > f.size) throw new Unsuitable();
    w.direct(n === buf.length ? buf : buf.subarray(0, n));
  }
  if (total !== f.size) throw new Unsuitable();
}

/**
 * Writes the NAR serialisation of directory `dir` to `sink` using find and tail. Returns false
 * (possibly after writing part of it) when the in-process walker must do the job instead.
 */
export async function narDumpListed(
  dir: string,
  sink: NarSink,
): Promise<boolean> {
  const running: { batch: Batch; output: Promise<Uint8Array> }[] = [];
  try {
    const { bytes, files } = skeleton(await list(dir));
    const plan = [...batches(files).values()];
    let next = 0;
    const start = () => {
      while (next < plan.length && running.length < AHEAD) {
        const b = plan[next++]!;
        // `tail -q -c +1` prints files whole, like cat, but without cat's per-file buffer
        // allocation (an mmap + munmap per file when writing to a pipe: 8x slower here).
        const args = ["-q", "-c", "+1", "--"];
        for (let k = b.start; k < b.end; k++) args.push(`./${files[k]!.path}`);
        const output = runQuiet("tail", args, dir, b.bytes);
        output.catch(() => {}); // awaited in order below
        running.push({ batch: b, output });
      }
    };
    start();
    const w = new NarWriter(sink);
    let batch: Uint8Array | undefined;
    let batchEnd = 0;
    let at = 0;
    for (let i = 0; i < files.length; i++) {
      w.raw(bytes[i]!);
      const f = files[i]!;
      if (f.size > SMALL) {
        writeLarge(w, dir, f);
      } else {
        if (!batch || i >= batchEnd) {
          const r = running.shift();
          if (r?.batch.start !== i) {
            throw new Error("NAR: tail batches out of step");
          }
          batch = await r.output;
          batchEnd = r.batch.end;
          at = 0;
          start();
        }
        w.raw(batch.subarray(at, at + f.size));
        at += f.size;
      }
    }
    w.raw(bytes[files.length]!);
    w.flush();
    return true;
  } catch {
    // Unsuitable, or a file-system error: the walker redoes it and names the culprit.
    return false;
  } finally {
    await Promise.allSettled(running.map((r) => r.output));
  }
}
