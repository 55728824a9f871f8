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
import {
  CHUNK,
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
} from "./nar_format.ts";
import {
  BATCH_FILES,
  changed,
  type FileRead,
  fsError,
  ParallelReader,
  readFileSmall,
} from "./nar_reader.ts";
import { narHashDirByTar, tarAllowed } from "./nar_tar_fifo.ts";

/** Tuning knobs of narHashPath/narDumpPath (tests and the benchmark use them). */
interface NarOptions {
  /** Reader workers for large trees (default 2; 0 reads everything on this thread). */
  workers?: number;
  /** Trees with fewer regular files than this are read on this thread (default 2000). */
  parallelThreshold?: number;
  /**
   * Hash a directory from one `tar` stream when the process may run tar (default true; false
   * walks the tree in Deno). See lib/hash/nar_tar_fifo.ts.
   */
  tar?: boolean;
}

/**
 * Trees with fewer entries than this are walked even when tar may run: the tar route's fixed
 * cost (a thread, mkfifo, tar) is ~25 ms, which the walk's per-file cost catches up with at
 * ~600-800 files (bench/README.md).
 */
const TAR_FROM = 600;

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
/** The path narDumpPath serialises: like nix-hash, "link/" is what the symlink points to. */
function rootOf(path: string): string {
  const root = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return root !== path && Deno.lstatSync(root).isSymlink
    ? Deno.realPathSync(root)
    : root;
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
  const root = rootOf(path);
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
  if (options.tar !== false && tarAllowed()) {
    // One tar process walks and reads the tree: no Deno permission check per path.
    let root: string | undefined;
    try {
      root = rootOf(path);
      if (!Deno.lstatSync(root).isDirectory) root = undefined;
    } catch {
      root = undefined; // the walk below reports it
    }
    const d = root === undefined || !tarSuits(root)
      ? undefined
      : await narHashDirByTar(root);
    if (d) return d;
  }
  const hash = newSha256();
  await narDumpPath(path, hash, options);
  return finish(hash);
}

/**
 * True when the tree under `dir` has TAR_FROM entries or more (counting stops there), or a name
 * that is not UTF-8: Deno reads such a name with U+FFFD in it and the walk could not open it,
 * while tar keeps its bytes.
 */
function tarSuits(dir: string): boolean {
  let count = 0;
  const visit = (path: string): boolean => {
    for (const e of Deno.readDirSync(path)) {
      if (++count >= TAR_FROM || e.name.includes("\uFFFD")) return true;
      if (e.isDirectory && visit(`${path}/${e.name}`)) return true;
    }
    return false;
  };
  try {
    return visit(dir);
  } catch {
    return false; // the walk reports it
  }
}
