// File trees for the NAR and archive tests: written to disk, then hashed by us and by real Nix,
// or packed into archives by real tar / python3 zipfile and by tests/_fixtures/build.ts.
import { run } from "../_helpers.ts";

/** One node of a test tree (parents are created as needed). */
export type TreeNode =
  | { path: string; kind: "file"; content: string | Uint8Array; mode?: number }
  | { path: string; kind: "dir" }
  | { path: string; kind: "symlink"; target: string };

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

/**
 * The tree the issue asks for: executables, relative and dangling symlinks, empty and
 * nested-empty directories, 0- and 1-byte files, sizes that are and are not multiples of 8,
 * unicode names, names whose byte order differs from locale order (B a a-b a.b a0), names
 * outside the BMP (UTF-16 and UTF-8 order differ) and a path longer than 100 bytes (PAX).
 */
export const TREE: TreeNode[] = [
  { path: "B", kind: "file", content: "upper\n" },
  { path: "a", kind: "file", content: "" },
  { path: "a-b", kind: "file", content: "x" },
  { path: "a.b", kind: "file", content: bytes(8, 1) },
  { path: "a0", kind: "file", content: bytes(16, 2) },
  {
    path: "bin/run.sh",
    kind: "file",
    content: "#!/bin/sh\necho hi\n",
    mode: 0o755,
  },
  { path: "bin/tool", kind: "file", content: bytes(4097, 3), mode: 0o700 },
  { path: "bin/link-to-run", kind: "symlink", target: "run.sh" },
  { path: "dangling", kind: "symlink", target: "does/not/exist" },
  { path: "up", kind: "symlink", target: "../B" },
  { path: "abs", kind: "symlink", target: "/etc/hostname" },
  { path: "empty", kind: "dir" },
  { path: "nested/empty/deeper", kind: "dir" },
  { path: "data/seven", kind: "file", content: bytes(7, 4) },
  { path: "data/nine", kind: "file", content: bytes(9, 5) },
  { path: "data/big", kind: "file", content: bytes(200_003, 6) },
  { path: "unicode/héllo wörld.txt", kind: "file", content: "ü\n" },
  { path: "unicode/日本語", kind: "file", content: "nihongo" },
  { path: "unicode/\u{FF71}", kind: "file", content: "bmp" },
  { path: "unicode/\u{1F600}", kind: "file", content: "astral" },
  {
    path: `long/${"d".repeat(60)}/${"f".repeat(80)}.txt`,
    kind: "file",
    content: "long name",
  },
];

/** Writes a tree under `root` (which must exist). */
export async function writeTree(
  root: string,
  nodes: TreeNode[],
): Promise<void> {
  for (const n of nodes) {
    const p = `${root}/${n.path}`;
    const parent = p.slice(0, p.lastIndexOf("/"));
    await Deno.mkdir(parent, { recursive: true });
    if (n.kind === "dir") await Deno.mkdir(p, { recursive: true });
    else if (n.kind === "symlink") await Deno.symlink(n.target, p);
    else {
      await Deno.writeFile(
        p,
        typeof n.content === "string"
          ? new TextEncoder().encode(n.content)
          : n.content,
      );
      await Deno.chmod(p, n.mode ?? 0o644);
    }
  }
}

/** `nix-hash --type sha256 [--base32]` of a path. */
export async function nixHash(path: string, base32 = false): Promise<string> {
  const r = await run("nix-hash", [
    "--type",
    "sha256",
    ...(base32 ? ["--base32"] : []),
    path,
  ]);
  if (r.code !== 0) throw new Error(`nix-hash failed: ${r.stderr}`);
  return r.stdout.trim();
}

const PY_PACK = `
import os, sys, tarfile, zipfile
kind, src, out, prefix = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def walk():
    for d, dirs, files in os.walk(src):
        dirs.sort(); files.sort()
        rel = os.path.relpath(d, src)
        for name in dirs + files:
            full = os.path.join(d, name)
            yield full, os.path.normpath(os.path.join(prefix, rel, name))
if kind == "zip":
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for full, arc in walk():
            st = os.lstat(full)
            if os.path.islink(full):
                zi = zipfile.ZipInfo(arc)
                zi.create_system = 3
                zi.external_attr = (0o120777 << 16)
                z.writestr(zi, os.readlink(full))
            elif os.path.isdir(full):
                zi = zipfile.ZipInfo(arc + "/")
                zi.create_system = 3
                zi.external_attr = (0o40755 << 16) | 0x10
                z.writestr(zi, b"")
            else:
                z.write(full, arc)
else:
    with tarfile.open(out, "w:" + kind, format=tarfile.PAX_FORMAT) as t:
        for full, arc in walk():
            t.add(full, arc, recursive=False)
`;

/**
 * Packs the directory `src` with python3 (tarfile, PAX format / zipfile with unix modes and
 * symlinks); entries are named `<prefix>/<relative path>` ("." for none).
 */
export async function pyPack(
  kind: "gz" | "bz2" | "" | "zip",
  src: string,
  out: string,
  prefix = ".",
): Promise<void> {
  const r = await run("python3", ["-c", PY_PACK, kind, src, out, prefix]);
  if (r.code !== 0) throw new Error(`python3 pack failed: ${r.stderr}`);
}
