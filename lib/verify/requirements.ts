// Checklist section "Packages are wired into the main package", the part that reads ComfyUI's
// source: the main package's dependency lists cover requirements.txt at the pinned revision.
// The archive is read from the download cache (verified against the NAR hash the main package
// pins); with `online`, it is downloaded when the cache lacks it.
import { join } from "node:path";
import { narHashArchive } from "../archive/nar_archive.ts";
import { type EnvLike } from "../kit/env.ts";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { parseHash, sameDigest, sha256Bytes, toHex } from "../hash/sha256.ts";
import { defaultCacheDir, DownloadCache } from "../net/cache.ts";
import { archiveUrl, githubUrl } from "../net/github.ts";
import { nixAttrCandidates } from "../nix/nixpkgs_names.ts";
import { normalizeName } from "../python/names.ts";
import { parseRequirement, type Requirement } from "../python/pep508.ts";
import { applicability } from "../python/markers.ts";
import {
  archiveRequirements,
  mainPackageRequirements,
} from "../repo/main_archive.ts";
import { type MainPackage, readMainPackage } from "../repo/main_package.ts";
import { depItems, listNames, PYTHON_SCOPE } from "./wiring.ts";
import { type Add, MAIN_FILE, type PkgFile } from "./types.ts";

const S = "Packages are wired into the main package";

/** The cached archive of a URL fetched before (fetchUrlCached's memo), or undefined. */
export async function cachedArchive(
  url: string,
  env: EnvLike,
): Promise<string | undefined> {
  let dir: string;
  try {
    dir = defaultCacheDir(env);
  } catch {
    return undefined;
  }
  const memo = join(dir, "urls", toHex(sha256Bytes(url)));
  const sha = (await readTextIfExists(memo).catch(() => undefined))?.trim();
  if (!sha || !/^[0-9a-f]{64}$/.test(sha)) return undefined;
  return await new DownloadCache(dir).lookup(sha);
}

/** requirements.txt names of the pinned revision, or why they could not be had. */
async function pinnedRequirements(
  root: string,
  pkg: MainPackage,
  opts: { online: boolean; env: EnvLike },
): Promise<{ names: string[] } | { error: string } | undefined> {
  // Requirements whose marker holds nowhere Nix builds (Windows only, …) are not needed.
  const needed = (reqs: Requirement[]) =>
    reqs.filter((r) =>
      ["3.10", "3.11", "3.12", "3.13", "3.14"].some((python) =>
        applicability(r, { python }).kind !== "never"
      )
    ).map((r) => r.name);
  const label = `${pkg.owner}/${pkg.repo}@${pkg.rev}`;
  const url = archiveUrl(githubUrl(opts.env), pkg.owner, pkg.repo, pkg.rev);
  try {
    const archive = await cachedArchive(url, opts.env);
    if (!archive) {
      if (!opts.online) return undefined;
      const r = await mainPackageRequirements(root);
      return { names: needed(r.requirements.map(parseRequirement)) };
    }
    const nar = await narHashArchive(archive);
    if (!sameDigest(nar, parseHash(pkg.hash))) {
      return {
        error:
          `the cached archive of ${label} does not have the NAR hash ${MAIN_FILE} pins`,
      };
    }
    const reqs = await archiveRequirements(archive, label);
    return { names: needed(reqs) };
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    return { error: e.message };
  }
}

/** Compares the main package's dependency lists with requirements.txt at its pinned revision. */
export async function checkRequirements(
  root: string,
  pkgs: PkgFile[],
  opts: { online: boolean; env: EnvLike },
  add: Add,
): Promise<void> {
  const main = pkgs.find((p) => p.rel === MAIN_FILE);
  if (!main?.info || !main.file) return;
  let pkg: MainPackage;
  try {
    pkg = readMainPackage(main.file.text, MAIN_FILE);
  } catch {
    return; // not a GitHub release: nothing to compare with
  }
  const got = await pinnedRequirements(root, pkg, opts);
  if (!got) {
    add(
      S,
      "ok",
      `requirements.txt of ${pkg.rev} not compared: its archive is not in the download cache (verify --online fetches it)`,
      MAIN_FILE,
    );
    return;
  }
  if ("error" in got) {
    add(
      S,
      "error",
      `cannot read requirements.txt: ${got.error}`,
      MAIN_FILE,
      "deno task verify --online, or check the pin with deno task fix-hash",
    );
    return;
  }
  compareRequirements(main, pkgs, got.names, pkg.rev, add);
}

/** Missing requirements are errors; listed names nothing requires are warnings. */
export function compareRequirements(
  main: PkgFile,
  pkgs: PkgFile[],
  required: string[],
  rev: string,
  add: Add,
): void {
  const listed = listNames(main.info!);
  const norm = new Set([...listed].map(normalizeName));
  const line = depListLine(main);
  const covered = new Set<string>();
  let problems = 0;
  for (const name of required) {
    const hit = [normalizeName(name), ...nixAttrCandidates(name)].find((c) =>
      norm.has(c)
    );
    if (hit) {
      covered.add(hit);
      continue;
    }
    problems++;
    add(
      S,
      "error",
      `requirements.txt of ${rev} requires ${name}; ${MAIN_FILE} does not list it`,
      line,
      `add ${
        normalizeName(name)
      } to the dependency list (deno task new-package ${name} when nixpkgs lacks it)`,
    );
  }
  // Names another listed custom package needs are there for it.
  const custom = new Map(pkgs.map((p) => [p.name, p]));
  const needed = new Set<string>();
  for (const n of listed) {
    const c = custom.get(n);
    if (c?.info && c !== main) {
      for (const d of listNames(c.info)) needed.add(normalizeName(d));
    }
  }
  for (const n of listed) {
    const k = normalizeName(n);
    const at = itemLine(main, n);
    if (covered.has(k) || needed.has(k) || !custom.has(n) && !at) continue;
    problems++;
    add(
      S,
      "warning",
      `${n} is listed, but requirements.txt of ${rev} does not name it`,
      at ?? line,
      `remove it from ${MAIN_FILE} unless ComfyUI needs it for another reason (say why in a comment)`,
    );
  }
  if (problems === 0) {
    add(
      S,
      "ok",
      `dependencies cover requirements.txt of ${rev} (${required.length} names)`,
      line,
    );
  }
}

function depListLine(p: PkgFile): string {
  for (const k of ["dependencies", "propagatedBuildInputs"]) {
    const l = p.info?.lists.get(k);
    if (l) return `${p.rel}:${l.line}`;
  }
  return p.rel;
}

/** `file:line` of a name in the main package's Python runtime dependency lists, if there. */
function itemLine(p: PkgFile, name: string): string | undefined {
  if (!p.info) return undefined;
  for (const { list, item } of depItems(p.info)) {
    if (
      item.name === name && PYTHON_SCOPE.test(list.with ?? "") &&
      ["dependencies", "propagatedBuildInputs"].includes(list.binding)
    ) return `${p.rel}:${item.line}`;
  }
  return undefined;
}
