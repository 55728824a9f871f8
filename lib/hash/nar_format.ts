// The NAR (Nix ARchive) format: its tokens, a writer that batches them into a sink, Nix's name
// order, and the serialisation of an in-memory tree (an archive's unpacked contents). Trees on
// disk are walked by lib/hash/nar.ts.
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

export const enc = new TextEncoder();

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

export const MAGIC = tokens("nix-archive-1");
export const REGULAR = tokens("(", "type", "regular", "contents");
export const EXECUTABLE = tokens(
  "(",
  "type",
  "regular",
  "executable",
  "",
  "contents",
);
export const SYMLINK = tokens("(", "type", "symlink", "target");
export const DIRECTORY = tokens("(", "type", "directory");
export const ENTRY = tokens("entry", "(", "name");
export const NODE = tokens("node");
export const CLOSE = tokens(")");
const ZEROS = new Uint8Array(8);

/** Large contents reach the sink in slices of at most this size. */
export const CHUNK = 1024 * 1024;

/**
 * Batches the many tiny NAR tokens into one buffer so the sink sees few, large updates.
 * Large payloads bypass the buffer.
 */
export class NarWriter {
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
