// NAR (Nix ARchive) serialisation, streamed into a hash: the bytes `nix-store --dump` writes and
// whose SHA-256 `nix-hash --type sha256`, fetchzip and fetchFromGitHub report.
//
// Format: every token is a NAR string (u64 little-endian length, bytes, zero padding to 8).
//   "nix-archive-1" node
//   node := "(" "type" "regular" ["executable" ""] "contents" <bytes> ")"
//         | "(" "type" "symlink" "target" <target> ")"
//         | "(" "type" "directory" ("entry" "(" "name" <name> "node" node ")")* ")"
// Directory entries are sorted by the byte order of their UTF-8 names; only a file's executable
// bit is recorded; symlinks are stored as-is and never followed.
//
// Speed: a tree on disk is first walked (directories and symlinks only) into its NAR "skeleton"
// plus the list of regular files; the files are then read either inline or, for large trees, by
// two reader workers (lib/hash/nar_worker.ts) in parallel while this thread hashes. A small file
// costs two Deno ops (lstat, readFile) rather than open + fstat + read + close: under any
// permission set but -A, every op that takes a path pays a permission check that resolves each
// folder of it (a readlink per component), so fewer ops per file is what counts.
import { KitError } from "../kit/errors.ts";
import { type Digest, finish, newSha256 } from "./sha256.ts";

/** Where NAR bytes go. `update` must consume the chunk before returning (it may be reused). */
export interface NarSink {
  update(chunk: Uint8Array): unknown;
}

/**
 * A regular file's contents: bytes in memory, or `size` bytes that `read` emits in chunks
 * (e.g. from a spill file on disk).
 */
export type NarContents = Uint8Array | {
  size: number;
  read(emit: (chunk: Uint8Array) => void): void;
};

/** An in-memory file-system tree, e.g. the unpacked contents of an archive. */
export type NarTree =
  | { type: "regular"; executable: boolean; contents: NarContents }
  | { type: "symlink"; target: string }
  | { type: "directory"; entries: Map<string, NarTree> };

/** Tuning knobs of narHashPath/narDumpPath (tests and the benchmark use them). */
export interface NarOptions {
  /** Reader workers for large trees (default 2; 0 reads everything on this thread). */
  workers?: number;
  /** Trees with fewer regular files than this are read on this thread (default 2000). */
  parallelThreshold?: number;
}

const enc = new TextEncoder();

/** The NAR encoding of a sequence of strings. */
function tokens(...parts: string[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    const b = enc.encode(p);
    const len = new Uint8Array(8);
    new DataView(len.buffer).setUint32(0, b.length, true);
    out.push(...len, ...b, ...new Uint8Array(-b.length & 7));
  }
  return new Uint8Array(out);
}

const MAGIC = tokens("nix-archive-1");
const REGULAR = tokens("(", "type", "regular", "contents");
const EXECUTABLE = tokens("(", "type", "regular", "executable", "", "contents");
const SYMLINK = tokens("(", "type", "symlink", "target");
const DIRECTORY = tokens("(", "type", "directory");
const ENTRY = tokens("entry", "(", "name");
const NODE = tokens("node");
const CLOSE = tokens(")");
const ZEROS = new Uint8Array(8);

/** Files up to this size are read whole (by a worker); larger ones are streamed in chunks. */
export const SMALL_FILE = 64 * 1024;
const CHUNK = 1024 * 1024;
const BATCH_FILES = 256;
const BATCHES_IN_FLIGHT = 4;

/**
 * Batches the many tiny NAR tokens into one buffer so the sink sees few, large updates.
 * Large payloads bypass the buffer.
 */
class NarWriter {
  readonly #sink: NarSink;
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;
  #flushed = 0;

  constructor(sink: NarSink, size = 256 * 1024) {
    this.#sink = sink;
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.#flushed + this.#pos;
  }

