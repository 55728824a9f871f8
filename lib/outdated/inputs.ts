// What outdated reads before it compares: the requirements of ComfyUI (its pinned archive, from
// the download cache or fetched and NAR-checked) and of each custom package (its vendored file's
// metadata, else PyPI's record of the pinned release), and a small concurrency pool.
import { join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { exists } from "../kit/fsutil.ts";
import { readDistMetadata } from "../python/dist_metadata.ts";
import { parseRequirement, type Requirement } from "../python/pep508.ts";
import { fetchRelease } from "../net/pypi.ts";
import type { RequestOptions } from "../net/http.ts";
import { mainPackageRequirements } from "../repo/main_archive.ts";
import type { SetPackage } from "../repo/package_set.ts";
import { sourceFile } from "../repo/paths.ts";
import { kindOf } from "../repo/source_kinds/all.ts";

/** Requirements of one package, or why they could not be read. */
export type Requirements =
  | { ok: true; requirements: Requirement[]; from: string }
  | { ok: false; reason: string };

/** ComfyUI's requirements.txt at the pinned revision (offline: only from the download cache). */
export async function mainRequirements(
  root: string,
  offline: boolean,
): Promise<Requirements> {
  try {
    const r = await mainPackageRequirements(root, {
      offline,
      hint: offline
        ? `run "deno task outdated" once without --offline to cache it`
        : "set a mirror (COMFYKIT_MIRRORS, COMFYKIT_GITHUB_URL)",
    });
    return {
      ok: true,
      requirements: r.requirements.map((t) => parseRequirement(t)),
      from: r.source,
    };
  } catch (e) {
    if (denied(e)) {
      return {
        ok: false,
        reason: `the download cache is not writable for this task (${
          (e as Error).message
        }): set COMFYKIT_CACHE_DIR to ~/.cache/comfykit`,
      };
    }
    if (!(e instanceof KitError)) throw e;
    return { ok: false, reason: e.message };
  }
}

function denied(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable ||
    e instanceof Deno.errors.PermissionDenied;
}

/**
 * A custom package's Requires-Dist: from its vendored file when present, else (online) from
 * PyPI's JSON for the pinned version. A GitHub source publishes none the kit can read.
 */
export async function customRequirements(
  root: string,
  pkg: SetPackage,
  online: { pypi: string; request: RequestOptions } | undefined,
): Promise<Requirements> {
  const src = pkg.source;
  try {
    if (src?.kind === "vendored") {
      const path = join(root, sourceFile(src.file));
      if (await exists(path)) {
        const meta = await readDistMetadata(path);
        return parsed(meta.requiresDist, sourceFile(src.file));
      }
    }
    const name = pypiName(pkg);
    if (!name || !pkg.version) {
      return { ok: false, reason: "no PyPI release to read requirements from" };
    }
    if (!online) {
      return {
        ok: false,
        reason:
          `not vendored; offline: run "deno task fetch-source --all" or drop --offline`,
      };
    }
    const rel = await fetchRelease(
      online.pypi,
      name,
      pkg.version,
      online.request,
    );
    return parsed(rel.info.requires_dist ?? [], `PyPI ${name}==${pkg.version}`);
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    return { ok: false, reason: e.message };
  }
}

function parsed(texts: readonly string[], from: string): Requirements {
  const requirements: Requirement[] = [];
  for (const t of texts) {
    try {
      requirements.push(parseRequirement(t));
    } catch (e) {
      return { ok: false, reason: `${from}: "${t}": ${(e as Error).message}` };
    }
  }
  return { ok: true, requirements, from };
}

/** The PyPI project name of a custom package: its manifest entry's, fetchPypi's, else pname. */
export function pypiName(pkg: SetPackage): string | undefined {
  const src = pkg.source;
  if (src?.kind === "github" || src?.kind === "other") return undefined;
  if (src?.kind === "pypi") return src.name;
  if (src?.kind === "vendored" && src.entry) {
    const up = kindOf(src.entry).upstream(src.entry);
    return up?.kind === "pypi" ? up.name : undefined;
  }
  return pkg.pname;
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker),
  );
  return out;
}
