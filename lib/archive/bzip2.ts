// bzip2 decompression for lib/archive/read.ts, via seek-bzip (pure JS, synchronous, byte-oriented).
import { Buffer } from "node:buffer";
import Bunzip from "seek-bzip";

const CHUNK = 1024 * 1024;

/** seek-bzip's output interface, batching bytes into chunks. */
class ChunkedOutput {
  #buf = new Uint8Array(CHUNK);
  #pos = 0;
  #total = 0;
  readonly #emit: (chunk: Uint8Array) => void;
  readonly #limit: number;

  constructor(emit: (chunk: Uint8Array) => void, limit: number) {
    this.#emit = emit;
    this.#limit = limit;
  }

  writeByte(byte: number): void {
    if (this.#pos === CHUNK) this.flush();
    this.#buf[this.#pos++] = byte;
  }

  write(buffer: Uint8Array, offset: number, length: number): number {
    for (let i = 0; i < length; i++) this.writeByte(buffer[offset + i]!);
    return length;
  }

  flush(): void {
    if (this.#pos === 0) return;
    this.#total += this.#pos;
    if (this.#total > this.#limit) {
      throw new RangeError("decompressed data exceeds the limit");
    }
    this.#emit(this.#buf.subarray(0, this.#pos));
    this.#buf = new Uint8Array(CHUNK);
    this.#pos = 0;
  }
}

/** seek-bzip's input interface over an open file (buffered sync reads). */
class FileInput {
  #buf = new Uint8Array(CHUNK);
  #len = 0;
  #at = 0;
  #eof = false;
  readonly #file: Deno.FsFile;

  constructor(file: Deno.FsFile) {
    this.#file = file;
    this.#fill();
  }

  #fill(): void {
    const n = this.#file.readSync(this.#buf);
    this.#len = n ?? 0;
    this.#at = 0;
    if (n === null) this.#eof = true;
  }

  readByte(): number {
    if (this.#at >= this.#len) {
      if (this.#eof) return -1;
      this.#fill();
      if (this.#eof) return -1;
    }
    return this.#buf[this.#at++]!;
  }

  read(buffer: Uint8Array, offset: number, length: number): number {
    let n = 0;
    while (n < length) {
      const c = this.readByte();
      if (c < 0) return n === 0 ? -1 : n;
      buffer[offset + n++] = c;
    }
    return n;
  }

  eof(): boolean {
    if (this.#at < this.#len) return false;
    if (!this.#eof) this.#fill();
    return this.#eof;
  }

  seek(): void {
    throw new Error("seek is not supported");
  }
}

/** Decompresses bzip2 bytes in memory; RangeError when the output would exceed `limit`. */
export function bunzip2(
  bytes: Uint8Array,
  limit = Number.MAX_SAFE_INTEGER,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  const out = new ChunkedOutput((c) => chunks.push(c), limit);
  Bunzip.decode(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
    out,
    true,
  );
  out.flush();
  const result = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    result.set(c, at);
    at += c.length;
  }
  return result;
}

/** Decompresses a bzip2 file into another file, in bounded memory. */
export function bunzip2File(input: Deno.FsFile, output: Deno.FsFile): void {
  const out = new ChunkedOutput((c) => {
    let done = 0;
    while (done < c.length) done += output.writeSync(c.subarray(done));
  }, Number.MAX_SAFE_INTEGER);
  Bunzip.decode(new FileInput(input), out, true);
  out.flush();
}