  flush(): void {
    if (this.#pos > 0) {
      this.#sink.update(this.#buf.subarray(0, this.#pos));
      this.#flushed += this.#pos;
      this.#pos = 0;
    }
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length > this.#buf.length - this.#pos) {
      this.flush();
      if (bytes.length * 2 > this.#buf.length) {
        this.direct(bytes);
        return;
      }
    }
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  u64(n: number): void {
    if (this.#buf.length - this.#pos < 8) this.flush();
    this.#view.setUint32(this.#pos, n >>> 0, true);
    this.#view.setUint32(this.#pos + 4, Math.floor(n / 0x1_0000_0000), true);
    this.#pos += 8;
  }

  pad(length: number): void {
    const p = -length & 7;
    if (p > 0) this.raw(ZEROS.subarray(0, p));
  }

  /** A NAR string: length, bytes, padding. */
  str(bytes: Uint8Array): void {
    this.u64(bytes.length);
    this.raw(bytes);
    this.pad(bytes.length);
  }

  /**
   * Hands a chunk straight to the sink, after what is buffered; in slices of at most CHUNK, so a
   * sink that copies what it is given (node:crypto) never copies a whole large file.
   */
  direct(chunk: Uint8Array): void {
    this.flush();
    for (let at = 0; at < chunk.length; at += CHUNK) {
      this.#sink.update(chunk.subarray(at, at + CHUNK));
    }
    this.#flushed += chunk.length;
  }
}

/**
 * Compares two names by the byte order of their UTF-8 encodings (= code point order), which is
 * how Nix sorts directory entries; JS's default sort compares UTF-16 units and differs for
 * characters outside the BMP.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  return "not a regular file, directory or symlink";
}

function unsupported(path: string, info: Deno.FileInfo): KitError {
  return new KitError(
    `Cannot NAR-serialise "${path}": it is ${
      kindOf(info)
    }; only regular files, directories and symlinks can be hashed`,
  );
}

function changed(path: string): KitError {
  return new KitError(`File "${path}" changed while it was being hashed`);
}

/** Turns file-system errors into one-line KitErrors naming the path. */
function fsError(e: unknown, path: string): unknown {
  if (e instanceof Deno.errors.NotFound) {
    return new KitError(`No such file or directory: "${path}"`);
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new KitError(`Permission denied: "${path}"`);
  }
  if (e instanceof Deno.errors.NotCapable) {
    return new KitError(`Not allowed to read "${path}" (Deno permissions)`);
  }
  return e;
}

/** The walk of a tree: its NAR bytes with every regular file's node cut out, and those files. */
interface Skeleton {
  bytes: Uint8Array;
  /** cuts[k]: offset in `bytes` where files[k]'s node goes. */
  cuts: number[];
  files: string[];
}

/** Walks a tree into its Skeleton; `onFile` sees each regular file as soon as it is found. */
function walk(root: string, onFile: (files: string[]) => void): Skeleton {
  const chunks: Uint8Array[] = [];
  const w = new NarWriter({ update: (c) => chunks.push(c.slice()) });
  const cuts: number[] = [];
  const files: string[] = [];
  let at = root;
  const file = (path: string) => {
    cuts.push(w.offset);
    files.push(path);
    onFile(files);
  };
  const symlink = (path: string) => {
    at = path;
    w.raw(SYMLINK);
    w.str(enc.encode(Deno.readLinkSync(path)));
    w.raw(CLOSE);
  };
  const dir = (path: string) => {
    at = path;
    w.raw(DIRECTORY);
    const entries: Deno.DirEntry[] = [];
    for (const e of Deno.readDirSync(path)) entries.push(e);
    entries.sort((a, b) => compareNames(a.name, b.name));
    for (const e of entries) {
      w.raw(ENTRY);
      w.str(enc.encode(e.name));
      w.raw(NODE);
      const child = `${path}/${e.name}`;
      // The entry's type from readdir (d_type) saves an lstat per entry.
      if (e.isFile) file(child);
      else if (e.isDirectory) dir(child);
      else if (e.isSymlink) symlink(child);
      else node(child);
      w.raw(CLOSE);
    }
    w.raw(CLOSE);
  };
  const node = (path: string) => {
    at = path;
    const info = Deno.lstatSync(path);
    if (info.isSymlink) symlink(path);
    else if (info.isFile) file(path);
    else if (info.isDirectory) dir(path);
    else throw unsupported(path, info);
  };
  w.raw(MAGIC);
  try {
    node(root);
  } catch (e) {
    throw fsError(e, at);
  }
  w.flush();
  const bytes = new Uint8Array(w.offset);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return { bytes, cuts, files };
}

/** A regular file as read: its executable bit, size and (when small) contents. */
interface FileRead {
  executable: boolean;
  size: number;
  /** Undefined for a large file: the writer streams it from disk. */
  contents?: Uint8Array;
}

/**
 * Reads a file for the NAR: lstat (it must still be a regular file), then its contents when
 * small — two Deno ops, where open + fstat + read + close would pay the per-path permission
 * check more often. A large file is streamed by writeFile.
 */
function readFileSmall(path: string): FileRead {
  const info = Deno.lstatSync(path);
  if (!info.isFile) throw changed(path);
  const executable = ((info.mode ?? 0) & 0o100) !== 0;
  if (info.size > SMALL_FILE) return { executable, size: info.size };
  const contents = Deno.readFileSync(path);
  if (contents.length !== info.size) throw changed(path);
  return { executable, size: info.size, contents };
}

/** Writes a file's node; a large file is streamed from disk and must still have `size` bytes. */
function writeFile(w: NarWriter, path: string, r: FileRead): void {
  w.raw(r.executable ? EXECUTABLE : REGULAR);
  w.u64(r.size);
  if (r.contents) {
    w.raw(r.contents);
  } else {
    using f = Deno.openSync(path, { read: true });
    if (!f.statSync().isFile) throw changed(path);
    const buf = new Uint8Array(CHUNK);
    let total = 0;
    while (true) {
      const n = f.readSync(buf);
      if (n === null) break;
      total += n;
      if (total > r.size) throw changed(path);
      w.direct(n === buf.length ? buf : buf.subarray(0, n));
    }
    if (total !== r.size) throw changed(path);
  }
  w.pad(r.size);
  w.raw(CLOSE);
}

/** What a reader worker sends back for one batch of files. */
interface BatchResult {
  id: number;
  /** bit 0: executable; bit 1: large (not read). */
  flags?: Uint8Array;
  sizes?: Float64Array;
  data?: Uint8Array;
  error?: { path: string; name: string; message: string };
}

/**
 * Reads batches of files on worker threads, at most BATCHES_IN_FLIGHT ahead of the writer. The
 * file list grows while the tree is walked; full batches are sent as soon as they exist.
 */
class ParallelReader implements Disposable {
  readonly #workers: Worker[] = [];
  readonly #files: string[];
  readonly #pending = new Map<number, PromiseWithResolvers<BatchResult>>();
  #sent = 0;
  #consumed = 0;
  #complete = false;

