// The hash-checking lock file: the sha256 of every file of each pinned release (find-links
// folders hashed, PEP 503 index pages read), so pip --require-hashes accepts any platform's
// file, and the lock file itself rendered byte-for-byte the same for the same tree.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { eq, valid } from "@renovatebot/pep440";
import { sha256File, toHex } from "../hash/sha256.ts";
import { normalizeName } from "./names.ts";
import type { ResolvedPackage } from "./resolved.ts";

/** A distribution file name's project and version, or undefined. */
export function parseDistFileName(
  file: string,
): { name: string; version: string; kind: "wheel" | "sdist" } | undefined {
  if (file.endsWith(".whl")) {
    const parts = file.slice(0, -4).split("-");
    if (parts.length < 5) return undefined;
    return { name: parts[0]!, version: parts[1]!, kind: "wheel" };
  }
  const m = file.match(/^(.+)-([^-]+)\.(?:tar\.gz|zip|tar\.bz2|tgz)$/);
  return m ? { name: m[1]!, version: m[2]!, kind: "sdist" } : undefined;
}

function sameRelease(
  file: string,
  name: string,
  version: string,
): boolean {
  const p = parseDistFileName(file);
  if (!p || normalizeName(p.name) !== normalizeName(name)) return false;
  if (p.version === version) return true;
  return valid(p.version) !== null && valid(version) !== null &&
    eq(p.version, version);
}

/** `(file, sha256)` pairs of a PEP 503 simple page whose links carry `#sha256=` fragments. */
export function parseSimplePage(
  html: string,
): { file: string; sha256: string }[] {
  const out: { file: string; sha256: string }[] = [];
  for (
    const m of html.matchAll(/<a\s[^>]*href\s*=\s*["']([^"']+)["'][^>]*>/gi)
  ) {
    const href = m[1]!.replaceAll("&amp;", "&");
    const frag = href.match(/#sha256=([0-9a-fA-F]{64})/);
    if (!frag) continue;
    const file = decodeURIComponent(
      href.replace(/#.*$/, "").replace(/\?.*$/, "").split("/").pop() ?? "",
    );
    if (file) out.push({ file, sha256: frag[1]!.toLowerCase() });
  }
  return out;
}

/** Where to look for the other files of each release. */
interface HashSources {
  indexUrls?: readonly string[];
  findLinks?: readonly string[];
  fetch?: typeof fetch;
  /** Notes for the user (an index that could not be read). */
  onWarning?: (message: string) => void;
}

async function readSimplePage(
  indexUrl: string,
  project: string,
  fetchFn: typeof fetch,
): Promise<string | undefined> {
  const base = indexUrl.replace(/\/+$/, "");
  const url = `${base}/${normalizeName(project)}/`;
  if (url.startsWith("file:")) {
    const dir = fileURLToPath(url);
    try {
      return await Deno.readTextFile(join(dir, "index.html"));
    } catch {
      return undefined;
    }
  }
  const res = await fetchFn(url, { headers: { accept: "text/html" } });
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  return await res.text();
}

/**
 * Adds to each package the sha256 of every file of its release found in the find-links
 * folders (hashed here) and on the simple indexes (their `#sha256=` fragments), so the lock
 * file accepts the wheel of any platform, not only the one the resolver picked.
 */
export async function completeHashes(
  pkgs: ResolvedPackage[],
  src: HashSources,
): Promise<void> {
  const fetchFn = src.fetch ?? fetch;
  const folders: { dir: string; files: string[] }[] = [];
  for (const f of src.findLinks ?? []) {
    if (/^https?:/.test(f)) continue;
    const dir = f.startsWith("file:") ? fileURLToPath(f) : f;
    try {
      const files: string[] = [];
      for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(e.name);
      folders.push({ dir, files: files.sort() });
    } catch {
      src.onWarning?.(`cannot list find-links folder "${f}"`);
    }
  }
  const warned = new Set<string>();
  const work = pkgs.map((p) => async () => {
    const hashes = new Set(p.hashes);
    for (const { dir, files } of folders) {
      for (const file of files) {
        if (sameRelease(file, p.name, p.version)) {
          hashes.add(`sha256:${toHex(await sha256File(join(dir, file)))}`);
        }
      }
    }
    for (const index of src.indexUrls ?? []) {
      let page: string | undefined;
      try {
        page = await readSimplePage(index, p.name, fetchFn);
      } catch (e) {
        if (!warned.has(index)) {
          warned.add(index);
          src.onWarning?.(
            `cannot read the simple index "${index}" (${
              (e as Error).message
            }): lock file hashes cover only the files the resolver picked`,
          );
        }
        continue;
      }
      for (const { file, sha256 } of parseSimplePage(page ?? "")) {
        if (sameRelease(file, p.name, p.version)) {
          hashes.add(`sha256:${sha256}`);
        }
      }
    }
    p.hashes = [...hashes].sort();
  });
  // A few at a time: enough to hide latency, polite to a real index.
  const queue = [...work];
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
}

/**
 * The lock file in pip's hash-checking format, deterministic: packages sorted by normalised
 * name, hashes sorted, `# via` lines sorted, no dates. Install with
 * `pip install --require-hashes -r requirements.lock.txt`.
 */
export function renderLockFile(
  packages: readonly ResolvedPackage[],
  header: readonly string[],
): string {
  const lines = header.map((h) => h === "" ? "#" : `# ${h}`);
  // Sorted here, whatever order the caller has: the same tree always gives the same bytes.
  const byName = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;
  const sorted = packages
    .map((p) => ({ p, key: normalizeName(p.name) }))
    .sort((a, b) => byName(a.key, b.key));
  for (const { p, key } of sorted) {
    const hashList = [...new Set(p.hashes)].sort(byName);
    const hashes = hashList.length === 0 ? [`${key}==${p.version}`] : [
      `${key}==${p.version} \\`,
      ...hashList.map((h, i) =>
        `    --hash=${h}${i < hashList.length - 1 ? " \\" : ""}`
      ),
    ];
    lines.push(...hashes);
    const via = [...new Set(p.requiredBy.map((r) => r.by))].sort(byName);
    if (via.length > 0) {
      lines.push(`    # via ${via.join(", ")}`);
    }
  }
  return lines.join("\n") + "\n";
}
