// The release checklist as code: every check `deno task verify` runs over `.flox/pkgs/*.nix`,
// `sources-manifest.json` and `.flox/sources/`, returning findings (ok / warning / error, each
// with file:line and the fix). I/O is limited to reading the repository, hashing vendored files
// and the two commands passed in (nix-instantiate --parse, git).
//
//   const findings = await verifyRepo({ root, release: false, runCommand });
import { basename, dirname, join, relative, resolve } from "node:path";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import {
  isPlaceholderHash,
  sha256File,
  toHex,
  toSri,
  tryParseHash,
} from "../hash/sha256.ts";
import {
  type Manifest,
  parseManifest,
  renderSha256Sums,
} from "../repo/manifest.ts";
import { type NixFile, tryParseNix } from "../nix/parse.ts";
import {
  DEP_LISTS,
  type Fetcher,
  findFetchers,
  findStrings,
  findSystemLists,
  type PackageInfo,
  readPackage,
} from "../nix/query.ts";

/** The severity of a finding. */
export type Level = "ok" | "warning" | "error";

/** One line of the checklist. */
export interface Finding {
  section: Section;
  level: Level;
  /** `file` or `file:line`, relative to the repository root. */
  where?: string | undefined;
  message: string;
  fix?: string | undefined;
}

/** Checklist sections, in print order. */
export const SECTIONS = [
  "Nix files parse",
  "Sources are pinned",
  "No network at build or run time",
  "Vendored sources",
  "Packages are wired into the main package",
  "Python packages",
  "Release",
] as const;
export type Section = typeof SECTIONS[number];

/** Runs an external command; returns undefined when it is not installed. */
export type RunCommand = (
  cmd: string,
  args: string[],
  cwd: string,
) => Promise<{ code: number; stdout: string; stderr: string } | undefined>;

/** What verifyRepo needs. */
export interface VerifyOptions {
  root: string;
  release?: boolean;
  /** Used for nix-instantiate and git; omit to skip both (release checks then fail). */
  runCommand?: RunCommand | undefined;
}

/** The file the main package lives in. */
export const MAIN_FILE = ".flox/pkgs/comfyui.nix";
const RESTORE = "deno task fetch-source --all";

/** Nix systems nixpkgs knows (lib.systems.doubles, the common part). */
export const NIX_SYSTEMS = new Set([
  "x86_64-linux",
  "aarch64-linux",
  "i686-linux",
  "armv6l-linux",
  "armv7l-linux",
  "armv7a-linux",
  "riscv64-linux",
  "powerpc64le-linux",
  "s390x-linux",
  "loongarch64-linux",
  "mipsel-linux",
  "x86_64-darwin",
  "aarch64-darwin",
  "x86_64-freebsd",
  "aarch64-freebsd",
  "i686-freebsd",
  "x86_64-netbsd",
  "x86_64-openbsd",
  "x86_64-windows",
  "i686-windows",
  "wasm32-wasi",
  "wasm64-wasi",
]);

// Top-level nixpkgs names a package function commonly takes; anything else must be a package
// file under .flox/pkgs or a python3Packages attribute in nixpkgs-index.json.
const NIXPKGS_TOP = new Set([
  "lib",
  "stdenv",
  "pkgs",
  "config",
  "callPackage",
  "python3",
  "python3Packages",
  "python311",
  "python312",
  "python313",
  "python311Packages",
  "python312Packages",
  "python313Packages",
  "buildPythonPackage",
  "buildPythonApplication",
  "fetchFromGitHub",
  "fetchFromGitLab",
  "fetchPypi",
  "fetchurl",
  "fetchzip",
  "fetchgit",
  "makeWrapper",
  "makeBinaryWrapper",
  "symlinkJoin",
  "runCommand",
  "writeShellScript",
  "writeShellScriptBin",
  "writeText",
  "substituteAll",
  "replaceVars",
  "autoPatchelfHook",
  "cudaPackages",
  "cudaSupport",
  "rocmSupport",
  "git",
  "ffmpeg",
  "ffmpeg-headless",
  "nodejs",
  "cmake",
  "ninja",
  "pkg-config",
  "which",
  "gcc",
  "zlib",
  "libGL",
  "glib",
  "darwin",
]);

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

