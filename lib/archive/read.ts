// Archives (.tar, .tar.gz/.tgz, .tar.bz2, .zip/.whl) read safely into validated entries, and the
// NAR hash of their unpacked contents as fetchzip / fetchFromGitHub / `nix-prefetch-url --unpack`
// compute it.
//
// Nothing is ever unpacked to archive-controlled paths. Contents stay in memory up to a limit
// (512 MiB by default); past it, file contents are spilled into one blob file in a private temp
// directory (created only then, removed on every way out) while the tree's structure (names,
// modes, symlink targets) stays in memory. So no entry can escape, symlinks are never created or
// followed, and `--allow-write` can stay scoped to the temp directory.
//
// tar: modern-tar (strict: header checksums, truncation). gzip: node:zlib / DecompressionStream.
// bzip2: seek-bzip. zip: lib/archive/zip.ts (central directory) + fflate (inflate).
import { gunzipSync } from "node:zlib";
import {
  createTarDecoder,
  type ParsedTarEntryWithData,
  type TarHeader,
  unpackTar,
} from "modern-tar";
import { KitError } from "../kit/errors.ts";
import { type Digest } from "../hash/sha256.ts";
import { type NarContents, narHashTree, type NarTree } from "../hash/nar.ts";
import {
  type ByteSource,
  bytesSource,
  fileSource,
  listZip,
  readZipEntry,
  streamZipEntry,
  type ZipEntry,
  ZipError,
} from "./zip.ts";
import { bunzip2, bunzip2File } from "./bzip2.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";

/** One validated archive entry. `path` is normalised: '/'-separated, no leading './' or '/'. */
export type ArchiveEntry = {
  path: string;
  type: "file" | "directory" | "symlink";
  executable: boolean;
  data?: Uint8Array;
  target?: string;
};

/** Archive formats we read. */
export type ArchiveFormat = "tar" | "tar.gz" | "tar.bz2" | "zip";

/** Options of narHashArchive. */
export interface NarArchiveOptions {
  /**
   * Unpacked file contents kept in memory before spilling to a private temp directory
   * (default 512 MiB). Tests lower it to exercise the spill path.
   */
  memoryLimit?: number;
}

const DEFAULT_MEMORY_LIMIT = 512 * 1024 * 1024;

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

/** A hostile or broken archive, as a one-line KitError naming it (and the entry). */
function bad(archive: string, detail: string, entry?: string): KitError {
  const where = entry === undefined ? "" : ` entry "${entry}"`;
  return new KitError(
    `Unsafe or corrupt archive "${archive}"${where}: ${detail}`,
  );
}

/**
 * Normalises an entry name: '/'-separated, no '.' or empty components. Absolute names and '..'
 * components are errors. The archive root ("./") becomes "".
 */
function normalisePath(archive: string, raw: string): string {
  if (raw.startsWith("/")) throw bad(archive, "absolute path", raw);
  if (raw.includes("\0")) throw bad(archive, "NUL byte in name", raw);
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw bad(archive, "'..' path component", raw);
  return parts.join("/");
}

/** A file's contents spilled to the blob file: [offset, size]. */
type Spilled = { offset: number; size: number };

type Node =
  | { kind: "directory"; children: Map<string, Node> }
  | { kind: "file"; executable: boolean; data: Uint8Array | Spilled }
  | { kind: "symlink"; target: string };

/**
 * Accumulates entries in archive order, validating as it goes: no duplicates, nothing inside a
 * file or symlink, hard links only to earlier files. Implied directories are created.
 */
class TreeBuilder {
  readonly root: Node & { kind: "directory" } = {
    kind: "directory",
    children: new Map(),
  };
  readonly entries: ArchiveEntry[] = [];
  readonly #archive: string;

  constructor(archive: string) {
    this.#archive = archive;
  }

