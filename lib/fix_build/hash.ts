// The fakeHash dance, automated: find Nix's "hash mismatch in fixed-output derivation" reports
// in build output, find the .nix hash each one is about, and plan the edit that writes the hash
// Nix got. Pure stages (parse the log, match, plan edits) plus collectCandidates, which reads
// the files.
//
//   const mismatches = parseMismatches(log);
//   const cands = await collectCandidates(root, await packageFiles(root));
//   const { fixes, unmatched } = await matchMismatches(mismatches, cands);
import {
  discoverPackageFiles,
  type PackageFileRef,
} from "../repo/package_files.ts";
import { basename, relative } from "node:path";
import { derivationName, stripAnsi } from "./log.ts";
import { KitError } from "../kit/errors.ts";
import { parseHash, sameDigest, toSri, tryParseHash } from "../hash/sha256.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import { type Fetcher, type HashSite } from "../nix/fetchers.ts";
import { findHashSites } from "../nix/find.ts";

/** One hash mismatch reported by Nix. */
export interface Mismatch {
  /** The derivation (or, for Nix < 2.4, output) path as printed. */
  drvPath: string;
  /** Its name without store hash and `.drv`: `source`, `foo-1.2.tar.gz`. */
  drvName: string;
  specified: string;
  got: string;
  /** The hash Nix got, as SRI. */
  gotSri: string;
  /** Names of derivations reported as failing because of this one (python3.12-foo-1.2). */
  dependents: string[];
  /** 1-based line of the report in the log. */
  line: number;
}

