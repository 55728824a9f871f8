// Hash mismatches as fix-build actions: the matching of fix-hash (lib/fix_build/hash.ts), each
// fix an edit that rewrites the one hash site, by its line, in the file's current text.
import { join, relative, resolve, sep } from "node:path";
import { argPath } from "../kit/cli.ts";
import { KitError } from "../kit/errors.ts";
import { replaceSpans, type TextEdit } from "../nix/edit.ts";
import { findHashSites } from "../nix/find.ts";
import { parseNix } from "../nix/parse.ts";
import { quoteNixString } from "../nix/syntax.ts";
import { sameDigest, tryParseHash } from "../hash/sha256.ts";
import {
  type Chooser,
  collectCandidates,
  type Fix,
  matchMismatches,
  packageFiles,
  short,
} from "./hash.ts";
import type { Finding } from "./findings.ts";
import { loadPackage, type PackageFile } from "./locate.ts";
import type { Action } from "./plan.ts";

/**
 * The .nix files --file names, each checked to be a .nix file under the repository's
 * .flox/pkgs/ (anything else is refused before any file is read).
 */
function checkPackageFileArgs(
  root: string,
  files: string[] | undefined,
  task: string,
): string[] | undefined {
  if (!files) return undefined;
  const dir = join(resolve(root), ".flox", "pkgs") + sep;
  const inPkgs = (abs: string) => abs.startsWith(dir) && abs.endsWith(".nix");
  return files.map((f) => {
    // As typed in a subfolder (../../.flox/pkgs/x.nix), else from the root (.flox/pkgs/x.nix).
    const typed = argPath(f);
    const abs = inPkgs(typed) ? typed : resolve(root, f);
    if (!inPkgs(abs)) {
      throw new KitError(
        `--file "${f}" is not a .nix file under .flox/pkgs/ of "${root}": ${task} edits only package files (give e.g. --file .flox/pkgs/spandrel.nix)`,
      );
    }
    return abs;
  });
}

/** Writes the hash Nix got at the site `fix` names (found again by line in `text`). */
function rewriteHash(text: string, path: string, fix: Fix): string {
  const site = findHashSites(parseNix(text, path)).find((s) =>
    s.line === fix.candidate.site.line && s.attr === fix.candidate.site.attr
  );
  if (!site) return text;
  const edits: TextEdit[] = [{
    ...site.span,
    insert: quoteNixString(fix.mismatch.gotSri),
  }];
  if (site.attr === "sha256" && site.fetcher) {
    edits.push({ ...site.attrSpan, insert: "hash" });
  }
  return replaceSpans(text, edits, path);
}

/** An action for every hash mismatch among `findings`: an edit, or why there is none. */
export async function hashActions(
  o: {
    root: string;
    files?: string[] | undefined;
    choose?: Chooser | undefined;
    /** The task named in a refused --file (fix-build, fix-hash). */
    only?: { voice: { task: string } } | undefined;
  },
  findings: Finding[],
  pkgs: PackageFile[],
): Promise<Action[]> {
  const found = findings.flatMap((f) => f.kind === "hash-mismatch" ? [f] : []);
  if (found.length === 0) return [];
  const files = checkPackageFileArgs(
    o.root,
    o.files,
    o.only?.voice.task ?? "fix-build",
  ) ??
    await packageFiles(o.root);
  const candidates = await collectCandidates(o.root, files);
  const { fixes, unmatched } = await matchMismatches(
    found.map((f) => f.mismatch),
    candidates,
    o.choose,
  );
  // Only the files a fix writes need reading as packages (fix-hash reads no other file).
  const targets = new Map(pkgs.map((p) => [p.abs, p]));
  for (const fx of fixes) {
    const abs = fx.candidate.abs;
    if (!targets.has(abs)) targets.set(abs, await loadPackage(o.root, abs));
  }
  return found.map((f): Action => {
    const m = f.mismatch;
    const summary = `hash mismatch for "${m.drvName}" (specified ${
      short(m.specified)
    }, got ${m.gotSri})`;
    const fix = fixes.find((x) => x.mismatch === m);
    if (fix) {
      const target = targets.get(fix.candidate.abs)!;
      const file = relative(o.root, fix.candidate.abs);
      return {
        finding: f,
        summary,
        file,
        edit: {
          target,
          describe:
            `write ${m.gotSri} at line ${fix.candidate.site.line} (${fix.candidate.site.attr})`,
          apply: (t) => rewriteHash(t, file, fix),
        },
      };
    }
    if (unmatched.includes(m)) {
      return {
        finding: f,
        summary,
        advice:
          "no hash under .flox/pkgs/ is the one Nix specified: fix the source by hand or give --file FILE",
      };
    }
    const got = tryParseHash(m.gotSri);
    const holder = candidates.find((c) => {
      const d = c.site.value ? tryParseHash(c.site.value) : undefined;
      return d !== undefined && got !== undefined && sameDigest(d, got);
    });
    return { finding: f, summary, file: holder?.file, done: true };
  });
}
