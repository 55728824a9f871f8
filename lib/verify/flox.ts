// Checklist section "Flox environment": what Flox itself needs to build .flox/pkgs: an env.json
// in the form Flox writes (`{"name": …, "version": 1}`), a manifest.toml that parses with a
// non-empty `toplevel` package group (the nixpkgs revision the builds use) and no `[install]`
// entry asking the catalog for a package .flox/pkgs builds, the lock that pins that revision,
// and every package file and vendored source tracked by git (Flox builds see tracked files only).
import {
  FLOX_ENV_JSON,
  FLOX_LOCK,
  FLOX_MANIFEST,
  sourceFile,
} from "../repo/paths.ts";
import { join } from "node:path";
import { parse as parseTomlDoc } from "smol-toml";
import { readTextIfExists } from "../kit/fsutil.ts";
import { scanTomlValues } from "../nix/toml_edit.ts";
import type { Add, PkgFile, RunCommand, VerifyContext } from "./types.ts";

const S = "Flox environment";
const ENV_JSON = FLOX_ENV_JSON;
const MANIFEST = FLOX_MANIFEST;
const LOCK = FLOX_LOCK;

/** `.flox/env.json` exists and is a Flox path-environment pointer (or a managed one). */
function checkEnvJson(text: string | undefined, add: Add): void {
  const fix =
    `write ${ENV_JSON} as Flox does: {"name": "comfyui", "version": 1} (flox init writes it)`;
  if (text === undefined) {
    add(
      S,
      "error",
      "missing: Flox refuses a .flox directory without it",
      ENV_JSON,
      fix,
    );
    return;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    add(S, "error", `not valid JSON: ${(e as Error).message}`, ENV_JSON, fix);
    return;
  }
  const problem = envPointerProblem(data);
  if (problem) add(S, "error", problem, ENV_JSON, fix);
  else {
    const d = data as { name: string; owner?: string };
    add(
      S,
      "ok",
      `${d.owner ? "managed" : "path"} environment "${d.name}"`,
      ENV_JSON,
    );
  }
}

/** What is wrong with a parsed env.json, or undefined (Flox's PathPointer / ManagedPointer). */
export function envPointerProblem(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return "expected a JSON object";
  }
  const d = data as Record<string, unknown>;
  const name = d.name;
  if (typeof name !== "string" || name === "") {
    return 'field "name": expected the environment\'s name (a non-empty string)';
  }
  if (/[\s/]/.test(name)) {
    return `field "name": "${name}" has a space or a "/", which Flox refuses`;
  }
  if (d.version !== 1) {
    return `field "version": expected 1, found ${JSON.stringify(d.version)}`;
  }
  const known = new Set(["name", "version", "owner", "floxhub_url"]);
  const extra = Object.keys(d).filter((k) => !known.has(k));
  if (extra.length) return `unknown field "${extra[0]}"`;
  if ("owner" in d && (typeof d.owner !== "string" || d.owner === "")) {
    return 'field "owner": expected a non-empty string';
  }
  return undefined;
}

/** One `[install]` entry of the manifest. */
interface InstallEntry {
  id: string;
  pkgPath?: string | undefined;
  group?: string | undefined;
  line: number;
}

/**
 * manifest.toml parses; its `toplevel` group (catalog packages without `pkg-group`) is not
 * empty; no entry asks the catalog for a package `.flox/pkgs` builds.
 */
function checkManifestToml(
  text: string | undefined,
  pkgs: PkgFile[],
  add: Add,
): void {
  if (text === undefined) {
    add(
      S,
      "error",
      "missing",
      MANIFEST,
      "flox init, then commit .flox/env/manifest.toml",
    );
    return;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseTomlDoc(text) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error).message;
    const line = (e as { line?: number }).line ?? msg.match(/^(\d+):/m)?.[1];
    add(
      S,
      "error",
      `invalid TOML: ${msg.split("\n")[0]}`,
      line ? `${MANIFEST}:${line}` : MANIFEST,
      "fix the syntax (flox edit checks it)",
    );
    return;
  }
  const entries = installEntries(text, doc);
  const built = new Set(pkgs.map((p) => p.name));
  const buildsHere = (e: InstallEntry) =>
    e.pkgPath !== undefined && built.has(e.pkgPath.split("/").pop()!);
  // An entry for a package built here cannot lock: it pins no nixpkgs revision.
  const toplevel = entries.filter((e) =>
    e.pkgPath !== undefined && (e.group ?? "toplevel") === "toplevel" &&
    !buildsHere(e)
  );
  const installLine = lineOfTable(text, "install");
  if (toplevel.length === 0) {
    add(
      S,
      "error",
      "the toplevel package group is empty: flox build then uses whatever nixpkgs the catalog calls stable on the day",
      installLine ? `${MANIFEST}:${installLine}` : MANIFEST,
      "flox install deno python3 (the maintainer's tools), which locks the environment",
    );
  } else {
    add(
      S,
      "ok",
      `toplevel group: ${toplevel.map((e) => e.id).join(", ")}`,
      `${MANIFEST}:${toplevel[0]!.line}`,
    );
  }
  for (const e of entries) {
    if (!buildsHere(e)) continue;
    const name = e.pkgPath!.split("/").pop()!;
    add(
      S,
      "error",
      `[install] ${e.id} asks the catalog for "${e.pkgPath}", which .flox/pkgs builds`,
      `${MANIFEST}:${e.line}`,
      `remove it (flox uninstall ${e.id}): build it with flox build ${name}, consumers install the published <org>/${name}`,
    );
  }
}

