// Checklist section "Nix files parse": every package file under .flox/pkgs parses with the kit's
// Nix grammar, and with `nix-instantiate --parse` when Nix is installed.
import {
  discoverPackageFiles,
  type DiscoveryProblems,
  type PackageFileRef,
} from "../repo/package_files.ts";
import { PKGS_DIR } from "../repo/paths.ts";
import { KitError } from "../kit/errors.ts";
import { tryParseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import type { Add, Finding, Listing, PkgFile, RunCommand } from "./types.ts";

const S = "Nix files parse";

/**
 * The package files Flox builds, sorted by path (not parsed yet): `.flox/pkgs/<name>.nix` and
 * `.flox/pkgs/<name>/default.nix`, symlinks followed (lib/repo/package_files.ts, the one
 * discovery). Dangling symlinks and names defined twice are kept for their checks.
 */
export async function listPackageFiles(root: string): Promise<Listing> {
  const problems: DiscoveryProblems = { dangling: [], duplicates: [] };
  let found: PackageFileRef[] = [];
  try {
    found = await discoverPackageFiles(root, problems);
  } catch (e) {
    // No .flox/pkgs folder: nothing to list (another check reports the layout).
    if (!(e instanceof KitError)) throw e;
  }
  const pkgs: PkgFile[] = found.map((p) => ({
    rel: p.file,
    abs: p.abs,
    at: p.at,
    name: p.attr,
  }));
  const byRel = new Map(pkgs.map((p) => [p.rel, p]));
  const duplicates = problems.duplicates.map(({ files: [first, second] }) => ({
    pkg: byRel.get(second)!,
    other: byRel.get(first)!,
  }));
  return { pkgs, dangling: problems.dangling, duplicates, syntax: new Map() };
}

/** Parses each package file, filling `file` and `info`, or recording its syntax error. */
export async function parsePackages(listing: Listing): Promise<void> {
  const { pkgs } = listing;
  const texts = await Promise.all(pkgs.map((p) => Deno.readTextFile(p.abs)));
  pkgs.forEach((p, i) => {
    const r = tryParseNix(texts[i]!, p.rel);
    if (r instanceof KitError) {
      // "file:line:col: syntax error: …" → where "file:line:col", message the rest.
      const m = r.message.match(/^.*?:(\d+:\d+): (.*)$/s);
      listing.syntax.set(p, {
        where: m ? `${p.rel}:${m[1]}` : p.rel,
        message: m ? m[2]! : r.message,
      });
    } else {
      p.file = r;
      p.info = readPackage(r);
    }
  });
}

/** The folder's problems and each file's parse result, as the kit's grammar sees them. */
export function checkParse(listing: Listing, add: Add): void {
  for (const rel of listing.dangling) {
    add(
      S,
      "error",
      "dangling symlink",
      rel,
      "point it at a package file in the repository, or remove it",
    );
  }
  for (const { pkg, other } of listing.duplicates) {
    add(
      S,
      "error",
      `defines ${pkg.name} a second time (also ${other.rel})`,
      pkg.rel,
      "keep one of the two files",
    );
  }
  for (const p of listing.pkgs) {
    const bad = listing.syntax.get(p);
    if (bad) add(S, "error", bad.message, bad.where, "fix the syntax error");
    else add(S, "ok", "parses", p.rel);
  }
  if (listing.pkgs.length === 0) {
    add(
      S,
      "error",
      "no package files in .flox/pkgs/",
      PKGS_DIR,
      "restore .flox/pkgs/comfyui.nix from git",
    );
  }
}

/** `nix-instantiate --parse` over all files at once; one by one only when that fails. */
export async function nixInstantiateParse(
  run: RunCommand,
  root: string,
  pkgs: PkgFile[],
): Promise<Finding[]> {
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
    out.push(nixParseError(r.stderr, root, pkgs[i]!));
  });
  return out;
}

/** The finding for one file `nix-instantiate --parse` rejected. */
function nixParseError(stderr: string, root: string, p: PkgFile): Finding {
  // deno-lint-ignore no-control-regex -- ANSI colour codes in Nix's output
  const msg = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n")
    .find((l) => l.startsWith("error:"))?.replace(/^error:\s*/, "") ??
    "rejected";
  const rel = msg.replaceAll(`${root}/`, "");
  const at = stderr.match(/at .*?:(\d+):(\d+)/);
  return {
    section: S,
    level: "error",
    message: `nix-instantiate --parse: ${rel}`,
    where: at ? `${p.rel}:${at[1]}` : p.rel,
    fix: "fix the syntax error",
  };
}
