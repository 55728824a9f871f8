// The pure stages of outdated: the newest release among versions or tags (pre-releases only
// when asked), and what holds a package back (the requirements of the packages that need it).
// Strings in, plain data out; lib/outdated/run.ts does the I/O.
import { compare, valid } from "@renovatebot/pep440";
import { isPrerelease, tagVersion } from "../python/versions.ts";
import { specifierHolds } from "../repo/classify.ts";
import { normalizeName } from "../python/names.ts";
import { type Requirement } from "../python/pep508.ts";
import { applicability } from "../python/markers.ts";

/** A release candidate: a version, and the tag that names it for GitHub sources. */
export interface Candidate {
  version: string;
  tag?: string;
  yanked?: boolean;
}

/** Tags that name versions, as candidates (`latest`, `nightly` … are dropped). */
export function tagCandidates(tags: readonly { name: string }[]): Candidate[] {
  const out: Candidate[] = [];
  for (const t of tags) {
    const version = tagVersion(t.name);
    if (version !== undefined) out.push({ version, tag: t.name });
  }
  return out;
}

/** Candidates that may be chosen: not yanked, final unless `pre`; newest first by version order. */
function eligible(
  candidates: readonly Candidate[],
  pre: boolean,
): Candidate[] {
  return candidates
    .filter((c) =>
      !c.yanked && valid(c.version) && (pre || !isPrerelease(c.version))
    )
    .sort((a, b) => compare(b.version, a.version));
}

/** One requirement on a custom package, and who states it ("comfyui 0.3.75"). */
export interface Constraint {
  by: string;
  requirement: string;
  specifier: string;
}

/**
 * The constraints on `name` among `requirers`' requirements: only those with a specifier and a
 * marker that can hold on some system without extras.
 */
export function constraintsOn(
  name: string,
  requirers: readonly { by: string; requirements: readonly Requirement[] }[],
  python: string,
): Constraint[] {
  const n = normalizeName(name);
  const out: Constraint[] = [];
  for (const r of requirers) {
    for (const req of r.requirements) {
      if (normalizeName(req.name) !== n || !req.specifier) continue;
      if (applicability(req, { python }).kind === "never") continue;
      out.push({
        by: r.by,
        requirement: `${req.name}${req.specifier}`,
        specifier: req.specifier,
      });
    }
  }
  return out;
}

/** Where a package stands against upstream. */
interface Standing {
  status: "current" | "newer" | "held" | "unknown";
  /** Why there is no comparison, for status "unknown". */
  reason?: string | undefined;
  newest?: string | undefined;
  /** The newest version every constraint allows (when some newer one is held back). */
  allowed?: string | undefined;
  /** The constraints the newest release breaks. */
  heldBy: Constraint[];
}

/**
 * Compares `ours` with the newest eligible candidate: current when ours is it (or newer),
 * newer when the constraints allow it, held when some constraint excludes it.
 */
export function standing(
  ours: string,
  candidates: readonly Candidate[],
  constraints: readonly Constraint[],
  pre: boolean,
): Standing {
  const pool = eligible(candidates, pre);
  const newest = pool[0]?.version;
  if (!valid(ours)) {
    return {
      status: "unknown",
      newest,
      heldBy: [],
      reason:
        `"${ours}" is not a PEP 440 version: it cannot be compared with upstream's releases`,
    };
  }
  if (newest === undefined) {
    return {
      status: "unknown",
      newest,
      heldBy: [],
      reason: noCandidateReason(candidates, pre),
    };
  }
  if (compare(newest, ours) <= 0) {
    return { status: "current", newest, heldBy: [] };
  }
  const heldBy = constraints.filter((c) =>
    !specifierHolds(newest, c.specifier)
  );
  if (heldBy.length === 0) return { status: "newer", newest, heldBy };
  const allowed = pool.find((c) =>
    constraints.every((k) => specifierHolds(c.version, k.specifier))
  )?.version;
  return { status: "held", newest, allowed, heldBy };
}

/** Why no candidate is eligible: none at all, every one yanked, only pre-releases. */
function noCandidateReason(
  candidates: readonly Candidate[],
  pre: boolean,
): string {
  if (candidates.length === 0) {
    return "upstream has no release or version tag to compare with";
  }
  const live = candidates.filter((c) => !c.yanked);
  if (live.length === 0) return "every upstream release is yanked";
  const versions = live.filter((c) => valid(c.version));
  if (versions.length === 0) {
    return "no upstream release has a PEP 440 version";
  }
  return pre
    ? "no upstream release can be compared"
    : "upstream has only pre-releases (pass --pre to compare with them)";
}
