// Checklist section "Sources are pinned": every `src` is a vendored file listed in the manifest,
// or a fetcher call with a commit or release tag and a real hash. Also marks which manifest
// entries a package file uses (for the "used by no .nix file" warning, usedFiles).
import { SOURCES_DIR } from "../repo/paths.ts";
import { basename, dirname, join, relative, resolve } from "node:path";
import { isPlaceholderHash, toSri, tryParseHash } from "../hash/sha256.ts";
import { type Fetcher } from "../nix/fetchers.ts";
import { findFetchers } from "../nix/find.ts";
import type { Manifest, SourceEntry } from "../repo/manifest.ts";
import { kindOf } from "../repo/source_kinds/all.ts";
import { dynamicUrlReason } from "./network.ts";
import type { Add, Level, PkgFile, VerifyContext } from "./types.ts";

const S = "Sources are pinned";

/** Manifest entries by file name; undefined when the manifest is invalid. */
type ByFile = Map<string, SourceEntry> | undefined;

type Problem = [Level, string, string];

const BRANCHES = new Set([
  "main",
  "master",
  "head",
  "develop",
  "dev",
  "trunk",
  "stable",
  "nightly",
  "latest",
  "release",
  "next",
  "canary",
]);

/** True for a 40-hex git commit. */
export function isCommit(rev: string): boolean {
  return /^[0-9a-f]{40}$/.test(rev);
}

/** True for a ref that reads as a release tag (`v1.2.3`, `0.3.75`, `release-2.1`, `1.0rc1`). */
export function isTagLike(rev: string): boolean {
  if (BRANCHES.has(rev.toLowerCase())) return false;
  return /^[A-Za-z._-]*\d+([._+-]?[0-9A-Za-z]+)*$/.test(rev) && /\d/.test(rev);
}

/** Every `src` of every parsed package file is pinned. */
export function checkPinned(ctx: VerifyContext, add: Add): void {
  const byFile = byFileOf(ctx.manifest);
  for (const p of ctx.pkgs) {
    if (!p.file || !p.info) continue;
    if (p.info.attrSet && !p.info.src) {
      add(
        S,
        "warning",
        "no src attribute found",
        p.rel,
        "give the package a pinned src",
      );
    }
    for (const f of findFetchers(p.file, p.info.scope)) {
      if (f.fetcher === "path") checkPathSrc(ctx.root, p, f, byFile, add);
      else checkFetchCall(p, f, add);
    }
  }
}

function byFileOf(m: Manifest | undefined): ByFile {
  return m ? new Map(m.sources.map((s) => [s.file, s])) : undefined;
}

/**
 * The manifest files the package files use: a path `src` naming one, or a fetcher call
 * downloading what an entry records (same URL, repository and revision, or PyPI release).
 */
export function usedFiles(
  root: string,
  pkgs: PkgFile[],
  byFile: ByFile,
): Set<string> {
  const used = new Set<string>();
  if (!byFile) return used;
  for (const p of pkgs) {
    if (!p.file || !p.info) continue;
    for (const f of findFetchers(p.file, p.info.scope)) {
      if (f.fetcher !== "path") markUsed(f, byFile, used);
    }
    for (const name of pathSources(root, p)) {
      if (byFile.has(name)) used.add(name);
    }
  }
  return used;
}

/** The files under .flox/sources/ a package file's path sources name. */
export function pathSources(root: string, p: PkgFile): string[] {
  if (!p.file || !p.info) return [];
  return findFetchers(p.file, p.info.scope).filter((f) => f.fetcher === "path")
    .map((f) => vendoredName(root, p, f)).filter((n) => n !== undefined);
}

/** The file name under .flox/sources/ a path src names; undefined for any other path. */
function vendoredName(
  root: string,
  p: PkgFile,
  f: Pick<Fetcher, "resolvedPath">,
): string | undefined {
  if (f.resolvedPath === undefined) return undefined;
  const target = resolve(dirname(p.abs), f.resolvedPath);
  const rel = relative(join(root, SOURCES_DIR), target);
  return rel.startsWith("..") || rel.includes("/")
    ? undefined
    : basename(target);
}

/** A path `src`: a file directly under .flox/sources that the manifest lists. */
function checkPathSrc(
  root: string,
  p: PkgFile,
  f: Fetcher,
  byFile: ByFile,
  add: Add,
): void {
  const where = `${p.rel}:${f.line}`;
  if (f.resolvedPath === undefined) {
    add(
      S,
      "error",
      `src ${f.path} cannot be resolved statically`,
      where,
      "interpolate only names bound to string literals in the file (version, pname)",
    );
    return;
  }
  const target = resolve(dirname(p.abs), f.resolvedPath);
  const rel = relative(join(root, SOURCES_DIR), target);
  const name = basename(target);
  const src = f.path === f.resolvedPath
    ? f.path
    : `${f.path} (${rel.startsWith("..") ? f.resolvedPath : name})`;
  if (rel.startsWith("..") || rel.includes("/")) {
    add(
      S,
      "error",
      `src ${src} is not a vendored file under .flox/sources/`,
      where,
      "vendor it with deno task fetch-source and point src at .flox/sources/FILE",
    );
  } else if (!byFile) {
    // The manifest is invalid: its error already says what to fix.
  } else if (!byFile.has(name)) {
    add(
      S,
      "error",
      `src ${src} is not listed in sources-manifest.json`,
      where,
      "vendor it with deno task fetch-source (records it in the manifest)",
    );
  } else {
    add(S, "ok", `vendored ${name}`, where);
  }
}

