// The zip container (central directory, local headers, zip64) for lib/archive/read.ts. fflate does the
// inflating; it is not used to list entries because its listing drops the external attributes
// (unix mode bits: executables, symlinks) and silently merges duplicate names.
import { crc32 } from "node:zlib";
import { Inflate, inflateSync } from "fflate";

/** Random access to the archive's bytes: in memory or an open file. */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

/** A source over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** A source over an open file (sync positioned reads). */
export function fileSource(file: Deno.FsFile, size: number): ByteSource {
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      file.seekSync(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < length) {
        const n = file.readSync(out.subarray(got));
        if (n === null) break;
        got += n;
      }
      return got === length ? out : out.subarray(0, got);
    },
  };
}

/** One central-directory record. */
export interface ZipEntry {
  name: string;
  /** Unix mode from the external attributes when the archive was made on Unix, else undefined. */
  unixMode: number | undefined;
  /** The MS-DOS directory attribute or a trailing '/'. */
  isDirectory: boolean;
  method: number;
  encrypted: boolean;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** A corrupt or unsupported zip; lib/archive/read.ts turns it into a KitError naming the archive. */
export class ZipError extends Error {}

const utf8 = new TextDecoder("utf-8");

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>>
    0;
}
function u64(b: Uint8Array, o: number): number {
  const n = u32(b, o) + u32(b, o + 4) * 0x1_0000_0000;
  if (!Number.isSafeInteger(n)) {
    throw new ZipError("a zip64 field is too large");
  }
  return n;
}

/** Lists the central directory. */
export function listZip(src: ByteSource): ZipEntry[] {
  const tailLength = Math.min(src.size, 22 + 0xffff);
  const tail = src.read(src.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("no end of central directory record");
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = src.size - tailLength + eocd - 20;
    const loc = locAt >= 0 ? src.read(locAt, 20) : new Uint8Array();
    if (loc.length === 20 && u32(loc, 0) === 0x07064b50) {
      const rec = src.read(u64(loc, 8), 56);
      if (rec.length < 56 || u32(rec, 0) !== 0x06064b50) {
        throw new ZipError("bad zip64 end of central directory record");
      }
      count = u64(rec, 32);
      cdSize = u64(rec, 40);
      cdOffset = u64(rec, 48);
    }
  }
  if (cdOffset + cdSize > src.size) {
    throw new ZipError("the central directory lies outside the file");
  }
  const cd = src.read(cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50) {
      throw new ZipError("truncated central directory");
    }
    const madeBy = u16(cd, p + 4);
    const flags = u16(cd, p + 8);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    const external = u32(cd, p + 38);
    let compressedSize = u32(cd, p + 20);
    let size = u32(cd, p + 24);
    let localHeaderOffset = u32(cd, p + 42);
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 0xffffffff fields follow, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = u16(cd, x);
      const len = u16(cd, x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) (size = u64(cd, q)), (q += 8);
        if (compressedSize === 0xffffffff) {
          (compressedSize = u64(cd, q)), (q += 8);
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(cd, q);
      }
      x += 4 + len;
    }
    const unixMode = madeBy >> 8 === 3 && external >>> 16 !== 0
      ? external >>> 16
      : undefined;
    entries.push({
      name,
      unixMode,
      isDirectory: name.endsWith("/") || (external & 0x10) !== 0 ||
        (unixMode !== undefined && (unixMode & 0o170000) === 0o040000),
      method: u16(cd, p + 10),
      encrypted: (flags & 1) !== 0,
      crc: u32(cd, p + 16),
      compressedSize,
      size,
      localHeaderOffset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Where an entry's compressed bytes start (after its local header). */
function dataOffset(src: ByteSource, e: ZipEntry): number {
  const h = src.read(e.localHeaderOffset, 30);
  if (h.length < 30 || u32(h, 0) !== 0x04034b50) {
    throw new ZipError(`bad local header for "${e.name}"`);
  }
  const start = e.localHeaderOffset + 30 + u16(h, 26) + u16(h, 28);
  if (start + e.compressedSize > src.size) {
    throw new ZipError(`"${e.name}" is truncated`);
  }
  return start;
}

function checkSupported(e: ZipEntry): void {
  if (e.encrypted) throw new ZipError(`"${e.name}" is encrypted`);
  if (e.method !== 0 && e.method !== 8) {
    throw new ZipError(
      `"${e.name}" uses compression method ${e.method} (only stored and deflate are supported)`,
    );
  }
}

/** The output size streamZipEntry aims at per push into the inflater. */
const INFLATE_OUT = 1024 * 1024;

/** An entry's contents in memory, size- and CRC-checked. */
export function readZipEntry(src: ByteSource, e: ZipEntry): Uint8Array {
  checkSupported(e);
  const raw = src.read(dataOffset(src, e), e.compressedSize);
  let out: Uint8Array;
  if (e.method === 0) out = raw;
  else {
    try {
      out = inflateSync(raw, { out: new Uint8Array(e.size) });
    } catch (err) {
      throw new ZipError(`cannot inflate "${e.name}": ${err}`);
    }
  }
  if (out.length !== e.size) {
    throw new ZipError(
      `"${e.name}" has ${out.length} bytes, expected ${e.size}`,
    );
  }
  if ((crc32(out) >>> 0) !== e.crc) {
    throw new ZipError(`CRC mismatch in "${e.name}"`);
  }
  return out;
}

/**
 * Streams an entry's contents in chunks to `emit` (bounded memory), size- and CRC-checked.
 * Used for entries too large to hold in memory.
 */
export function streamZipEntry(
  src: ByteSource,
  e: ZipEntry,
  emit: (chunk: Uint8Array) => void,
): void {
  checkSupported(e);
  let at = dataOffset(src, e);
  const end = at + e.compressedSize;
  let total = 0;
  let pushed = 0;
  let crc = 0;
  const take = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > e.size) {
      throw new ZipError(`"${e.name}" is larger than recorded`);
    }
    crc = crc32(chunk, crc);
    emit(chunk);
  };
  const inflater = e.method === 8 ? new Inflate((c) => take(c)) : undefined;
  while (at < end) {
    const n = Math.min(1024 * 1024, end - at);
    const chunk = src.read(at, n);
    at += n;
    if (!inflater) {
      take(chunk);
      continue;
    }
    // fflate inflates each push into one output buffer, and deflate expands up to 1032:1: pushes
    // of at most 16 KiB, smaller when the ratio seen so far is high, keep each output near
    // 1 MiB (never over ~17 MiB), even for a zip bomb.
    for (let p = 0; p < chunk.length;) {
      const ratio = pushed ? Math.max(1, total / pushed) : 1032;
      const size = Math.max(1024, Math.min(16 * 1024, INFLATE_OUT / ratio));
      const piece = chunk.subarray(p, p + size);
      p += piece.length;
      pushed += piece.length;
      try {
        inflater.push(piece, at >= end && p >= chunk.length);
      } catch (err) {
        if (err instanceof ZipError) throw err;
        throw new ZipError(`cannot inflate "${e.name}": ${err}`);
      }
    }
  }
  if (inflater && e.compressedSize === 0) inflater.push(new Uint8Array(), true);
  if (total !== e.size) {
    throw new ZipError(`"${e.name}" has ${total} bytes, expected ${e.size}`);
  }
  if ((crc >>> 0) !== e.crc) throw new ZipError(`CRC mismatch in "${e.name}"`);
}
