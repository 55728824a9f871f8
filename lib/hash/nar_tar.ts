// A NAR serialisation made from a GNU tar stream of a directory, as `tar` writes it with
// `--sort=name --format=gnu --hard-dereference`: one process walks and reads the whole tree (no
// Deno permission check per path), the kit only parses 512-byte headers and hashes. The
// entries arrive depth-first with each directory's names in byte order, which is NAR's order;
// an entry out of that order, a hard link, a device or a FIFO stops the dump (KitError), so a
// stream that is not what NAR needs never yields a wrong hash.
//
// Names are handled as bytes (one char per byte): a name that is not UTF-8 keeps its bytes.
import { KitError } from "../kit/errors.ts";
import {
  CLOSE,
  DIRECTORY,
  ENTRY,
  EXECUTABLE,
  MAGIC,
  type NarSink,
  NarWriter,
  NODE,
  REGULAR,
  SYMLINK,
} from "./nar_format.ts";

const BLOCK = 512;

/**
 * Bytes as a string of one char per byte. (TextDecoder's "latin1" is windows-1252, which maps
 * 0x80-0x9f elsewhere: that would corrupt UTF-8 names.)
 */
function binary(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    // apply, not a spread: a spread walks the typed array's iterator, which was most of the
    // time TarToNar spent parsing 20,000 headers.
    s += String.fromCharCode.apply(
      null,
      b.subarray(i, i + 4096) as unknown as number[],
    );
  }
  return s;
}

/** The bytes of a binary() string. */
function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Byte order of binary() strings: the UTF-16 units are the bytes. */
function before(a: string, b: string): boolean {
  return a < b;
}

function cString(h: Uint8Array, from: number, len: number): string {
  let end = from;
  while (end < from + len && h[end] !== 0) end++;
  return binary(h.subarray(from, end));
}

function octal(h: Uint8Array, from: number, len: number): number {
  if (h[from]! & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more.
    let n = h[from]! & 0x7f;
    for (let i = from + 1; i < from + len; i++) n = n * 256 + h[i]!;
    return n;
  }
  let n = 0;
  for (let i = from; i < from + len; i++) {
    const c = h[i]!;
    if (c === 0 || c === 32) {
      if (n > 0 || i > from) break;
      continue;
    }
    if (c < 48 || c > 55) throw new KitError("Tar stream: bad octal field");
    n = n * 8 + (c - 48);
  }
  return n;
}

/** The tree's state while entries arrive: open directories and their last names. */
interface Level {
  path: string;
  last: string | undefined;
}

/** Consumes a GNU tar stream of `.` (created with `-C DIR .`) and writes its NAR to `sink`. */
export class TarToNar {
  readonly #w: NarWriter;
  readonly #where: string;
  #stack: Level[] = [];
  #header = new Uint8Array(BLOCK);
  #headerFill = 0;
  /** Bytes of file data still to come, and the padding after them. */
  #data = 0;
  #skip = 0;
  #size = 0;
  /** A GNU long name ('L') or long link target ('K') being collected. */
  #long: { kind: "L" | "K"; parts: Uint8Array[]; left: number } | undefined;
  #longName: string | undefined;
  #longLink: string | undefined;
  #zeroBlocks = 0;
  #started = false;

  constructor(sink: NarSink, where: string) {
    this.#w = new NarWriter(sink);
    this.#where = where;
  }