/** A fetcher call: the revision, the URL and the hash. */
function checkFetchCall(p: PkgFile, f: Fetcher, add: Add): void {
  const git = gitPin(f);
  const problems: Problem[] = [...git.problems];
  const url = f.attrs.get("url")?.value;
  const why = url ? dynamicUrlReason(url) : undefined;
  if (why) {
    problems.push([
      "error",
      `url is ${why}: ${url}`,
      "use a release URL or vendor the file",
    ]);
  }
  const hash = hashPin(f);
  problems.push(...hash.problems);
  const pin = [git.pin, hash.pin].filter(Boolean).join(", ");
  for (const [level, msg, fix] of problems) {
    add(
      S,
      level,
      `${f.fetcher}: ${msg}`,
      `${p.rel}:${lineOf(f, msg) ?? f.line}`,
      fix,
    );
  }
  if (problems.length === 0) {
    add(
      S,
      "ok",
      `${f.fetcher} ${describeFetch(f)} (${pin})`,
      `${p.rel}:${f.line}`,
    );
  }
}

/**
 * Marks the manifest entries a fetcher call downloads: the same URL, or what the entry's kind
 * recognises (a GitHub repository and revision, a PyPI release).
 */
function markUsed(
  f: Fetcher,
  byFile: Map<string, SourceEntry>,
  used: Set<string>,
): void {
  const call = {
    fetcher: f.fetcher,
    attr: (k: string) => f.attrs.get(k)?.value,
  };
  const url = call.attr("url");
  for (const e of byFile.values()) {
    if ((url && url === e.url) || kindOf(e).fetchedBy(call, e)) {
      used.add(e.file);
    }
  }
}

/** The revision of a git fetcher: a commit or a tag, never a branch. */
export function gitPin(f: Fetcher): { pin: string; problems: Problem[] } {
  const isGit = /^fetch(FromGit\w+|git|FromSourcehut|FromBitbucket|Git)$/.test(
    f.fetcher,
  );
  if (!isGit) return { pin: "", problems: [] };
  const ref = f.attrs.get("tag") ?? f.attrs.get("rev");
  if (!ref) {
    return {
      pin: "",
      problems: [[
        "error",
        "no rev or tag: the source follows the default branch",
        'set rev = "<40-hex commit>" or tag = "v<version>"',
      ]],
    };
  }
  if (ref.value === undefined) {
    return {
      pin: "",
      problems: [[
        "warning",
        `${ref.name} = ${ref.text} cannot be resolved statically`,
        "use a literal commit or a tag built from version",
      ]],
    };
  }
  if (isCommit(ref.value)) {
    return { pin: `commit ${ref.value.slice(0, 12)}`, problems: [] };
  }
  if (isTagLike(ref.value)) return { pin: `tag ${ref.value}`, problems: [] };
  return {
    pin: "",
    problems: [[
      "error",
      `${ref.name} "${ref.value}" is a branch or moving ref`,
      'pin rev = "<40-hex commit>" or a release tag',
    ]],
  };
}

/** The hash of a fetcher: present, literal, not a placeholder, well formed, SRI. */
export function hashPin(f: Fetcher): { pin: string; problems: Problem[] } {
  const a = (k: string) => f.attrs.get(k);
  const hash = a("hash") ?? a("sha256") ?? a("outputHash") ?? a("narHash") ??
    a("sha512");
  const fail = (level: Level, msg: string, fix: string) => ({
    pin: "",
    problems: [[level, msg, fix] as Problem],
  });
  if (!hash) {
    return fail(
      "error",
      "no hash: the download is not pinned",
      'add hash = lib.fakeHash, build, then run "deno task fix-hash"',
    );
  }
  const v = hash.value;
  if (isPlaceholderHash(v ?? hash.text)) {
    return fail(
      "error",
      `placeholder hash (${hash.text})`,
      'build it and run "deno task fix-hash" on the output',
    );
  }
  if (v === undefined) {
    return fail(
      "error",
      `${hash.name} is not a literal (${hash.text})`,
      'write the hash as a "sha256-…" string',
    );
  }
  if (hash.name === "sha512") return { pin: "sha512", problems: [] };
  const d = tryParseHash(v);
  if (!d) {
    return fail(
      "error",
      `malformed hash "${v}"`,
      'use an SRI hash "sha256-<base64>" (deno task fix-hash fills it in)',
    );
  }
  if (hash.name === "sha256" || !v.startsWith("sha256-")) {
    return fail(
      "warning",
      `legacy ${hash.name} = "${v}"`,
      `write hash = "${toSri(d)}"`,
    );
  }
  return { pin: v.slice(0, 19) + "…", problems: [] };
}

function lineOf(f: Fetcher, msg: string): number | undefined {
  if (/hash|sha256/.test(msg)) {
    return (f.attrs.get("hash") ?? f.attrs.get("sha256"))?.line;
  }
  if (/\b(rev|tag)\b/.test(msg)) {
    return (f.attrs.get("rev") ?? f.attrs.get("tag"))?.line;
  }
  if (/url/.test(msg)) return f.attrs.get("url")?.line;
  return undefined;
}

function describeFetch(f: Fetcher): string {
  const v = (k: string) => f.attrs.get(k)?.value;
  if (v("owner") && v("repo")) return `${v("owner")}/${v("repo")}`;
  if (v("pname")) return `${v("pname")} ${v("version") ?? ""}`.trim();
  if (v("url")) return v("url")!;
  return "";
}
