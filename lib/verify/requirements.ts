// Checklist section "Packages are wired into the main package", the part that reads ComfyUI's
// source: the main package's dependency lists cover requirements.txt at the pinned revision.
// The archive is read through lib/repo/main_archive.ts (from the download cache, NAR-checked
// against the main package's pin); with `online`, it is downloaded when the cache lacks it.
import { type EnvLike } from "../kit/env.ts";
import { KitError } from "../kit/errors.ts";
import { nixAttrCandidates } from "../nix/nixpkgs_names.ts";
import { normalizeName } from "../python/names.ts";
import { type Requirement } from "../python/pep508.ts";
import { applicability } from "../python/markers.ts";
import { NotCachedError } from "../repo/fetch_cache.ts";
import { PinMismatchError, pinnedRequirements } from "../repo/main_archive.ts";
import { type MainPackage, readMainPackage } from "../repo/main_package.ts";
import { depItems, listNames, PYTHON_SCOPE } from "./wiring.ts";
import { type Add, MAIN_FILE, type PkgFile } from "./types.ts";

const S = "Packages are wired into the main package";

/** requirements.txt names of the pinned revision, or why they could not be had. */
async function pinnedNames(
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
  try {
    const reqs = await pinnedRequirements(pkg, {
      offline: !opts.online,
      env: opts.env,
    });
    return { names: needed(reqs) };
  } catch (e) {
    if (e instanceof NotCachedError) return undefined;
    if (e instanceof PinMismatchError) {
      return {
        error:
          `the cached archive of ${e.label} does not have the NAR hash ${MAIN_FILE} pins`,
      };
    }
    if (!(e instanceof KitError)) throw e;
    return { error: e.message };
  }
}

/** Compares the main package's dependency lists with requirements.txt at its pinned revision. */
export async function checkRequirements(
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
  const got = await pinnedNames(pkg, opts);
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
function compareRequirements(
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
