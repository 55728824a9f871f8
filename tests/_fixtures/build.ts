// Builders for test archives: wheels (zip), sdists and GitHub-style tarballs (tar.gz).
import { zipSync } from "fflate";
import { packTar, type TarEntry } from "modern-tar";
import { sha256Bytes, toHex } from "../../lib/hash/sha256.ts";

const enc = new TextEncoder();

/** A file in a built archive; `mode` defaults to 0o644, `symlink` makes it a link. */
export interface FileSpec {
  path: string;
  content?: string | Uint8Array;
  mode?: number;
  symlink?: string;
}

/** Packs entries as a tar (directories implied by paths are added, mtimes fixed). */
export async function buildTar(files: FileSpec[]): Promise<Uint8Array> {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      dirs.add(parts.slice(0, i).join("/") + "/");
    }
  }
  const entries: TarEntry[] = [...dirs].sort().map((name) => ({
    header: {
      name,
      type: "directory",
      size: 0,
      mode: 0o755,
      mtime: new Date(0),
    },
  }));
  for (const f of files) {
    if (f.symlink !== undefined) {
      entries.push({
        header: {
          name: f.path,
          type: "symlink",
          linkname: f.symlink,
          size: 0,
          mtime: new Date(0),
        },
      });
      continue;
    }
    const body = typeof f.content === "string"
      ? enc.encode(f.content)
      : f.content ?? new Uint8Array();
    entries.push({
      header: {
        name: f.path,
        size: body.length,
        mode: f.mode ?? 0o644,
        mtime: new Date(0),
      },
      body,
    });
  }
  return await packTar(entries);
}

/** Gzips bytes. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A .tar.gz of the files. */
export async function buildTarGz(files: FileSpec[]): Promise<Uint8Array> {
  return await gzip(await buildTar(files));
}

/** A zip of the files (unix modes recorded, so executables survive). */
export function buildZip(files: FileSpec[]): Uint8Array {
  const tree: Record<string, [Uint8Array, { os: number; attrs: number }]> = {};
  for (const f of files) {
    const body = typeof f.content === "string"
      ? enc.encode(f.content)
      : f.content ?? new Uint8Array();
    const mode = f.symlink !== undefined
      ? 0o120777
      : 0o100000 | (f.mode ?? 0o644);
    const data = f.symlink !== undefined ? enc.encode(f.symlink) : body;
    tree[f.path] = [data, { os: 3, attrs: (mode << 16) >>> 0 }];
  }
  return zipSync(tree, { mtime: new Date("1980-01-02T00:00:00Z") });
}

/** Metadata for a built distribution. */
export interface DistSpec {
  name: string;
  version: string;
  summary?: string;
  license?: string;
  licenseExpression?: string;
  classifiers?: string[];
  requiresDist?: string[];
  /** `Provides-Extra:` lines (pip ignores `extra == "x"` requirements of undeclared extras). */
  providesExtra?: string[];
  requiresPython?: string;
  projectUrls?: Record<string, string>;
  homePage?: string;
  /** Import packages; each gets an `__init__.py`. */
  packages?: string[];
  /** Write top_level.txt into the wheel (setuptools does; Poetry, Hatch and flit do not). */
  topLevel?: boolean;
  /** Extra files in the archive (relative to the project root / wheel root). */
  extraFiles?: FileSpec[];
}

/** Core-metadata text (METADATA / PKG-INFO) for a spec. */
export function metadataText(s: DistSpec): string {
  const lines = [
    "Metadata-Version: 2.1",
    `Name: ${s.name}`,
    `Version: ${s.version}`,
  ];
  if (s.summary) lines.push(`Summary: ${s.summary}`);
  if (s.homePage) lines.push(`Home-page: ${s.homePage}`);
  if (s.license) lines.push(`License: ${s.license}`);
  if (s.licenseExpression) {
    lines.push(`License-Expression: ${s.licenseExpression}`);
  }
  for (const c of s.classifiers ?? []) lines.push(`Classifier: ${c}`);
  if (s.requiresPython) lines.push(`Requires-Python: ${s.requiresPython}`);
  for (const [k, v] of Object.entries(s.projectUrls ?? {})) {
    lines.push(`Project-URL: ${k}, ${v}`);
  }
  for (const e of s.providesExtra ?? []) lines.push(`Provides-Extra: ${e}`);
  for (const r of s.requiresDist ?? []) lines.push(`Requires-Dist: ${r}`);
  return lines.join("\n") + "\n\n";
}