/** A URL that names something that moves (latest release, branch archive, branch file). */
export function dynamicUrlReason(url: string): string | undefined {
  const u = url.toLowerCase();
  const br = "(main|master|head|develop|dev|trunk)";
  if (/\/releases\/latest\b/.test(u)) return "a 'latest release' URL";
  if (/\/archive\/refs\/heads\//.test(u)) return "a branch archive";
  if (new RegExp(`/(archive|tarball|zipball)/${br}(\\.|/|$)`).test(u)) {
    return "a branch archive";
  }
  if (new RegExp(`/-/archive/${br}/`).test(u)) return "a branch archive";
  if (
    new RegExp(`raw\\.githubusercontent\\.com/[^/]+/[^/]+/${br}/`).test(u) ||
    new RegExp(`/(raw|blob)/${br}/`).test(u)
  ) return "a file on a branch";
  if (/[/=]latest([/.?&#-]|$)/.test(u)) return "a 'latest' URL";
  return undefined;
}

const PIP_INSTALL = /\bpip3?\s+install\b|-m\s+pip\s+install\b/;

interface PkgFile {
  rel: string;
  abs: string;
  name: string;
  file?: NixFile | undefined;
  info?: PackageInfo | undefined;
}

/** Runs every check; findings come back in section order. */
export async function verifyRepo(opts: VerifyOptions): Promise<Finding[]> {
  const root = resolve(opts.root);
  const stat = await Deno.stat(root).catch(() => undefined);
  if (!stat?.isDirectory) {
    throw new KitError(
      `Not a directory: "${opts.root}"; run verify in the repository or give --root DIR`,
    );
  }
  const out: Finding[] = [];
  const add: Add = (section, level, message, where, fix) =>
    out.push({ section, level, message, where, fix });

  // --- Nix files parse ----------------------------------------------------------------------
  const pkgDir = join(root, ".flox/pkgs");
  const pkgs: PkgFile[] = [];
  try {
    for await (const e of Deno.readDir(pkgDir)) {
      if (e.isFile && e.name.endsWith(".nix")) {
        pkgs.push({
          rel: `.flox/pkgs/${e.name}`,
          abs: join(pkgDir, e.name),
          name: e.name.slice(0, -4),
        });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  pkgs.sort((a, b) => a.rel < b.rel ? -1 : 1);
  const texts = await Promise.all(pkgs.map((p) => Deno.readTextFile(p.abs)));
  pkgs.forEach((p, i) => {
    const r = tryParseNix(texts[i]!, p.rel);
    if (r instanceof KitError) {
      // "file:line:col: syntax error: …" → where "file:line:col", message the rest.
      const m = r.message.match(/^.*?:(\d+:\d+): (.*)$/s);
      add(
        "Nix files parse",
        "error",
        m ? m[2]! : r.message,
        m ? `${p.rel}:${m[1]}` : p.rel,
        "fix the syntax error",
      );
    } else {
      p.file = r;
      p.info = readPackage(r);
      add("Nix files parse", "ok", "parses", p.rel);
    }
  });
  if (pkgs.length === 0) {
    add(
      "Nix files parse",
      "error",
      "no package files in .flox/pkgs/",
      ".flox/pkgs",
      "restore .flox/pkgs/comfyui.nix from git",
    );
  }
  const nixParse = opts.runCommand
    ? nixInstantiateParse(opts.runCommand, root, pkgs.filter((p) => p.file))
    : Promise.resolve([]);

  // --- Manifest -----------------------------------------------------------------------------
  const manifestText = await readTextIfExists(
    join(root, "sources-manifest.json"),
  );
  let manifest: Manifest | undefined;
  if (manifestText === undefined) {
    manifest = { version: 1, sources: [] };
  } else {
    try {
      manifest = parseManifest(manifestText, "sources-manifest.json");
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      add(
        "Vendored sources",
        "error",
        e.message.replace(/^sources-manifest\.json: /, ""),
        "sources-manifest.json",
        "fix the entry by hand, or re-add it with deno task fetch-source",
      );
    }
  }
  const byFile = new Map((manifest?.sources ?? []).map((s) => [s.file, s]));
  const used = new Set<string>();

  // --- Sources are pinned -------------------------------------------------------------------
  for (const p of pkgs) {
    if (!p.file || !p.info) continue;
    const fetchers = findFetchers(p.file, p.info.scope);
    if (p.info.attrSet && !p.info.src) {
      add(
        "Sources are pinned",
        "warning",
        "no src attribute found",
        p.rel,
        "give the package a pinned src",
      );
    }
    for (const f of fetchers) {
      // With an invalid manifest (reported above) no src can be checked against it.
      checkFetcher(p, f, root, manifest ? byFile : undefined, used, add);
    }
  }

  // --- No network at build or run time -------------------------------------------------------
  let netProblems = 0;
  for (const p of pkgs) {
    if (!p.file) continue;
    for (const s of findStrings(p.file)) {
      const where = `${p.rel}:${s.line}`;
      if (PIP_INSTALL.test(s.text)) {
        netProblems++;
        add(
          "No network at build or run time",
          "error",
          "runs pip install",
          where,
          "declare the dependency in a dependency list (deno task new-package NAME)",
        );
      }
      const url = s.value ?? s.text;
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
        const why = dynamicUrlReason(url);
        const isMeta = /homepage|changelog|downloadPage/.test(
          p.file.text.slice(
            p.file.text.lastIndexOf("\n", s.span.from) + 1,
            s.span.from,
          ),
        );
        if (why && !isMeta) {
          netProblems++;
          add(
            "No network at build or run time",
            "error",
            `dynamic URL (${why}): ${url}`,
            where,
            "pin a release URL or commit, with its hash",
          );
        }
      }
    }
  }
  const floxManifest = await readTextIfExists(
    join(root, ".flox/env/manifest.toml"),
  );
  if (floxManifest !== undefined) {
    floxManifest.split("\n").forEach((line, i) => {
      if (line.trimStart().startsWith("#")) return;
      if (PIP_INSTALL.test(line)) {
        netProblems++;
        add(
          "No network at build or run time",
          "error",
          "runs pip install in the environment",
          `.flox/env/manifest.toml:${i + 1}`,
          "package the dependency under .flox/pkgs instead",
        );
      }
    });
  }
  if (netProblems === 0) {
    add(
      "No network at build or run time",
      "ok",
      "no pip install, no dynamic URLs",
    );
  }

  // --- Vendored sources ---------------------------------------------------------------------
  if (manifest) await checkVendored(root, manifest, used, add);

  // --- Wiring and Python packages -------------------------------------------------------------
  checkWiring(root, pkgs, add, await nixpkgsNames(root));
  checkPython(pkgs, add);

  for (const f of await nixParse) out.push(f);

  // --- Release ------------------------------------------------------------------------------
  if (opts.release) {
    const main = pkgs.find((p) => p.rel === MAIN_FILE);
    await checkRelease(root, opts.runCommand, main?.info?.version, add);
  }
  const order = new Map(SECTIONS.map((s, i) => [s, i]));
  return out.map((f, i) => ({ f, i })).sort((a, b) =>
    order.get(a.f.section)! - order.get(b.f.section)! || a.i - b.i
  ).map((x) => x.f);
}

type Add = (
  section: Section,
  level: Level,
  message: string,
  where?: string,
  fix?: string,
) => void;

function checkFetcher(
  p: PkgFile,
  f: Fetcher,
  root: string,
  byFile: Map<string, Manifest["sources"][number]> | undefined,
  used: Set<string>,
  add: Add,
): void {
  const S = "Sources are pinned";
  const where = `${p.rel}:${f.line}`;
  if (f.fetcher === "path") {
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
    const target = resolve(dirname(join(root, p.rel)), f.resolvedPath);
    const rel = relative(join(root, ".flox/sources"), target);
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
      used.add(name);
      add(S, "ok", `vendored ${name}`, where);
    }
    return;
  }
  const a = (k: string) => f.attrs.get(k);
  const label = `${f.fetcher}`;
  for (const e of byFile?.values() ?? []) {
    const url = a("url")?.value;
    if (url && url === e.url) used.add(e.file);
    if (
      e.kind === "github" && a("owner")?.value === e.owner &&
      a("repo")?.value === e.repo &&
      [e.rev, e.commit].includes(a("rev")?.value ?? a("tag")?.value)
    ) used.add(e.file);
    if (
      (e.kind === "pypi-wheel" || e.kind === "pypi-sdist") &&
      f.fetcher === "fetchPypi" &&
      a("pname")?.value !== undefined &&
      normalize(a("pname")!.value!) === normalize(e.name) &&
      a("version")?.value === e.version
    ) used.add(e.file);
  }
  const problems: [Level, string, string][] = [];
  const isGit = /^fetch(FromGit\w+|git|FromSourcehut|FromBitbucket|Git)$/.test(
    f.fetcher,
  );
  let pin = "";
  if (isGit) {
    const tag = a("tag");
    const rev = a("rev");
    const ref = tag ?? rev;
    if (!ref) {
      problems.push([
        "error",
        "no rev or tag: the source follows the default branch",
        'set rev = "<40-hex commit>" or tag = "v<version>"',
      ]);
    } else if (ref.value === undefined) {
      problems.push([
        "warning",
        `${ref.name} = ${ref.text} cannot be resolved statically`,
        "use a literal commit or a tag built from version",
      ]);
    } else if (isCommit(ref.value)) pin = `commit ${ref.value.slice(0, 12)}`;
    else if (isTagLike(ref.value)) pin = `tag ${ref.value}`;
    else {
      problems.push([
        "error",
        `${ref.name} "${ref.value}" is a branch or moving ref`,
        'pin rev = "<40-hex commit>" or a release tag',
      ]);
    }
  }
  const url = a("url")?.value;
  if (url) {
    const why = dynamicUrlReason(url);
    if (why) {
      problems.push([
        "error",
        `url is ${why}: ${url}`,
        "use a release URL or vendor the file",
      ]);
    }
  }
  // The hash.
  const hash = a("hash") ?? a("sha256") ?? a("outputHash") ?? a("narHash") ??
    a("sha512");
  if (!hash) {
    problems.push([
      "error",
      "no hash: the download is not pinned",
      'add hash = lib.fakeHash, build, then run "deno task fix-hash"',
    ]);
  } else {
    const v = hash.value;
    if (isPlaceholderHash(v ?? hash.text)) {
      problems.push([
        "error",
        `placeholder hash (${hash.text})`,
        'build it and run "deno task fix-hash" on the output',
      ]);
    } else if (v === undefined) {
      problems.push([
        "error",
        `${hash.name} is not a literal (${hash.text})`,
        'write the hash as a "sha256-…" string',
      ]);
    } else if (hash.name === "sha512") {
      pin += (pin ? ", " : "") + "sha512";
    } else {
      const d = tryParseHash(v);
      if (!d) {
        problems.push([
          "error",
          `malformed hash "${v}"`,
          'use an SRI hash "sha256-<base64>" (deno task fix-hash fills it in)',
        ]);
      } else if (hash.name === "sha256" || !v.startsWith("sha256-")) {
        problems.push([
          "warning",
          `legacy ${hash.name} = "${v}"`,
          `write hash = "${toSri(d)}"`,
        ]);
      } else pin += (pin ? ", " : "") + v.slice(0, 19) + "…";
    }
  }
  const worst = problems.find((x) => x[0] === "error") ? "error" : undefined;
  for (const [level, msg, fix] of problems) {
    add(
      S,
      level,
      `${label}: ${msg}`,
      `${p.rel}:${hashLine(f, msg) ?? f.line}`,
      fix,
    );
  }
  if (!worst && !problems.some((x) => x[0] === "warning")) {
    add(S, "ok", `${label} ${describeFetch(f)} (${pin})`, where);
  }
}

function hashLine(f: Fetcher, msg: string): number | undefined {
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

function normalize(n: string): string {
  return n.toLowerCase().replace(/[-_.]+/g, "-");
}

async function checkVendored(
  root: string,
  m: Manifest,
  used: Set<string>,
  add: Add,
): Promise<void> {
  const S = "Vendored sources";
  const dir = join(root, ".flox/sources");
  const sumsRel = ".flox/sources/SHA256SUMS.txt";
  const sums = await readTextIfExists(join(dir, "SHA256SUMS.txt"));
  const expected = renderSha256Sums(m);
  if (sums === undefined) {
    if (m.sources.length > 0) {
      add(S, "error", "missing", sumsRel, RESTORE);
    }
  } else if (sums !== expected) {
    const listed = new Map<string, string>();
    sums.split("\n").forEach((l) => {
      const mm = l.match(/^([0-9a-f]{64}) [ *](.+)$/);
      if (mm) listed.set(mm[2]!, mm[1]!);
    });
    let specific = false;
    for (const e of m.sources) {
      const h = listed.get(e.file);
      if (h === undefined) {
        specific = true;
        add(S, "error", `${e.file} is not in SHA256SUMS.txt`, sumsRel, RESTORE);
      } else if (h !== e.sha256) {
        specific = true;
        add(
          S,
          "error",
          `${e.file}: SHA256SUMS.txt says ${h.slice(0, 12)}…, the manifest ${
            e.sha256.slice(0, 12)
          }…`,
          sumsRel,
          RESTORE,
        );
      }
    }
    for (const f of listed.keys()) {
      if (!m.sources.some((e) => e.file === f)) {
        specific = true;
        add(
          S,
          "error",
          `${f} is in SHA256SUMS.txt but not in the manifest`,
          sumsRel,
          RESTORE,
        );
      }
    }
    if (!specific) {
      add(
        S,
        "warning",
        "SHA256SUMS.txt is not in the canonical order/format",
        sumsRel,
        RESTORE,
      );
    }
  } else {
    add(
      S,
      "ok",
      `matches the manifest (${m.sources.length} files)`,
      sumsRel,
    );
  }
  // Presence and bytes, hashed in parallel.
  const results = await Promise.all(m.sources.map(async (e) => {
    try {
      return { e, hex: toHex(await sha256File(join(dir, e.file))) };
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { e, hex: undefined };
      throw err;
    }
  }));
  let missing = 0;
  for (const { e, hex } of results) {
    const rel = `.flox/sources/${e.file}`;
    if (hex === undefined) {
      missing++;
      add(S, "warning", "missing (listed in the manifest)", rel, RESTORE);
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
    } else add(S, "ok", "present, sha256 matches", rel);
  }
  void missing;
  // Unknown files.
  try {
    for await (const ent of Deno.readDir(dir)) {
      if (ent.name === "SHA256SUMS.txt" || ent.name === ".gitkeep") continue;
      if (ent.name.startsWith(".") && ent.name.endsWith(".tmp")) continue;
      if (!m.sources.some((e) => e.file === ent.name)) {
        add(
          S,
          "error",
          "unknown file: not in sources-manifest.json",
          `.flox/sources/${ent.name}`,
          "delete it, or vendor it properly with deno task fetch-source",
        );
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const e of m.sources) {
    if (!used.has(e.file)) {
      add(
        S,
        "warning",
        `manifest entry ${e.name} ${e.version} (${e.file}) is used by no .nix file`,
        "sources-manifest.json",
        `package it (deno task new-package ${e.name}) or remove the entry`,
      );
    }
  }
}

async function nixpkgsNames(root: string): Promise<Set<string>> {
  const text = await readTextIfExists(join(root, "nixpkgs-index.json"));
  if (!text) return new Set();
  try {
    const data = JSON.parse(text) as {
      python3Packages?: Record<string, string>;
    };
    return new Set(Object.keys(data.python3Packages ?? {}));
  } catch {
    return new Set();
  }
}

function listNames(info: PackageInfo): Set<string> {
  const names = new Set<string>();
  for (const k of DEP_LISTS) {
    const l = info.lists.get(k);
    if (!l) continue;
    for (const b of [l.main, ...l.blocks]) {
      for (const i of b?.items ?? []) names.add(i.name);
    }
  }
  return names;
}

function checkWiring(
  root: string,
  pkgs: PkgFile[],
  add: Add,
  pyNames: Set<string>,
): void {
  void root;
  const S = "Packages are wired into the main package";
  const main = pkgs.find((p) => p.rel === MAIN_FILE);
  if (!main) {
    add(
      S,
      "error",
      `no main package ${MAIN_FILE}`,
      MAIN_FILE,
      "restore it from git",
    );
    return;
  }
  if (!main.info) return;
  const custom = new Map(
    pkgs.filter((p) => p !== main).map((p) => [p.name, p]),
  );
  // A package is wired when the main package, or a wired package, takes it as an argument and
  // lists it as a dependency (Flox calls every .flox/pkgs file with the others in scope).
  const wired = new Set<string>();
  const queue: PkgFile[] = [main];
  while (queue.length) {
    const p = queue.shift()!;
    if (!p.info) continue;
    const formals = new Set(p.info.formals.map((f) => f.name));
    for (const n of listNames(p.info)) {
      const c = custom.get(n);
      if (c && formals.has(n) && !wired.has(n)) {
        wired.add(n);
        queue.push(c);
      }
    }
  }
  if (custom.size === 0) {
    add(S, "ok", "no custom packages besides the main package", MAIN_FILE);
  }
  const mainFormals = new Set(main.info.formals.map((f) => f.name));
  const mainLists = listNames(main.info);
  for (const [name, p] of custom) {
    if (wired.has(name)) {
      add(S, "ok", `${name} is wired in`, p.rel);
      continue;
    }
    const missing = [
      mainFormals.has(name) ? "" : "an argument",
      mainLists.has(name) ? "" : "a dependency-list entry",
    ].filter(Boolean).join(" and ");
    // A warning: a package kept for history but deliberately not wired (nunchaku) builds fine.
    add(
      S,
      "warning",
      `${name} is not used: ${MAIN_FILE} lacks ${missing || "a path to it"}`,
      p.rel,
      `add "${name}" to the arguments and to propagatedBuildInputs of ${MAIN_FILE}, or remove the file`,
    );
  }
  for (const p of pkgs) {
    if (!p.info) continue;
    const lists = listNames(p.info);
    for (const f of p.info.formals) {
      if (
        custom.has(f.name) || NIXPKGS_TOP.has(f.name) || f.default !== undefined
      ) continue;
      if (pyNames.has(f.name) && !lists.has(f.name)) continue;
      const where = `${p.rel}:${f.line}`;
      if (lists.has(f.name)) {
        add(
          S,
          "error",
          `argument ${f.name} has no package file .flox/pkgs/${f.name}.nix`,
          where,
          `create it (deno task new-package ${f.name}) or drop the argument to use python3.pkgs.${f.name}`,
        );
      } else {
        add(
          S,
          "warning",
          `argument ${f.name} is neither a package file nor a known nixpkgs name`,
          where,
          `check the name, or create .flox/pkgs/${f.name}.nix`,
        );
      }
    }
  }
}

function checkPython(pkgs: PkgFile[], add: Add): void {
  const S = "Python packages";
  for (const p of pkgs) {
    const info = p.info;
    if (!info || !p.file) continue;
    const builder = info.builder ?? "";
    if (/build(Python(Package|Application))$/.test(builder)) {
      const line = info.attrs.get("pythonImportsCheck")?.line;
      const where = line ? `${p.rel}:${line}` : p.rel;
      const checks = info.pythonImportsCheck ?? [];
      // An application with format = "other" installs scripts, not an importable module:
      // ComfyUI's main.py is run, never imported, so it is exempt.
      const exempt = /buildPythonApplication$/.test(builder) &&
        info.format === "other";
      if (checks.length > 0) {
        add(S, "ok", `pythonImportsCheck: ${checks.join(", ")}`, where);
      } else if (exempt) {
        add(
          S,
          "ok",
          'pythonImportsCheck not required (application with format = "other")',
          where,
        );
      } else {
        add(
          S,
          "error",
          "no pythonImportsCheck",
          where,
          `add pythonImportsCheck = [ "${
            (info.pname ?? p.name).replace(/-/g, "_")
          }" ];`,
        );
      }
      if (info.license === undefined) {
        add(
          S,
          "warning",
          "no meta.license",
          p.rel,
          "add meta.license (deno task new-package reads it from the metadata)",
        );
      }
    }
    for (const list of findSystemLists(p.file)) {
      for (const s of list.systems) {
        if (NIX_SYSTEMS.has(s.name)) continue;
        const guess = closestSystem(s.name);
        add(
          S,
          "error",
          `"${s.name}" is not a Nix system`,
          `${p.rel}:${s.line}`,
          guess
            ? `use "${guess}"`
            : `use one of x86_64-linux, aarch64-linux, x86_64-darwin, aarch64-darwin`,
        );
      }
      if (list.systems.every((s) => NIX_SYSTEMS.has(s.name))) {
        add(
          S,
          "ok",
          `platforms ${list.systems.map((s) => s.name).join(" ")}`,
          `${p.rel}:${list.line}`,
        );
      }
    }
  }
}

/** The known system closest to a misspelt one (`x86_64-macos` → `x86_64-darwin`). */
export function closestSystem(name: string): string | undefined {
  const n = name.toLowerCase().replace(/macos|osx|apple/, "darwin")
    .replace(/^arm64/, "aarch64").replace(/^amd64|^x64|^x86-64/, "x86_64")
    .replace(/gnu$|-gnu$/, "").replace(/_linux$/, "-linux");
  if (NIX_SYSTEMS.has(n)) return n;
  let best: string | undefined, bestD = 4;
  for (const s of NIX_SYSTEMS) {
    const d = distance(n, s);
    if (d < bestD) [best, bestD] = [s, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(
        dp[j]! + 1,
        dp[j - 1]! + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** `nix-instantiate --parse` over all files at once; one by one only when that fails. */
async function nixInstantiateParse(
  run: RunCommand,
  root: string,
  pkgs: PkgFile[],
): Promise<Finding[]> {
  const S = "Nix files parse";
  if (pkgs.length === 0) return [];
  const all = await run(
    "nix-instantiate",
    ["--parse", ...pkgs.map((p) => p.rel)],
    root,
  );
  if (!all) return [];
  if (all.code === 0) {
    return [{
      section: S,
      level: "ok",
      message: `nix-instantiate --parse accepts ${pkgs.length} file${
        pkgs.length === 1 ? "" : "s"
      }`,
    }];
  }
  const each = await Promise.all(
    pkgs.map((p) => run("nix-instantiate", ["--parse", p.rel], root)),
  );
  const out: Finding[] = [];
  each.forEach((r, i) => {
    if (!r || r.code === 0) return;
    const p = pkgs[i]!;
    // deno-lint-ignore no-control-regex -- ANSI colour codes in Nix's output
    const msg = r.stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n")
      .find((l) => l.startsWith("error:"))?.replace(/^error:\s*/, "") ??
      "rejected";
    const rel = msg.replaceAll(`${root}/`, "");
    const at = r.stderr.match(/at .*?:(\d+):(\d+)/);
    out.push({
      section: S,
      level: "error",
      message: `nix-instantiate --parse: ${rel}`,
      where: at ? `${p.rel}:${at[1]}` : p.rel,
      fix: "fix the syntax error",
    });
  });
  return out;
}

async function checkRelease(
  root: string,
  run: RunCommand | undefined,
  version: string | undefined,
  add: Add,
): Promise<void> {
  const S = "Release";
  const status = run
    ? await run(
      "git",
      ["status", "--porcelain", "--", ".flox", "sources-manifest.json"],
      root,
    )
    : undefined;
  if (!status || status.code !== 0) {
    add(
      S,
      "error",
      `not a git work tree (git status failed${
        status ? `: ${status.stderr.trim()}` : ""
      })`,
      undefined,
      "run verify --release in the repository's clone",
    );
    return;
  }
  const dirty = status.stdout.split("\n").filter(Boolean);
  if (dirty.length) {
    add(
      S,
      "error",
      `uncommitted changes: ${dirty.map((l) => l.slice(3)).join(", ")}`,
      undefined,
      "commit them (git add .flox sources-manifest.json && git commit)",
    );
  } else add(S, "ok", "work tree clean for .flox/ and sources-manifest.json");
  const want = version ? `v${version}` : undefined;
  const tags = await run!("git", ["tag", "--points-at", "HEAD"], root);
  const list = tags?.stdout.split("\n").map((t) => t.trim()).filter(Boolean) ??
    [];
  if (!want) {
    add(
      S,
      "error",
      "main package version unknown",
      MAIN_FILE,
      "fix comfyui.nix",
    );
  } else if (list.includes(want)) add(S, "ok", `HEAD is tagged ${want}`);
  else {
    add(
      S,
      "error",
      `HEAD is not tagged ${want}${
        list.length ? ` (tags: ${list.join(", ")})` : ""
      }`,
      undefined,
      `git tag -a ${want} -m "comfyui ${version}"`,
    );
  }
}
