// A node pack's files, read from an archive (a GitHub tarball, a Registry node.zip) or a folder,
// and pinned: the NAR hash Nix will compute for the unpacked tree (fetchzip's rules, as
// `deno task checksum --unpack` computes it) and whether the archive has one top directory
// (fetchzip's stripRoot).
import { join, relative } from "node:path";
import { KitError } from "../kit/errors.ts";
import { readArchive } from "../archive/read.ts";
import { narHashArchive } from "../archive/nar_archive.ts";
import { narHashPath } from "../hash/nar.ts";
import { type Digest, toSri } from "../hash/sha256.ts";
import type { ProgressSink } from "../kit/progress.ts";

/** A pack's regular files by path relative to the pack's root folder. */
export type PackFiles = Map<string, Uint8Array>;

/** A pack read from disk. */
export interface Pack {
  files: PackFiles;
  /** The SRI NAR hash of the unpacked tree. */
  hash: string;
  /** The archive holds exactly one top-level directory (stripped, as fetchzip does). */
  topDir?: string;
  /** "archive" or "directory". */
  from: "archive" | "directory";
}

/** True when `path` names an archive add-node reads. */
export function isArchivePath(path: string): boolean {
  return /\.(zip|tar\.gz|tgz|tar)$/i.test(path);
}

/** Reads an archive: its files (single top directory stripped) and its NAR hash. */
export async function readPackArchive(
  path: string,
  progress?: ProgressSink,
): Promise<Pack> {
  const entries = await readArchive(path);
  const tops = new Set(entries.map((e) => e.path.split("/")[0]!));
  const topEntry = tops.size === 1
    ? entries.find((e) => e.path === [...tops][0])
    : undefined;
  const topDir = topEntry?.type === "directory" ||
      (tops.size === 1 && entries.some((e) => e.path.includes("/")))
    ? [...tops][0]
    : undefined;
  const files: PackFiles = new Map();
  for (const e of entries) {
    if (e.type !== "file") continue;
    const rel = topDir ? e.path.slice(topDir.length + 1) : e.path;
    if (rel) files.set(rel, e.data ?? new Uint8Array());
  }
  const digest: Digest = await narHashArchive(
    path,
    progress ? { progress } : {},
  );
  return {
    files,
    hash: toSri(digest),
    from: "archive",
    ...(topDir ? { topDir } : {}),
  };
}

/** Reads a pack folder: its files (`.git` left out) and the NAR hash of the folder. */
export async function readPackDir(path: string): Promise<Pack> {
  const files: PackFiles = new Map();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const abs = join(dir, e.name);
      if (e.isDirectory) {
        if (e.name === ".git" && dir === path) {
          throw new KitError(
            `"${path}" is a git checkout: its .git folder would be pinned too; add it as github:OWNER/REPO@REV or pack it with git archive`,
          );
        }
        await walk(abs);
      } else if (e.isFile) {
        files.set(relative(path, abs), await Deno.readFile(abs));
      }
    }
  };
  await walk(path);
  return { files, hash: toSri(await narHashPath(path)), from: "directory" };
}

/** A file's text (UTF-8, replacement characters for bad bytes). */
export function text(files: PackFiles, path: string): string | undefined {
  const b = files.get(path);
  return b === undefined ? undefined : new TextDecoder().decode(b);
}