  constructor(files: string[], workers: number) {
    this.#files = files;
    const url = new URL("./nar_worker.ts", import.meta.url).href;
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (e: MessageEvent<BatchResult>) => {
        this.#pending.get(e.data.id)?.resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        for (const p of this.#pending.values()) {
          p.reject(new Error(`NAR reader worker failed: ${e.message}`));
        }
      };
      this.#workers.push(worker);
    }
  }

  /** Sends the batches that are full (or, once the walk is complete, the last one). */
  pump(): void {
    while (this.#sent - this.#consumed < BATCHES_IN_FLIGHT) {
      const start = this.#sent * BATCH_FILES;
      const end = start + BATCH_FILES;
      if (
        this.#files.length < end &&
        !(this.#complete && start < this.#files.length)
      ) return;
      const id = this.#sent++;
      this.#pending.set(id, Promise.withResolvers());
      this.#workers[id % this.#workers.length]!.postMessage({
        id,
        paths: this.#files.slice(start, end),
        small: SMALL_FILE,
      });
    }
  }

  /** The walk is over: no more files will be added. */
  complete(): void {
    this.#complete = true;
    this.pump();
  }

  /** The reads of batch `id`, in file order. */
  async batch(id: number): Promise<FileRead[]> {
    const r = await this.#pending.get(id)!.promise;
    this.#pending.delete(id);
    this.#consumed++;
    this.pump();
    if (r.error) {
      const { path, name, message } = r.error;
      if (name === "NotFound") throw fsError(new Deno.errors.NotFound(), path);
      if (name === "PermissionDenied") {
        throw fsError(new Deno.errors.PermissionDenied(), path);
      }
      if (name === "Changed") throw changed(path);
      throw new KitError(`Cannot read "${path}": ${message}`);
    }
    const out: FileRead[] = [];
    let at = 0;
    for (let i = 0; i < r.flags!.length; i++) {
      const size = r.sizes![i]!;
      const flags = r.flags![i]!;
      if (flags & 2) out.push({ executable: (flags & 1) !== 0, size });
      else {
        out.push({
          executable: (flags & 1) !== 0,
          size,
          contents: r.data!.subarray(at, at + size),
        });
        at += size;
      }
    }
    return out;
  }

  [Symbol.dispose](): void {
    for (const w of this.#workers) w.terminate();
  }
}

