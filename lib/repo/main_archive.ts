// The main package's source archives: one release of ComfyUI (owner/repo at a rev, as
// .flox/pkgs/comfyui.nix names them) fetched through the download cache, its NAR hash computed
// and its requirements.txt read. bump-comfyui reads the current and the next release this way;
// freeze-deps the pinned one, trusted only when its NAR hash is the one pinned.
import { join } from "node:path";
import { readArchive } from "../archive/read.ts";
import { narHashArchive } from "../archive/nar_archive.ts";
import {
  MAIN_PACKAGE as MAIN,
  type MainPackage,
  readMainPackage,
} from "./main_package.ts";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { archiveUrl, githubUrl } from "../net/github.ts";
import { parseHash, sameDigest, toSri } from "../hash/sha256.ts";
import { info } from "../kit/log.ts";
import { requirementToString } from "../python/pep508.ts";
import {
  parseRequirementsTxt,
  type RequirementLine,
} from "../python/requirements.ts";
import { fetchUrlCached, NotCachedError } from "./fetch_cache.ts";
import type { EnvLike } from "../kit/env.ts";

/** One release of the main package, read from its source archive. */
interface MainRelease {
  /** The NAR hash (SRI) of the unpacked archive: what comfyui.nix pins as `hash`. */
  hash: string;
  requirements: RequirementLine[];
}

/**
 * Fetches the archive of `pkg`'s repository at `rev` (through the download cache), computes
 * its NAR hash and parses the requirements.txt at its top folder — before the cache keeps a
 * fresh download, and before a cached copy is used: a corrupt or tampered archive is refused,
 * never cached for the next run to trip over. With `expect`, a NAR hash other than the pinned
 * one is refused the same way; without, the caller decides what another hash means.
 */
export async function readMainRelease(
  pkg: Pick<MainPackage, "owner" | "repo">,
  rev: string,
  opts: {
    onFetchError?: (e: KitError) => KitError;
    offline?: boolean;
    env?: EnvLike;
    /** The NAR hash the archive must have (the pinned one). */
    expect?: { hash: string; mismatch: (got: string) => KitError };
  } = {},
): Promise<MainRelease> {
  const env = opts.env ?? Deno.env;
  const label = `${pkg.owner}/${pkg.repo}@${rev}`;
  let result: MainRelease | undefined;
  let refused: unknown;
  const check = async (path: string) => {
    let hash: string;
    try {
      hash = toSri(await narHashArchive(path));
    } catch (e) {
      if (!(e instanceof Error) || e instanceof Deno.errors.NotCapable) throw e;
      throw new KitError(
        `The archive of ${label} is not a readable archive (${e.message})`,
      );
    }
    if (opts.expect && !sameHash(hash, opts.expect.hash)) {
      throw opts.expect.mismatch(hash);
    }
    const requirements = await archiveRequirements(
      path,
      label,
      `${pkg.repo}@${rev}/requirements.txt`,
    );
    result = { hash, requirements };
  };
  const verify = (path: string) =>
    check(path).catch((e) => {
      refused = e;
      throw e;
    });
  try {
    await fetchUrlCached(archiveUrl(githubUrl(env), pkg.owner, pkg.repo, rev), {
      offline: opts.offline ?? false,
      env,
      verify,
    });
  } catch (e) {
    // The archive's own fault is said as is; a failed download gets the caller's hint.
    if (e instanceof KitError && opts.onFetchError && e !== refused) {
      throw opts.onFetchError(e);
    }
    throw e;
  }
  return result!;
}

/** The requirements.txt at the top folder of a release archive already on disk. */
async function archiveRequirements(
  archive: string,
  label: string,
  where = `${label}/requirements.txt`,
): Promise<RequirementLine[]> {
  const entries = await readArchive(archive);
  const file = entries.find((e) => /^[^/]+\/requirements\.txt$/.test(e.path));
  if (!file || file.data === undefined) {
    throw new KitError(`The archive of ${label} has no requirements.txt`);
  }
  return parseRequirementsTxt(new TextDecoder().decode(file.data), where);
}

/** The archive at the pinned revision does not have the NAR hash the main package pins. */
export class PinMismatchError extends KitError {
  constructor(
    readonly label: string,
    readonly actual: string,
    readonly pinned: string,
  ) {
    super(
      `The archive of ${label} has NAR hash ${actual}, not the ${pinned} pinned in ${MAIN}: run "deno task verify"`,
    );
  }
}

/**
 * requirements.txt of the main package at its pinned revision, from an archive whose NAR hash is
 * the pinned one (else a PinMismatchError). With `offline`, only an archive already in the
 * download cache is read (else a NotCachedError).
 */
export async function pinnedRequirements(
  pkg: MainPackage,
  opts: {
    offline?: boolean;
    env?: EnvLike;
    onFetchError?: (e: KitError) => KitError;
  } = {},
): Promise<RequirementLine[]> {
  const label = `${pkg.owner}/${pkg.repo}@${pkg.rev}`;
  const release = await readMainRelease(pkg, pkg.rev, {
    ...opts,
    // Checked before the cache keeps the archive (issue 22 #5).
    expect: {
      hash: pkg.hash,
      mismatch: (got) => new PinMismatchError(label, got, pkg.hash),
    },
  });
  return release.requirements;
}

/**
 * The requirements of the repository's main package (ComfyUI's requirements.txt at the pinned
 * revision): normalised PEP 508 strings, a short label for "required by", and a description of
 * where they came from. With `offline`, only an archive already in the download cache
 * is read; `hint` replaces the fix named when the archive cannot be had.
 */
export async function mainPackageRequirements(
  root: string,
  opts: { offline?: boolean; hint?: string } = {},
): Promise<{ requirements: string[]; label: string; source: string }> {
  const text = await readTextIfExists(join(root, MAIN));
  if (text === undefined) {
    throw new KitError(
      `${MAIN} not found in "${root}": pass requirements (REQ... or -r FILE) or --root`,
    );
  }
  const pkg = readMainPackage(text, MAIN);
  const requirements = await pinnedRequirements(pkg, {
    offline: opts.offline ?? false,
    onFetchError: (e) => {
      const message =
        `Cannot get the source of ${MAIN} to read its requirements: ${e.message}: ${
          opts.hint ??
            "pass requirements (REQ... or -r FILE), or a mirror (COMFYKIT_MIRRORS, COMFYKIT_GITHUB_URL)"
        }`;
      return e instanceof NotCachedError
        ? new NotCachedError(message)
        : new KitError(message);
    },
  });
  const where = `${pkg.repo}@${pkg.rev}/requirements.txt`;
  info(
    `requirements: ${requirements.length} from ${where} (pinned in ${MAIN})`,
  );
  return {
    requirements: requirements.map(requirementToString),
    label: `${pkg.pname}`,
    source: `requirements.txt of ${pkg.owner}/${pkg.repo} ${pkg.rev} (${MAIN})`,
  };
}

/** True when two hashes (SRI, or any form parseHash reads) name the same digest. */
export function sameHash(a: string, b: string): boolean {
  try {
    return sameDigest(parseHash(a), parseHash(b));
  } catch {
    return false;
  }
}
