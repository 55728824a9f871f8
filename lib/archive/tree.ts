// The validated tree of an archive's entries (lib/archive/read.ts, lib/archive/unpack_hash.ts):
// names normalised and checked the way Nix checks them when it unpacks, duplicates and entries
// inside files refused, hard links resolved to copies; then its NAR tree as fetchzip hashes it.
import { KitError } from "../kit/errors.ts";
import { type NarContents, type NarTree } from "../hash/nar_format.ts";

/** One validated archive entry. `path` is normalised: '/'-separated, no leading './' or '/'. */
export type ArchiveEntry = {
  path: string;
  type: "file" | "directory" | "symlink";
  executable: boolean;
  data?: Uint8Array;
  target?: string;
};

/** A hostile or broken archive, as a one-line KitError naming it (and the entry). */
export function bad(archive: string, detail: string, entry?: string): KitError {
  const where = entry === undefined ? "" : ` entry "${entry}"`;
  return new KitError(
    `Unsafe or corrupt archive "${archive}"${where}: ${detail}`,
  );
}

/** Why Nix (libarchive's secure-extraction checks) would refuse an entry name, or undefined. */
function unsafeName(name: string): string | undefined {
  if (name.includes("\0")) return "NUL byte in name";
  if (name.startsWith("/")) return "absolute path";
  if (name.split("/").includes("..")) return "'..' path component";
  return undefined;
}

/**
 * Normalises an entry name: '/'-separated, no '.' or empty components. Absolute names and '..'
 * components are errors; messages quote the name as stored. The archive root ("./") becomes "".
 */
function normalisePath(archive: string, raw: string, zip: boolean): string {
  // libarchive reads '\' in a zip entry name as a separator (zips made on Windows use it), so
  // Nix unpacks `a\b` as a/b and refuses `top\..\..\x`; in a tar it is an ordinary character.
  const name = zip ? raw.replaceAll("\\", "/") : raw;
  const why = unsafeName(name);
  if (why) throw bad(archive, why, raw);
  return name.split("/").filter((p) => p !== "" && p !== ".").join("/");
}

/** A file's contents spilled to the blob file: [offset, size]. */
export type Spilled = { offset: number; size: number };

type Node =
  | { kind: "directory"; children: Map<string, Node> }
  | { kind: "file"; executable: boolean; data: Uint8Array | Spilled }
  | { kind: "symlink"; target: string };

/**
 * Accumulates entries in archive order, validating as it goes: no duplicates, nothing inside a
 * file or symlink, hard links only to earlier files. Implied directories are created.
 */
export class TreeBuilder {
  readonly root: Node & { kind: "directory" } = {
    kind: "directory",
    children: new Map(),
  };
  readonly entries: ArchiveEntry[] = [];
  readonly #archive: string;
  readonly #zip: boolean;

  /** `zip`: names use zip rules ('\\' is a separator). */
  constructor(archive: string, zip = false) {
    this.#archive = archive;
    this.#zip = zip;
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
    const path = normalisePath(this.#archive, raw, this.#zip);
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
    const path = normalisePath(this.#archive, raw, this.#zip);
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
    const why = unsafeName(targetRaw);
    if (why) {
      throw bad(this.#archive, `hard link target "${targetRaw}": ${why}`, raw);
    }
    const node = this.#lookup(normalisePath(this.#archive, targetRaw, false));
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
export function ownerExecutable(mode: number | undefined): boolean {
  return ((mode ?? 0) & 0o100) !== 0;
}

/** The NarTree of a builder's root; file contents come from memory or the blob file. */
export function toNarTree(
  b: TreeBuilder,
  spilled: (at: Spilled) => NarContents = () => {
    throw new Error("no spill file");
  },
): NarTree {
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
            : spilled(node.data),
        };
    }
  };
  // fetchzip: a single top-level directory is stripped; otherwise the whole archive is $out.
  const top = [...b.root.children.values()];
  if (top.length === 1 && top[0]!.kind === "directory") return convert(top[0]!);
  return convert(b.root);
}