/** File name of the pure-Python wheel for a spec. */
export function wheelFileName(s: DistSpec): string {
  return `${s.name.replace(/[-_.]+/g, "_")}-${s.version}-py3-none-any.whl`;
}

/** File name of the sdist for a spec. */
export function sdistFileName(s: DistSpec): string {
  return `${s.name.replace(/[-_.]+/g, "_")}-${s.version}.tar.gz`;
}

/** A py3-none-any wheel with METADATA, WHEEL, RECORD (and top_level.txt when asked). */
export function buildWheel(s: DistSpec): Uint8Array {
  const distInfo = `${s.name.replace(/[-_.]+/g, "_")}-${s.version}.dist-info`;
  const files: FileSpec[] = [];
  for (const p of s.packages ?? []) {
    files.push({ path: `${p}/__init__.py`, content: `# ${p}\n` });
  }
  files.push(...(s.extraFiles ?? []));
  files.push({ path: `${distInfo}/METADATA`, content: metadataText(s) });
  files.push({
    path: `${distInfo}/WHEEL`,
    content:
      "Wheel-Version: 1.0\nGenerator: comfykit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
  });
  if (s.topLevel) {
    files.push({
      path: `${distInfo}/top_level.txt`,
      content: (s.packages ?? []).join("\n") + "\n",
    });
  }
  const record = files.map((f) => {
    const b = typeof f.content === "string"
      ? enc.encode(f.content)
      : f.content ?? new Uint8Array();
    const digest = btoa(String.fromCharCode(...sha256Bytes(b))).replace(
      /\+/g,
      "-",
    ).replace(/\//g, "_")
      .replace(/=+$/, "");
    return `${f.path},sha256=${digest},${b.length}`;
  });
  record.push(`${distInfo}/RECORD,,`);
  files.push({ path: `${distInfo}/RECORD`, content: record.join("\n") + "\n" });
  return buildZip(files);
}

/**
 * An sdist (`<name>-<version>/…` .tar.gz) with PKG-INFO; `buildSystem` adds a pyproject.toml with
 * that `[build-system] requires`, otherwise a setup.py is written.
 */
export async function buildSdist(
  s: DistSpec & { buildSystem?: string[] },
): Promise<Uint8Array> {
  const root = `${s.name.replace(/[-_.]+/g, "_")}-${s.version}`;
  const files: FileSpec[] = [{
    path: `${root}/PKG-INFO`,
    content: metadataText(s),
  }];
  for (const p of s.packages ?? []) {
    files.push({ path: `${root}/${p}/__init__.py`, content: `# ${p}\n` });
  }
  if (s.buildSystem) {
    const req = s.buildSystem.map((r) => JSON.stringify(r)).join(", ");
    files.push({
      path: `${root}/pyproject.toml`,
      content:
        `[build-system]\nrequires = [${req}]\nbuild-backend = "setuptools.build_meta"\n\n` +
        `[project]\nname = "${s.name}"\nversion = "${s.version}"\n`,
    });
  } else {
    files.push({
      path: `${root}/setup.py`,
      content: "from setuptools import setup\nsetup()\n",
    });
  }
  for (const f of s.extraFiles ?? []) {
    files.push({ ...f, path: `${root}/${f.path}` });
  }
  return await buildTarGz(files);
}

/** Hex sha256 of bytes. */
export function hexOf(bytes: Uint8Array): string {
  return toHex(sha256Bytes(bytes));
}