function installEntries(
  text: string,
  doc: Record<string, unknown>,
): InstallEntry[] {
  const install = doc.install;
  if (typeof install !== "object" || install === null) return [];
  const spans = scanTomlValues(text);
  const lineAt = (offset: number) => text.slice(0, offset).split("\n").length;
  return Object.entries(install as Record<string, unknown>).map(([id, v]) => {
    const r = (typeof v === "object" && v !== null ? v : {}) as Record<
      string,
      unknown
    >;
    const span = spans.find((s) => s.path[0] === "install" && s.path[1] === id);
    return {
      id,
      pkgPath: typeof r["pkg-path"] === "string" ? r["pkg-path"] : undefined,
      group: typeof r["pkg-group"] === "string" ? r["pkg-group"] : undefined,
      line: span ? lineAt(span.start) : lineOfTable(text, "install") ?? 1,
    };
  });
}

function lineOfTable(text: string, table: string): number | undefined {
  const i = text.split("\n").findIndex((l) => l.trim() === `[${table}]`);
  return i >= 0 ? i + 1 : undefined;
}

/**
 * manifest.lock pins the toplevel group's nixpkgs revision: missing, or without such a revision,
 * an error for a release and a warning otherwise (only Flox can write it); not JSON, an error
 * (Flox cannot read it either).
 */
function checkLock(
  text: string | undefined,
  release: boolean,
  add: Add,
): void {
  const relock =
    "flox activate -- true (or flox build, which locks first), then git add .flox/env/manifest.lock";
  if (text === undefined) {
    add(
      S,
      release ? "error" : "warning",
      "missing: without it flox build resolves nixpkgs anew on every machine",
      LOCK,
      relock,
    );
    return;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    add(
      S,
      "error",
      "not valid JSON: Flox cannot read it",
      LOCK,
      `restore it from git (git checkout -- ${LOCK}), or delete it and lock again: ${relock}`,
    );
    return;
  }
  const rev = toplevelRev(data);
  if (rev) {
    add(
      S,
      "ok",
      `present: the builds' nixpkgs revision is pinned (${rev.slice(0, 12)})`,
      LOCK,
    );
    return;
  }
  add(
    S,
    release ? "error" : "warning",
    "pins no nixpkgs revision for the toplevel group (no locked toplevel package with a rev): flox build would resolve nixpkgs anew",
    LOCK,
    relock,
  );
}

/** The nixpkgs commit of the lock's toplevel group (Flox's LockedPackageCatalog `rev`). */
function toplevelRev(data: unknown): string | undefined {
  const packages = (data as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(packages)) return undefined;
  for (const p of packages) {
    const r = p as { group?: unknown; rev?: unknown } | null;
    if (
      (r?.group ?? "toplevel") === "toplevel" && typeof r?.rev === "string" &&
      /^[0-9a-f]{40}$/.test(r.rev)
    ) return r.rev;
  }
  return undefined;
}

/**
 * Every package file and vendored source is tracked by git (Flox builds only see those); so are
 * Flox's own files (flox publish refuses untracked ones), an error only under --release.
 */
async function checkTracked(
  root: string,
  run: RunCommand | undefined,
  files: string[],
  add: Add,
  floxFiles: { files: string[]; level: "error" | "warning" } = {
    files: [],
    level: "warning",
  },
): Promise<void> {
  if (files.length === 0 && floxFiles.files.length === 0) return;
  const r = run
    ? await run("git", ["ls-files", "-z", "--", ".flox"], root)
    : undefined;
  if (!r || r.code !== 0) {
    add(
      S,
      "warning",
      `cannot tell which files git tracks (${
        r ? r.stderr.trim().split("\n")[0] : "git not run"
      })`,
      ".flox",
      "run verify in a git clone of the repository",
    );
    return;
  }
  const tracked = new Set(r.stdout.split("\0").filter(Boolean));
  const untracked = files.filter((f) => !tracked.has(f));
  for (const f of untracked) {
    add(
      S,
      "error",
      "not tracked by git: Flox builds only see tracked files",
      f,
      `git add ${f}`,
    );
  }
  for (const f of floxFiles.files.filter((f) => !tracked.has(f))) {
    add(
      S,
      floxFiles.level,
      "not tracked by git: flox publish refuses untracked files in .flox",
      f,
      `git add ${f}`,
    );
  }
  if (untracked.length === 0 && files.length > 0) {
    add(
      S,
      "ok",
      `${files.length} package files and vendored sources tracked by git`,
    );
  }
}

/**
 * Runs the section's checks. Tracking covers the package files and the vendored files whose bytes
 * are right; under --release also every vendored file a wired package names, present or not.
 */
export async function checkFlox(ctx: VerifyContext, add: Add): Promise<void> {
  const { root, pkgs } = ctx;
  const envJson = await readTextIfExists(join(root, ENV_JSON));
  const manifest = await readTextIfExists(join(root, MANIFEST));
  const lock = await readTextIfExists(join(root, LOCK));
  checkEnvJson(envJson, add);
  checkManifestToml(manifest, pkgs, add);
  checkLock(lock, ctx.release, add);
  const verified = await ctx.verified();
  const vendored = ctx.release
    ? [...verified, ...[...ctx.wiredFiles].filter((f) => !verified.includes(f))]
    : verified;
  const present = [
    [ENV_JSON, envJson],
    [MANIFEST, manifest],
    [LOCK, lock],
  ].filter(([, text]) => text !== undefined).map(([f]) => f!);
  await checkTracked(
    root,
    ctx.run,
    [...pkgs.map((p) => p.rel), ...vendored.map(sourceFile)],
    add,
    { files: present, level: ctx.release ? "error" : "warning" },
  );
}
