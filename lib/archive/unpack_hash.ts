// The NAR hash of an archive's unpacked contents, computed in bounded memory: entries are
// streamed out of the archive (never decompressed whole), file contents are kept in memory up to
// a budget and spilled to a private temp file past it (lib/archive/spill.ts), then the tree is
// hashed in NAR order, spilled contents streamed back through the hash. Runs in
// lib/archive/unpack_worker.ts so the main thread stays free to answer Ctrl-C.
import { createTarDecoder } from "modern-tar";
import { KitError } from "../kit/errors.ts";
import type { Digest } from "../hash/sha256.ts";
import { narHashTree } from "../hash/nar_format.ts";
import { fileSource, listZip, streamZipEntry } from "./zip.ts";
import { bunzip2, bunzip2File } from "./bzip2.ts";
import { bad, type Spilled, toNarTree, TreeBuilder } from "./tree.ts";
import { Spill } from "./spill.ts";
import {
  addTarEntry,
  type ArchiveFormat,
  detectFormat,
  tarMessage,
  zipEntryInto,
  zipError,
} from "./read.ts";

/** Unpacked contents kept in memory before spilling (peak RSS measured in docs/checksum.md). */
const DEFAULT_MEMORY_LIMIT = 128 * 1024 * 1024;

/** What the work reports while it runs. */
type UnpackProgress = (
  phase: "unpacking" | "hashing",
  done: number,
  total: number,
) => void;

/** Options of narHashArchiveHere. */
interface UnpackHashOptions {
  /** Bytes of file contents kept in memory before spilling (default DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: number;
  /** Learns the private spill directory as soon as it exists (to remove it on Ctrl-C). */
  onDir?: (dir: string) => void;
  onProgress?: UnpackProgress;
}

/** The archive, open, and its size; a missing file or a folder is a one-line error. */
async function openArchive(path: string): Promise<[Deno.FsFile, number]> {
  try {
    const file = await Deno.open(path, { read: true });
    const info = await file.stat();
    if (info.isDirectory) {
      file.close();
      throw new KitError(`"${path}" is a directory, not an archive`);
    }
    return [file, info.size];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`No such file: "${path}"`);
    }
    throw e;
  }
}

/**
 * The NAR hash of an archive's unpacked contents, on this thread (see narHashArchive, which
 * runs it on a worker).
 */
export async function narHashArchiveHere(
  path: string,
  options: UnpackHashOptions = {},
): Promise<Digest> {
  const limit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  const progress = options.onProgress ?? (() => {});
  const [opened, size] = await openArchive(path);
  using file = opened;
  const head = new Uint8Array(512);
  const headLength = file.readSync(head) ?? 0;
  const format = detectFormat(head.subarray(0, headLength), path);
  using spill = new Spill(limit, path, options.onDir);
  const b = new TreeBuilder(path, format === "zip");
  if (format === "zip") zipInto(b, path, file, size, spill, progress);
  else await tarInto(b, path, format, file, size, spill, progress);

  let spilled = 0;
  let hashed = 0;
  const tree = toNarTree(b, (at: Spilled) => {
    spilled += at.size;
    const inner = spill.contents(at);
    return {
      size: at.size,
      read: (emit) =>
        inner.read((chunk) => {
          hashed += chunk.length;
          progress("hashing", hashed, spilled);
          emit(chunk);
        }),
    };
  });
  return narHashTree(tree);
}

function zipInto(
  b: TreeBuilder,
  archive: string,
  file: Deno.FsFile,
  size: number,
  spill: Spill,
  progress: UnpackProgress,
): void {
  const src = fileSource(file, size);
  try {
    const entries = listZip(src);
    const total = entries.reduce((n, e) => n + e.size, 0);
    let done = 0;
    const tick = (n: number) => progress("unpacking", done += n, total);
    for (const e of entries) {
      zipEntryInto(b, archive, src, e, () => {
        if (spill.fits(e.size)) {
          // Filled chunk by chunk: never more than the entry's recorded size.
          const buf = new Uint8Array(e.size);
          let at = 0;
          streamZipEntry(src, e, (c) => {
            buf.set(c, at);
            at += c.length;
            tick(c.length);
          });
          return buf;
        }
        const w = spill.writer();
        streamZipEntry(src, e, (c) => {
          w.write(c);
          tick(c.length);
        });
        return w.done();
      });
    }
  } catch (e) {
    throw zipError(archive, e);
  }
}