/**
 * Writes the NAR serialisation of a file, directory or symlink on disk to `sink` (the bytes
 * `nix-store --dump` prints). Files are streamed; symlinks are never followed; sockets, FIFOs
 * and devices are a KitError.
 */
export async function narDumpPath(
  path: string,
  sink: NarSink,
  options: NarOptions = {},
): Promise<void> {
  let root = path.length > 1 ? path.replace(/\/+$/, "") : path;
  // Like nix-hash: "link/" names what the symlink points to, "link" the symlink itself.
  if (root !== path && Deno.lstatSync(root).isSymlink) {
    root = Deno.realPathSync(root);
  }
  let current = root;
  try {
    const workers = options.workers ?? 2;
    const threshold = options.parallelThreshold ?? 1000;
    // Workers start as soon as the walk has found enough files, so their start-up and the
    // first reads overlap the rest of the walk.
    let parallel: ParallelReader | undefined;
    let sk: Skeleton;
    try {
      sk = walk(root, (files) => {
        if (!parallel && workers > 0 && files.length >= threshold) {
          parallel = new ParallelReader(files, workers);
        }
        parallel?.pump();
      });
    } catch (e) {
      parallel?.[Symbol.dispose]();
      throw e;
    }
    using reader = parallel;
    reader?.complete();
    const w = new NarWriter(sink);
    let batch: FileRead[] = [];
    let prev = 0;
    for (let k = 0; k < sk.files.length; k++) {
      const file = sk.files[k]!;
      current = file;
      const cut = sk.cuts[k]!;
      w.raw(sk.bytes.subarray(prev, cut));
      prev = cut;
      let r: FileRead;
      if (reader) {
        if (k % BATCH_FILES === 0) batch = await reader.batch(k / BATCH_FILES);
        r = batch[k % BATCH_FILES]!;
      } else {
        r = readFileSmall(file);
      }
      writeFile(w, file, r);
    }
    w.raw(sk.bytes.subarray(prev));
    w.flush();
  } catch (e) {
    throw fsError(e, current);
  }
}

/** The NAR hash (SHA-256 of the NAR serialisation) of a path on disk, as `nix-hash --type sha256`. */
export async function narHashPath(
  path: string,
  options: NarOptions = {},
): Promise<Digest> {
  const hash = newSha256();
  await narDumpPath(path, hash, options);
  return finish(hash);
}

function dumpTreeNode(w: NarWriter, node: NarTree): void {
  switch (node.type) {
    case "regular": {
      const c = node.contents;
      w.raw(node.executable ? EXECUTABLE : REGULAR);
      if (c instanceof Uint8Array) {
        w.u64(c.length);
        w.raw(c);
        w.pad(c.length);
      } else {
        w.u64(c.size);
        let total = 0;
        c.read((chunk) => {
          total += chunk.length;
          w.direct(chunk);
        });
        if (total !== c.size) {
          throw new Error(
            `NAR contents: ${total} bytes read, ${c.size} expected`,
          );
        }
        w.pad(c.size);
      }
      break;
    }
    case "symlink":
      w.raw(SYMLINK);
      w.str(enc.encode(node.target));
      break;
    case "directory": {
      w.raw(DIRECTORY);
      const names = [...node.entries.keys()].sort(compareNames);
      for (const name of names) {
        w.raw(ENTRY);
        w.str(enc.encode(name));
        w.raw(NODE);
        dumpTreeNode(w, node.entries.get(name)!);
        w.raw(CLOSE);
      }
      break;
    }
  }
  w.raw(CLOSE);
}

/** Writes the NAR serialisation of an in-memory tree to `sink`. */
export function narDumpTree(tree: NarTree, sink: NarSink): void {
  const w = new NarWriter(sink);
  w.raw(MAGIC);
  dumpTreeNode(w, tree);
  w.flush();
}

/** The NAR hash of an in-memory tree. */
export function narHashTree(tree: NarTree): Digest {
  const hash = newSha256();
  narDumpTree(tree, hash);
  return finish(hash);
}

/** A sink collecting NAR bytes in memory (tests, small trees); `bytes()` concatenates them. */
export function collectSink(): NarSink & { bytes(): Uint8Array } {
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
