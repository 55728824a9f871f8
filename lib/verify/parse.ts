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
import type { Add, Finding, PkgFile, RunCommand } from "./types.ts";

const S = "Nix files parse";

/**
 * The package files Flox builds, sorted by path (not parsed yet): `.flox/pkgs/<name>.nix` and
 * `.flox/pkgs/<name>/default.nix`, symlinks followed (lib/repo/package_files.ts, the one
 * discovery). A dangling symlink and a name defined twice are findings.
 */
export async function listPackageFiles(
  root: string,
  add?: Add,
): Promise<PkgFile[]> {
  const problems: DiscoveryProblems = { dangling: [], duplicates: [] };
  let found: PackageFileRef[];
  try {
    found = await discoverPackageFiles(root, problems);
  } catch (e) {
    if (e instanceof KitError) return [];
    throw e;
  }
  if (add) {
    for (const rel of problems.dangling) {
      add(
        S,
        "error",
        "dangling symlink",
        rel,
        "point it at a package file in the repository, or remove it",
      );
    }
    for (const { attr, files: [first, second] } of problems.duplicates) {
      add(
        S,
        "error",
        `defines ${attr} a second time (also ${first})`,
        second,
        "keep one of the two files",
      );
    }
  }
  return found.map((p) => ({ rel: p.file, abs: p.abs, name: p.attr }));
}

/** Parses each package file (filling `file` and `info`); a syntax error is a finding. */
export async function checkParse(pkgs: PkgFile[], add: Add): Promise<void> {
  const texts = await Promise.all(pkgs.map((p) => Deno.readTextFile(p.abs)));
  pkgs.forEach((p, i) => {
    const r = tryParseNix(texts[i]!, p.rel);
    if (r instanceof KitError) {
      // "file:line:col: syntax error: …" → where "file:line:col", message the rest.
      const m = r.message.match(/^.*?:(\d+:\d+): (.*)$/s);
      add(
        S,
        "error",
        m ? m[2]! : r.message,
        m ? `${p.rel}:${m[1]}` : p.rel,
        "fix the syntax error",
      );
    } else {
      p.file = r;
      p.info = readPackage(r);
      add(S, "ok", "parses", p.rel);
    }
  });
  if (pkgs.length === 0) {
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
