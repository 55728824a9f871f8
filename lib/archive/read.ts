// Archives (.tar, .tar.gz/.tgz, .tar.bz2, .zip/.whl) read safely into validated entries: the
// formats and their entries. The NAR hash of an archive's unpacked contents is narHashArchive
// (lib/archive/nar_archive.ts, re-exported here); the tree rules are in lib/archive/tree.ts.
//
// tar: modern-tar (strict: header checksums, truncation). gzip: node:zlib / DecompressionStream.
// bzip2: seek-bzip. zip: lib/archive/zip.ts (central directory) + fflate (inflate).
import { gunzipSync } from "node:zlib";
import {
  type ParsedTarEntryWithData,
  type TarHeader,
  unpackTar,
} from "modern-tar";
import { KitError } from "../kit/errors.ts";
import {
  type ByteSource,
  bytesSource,
  listZip,
  readZipEntry,
  type ZipEntry,
  ZipError,
} from "./zip.ts";
import { bunzip2 } from "./bzip2.ts";
import {
  type ArchiveEntry,
  bad,
  ownerExecutable,
  type Spilled,
  TreeBuilder,
} from "./tree.ts";

/** Archive formats we read. */
export type ArchiveFormat = "tar" | "tar.gz" | "tar.bz2" | "zip";

/**
 * The format of an archive from its first bytes, else from its name. Throws a KitError for
 * formats we do not read (xz, zstd, …) and for anything unrecognised.
 */
export function detectFormat(head: Uint8Array, name: string): ArchiveFormat {
  const is = (...b: number[]) => b.every((v, i) => head[i] === v);
  if (is(0x1f, 0x8b)) return "tar.gz";
  if (is(0x42, 0x5a, 0x68)) return "tar.bz2";
  if (is(0x50, 0x4b, 0x03, 0x04) || is(0x50, 0x4b, 0x05, 0x06)) return "zip";
  if (is(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) {
    throw new KitError(
      `Cannot read "${name}": xz compression is not supported`,
    );
  }
  if (is(0x28, 0xb5, 0x2f, 0xfd)) {
    throw new KitError(
      `Cannot read "${name}": zstd compression is not supported`,
    );
  }
  const magic = String.fromCharCode(...head.subarray(257, 262));
  if (magic === "ustar" || /\.tar$/i.test(name)) return "tar";
  throw new KitError(
    `Cannot read "${name}": not a recognised archive (.tar, .tar.gz, .tgz, .tar.bz2, .zip, .whl)`,
  );
}

/** Adds one tar entry (contents already in memory or spilled). */
export function addTarEntry(
  b: TreeBuilder,
  archive: string,
  header: TarHeader,
  data: Uint8Array | Spilled | undefined,
): void {
  const raw = header.name;
  switch (header.type ?? "file") {
    case "file":
      b.file(raw, ownerExecutable(header.mode), data ?? new Uint8Array());
      break;
    case "directory":
      b.directory(raw);
      break;
    case "symlink":
      b.symlink(raw, header.linkname ?? "");
      break;
    case "link":
      b.hardlink(raw, header.linkname ?? "");
      break;
    case "character-device":
    case "block-device":
    case "fifo":
      throw bad(
        archive,
        `${header.type} entries cannot be unpacked (NAR has only files, directories and symlinks)`,
        header.name,
      );
    default:
      throw bad(
        archive,
        `unsupported entry type "${header.type}"`,
        header.name,
      );
  }
}

function tarEntries(
  archive: string,
  tar: Uint8Array,
): Promise<ParsedTarEntryWithData[]> {
  return unpackTar(tar, { strict: true }).catch((e) => {
    throw bad(archive, tarMessage(e));
  });
}

export function tarMessage(e: unknown): string {
  return `not a valid tar stream (${
    e instanceof Error ? e.message : String(e)
  })`;
}

/** Decompresses a tar.gz/tar.bz2 in memory; undefined when it would exceed `limit` bytes. */
function decompress(
  archive: string,
  format: ArchiveFormat,
  bytes: Uint8Array,
  limit = Number.MAX_SAFE_INTEGER,
): Uint8Array | undefined {
  try {
    if (format === "tar.gz") {
      return gunzipSync(bytes, { maxOutputLength: Math.min(limit, 2 ** 32) });
    }
    if (format === "tar.bz2") return bunzip2(bytes, limit);
    return bytes;
  } catch (e) {
    if (
      e instanceof RangeError ||
      (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE"
    ) {
      return undefined;
    }
    throw bad(
      archive,
      `cannot decompress: ${e instanceof Error ? e.message : e}`,
    );
  }
}

export function zipEntryInto(
  b: TreeBuilder,
  archive: string,
  src: ByteSource,
  e: ZipEntry,
  contents: () => Uint8Array | Spilled,
): void {
  const type = e.unixMode === undefined ? 0 : e.unixMode & 0o170000;
  if (e.isDirectory) return b.directory(e.name);
  if (type === 0o120000) {
    if (e.size > 4096) throw bad(archive, "symlink target too long", e.name);
    return b.symlink(e.name, new TextDecoder().decode(readZipEntry(src, e)));
  }
  if (type !== 0 && type !== 0o100000) {
    throw bad(
      archive,
      "device, FIFO or socket entries cannot be unpacked (NAR has only files, directories and symlinks)",
      e.name,
    );
  }
  b.file(e.name, ownerExecutable(e.unixMode), contents());
}

export function zipError(archive: string, e: unknown): unknown {
  return e instanceof ZipError ? bad(archive, e.message) : e;
}

/**
 * Reads an archive held in memory into validated entries (hard links resolved to copies, implied
 * directories listed before their contents). `name` is used for messages and, with the first
 * bytes, to pick the format.
 */
export async function readArchiveBytes(
  bytes: Uint8Array,
  name: string,
): Promise<ArchiveEntry[]> {
  return (await buildInMemory(bytes, name)).entries;
}

/** Reads an archive file into validated entries (see readArchiveBytes). */
export async function readArchive(path: string): Promise<ArchiveEntry[]> {
  return await readArchiveBytes(await readArchiveFile(path), path);
}

async function readArchiveFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`No such file: "${path}"`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new KitError(`"${path}" is a directory, not an archive`);
    }
    throw e;
  }
}

async function buildInMemory(
  bytes: Uint8Array,
  name: string,
): Promise<TreeBuilder> {
  const format = detectFormat(bytes.subarray(0, 512), name);
  const b = new TreeBuilder(name, format === "zip");
  if (format === "zip") {
    const src = bytesSource(bytes);
    try {
      for (const e of listZip(src)) {
        zipEntryInto(b, name, src, e, () => readZipEntry(src, e));
      }
    } catch (e) {
      throw zipError(name, e);
    }
    return b;
  }
  const tar = decompress(name, format, bytes)!;
  for (const { header, data } of await tarEntries(name, tar)) {
    addTarEntry(b, name, header, data);
  }
  return b;
}
