// Reading the few members of a wheel or sdist that new-package needs (metadata, build files,
// licence texts) without unpacking the rest. Members are bounded in size: a METADATA that
// inflates to a gigabyte is refused in one line, not held in memory.
//
//   const view = await openArchive(await Deno.readFile(path), "x-1.0.tar.gz");
//   view.paths; view.read("PKG-INFO");
import { unzipSync } from "fflate";
import { unpackTar } from "modern-tar";
import { KitError } from "../kit/errors.ts";

/** The members of an archive: every path, and the bytes of the few that were asked for. */
export interface ArchiveView {
  paths: string[];
  read(path: string): Uint8Array | undefined;
}

const dec = new TextDecoder();

/** A member's text, or undefined when the archive lacks it (or it was not read). */
export function readText(view: ArchiveView, path: string): string | undefined {
  const b = view.read(path);
  return b ? dec.decode(b) : undefined;
}

/** The kind of a distribution file, from its name. */
export function distKind(file: string): "wheel" | "sdist" | undefined {
  if (/\.whl$/i.test(file)) return "wheel";
  if (/\.(tar\.gz|tgz|zip|tar)$/i.test(file)) return "sdist";
  return undefined;
}

const SDIST_WANTED =
  /^(PKG-INFO|pyproject\.toml|setup\.cfg|(src\/)?[^/]+\.egg-info\/(PKG-INFO|top_level\.txt|requires\.txt))$/;
const WHEEL_WANTED =
  /^[^/]+\.dist-info\/(METADATA|WHEEL|top_level\.txt|RECORD)$/;

/** Licence files: `*.dist-info/licenses/*` and `LICENSE*`/`COPYING*` (wheel: in the dist-info). */
export const LICENSE_FILE =
  /^(?:[^/]+\.dist-info\/(?:licenses\/.+|(?:LICEN[CS]E|COPYING)[^/]*)|(?:LICEN[CS]E|COPYING)[^/]*|LICENSES\/[^/]+)$/i;

/** The most new-package reads of one member (METADATA, RECORD, a licence text). */
export const MAX_MEMBER_BYTES = 16 * 1024 * 1024;

function tooLarge(file: string, member: string, size: number): KitError {
  return new KitError(
    `${file}: ${member} is too large to read (${size} bytes, the limit is ${MAX_MEMBER_BYTES}): it is not a plausible distribution`,
  );
}

/** Opens the members new-package reads, from the file's bytes. */
export async function openArchive(
  bytes: Uint8Array,
  file: string,
): Promise<ArchiveView> {
  const kind = distKind(file);
  const wanted = (p: string) =>
    (kind === "wheel" ? WHEEL_WANTED : SDIST_WANTED).test(p) ||
    (LICENSE_FILE.test(p) && (kind === "wheel") === p.includes(".dist-info/"));
  try {
    if (/\.(whl|zip)$/i.test(file)) {
      const all: string[] = [];
      const raw = unzipSync(bytes, {
        filter: (f) => {
          all.push(f.name);
          const want = wanted(stripTop(f.name, kind));
          if (want && f.originalSize > MAX_MEMBER_BYTES) {
            throw tooLarge(file, f.name, f.originalSize);
          }
          return want;
        },
      });
      return view(all, raw, kind);
    }
    const tar = /\.(tar\.gz|tgz)$/i.test(file)
      ? new Uint8Array(
        await new Response(
          new Blob([bytes as BlobPart]).stream().pipeThrough(
            new DecompressionStream("gzip"),
          ),
        ).arrayBuffer(),
      )
      : bytes;
    const all: string[] = [];
    const entries = await unpackTar(tar, {
      filter: (h) => {
        if (h.type === "file" || h.type === undefined) all.push(h.name);
        const want = wanted(stripTop(h.name, kind));
        if (want && h.size > MAX_MEMBER_BYTES) {
          throw tooLarge(file, h.name, h.size);
        }
        return want;
      },
    });
    const raw: Record<string, Uint8Array> = {};
    for (const e of entries) if (e.data) raw[e.header.name] = e.data;
    return view(all, raw, kind);
  } catch (e) {
    if (e instanceof KitError) throw e;
    throw new KitError(
      `Cannot read ${file}: ${
        (e instanceof Error ? e.message : String(e)).split("\n")[0]
      }`,
    );
  }
}

function stripTop(path: string, kind: "wheel" | "sdist" | undefined): string {
  const p = path.replace(/^\.\//, "");
  return kind === "sdist" ? p.replace(/^[^/]+\//, "") : p;
}

function view(
  all: string[],
  raw: Record<string, Uint8Array>,
  kind: "wheel" | "sdist" | undefined,
): ArchiveView {
  if (kind === "sdist") {
    const tops = new Set(all.map((p) => p.replace(/^\.\//, "").split("/")[0]));
    if (tops.size !== 1) {
      throw new KitError(
        `An sdist must hold one top directory, found ${tops.size}`,
      );
    }
  }
  const data = new Map(
    Object.entries(raw).map(([k, v]) => [stripTop(k, kind), v]),
  );
  return {
    paths: all.map((p) => stripTop(p, kind)).filter((p) =>
      p && !p.endsWith("/")
    ),
    read: (p) => data.get(p),
  };
}