  #fail(what: string): never {
    throw new KitError(`${this.#where}: ${what}`);
  }

  /** Feeds the next bytes of the stream. */
  push(chunk: Uint8Array): void {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (this.#data > 0) {
        const take = Math.min(this.#data, n - at);
        const part = chunk.subarray(at, at + take);
        if (this.#long) this.#long.parts.push(part.slice());
        else this.#w.raw(part);
        this.#data -= take;
        at += take;
        if (this.#data === 0) this.#endData();
        continue;
      }
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - at);
        this.#skip -= take;
        at += take;
        continue;
      }
      if (this.#headerFill === 0 && n - at >= BLOCK) {
        this.#onHeader(chunk.subarray(at, at + BLOCK));
        at += BLOCK;
        continue;
      }
      const take = Math.min(BLOCK - this.#headerFill, n - at);
      this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
      this.#headerFill += take;
      at += take;
      if (this.#headerFill === BLOCK) {
        this.#headerFill = 0;
        this.#onHeader(this.#header);
      }
    }
  }

  #endData(): void {
    this.#skip = -this.#size & (BLOCK - 1);
    if (this.#long) {
      const total = this.#long.parts.reduce((s, p) => s + p.length, 0);
      const all = new Uint8Array(total);
      let o = 0;
      for (const p of this.#long.parts) {
        all.set(p, o);
        o += p.length;
      }
      let end = all.indexOf(0);
      if (end < 0) end = all.length;
      const text = binary(all.subarray(0, end));
      if (this.#long.kind === "L") this.#longName = text;
      else this.#longLink = text;
      this.#long = undefined;
      return;
    }
    this.#w.pad(this.#size);
    this.#w.raw(CLOSE); // the regular node
    this.#w.raw(CLOSE); // its entry
  }

  #onHeader(h: Uint8Array): void {
    if (h.every((b) => b === 0)) {
      this.#zeroBlocks++;
      return;
    }
    if (this.#zeroBlocks > 0) this.#fail("tar stream: data after its end");
    const type = String.fromCharCode(h[156]!);
    const size = octal(h, 124, 12);
    if (type === "L" || type === "K") {
      this.#long = { kind: type, parts: [], left: size };
      this.#size = size;
      this.#data = size;
      if (size === 0) this.#endData();
      return;
    }
    let name = this.#longName ?? cString(h, 0, 100);
    const link = this.#longLink ?? cString(h, 157, 100);
    this.#longName = this.#longLink = undefined;
    if (name.endsWith("/")) name = name.slice(0, -1);
    if (name === ".") {
      if (type !== "5" || this.#started) {
        this.#fail("tar stream: unexpected root");
      }
      this.#started = true;
      this.#w.raw(MAGIC);
      this.#w.raw(DIRECTORY);
      this.#stack.push({ path: ".", last: undefined });
      return;
    }
    if (!this.#started || !name.startsWith("./")) {
      this.#fail(`tar stream: unexpected entry "${name}"`);
    }
    const slash = name.lastIndexOf("/");
    const parent = name.slice(0, slash);
    const base = name.slice(slash + 1);
    // Close the directories this entry is not in.
    while (this.#stack.length > 0 && this.#stack.at(-1)!.path !== parent) {
      this.#stack.pop();
      this.#w.raw(CLOSE); // the directory node
      this.#w.raw(CLOSE); // its entry
    }
    const level = this.#stack.at(-1);
    if (!level) this.#fail(`tar stream: "${name}" comes outside its directory`);
    if (level.last !== undefined && !before(level.last, base)) {
      this.#fail(`tar stream: "${name}" is out of NAR order`);
    }
    level.last = base;
    this.#w.raw(ENTRY);
    this.#w.str(bytesOf(base));
    this.#w.raw(NODE);
    const mode = octal(h, 100, 8);
    switch (type) {
      case "0":
      case "\0":
      case "7":
        this.#w.raw(mode & 0o100 ? EXECUTABLE : REGULAR);
        this.#w.u64(size);
        this.#size = size;
        this.#data = size;
        if (size === 0) this.#endData();
        return;
      case "2":
        this.#w.raw(SYMLINK);
        this.#w.str(bytesOf(link));
        this.#w.raw(CLOSE);
        this.#w.raw(CLOSE);
        return;
      case "5":
        this.#w.raw(DIRECTORY);
        this.#stack.push({ path: name, last: undefined });
        return;
      case "1":
        return this.#fail(`"${name.slice(2)}" came as a hard link`);
      case "3":
      case "4":
        return this.#fail(
          `cannot NAR-serialise "${name.slice(2)}": it is a device`,
        );
      case "6":
        return this.#fail(
          `cannot NAR-serialise "${name.slice(2)}": it is a FIFO`,
        );
      default:
        return this.#fail(`tar entry type "${type}" of "${name.slice(2)}"`);
    }
  }

  /** Ends the stream: closes every open directory and flushes the NAR. */
  end(): void {
    if (!this.#started) this.#fail("tar stream: empty");
    if (this.#data > 0 || this.#headerFill > 0 || this.#long) {
      this.#fail("tar stream: truncated");
    }
    while (this.#stack.length > 1) {
      this.#stack.pop();
      this.#w.raw(CLOSE);
      this.#w.raw(CLOSE);
    }
    this.#stack.pop();
    this.#w.raw(CLOSE);
    this.#w.flush();
  }
}