  /** The parent directory node of `path`, creating implied directories. */
  #parent(path: string, raw: string): Map<string, Node> {
    const parts = path.split("/");
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      let next = dir.children.get(name);
      if (!next) {
        next = { kind: "directory", children: new Map() };
        dir.children.set(name, next);
        this.entries.push({
          path: parts.slice(0, i + 1).join("/"),
          type: "directory",
          executable: false,
        });
      } else if (next.kind !== "directory") {
        throw bad(
          this.#archive,
          `it lies inside "${
            parts.slice(0, i + 1).join("/")
          }", which is a ${next.kind}`,
          raw,
        );
      }
      dir = next;
    }
    return dir.children;
  }

  #name(path: string): string {
    return path.slice(path.lastIndexOf("/") + 1);
  }

  /** Adds a directory entry (`raw` is the name as stored in the archive). */
  directory(raw: string): void {
    const path = normalisePath(this.#archive, raw);
    if (path === "") return; // the archive root ("./")
    const siblings = this.#parent(path, raw);
    const existing = siblings.get(this.#name(path));
    if (existing) {
      if (existing.kind === "directory") return; // listed twice, or implied first: harmless
      throw bad(this.#archive, "duplicate entry", raw);
    }
    siblings.set(this.#name(path), { kind: "directory", children: new Map() });
    this.entries.push({ path, type: "directory", executable: false });
  }

  #add(raw: string, node: Node): string {
    const path = normalisePath(this.#archive, raw);
    if (path === "") throw bad(this.#archive, "entry with an empty name", raw);
    const siblings = this.#parent(path, raw);
    if (siblings.has(this.#name(path))) {
      throw bad(this.#archive, "duplicate entry", raw);
    }
    siblings.set(this.#name(path), node);
    return path;
  }

  file(raw: string, executable: boolean, data: Uint8Array | Spilled): void {
    const path = this.#add(raw, { kind: "file", executable, data });
    this.entries.push(
      data instanceof Uint8Array
        ? { path, type: "file", executable, data }
        : { path, type: "file", executable },
    );
  }

  symlink(raw: string, target: string): void {
    if (target === "") {
      throw bad(this.#archive, "symlink with an empty target", raw);
    }
    const path = this.#add(raw, { kind: "symlink", target });
    this.entries.push({ path, type: "symlink", executable: false, target });
  }

  /** A hard link becomes a copy of the (earlier) file it links to. */
  hardlink(raw: string, targetRaw: string): void {
    const node = this.#lookup(normalisePath(this.#archive, targetRaw));
    if (!node) {
      throw bad(
        this.#archive,
        `hard link to missing entry "${targetRaw}"`,
        raw,
      );
    }
    if (node.kind === "directory") {
      throw bad(this.#archive, `hard link to directory "${targetRaw}"`, raw);
    }
    if (node.kind === "symlink") this.symlink(raw, node.target);
    else this.file(raw, node.executable, node.data);
  }

  #lookup(path: string): Node | undefined {
    if (path === "") return undefined;
    let node: Node | undefined = this.root;
    for (const part of path.split("/")) {
      if (node?.kind !== "directory") return undefined;
      node = node.children.get(part);
    }
    return node;
  }
}

/** The executable bit as Nix sees it: the owner's x. */
function ownerExecutable(mode: number | undefined): boolean {
  return ((mode ?? 0) & 0o100) !== 0;
}

/** Adds one tar entry (contents already in memory or spilled). */
function addTarEntry(
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

function tarMessage(e: unknown): string {
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

function zipEntryInto(
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

function zipError(archive: string, e: unknown): unknown {
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
  const b = new TreeBuilder(name);
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

/** The NarTree of a builder's root; file contents come from memory or the blob file. */
function toNarTree(b: TreeBuilder, blob: Deno.FsFile | undefined): NarTree {
  const convert = (node: Node): NarTree => {
    switch (node.kind) {
      case "directory":
        return {
          type: "directory",
          entries: new Map([...node.children].map(([k, v]) => [k, convert(v)])),
        };
      case "symlink":
        return { type: "symlink", target: node.target };
      case "file":
        return {
          type: "regular",
          executable: node.executable,
          contents: node.data instanceof Uint8Array
            ? node.data
            : blobContents(blob!, node.data),
        };
    }
  };
  // fetchzip: a single top-level directory is stripped; otherwise the whole archive is $out.
  const top = [...b.root.children.values()];
  if (top.length === 1 && top[0]!.kind === "directory") return convert(top[0]!);
  return convert(b.root);
}

function blobContents(blob: Deno.FsFile, at: Spilled): NarContents {
  return {
    size: at.size,
    read(emit) {
      const buf = new Uint8Array(Math.min(at.size, 1024 * 1024));
      let done = 0;
      blob.seekSync(at.offset, Deno.SeekMode.Start);
      while (done < at.size) {
        const n = blob.readSync(
          buf.subarray(0, Math.min(buf.length, at.size - done)),
        );
        if (n === null) break;
        done += n;
        emit(buf.subarray(0, n));
      }
    },
  };
}

/**
 * Spills file contents past the memory limit into one blob file in a private temp directory,
 * created only when first needed and removed (with everything in it) on dispose.
 */
class Spill implements Disposable {
  #used = 0;
  #offset = 0;
  #dir: string | undefined;
  #unregister: (() => void) | undefined;
  file: Deno.FsFile | undefined;
  readonly #limit: number;
  readonly #archive: string;

  constructor(limit: number, archive: string) {
    this.#limit = limit;
    this.#archive = archive;
  }

  /** Whether `size` more bytes fit in memory (and counts them if so). */
  fits(size: number): boolean {
    if (this.#used + size > this.#limit) return false;
    this.#used += size;
    return true;
  }

  /**
   * The private temp directory (mode 0700), created on first use and registered for removal
   * on Ctrl-C. Not being allowed to create it is a one-line error, not a stack trace.
   */
  dir(): string {
    if (this.#dir === undefined) {
      try {
        this.#dir = Deno.makeTempDirSync({ prefix: "comfykit-unpack-" });
      } catch (e) {
        if (
          !(e instanceof Deno.errors.NotCapable ||
            e instanceof Deno.errors.PermissionDenied ||
            e instanceof Deno.errors.NotFound)
        ) throw e;
        throw new KitError(
          `Cannot unpack "${this.#archive}": its contents exceed the ${
            Math.round(this.#limit / 2 ** 20)
          } MiB memory limit and no private temp directory could be created (${
            e.message.replace(/\.$/, "")
          }): allow writing to the temp directory (TMPDIR, else /tmp)`,
        );
      }
      this.#unregister = removeOnInterrupt(this.#dir);
    }
    return this.#dir;
  }

  #open(): Deno.FsFile {
    this.file ??= Deno.openSync(`${this.dir()}/contents.bin`, {
      read: true,
      write: true,
      createNew: true,
      mode: 0o600,
    });
    return this.file;
  }

  /** Appends contents arriving in chunks; returns where they went. */
  writer(): { write(chunk: Uint8Array): void; done(): Spilled } {
    const file = this.#open();
    const offset = this.#offset;
    file.seekSync(offset, Deno.SeekMode.Start);
    return {
      write: (chunk) => {
        let done = 0;
        while (done < chunk.length) {
          done += file.writeSync(chunk.subarray(done));
        }
        this.#offset += chunk.length;
      },
      done: () => ({ offset, size: this.#offset - offset }),
    };
  }

  [Symbol.dispose](): void {
    this.file?.close();
    if (this.#dir) {
      try {
        Deno.removeSync(this.#dir, { recursive: true });
      } catch {
        // already gone
      }
      this.#unregister?.();
    }
  }
}

/**
 * The NAR hash of an archive's unpacked contents, as fetchzip / fetchFromGitHub /
 * `nix-prefetch-url --unpack` compute it: a single top-level directory is stripped (otherwise
 * the whole archive is the root), implied directories exist, and only the executable bit of
 * the permissions counts. Large archives spill contents to a private temp directory.
 */
export async function narHashArchive(
  path: string,
  options: NarArchiveOptions = {},
): Promise<Digest> {
  const limit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`No such file: "${path}"`);
    }
    throw e;
  }
  using file = await Deno.open(path, { read: true });
  const head = new Uint8Array(512);
  const headLength = file.readSync(head) ?? 0;
  const format = detectFormat(head.subarray(0, headLength), path);

  if (format !== "zip" && size <= limit) {
    // Small enough to try in memory; decompression stops at the limit.
    const bytes = await Deno.readFile(path);
    const tar = decompress(path, format, bytes, limit);
    if (tar) {
      const b = new TreeBuilder(path);
      for (const { header, data } of await tarEntries(path, tar)) {
        addTarEntry(b, path, header, data);
      }
      return narHashTree(toNarTree(b, undefined));
    }
  }

  using spill = new Spill(limit, path);
  const b = new TreeBuilder(path);
  if (format === "zip") {
    const src = fileSource(file, size);
    try {
      for (const e of listZip(src)) {
        zipEntryInto(b, path, src, e, () => {
          if (spill.fits(e.size)) return readZipEntry(src, e);
          const w = spill.writer();
          streamZipEntry(src, e, (c) => w.write(c));
          return w.done();
        });
      }
    } catch (e) {
      throw zipError(path, e);
    }
  } else {
    await streamTar(b, path, format, file, spill);
  }
  return narHashTree(toNarTree(b, spill.file));
}

/** Streams a (compressed) tar from an open file through the decoder, spilling large contents. */
async function streamTar(
  b: TreeBuilder,
  archive: string,
  format: ArchiveFormat,
  file: Deno.FsFile,
  spill: Spill,
): Promise<void> {
  file.seekSync(0, Deno.SeekMode.Start);
  let input: ReadableStream<Uint8Array> = file.readable;
  if (format === "tar.gz") {
    input = input.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<
        Uint8Array,
        Uint8Array
      >,
    );
  } else if (format === "tar.bz2") {
    // seek-bzip is synchronous: decompress into the private temp dir, then stream the tar.
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
        throw bad(
          archive,
          `cannot decompress: ${e instanceof Error ? e.message : e}`,
        );
      }
    }
    input = (await Deno.open(tarPath, { read: true })).readable;
  }
  const entries = input.pipeThrough(createTarDecoder({ strict: true }));
  try {
    for await (const entry of entries) {
      const { header } = entry;
      let data: Uint8Array | Spilled | undefined;
      if ((header.type ?? "file") === "file") {
        if (spill.fits(header.size)) {
          data = new Uint8Array(await new Response(entry.body).arrayBuffer());
        } else {
          const w = spill.writer();
          for await (const chunk of entry.body) w.write(chunk);
          data = w.done();
        }
      } else {
        await entry.body.cancel();
      }
      addTarEntry(b, archive, header, data);
    }
  } catch (e) {
    if (e instanceof KitError) throw e;
    throw bad(archive, tarMessage(e));
  }
}

/** The NAR hash of entries as fetchzip would unpack them (single top-level directory stripped). */
export function narHashEntries(
  entries: ArchiveEntry[],
  name = "archive",
): Digest {
  const b = new TreeBuilder(name);
  for (const e of entries) {
    if (e.type === "directory") b.directory(e.path);
    else if (e.type === "symlink") b.symlink(e.path, e.target ?? "");
    else b.file(e.path, e.executable, e.data ?? new Uint8Array());
  }
  return narHashTree(toNarTree(b, undefined));
}