/** The decompressed tar stream of a tar/tar.gz/tar.bz2, counting the input read. */
async function tarStream(
  archive: string,
  format: ArchiveFormat,
  file: Deno.FsFile,
  size: number,
  spill: Spill,
  progress: UnpackProgress,
): Promise<ReadableStream<Uint8Array>> {
  file.seekSync(0, Deno.SeekMode.Start);
  const counted = (input: ReadableStream<Uint8Array>, total: number) => {
    let read = 0;
    return input.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          progress("unpacking", read += chunk.length, total);
          ctl.enqueue(chunk);
        },
      }),
    );
  };
  if (format === "tar") return counted(file.readable, size);
  if (format === "tar.gz") return gunzipBounded(counted(file.readable, size));
  // bzip2 (seek-bzip is synchronous): in memory while the tar fits the budget, else
  // decompressed into the private temp dir first.
  const bytes = await Deno.readFile(archive);
  try {
    const tar = bunzip2(bytes, spill.remaining);
    if (spill.fits(tar.length)) {
      return counted(ReadableStream.from([tar]), tar.length);
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw cannotDecompress(archive, e);
  }
  const tarPath = `${spill.dir()}/archive.tar`;
  {
    using out = Deno.openSync(tarPath, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      bunzip2File(file, out);
    } catch (e) {
      throw cannotDecompress(archive, e);
    }
  }
  const tarFile = await Deno.open(tarPath, { read: true });
  return counted(tarFile.readable, (await tarFile.stat()).size);
}

/** The output size gunzipBounded aims at per input piece. */
const INFLATE_OUT = 1024 * 1024;

/**
 * Gunzips a stream without ever producing a huge chunk: DecompressionStream inflates each input
 * chunk at once and deflate expands up to 1032:1, so input is cut into pieces sized by the ratio
 * seen so far (1 KiB to 64 KiB), keeping each output chunk near 1 MiB, even for a gzip bomb.
 */
function gunzipBounded(
  input: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  let fed = 0;
  let produced = 0;
  const split = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      for (let p = 0; p < chunk.length;) {
        const ratio = fed ? Math.max(1, produced / fed) : 1032;
        const n = Math.max(1024, Math.min(64 * 1024, INFLATE_OUT / ratio));
        const piece = chunk.subarray(p, p + n);
        p += piece.length;
        fed += piece.length;
        ctl.enqueue(piece);
      }
    },
  });
  const count = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      produced += chunk.length;
      ctl.enqueue(chunk);
    },
  });
  return input.pipeThrough(split).pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<
      Uint8Array,
      Uint8Array
    >,
  ).pipeThrough(count);
}

function cannotDecompress(archive: string, e: unknown): KitError {
  return bad(
    archive,
    `cannot decompress: ${e instanceof Error ? e.message : e}`,
  );
}

/** Streams a (compressed) tar through the decoder into `b`, spilling large contents. */
async function tarInto(
  b: TreeBuilder,
  archive: string,
  format: ArchiveFormat,
  file: Deno.FsFile,
  size: number,
  spill: Spill,
  progress: UnpackProgress,
): Promise<void> {
  const input = await tarStream(archive, format, file, size, spill, progress);
  const entries = input.pipeThrough(createTarDecoder({ strict: true }));
  try {
    for await (const entry of entries) {
      const { header } = entry;
      let data: Uint8Array | Spilled | undefined;
      if ((header.type ?? "file") !== "file") {
        await entry.body.cancel();
      } else if (spill.fits(header.size)) {
        const buf = new Uint8Array(header.size);
        let at = 0;
        for await (const chunk of entry.body) {
          if (at + chunk.length > buf.length) {
            throw bad(
              archive,
              "entry larger than its header says",
              header.name,
            );
          }
          buf.set(chunk, at);
          at += chunk.length;
        }
        data = buf;
      } else {
        const w = spill.writer();
        for await (const chunk of entry.body) w.write(chunk);
        data = w.done();
      }
      addTarEntry(b, archive, header, data);
    }
  } catch (e) {
    if (e instanceof KitError) throw e;
    throw bad(archive, tarMessage(e));
  }
}