const REPORT =
  /hash mismatch in fixed-output derivation\s+['‘`"]?([^'’`"\s]+?)['’`"]?:?\s*$/;
const SPECIFIED = /^\s*(?:[\w-]+>\s*)?(specified|wanted):\s*(\S+)/;
const GOT = /^\s*(?:[\w-]+>\s*)?got:\s*(\S+)/;
const DEPENDENT =
  /(?:dependencies of derivation|dependency of derivation|cannot build derivation|[Cc]annot build|builder for)\s+['‘`"]?([^'’`"\s]+?\.drv)['’`"]?/;

/**
 * Every hash mismatch in a build log, in order: the Nix 2.4+ form (`specified:` / `got:`, SRI)
 * and the older one (`wanted:` / `got:`, `sha256:<nix32>`). Colour codes and noise are ignored;
 * a report repeated verbatim (as Flox repeats them) counts once.
 */
export function parseMismatches(log: string): Mismatch[] {
  const lines = stripAnsi(log).split("\n");
  const out: Mismatch[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(REPORT);
    if (!m) continue;
    let specified: string | undefined, got: string | undefined;
    let j = i + 1;
    for (; j < Math.min(lines.length, i + 8); j++) {
      const l = lines[j]!;
      if (REPORT.test(l)) break;
      const s = l.match(SPECIFIED);
      if (s) specified = s[2];
      const g = l.match(GOT);
      if (g) got = g[1];
      if (specified && got) break;
    }
    if (!specified || !got) continue;
    const gotDigest = tryParseHash(got);
    if (!gotDigest) continue;
    const drvPath = m[1]!;
    const mm: Mismatch = {
      drvPath,
      drvName: derivationName(drvPath),
      specified,
      got,
      gotSri: toSri(gotDigest),
      dependents: [],
      line: i + 1,
    };
    // Dependents are reported after the mismatch, before the next one.
    for (let k = j + 1; k < lines.length; k++) {
      if (REPORT.test(lines[k]!)) break;
      const d = lines[k]!.match(DEPENDENT);
      if (d && d[1] !== drvPath) {
        const name = derivationName(d[1]!);
        if (!mm.dependents.includes(name)) mm.dependents.push(name);
      }
    }
    const dup = out.find((o) =>
      o.drvPath === mm.drvPath && o.specified === mm.specified &&
      o.got === mm.got
    );
    if (dup) {
      for (const d of mm.dependents) {
        if (!dup.dependents.includes(d)) dup.dependents.push(d);
      }
    } else out.push(mm);
    i = j;
  }
  return out;
}

/** A hash in a .nix file that a mismatch may be about. */
export interface Candidate {
  /** Path relative to the root, as shown to the user. */
  file: string;
  abs: string;
  site: HashSite;
  pname?: string | undefined;
  version?: string | undefined;
}

/** One planned replacement. */
export interface Fix {
  mismatch: Mismatch;
  candidate: Candidate;
}

/** Decides between candidates when the report does not (interactive prompt); undefined = refuse. */
export type Chooser = (
  mismatch: Mismatch,
  candidates: Candidate[],
) => Promise<Candidate | undefined>;

function matchesSpecified(site: HashSite, specified: string): boolean {
  const spec = tryParseHash(specified);
  const specZero = spec ? spec.every((b) => b === 0) : false;
  if (site.placeholder) return specZero || specified === "";
  if (site.value === undefined || !spec) return false;
  const d = tryParseHash(site.value);
  return d !== undefined && sameDigest(d, spec);
}

/** Derivation names a fetcher call produces (`source` for GitHub/zip, the URL's file name, …). */
function expectedNames(
  f: Fetcher | undefined,
  pname?: string,
  version?: string,
): string[] {
  const names: string[] = [];
  const v = (k: string) => f?.attrs.get(k)?.value;
  if (v("name")) names.push(v("name")!);
  if (f) {
    if (
      /^fetch(FromGit\w+|zip|git|FromSourcehut|FromBitbucket)$/.test(f.fetcher)
    ) {
      names.push("source");
    }
    const url = v("url");
    if (url) names.push(basename(url.split(/[?#]/)[0]!));
    if (f.fetcher === "fetchPypi") {
      const pn = v("pname") ?? pname;
      const ver = v("version") ?? version;
      if (pn && ver) names.push(`${pn}-${ver}`);
    }
  }
  return names;
}

function nameScore(c: Candidate, m: Mismatch): number {
  let score = 0;
  const names = expectedNames(c.site.fetcher, c.pname, c.version);
  if (names.includes(m.drvName)) score += 2;
  else if (
    names.some((n) => n !== "source" && m.drvName.startsWith(n))
  ) score += 2;
  if (c.pname && c.version) {
    const pv = `${c.pname}-${c.version}`;
    if (m.dependents.some((d) => d === pv || d.endsWith(`-${pv}`))) score += 4;
    else if (m.drvName.includes(pv)) score += 3;
  }
  return score;
}

/** Reads the .nix files and lists every hash site each mismatch could be about. */
export async function collectCandidates(
  root: string,
  files: string[],
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const abs of files) {
    const rel = relative(root, abs) || abs;
    const text = await readText(abs, rel);
    const file = parseNix(text, rel);
    const info = readPackage(file);
    for (const site of findHashSites(file)) {
      out.push({
        file: rel,
        abs,
        site,
        pname: info.pname,
        version: info.version,
      });
    }
  }
  return out;
}

/** A text file, or a KitError naming it when it cannot be read. */
export async function readText(path: string, shown = path): Promise<string> {
  return new TextDecoder().decode(await readBytes(path, shown));
}

/** A file's bytes, or a KitError naming it when it cannot be read. */
export async function readBytes(
  path: string,
  shown = path,
): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`Cannot read "${shown}": no such file`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new KitError(`Cannot read "${shown}": it is a folder, not a file`);
    }
    throw e;
  }
}

/**
 * The package files under `.flox/pkgs/` as Flox finds them (`NAME.nix`, `NAME/default.nix`,
 * symlinks followed: `abs` is the file an edit changes, a link's target), sorted by path. No
 * such folder is a KitError; dangling links and duplicates are verify's to report.
 */
export async function packageFileRefs(root: string): Promise<PackageFileRef[]> {
  try {
    return await discoverPackageFiles(root, { dangling: [], duplicates: [] });
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    throw new KitError(
      `No .flox/pkgs/ in "${root}"; run fix-hash in the repository or give --root DIR`,
    );
  }
}

/** The files {@link packageFileRefs} lists, as the paths an edit writes. */
export async function packageFiles(root: string): Promise<string[]> {
  return (await packageFileRefs(root)).map((p) => p.abs);
}

/**
 * Matches each mismatch to exactly one hash: by the hash it specified, then by the derivation
 * name and the packages reported as depending on it; a site is used once. What stays ambiguous
 * goes to `choose`; without one (or when it declines) a KitError lists the candidates.
 */
export async function matchMismatches(
  mismatches: Mismatch[],
  candidates: Candidate[],
  choose?: Chooser,
): Promise<{ fixes: Fix[]; unmatched: Mismatch[] }> {
  const fixes: Fix[] = [];
  const unmatched: Mismatch[] = [];
  const taken = new Set<Candidate>();
  const pending = new Map<Mismatch, Candidate[]>();
  for (const m of mismatches) {
    const cs = candidates.filter((c) => matchesSpecified(c.site, m.specified));
    const got = parseHash(m.gotSri);
    const holders = candidates.filter((c) => {
      const d = c.site.value ? tryParseHash(c.site.value) : undefined;
      return d !== undefined && sameDigest(d, got);
    });
    // Already fixed: the file this derivation names holds what Nix got. A log read twice must
    // not write that hash into another file's placeholder.
    if (holders.some((c) => !cs.includes(c) && nameScore(c, m) > 0)) continue;
    if (cs.length === 0) {
      // Already fixed (the file holds what Nix got) or about a file we do not manage.
      if (holders.length === 0) unmatched.push(m);
      continue;
    }
    pending.set(m, cs);
  }
  // Resolve the certain ones first, so each assignment narrows the others.
  let progress = true;
  while (progress && pending.size) {
    progress = false;
    for (const [m, all] of pending) {
      const cs = all.filter((c) => !taken.has(c));
      let pick: Candidate | undefined;
      if (cs.length === 1) pick = cs[0];
      else if (cs.length > 1) {
        const scored = cs.map((c) => ({ c, s: nameScore(c, m) }))
          .sort((a, b) => b.s - a.s);
        if (scored[0]!.s > 0 && scored[0]!.s > scored[1]!.s) {
          pick = scored[0]!.c;
        }
      }
      if (pick) {
        fixes.push({ mismatch: m, candidate: pick });
        taken.add(pick);
        pending.delete(m);
        progress = true;
      }
    }
  }
  for (const [m, all] of pending) {
    let cs = all.filter((c) => !taken.has(c));
    // Offer only the best-fitting candidates (the two GitHub sources, not the PyPI one).
    const best = Math.max(0, ...cs.map((c) => nameScore(c, m)));
    if (best > 0) cs = cs.filter((c) => nameScore(c, m) === best);
    if (cs.length === 0) {
      unmatched.push(m);
      continue;
    }
    const pick = choose ? await choose(m, cs) : undefined;
    if (!pick) {
      throw new KitError(
        `Ambiguous: the mismatch for derivation "${m.drvName}" (specified ${
          short(m.specified)
        }) matches ${cs.length} hashes: ${
          cs.map((c) => `${c.file}:${c.site.line}`).join(", ")
        }; rerun with --file FILE to pick one`,
      );
    }
    fixes.push({ mismatch: m, candidate: pick });
    taken.add(pick);
  }
  return { fixes, unmatched };
}

/** A hash shortened for messages. */
export function short(hash: string): string {
  return hash.length > 20 ? hash.slice(0, 17) + "…" : hash;
}
