// Archives holding one large file of zeros (top/zeros), built in seconds and a few MB whatever the
// size: the deflate stream is one compressed 1 MiB segment repeated (full flushes make segments
// independent), a plain tar is a sparse file. For the memory-bound and Ctrl-C tests.
import { constants, crc32, deflateRawSync } from "node:zlib";

const MIB = 1024 * 1024;

/** The 512-byte ustar header of a regular file `name` of `size` bytes. */
function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number) => h.set(new TextEncoder().encode(s), at);
  put(name, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(size.toString(8).padStart(11, "0") + "\0", 124);
  put("00000000000\0", 136);
  put("        ", 148);
  put("0", 156);
  put("ustar\x0000", 257);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

const segment = (bytes: Uint8Array) =>
  new Uint8Array(
    deflateRawSync(bytes, { finishFlush: constants.Z_FULL_FLUSH }),
  );
const FINAL = new Uint8Array([0x03, 0x00]); // an empty final fixed-Huffman block

/** Raw deflate of `head`, `mib` MiB of zeros and `tail`, with its CRC-32 and length. */
function deflateZeros(head: Uint8Array, mib: number, tail: Uint8Array) {
  const zeros = new Uint8Array(MIB);
  const z = segment(zeros);
  const parts = [segment(head), ...Array(mib).fill(z), segment(tail), FINAL];
  let crc = crc32(head);
  for (let i = 0; i < mib; i++) crc = crc32(zeros, crc);
  crc = crc32(tail, crc);
  return { parts, crc: crc >>> 0, size: head.length + mib * MIB + tail.length };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

function le(n: number, bytes: number): number[] {
  return Array.from(
    { length: bytes },
    (_, i) => Math.floor(n / 256 ** i) % 256,
  );
}

/** A zip with one deflated entry (`top/zeros` unless named) of `mib` MiB. */
export async function zerosZip(
  path: string,
  mib: number,
  entry = "top/zeros",
): Promise<void> {
  const name = new TextEncoder().encode(entry);
  const d = deflateZeros(new Uint8Array(), mib, new Uint8Array());
  const data = concat(d.parts);
  const common = [
    ...le(20, 2),
    ...le(0, 2),
    ...le(8, 2),
    ...le(0, 2),
    ...le(0, 2),
    ...le(d.crc, 4),
    ...le(data.length, 4),
    ...le(d.size, 4),
    ...le(name.length, 2),
    ...le(0, 2),
  ];
  const local = new Uint8Array([...le(0x04034b50, 4), ...common]);
  const central = new Uint8Array([
    ...le(0x02014b50, 4),
    ...le(0x0314, 2),
    ...common,
    ...le(0, 2),
    ...le(0, 2),
    ...le(0, 2),
    ...le(0o100644 * 65536, 4),
    ...le(0, 4),
  ]);
  const cdOffset = local.length + name.length + data.length;
  const cdSize = central.length + name.length;
  const eocd = new Uint8Array([
    ...le(0x06054b50, 4),
    ...le(0, 2),
    ...le(0, 2),
    ...le(1, 2),
    ...le(1, 2),
    ...le(cdSize, 4),
    ...le(cdOffset, 4),
    ...le(0, 2),
  ]);
  await Deno.writeFile(path, concat([local, name, data, central, name, eocd]));
}

/** The tar of `top/zeros` (`mib` MiB): header, padding-free contents, two end blocks. */
function tarParts(mib: number) {
  return {
    head: tarHeader("top/zeros", mib * MIB),
    tail: new Uint8Array(1024),
  };
}

/** A .tar.gz of `top/zeros` of `mib` MiB. */
export async function zerosTarGz(path: string, mib: number): Promise<void> {
  const { head, tail } = tarParts(mib);
  const d = deflateZeros(head, mib, tail);
  const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  const trailer = new Uint8Array([...le(d.crc, 4), ...le(d.size % 2 ** 32, 4)]);
  await Deno.writeFile(path, concat([header, ...d.parts, trailer]));
}

/** A plain (sparse) .tar of `top/zeros` of `mib` MiB. */
export async function zerosTar(path: string, mib: number): Promise<void> {
  const { head, tail } = tarParts(mib);
  using f = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  await f.write(head);
  await f.truncate(512 + mib * MIB + tail.length);
}

/** A .tar.bz2 of `top/zeros` of `mib` MiB (bzip2 streams concatenated; needs `bzip2`). */
export async function zerosTarBz2(path: string, mib: number): Promise<void> {
  const bz = async (bytes: Uint8Array) => {
    const p = new Deno.Command("bzip2", {
      args: ["-c"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(bytes);
    await w.close();
    return (await p.output()).stdout;
  };
  const { head, tail } = tarParts(mib);
  const zeros = await bz(new Uint8Array(MIB));
  await Deno.writeFile(
    path,
    concat([await bz(head), ...Array(mib).fill(zeros), await bz(tail)]),
  );
}
