// Release tags as versions: which tags name a PEP 440 version, their order (newest first, by
// version, not by string), pre-releases and the newest stable one. Shared by the workflows that
// compare a pinned release with upstream's tags (bump-comfyui, outdated).
import { compare, explain } from "@renovatebot/pep440";

/** A release tag whose name is a version (`v0.3.75`, `0.3.75`, `v0.4.0rc1`). */
export interface VersionTag {
  tag: string;
  /** The version without the `v` prefix, as a PEP 440 version. */
  version: string;
  prerelease: boolean;
  commit?: string;
}

/** The version a tag names (`v0.3.75` → `0.3.75`), or undefined for a non-version tag. */
export function tagVersion(tag: string): string | undefined {
  const v = tag.trim().replace(/^[vV](?=\d)/, "");
  if (!/^\d[0-9A-Za-z.+_-]*$/.test(v)) return undefined;
  return explain(v) ? v : undefined;
}

/**
 * Keeps the tags that name versions and orders them newest first by version order (not by
 * string: v0.3.100 > v0.3.99). When two tags name the same version (`v1.0` and `1.0`), the
 * first seen wins.
 */
export function sortVersionTags(
  tags: readonly { name: string; commit?: string }[],
): VersionTag[] {
  const seen = new Set<string>();
  const result: VersionTag[] = [];
  for (const t of tags) {
    const version = tagVersion(t.name);
    if (version === undefined) continue;
    const key = explain(version)!.public;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({
      tag: t.name,
      version,
      prerelease: isPrerelease(version),
      ...(t.commit ? { commit: t.commit } : {}),
    });
  }
  return result.sort((a, b) => compare(b.version, a.version));
}

/** True for a pre-release or development version. */
export function isPrerelease(version: string): boolean {
  const e = explain(version);
  return e !== null && (e.is_prerelease || e.is_devrelease);
}

/** The newest stable tag (falling back to the newest of all), from a newest-first list. */
export function latestTag(
  sorted: readonly VersionTag[],
): VersionTag | undefined {
  return sorted.find((t) => !t.prerelease) ?? sorted[0];
}
