// Checklist section "Vendored sources": the manifest is valid, SHA256SUMS.txt agrees with it,
// every listed file is present with the right bytes, nothing unknown lies in .flox/sources, and
// every entry is used by a package file.
import { sourceFile, SOURCES_DIR, SUMS_FILE } from "../repo/paths.ts";
import { join } from "node:path";
import { readTextIfExists } from "../kit/fsutil.ts";
import {
  FILE_SIZE_FIX,
  fileSizeProblem,
  type Manifest,
  renderSha256Sums,
} from "../repo/manifest.ts";
import { kindOf } from "../repo/source_kinds/all.ts";
import { type Add, RESTORE, type VerifyContext } from "./types.ts";

const S = "Vendored sources";
const SUMS = SUMS_FILE;

/** The manifest's own validity (an invalid one stops every other manifest check). */
export function checkManifest(ctx: VerifyContext, add: Add): void {
  if (ctx.manifestError === undefined) return;
  add(
    S,
    "error",
    ctx.manifestError,
    "sources-manifest.json",
    "fix the entry by hand, or re-add it with deno task fetch-source",
  );
}

/** SHA256SUMS.txt against the manifest (see checkSums). */
export async function checkSumsFile(
  ctx: VerifyContext,
  add: Add,
): Promise<void> {
  if (!ctx.manifest) return;
  checkSums(
    ctx.manifest,
    await readTextIfExists(join(ctx.root, SUMS_FILE)),
    add,
  );
}

/** SHA256SUMS.txt is exactly what the manifest renders; else which lines disagree. */
export function checkSums(
  m: Manifest,
  sums: string | undefined,
  add: Add,
): void {
  if (sums === undefined) {
    if (m.sources.length > 0) add(S, "error", "missing", SUMS, RESTORE);
    return;
  }
  if (sums === renderSha256Sums(m)) {
    add(S, "ok", `matches the manifest (${m.sources.length} files)`, SUMS);
    return;
  }
  const listed = new Map<string, string>();
  for (const l of sums.split("\n")) {
    const mm = l.match(/^([0-9a-f]{64}) [ *](.+)$/);
    if (mm) listed.set(mm[2]!, mm[1]!);
  }
  let specific = false;
  const bad = (msg: string) => {
    specific = true;
    add(S, "error", msg, SUMS, RESTORE);
  };
  for (const e of m.sources) {
    const h = listed.get(e.file);
    if (h === undefined) bad(`${e.file} is not in SHA256SUMS.txt`);
    else if (h !== e.sha256) {
      bad(
        `${e.file}: SHA256SUMS.txt says ${h.slice(0, 12)}…, the manifest ${
          e.sha256.slice(0, 12)
        }…`,
      );
    }
  }
  for (const f of listed.keys()) {
    if (!m.sources.some((e) => e.file === f)) {
      bad(`${f} is in SHA256SUMS.txt but not in the manifest`);
    }
  }
  if (!specific) {
    add(
      S,
      "warning",
      "SHA256SUMS.txt is not in the canonical order/format",
      SUMS,
      RESTORE,
    );
  }
}

/**
 * Each listed file: present (else a warning), with the manifest's size and sha256 (else an
 * error).
 */
export async function checkFiles(ctx: VerifyContext, add: Add): Promise<void> {
  if (!ctx.manifest) return;
  const states = new Map((await ctx.vendored()).map((v) => [v.file, v]));
  for (const e of ctx.manifest.sources) {
    const { sha256: hex, size } = states.get(e.file)!;
    const rel = sourceFile(e.file);
    if (hex === undefined) {
      // A release must build: a file a wired package needs is not optional then.
      const needed = ctx.release && ctx.wiredFiles.has(e.file);
      add(
        S,
        needed ? "error" : "warning",
        needed
          ? "missing (listed in the manifest, and a wired package builds from it)"
          : "missing (listed in the manifest)",
        rel,
        RESTORE,
      );
    } else if (hex !== e.sha256) {
      add(
        S,
        "error",
        `${e.file}: bytes do not match the manifest (sha256 ${
          hex.slice(0, 12)
        }…, expected ${e.sha256.slice(0, 12)}…)`,
        rel,
        `delete it and run ${RESTORE}`,
      );
    } else if (e.size !== undefined && e.size !== size) {
      add(
        S,
        "error",
        `the manifest says size ${e.size}, the file has ${size} bytes (its sha256 matches)`,
        "sources-manifest.json",
        `set "size": ${size} for ${e.file} in sources-manifest.json`,
      );
    } else {
      add(S, "ok", "present, sha256 matches", rel);
    }
  }
}

/**
 * No vendored file is too large for GitHub (see fileSizeProblem): its size on disk, else the one
 * the manifest records (what a restore would bring back).
 */
export async function checkFileSizes(
  ctx: VerifyContext,
  add: Add,
): Promise<void> {
  if (!ctx.manifest) return;
  const states = new Map((await ctx.vendored()).map((v) => [v.file, v]));
  for (const e of ctx.manifest.sources) {
    const s = states.get(e.file);
    const size = s?.sha256 !== undefined ? s.size : e.size;
    const problem = size === undefined ? undefined : fileSizeProblem(size);
    if (problem) {
      add(
        S,
        problem.level,
        `${e.file} ${problem.message}`,
        sourceFile(e.file),
        FILE_SIZE_FIX,
      );
    }
  }
}

/** What each entry's kind finds wrong with it beyond the schema (a PyPI file of another release). */
export function checkEntries(ctx: VerifyContext, add: Add): void {
  for (const e of ctx.manifest?.sources ?? []) {
    for (const p of kindOf(e).problems(e)) {
      add(S, "error", p.message, "sources-manifest.json", p.fix);
    }
  }
}

/** Files in .flox/sources the manifest does not list (temp files of a running fetch aside). */
export async function checkUnknownFiles(
  ctx: VerifyContext,
  add: Add,
): Promise<void> {
  const m = ctx.manifest;
  if (!m) return;
  const dir = join(ctx.root, SOURCES_DIR);
  try {
    for await (const ent of Deno.readDir(dir)) {
      if (ent.name === "SHA256SUMS.txt" || ent.name === ".gitkeep") continue;
      if (ent.name.startsWith(".") && ent.name.endsWith(".tmp")) continue;
      if (!m.sources.some((e) => e.file === ent.name)) {
        add(
          S,
          "error",
          "unknown file: not in sources-manifest.json",
          sourceFile(ent.name),
          "delete it, or vendor it properly with deno task fetch-source",
        );
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Manifest entries no package file uses. */
export function checkUnused(
  m: Manifest,
  used: ReadonlySet<string>,
  add: Add,
): void {
  for (const e of m.sources) {
    if (used.has(e.file)) continue;
    add(
      S,
      "warning",
      `manifest entry ${e.name} ${e.version} (${e.file}) is used by no .nix file`,
      "sources-manifest.json",
      `package it (deno task new-package ${e.name}) or remove the entry`,
    );
  }
}
