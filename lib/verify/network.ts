// Checklist section "No network at build or run time": no `pip install` in a package file or in
// the Flox manifest, and no URL that names something that moves.
import { FLOX_MANIFEST } from "../repo/paths.ts";
import { join } from "node:path";
import { readTextIfExists } from "../kit/fsutil.ts";
import { findStrings } from "../nix/fetchers.ts";
import type { Add, PkgFile } from "./types.ts";

const S = "No network at build or run time";

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

/** `pip install` in any of its spellings. */
const PIP_INSTALL = /\bpip3?\s+install\b|-m\s+pip\s+install\b/;

/**
 * A `pip install` that would download: every one except `--no-index` (pip then reads only
 * local files, as nixpkgs' install checks do with `pip install --dry-run --no-index -r …`).
 * The command runs to the end of its line, backslash continuations included.
 */
export function pipInstallsOnline(text: string): boolean {
  const re = new RegExp(PIP_INSTALL.source, "g");
  for (const m of text.matchAll(re)) {
    const rest = text.slice(m.index!).match(/^(?:[^\n]*\\\n)*[^\n]*/)![0];
    if (!/(^|\s)--no-index(\s|$)/.test(rest)) return true;
  }
  return false;
}

/** Runs the section's checks; one ok line when nothing is found. */
export async function checkNetwork(
  root: string,
  pkgs: PkgFile[],
  add: Add,
): Promise<void> {
  let problems = 0;
  const count: Add = (...a) => {
    if (a[1] !== "ok") problems++;
    add(...a);
  };
  for (const p of pkgs) {
    checkNixStrings(p, count);
    checkBuildPhases(p, count);
  }
  await checkFloxManifest(root, count);
  if (problems === 0) add(S, "ok", "no pip install, no dynamic URLs");
}

/** pip install and dynamic URLs in the strings of one package file. */
export function checkNixStrings(p: PkgFile, add: Add): void {
  if (!p.file) return;
  for (const s of findStrings(p.file)) {
    const where = `${p.rel}:${s.line}`;
    if (pipInstallsOnline(s.text)) {
      add(
        S,
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
        add(
          S,
          "error",
          `dynamic URL (${why}): ${url}`,
          where,
          "pin a release URL or commit, with its hash",
        );
      }
    }
  }
}

/** pip install in the Flox manifest (comments aside). */
async function checkFloxManifest(root: string, add: Add): Promise<void> {
  const text = await readTextIfExists(join(root, FLOX_MANIFEST));
  if (text === undefined) return;
  text.split("\n").forEach((line, i) => {
    if (line.trimStart().startsWith("#")) return;
    if (PIP_INSTALL.test(line)) {
      add(
        S,
        "error",
        "runs pip install in the environment",
        `${FLOX_MANIFEST}:${i + 1}`,
        "package the dependency under .flox/pkgs instead",
      );
    }
  });
}

// Build phases and hooks: shell that Nix runs in the sandbox, where a download fails (or, in an
// impure build, fetches something unpinned).
const PHASE =
  /^(\w+Phase|(pre|post)[A-Z]\w*|buildCommand|installCheckPhase|shellHook)$/;
const NET_TOOL =
  /\b(curl|wget|aria2c|fetchurl|fetchTarball|fetchGit|nix-prefetch-\w+)\b|\bgit\s+(clone|fetch|pull)\b/;

/** curl, wget, fetchurl, git clone … inside a build phase or hook. */
function checkBuildPhases(p: PkgFile, add: Add): void {
  if (!p.file || !p.info) return;
  for (const b of p.info.attrs.values()) {
    if (!PHASE.test(b.name.split(".").pop()!)) continue;
    let offset = b.valueSpan.from;
    for (const line of b.text.split("\n")) {
      const m = line.match(NET_TOOL);
      if (m && !line.trimStart().startsWith("#")) {
        add(
          S,
          "error",
          `${b.name} uses ${m[0]}: the build has no network`,
          `${p.rel}:${p.file.line(offset)}`,
          "vendor what it downloads (deno task fetch-source) and use the file from .flox/sources",
        );
      }
      offset += line.length + 1;
    }
  }
}
