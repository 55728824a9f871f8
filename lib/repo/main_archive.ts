// The default requirements of freeze-deps: the main package's requirements.txt, read from the
// source archive .flox/pkgs/comfyui.nix pins (owner, repo, rev), fetched through the download
// cache and checked against the NAR hash written in that file before it is trusted.
import { join } from "node:path";
import { narHashArchive } from "../archive/nar_archive.ts";
import {
  archiveRequirements,
  MAIN_PACKAGE as MAIN,
  readMainPackage,
} from "./main_package.ts";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { archiveUrl, githubUrl } from "../net/github.ts";
import { parseHash, sameDigest, toSri } from "../hash/sha256.ts";
import { info } from "../kit/log.ts";
import { requirementToString } from "../python/pep508.ts";
import { fetchUrlCached } from "./fetch_cache.ts";

/**
 * The requirements of the repository's main package (ComfyUI's requirements.txt at the pinned
 * revision): normalised PEP 508 strings, a short label for "required by", and a description of
 * where they came from.
 */
export async function mainPackageRequirements(
  root: string,
): Promise<{ requirements: string[]; label: string; source: string }> {
  const text = await readTextIfExists(join(root, MAIN));
  if (text === undefined) {
    throw new KitError(
      `${MAIN} not found in "${root}": pass requirements (REQ... or -r FILE) or --root`,
    );
  }
  const pkg = readMainPackage(text, MAIN);
  const url = archiveUrl(githubUrl(), pkg.owner, pkg.repo, pkg.rev);
  let archive: string;
  try {
    archive = await fetchUrlCached(url);
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    throw new KitError(
      `cannot get the source of ${MAIN} to read its requirements: ${e.message}: pass requirements (REQ... or -r FILE), or a mirror (COMFYKIT_MIRRORS, COMFYKIT_GITHUB_URL)`,
    );
  }
  const nar = await narHashArchive(archive);
  if (!sameDigest(nar, parseHash(pkg.hash))) {
    throw new KitError(
      `the archive of ${pkg.owner}/${pkg.repo}@${pkg.rev} has NAR hash ${
        toSri(nar)
      }, not the ${pkg.hash} pinned in ${MAIN}: run "deno task verify"`,
    );
  }
  const where = `${pkg.repo}@${pkg.rev}/requirements.txt`;
  const reqs = await archiveRequirements(
    archive,
    `${pkg.owner}/${pkg.repo}@${pkg.rev}`,
    where,
  );
  info(`requirements: ${reqs.length} from ${where} (pinned in ${MAIN})`);
  return {
    requirements: reqs.map(requirementToString),
    label: `${pkg.pname}`,
    source: `requirements.txt of ${pkg.owner}/${pkg.repo} ${pkg.rev} (${MAIN})`,
  };
}
