// new-package's fetchFromGitHub source: the tag for a version, the archive through the
// download cache, its NAR hash (computed here, never a fakeHash) and how the tree builds.
//
//   const { src, build } = await githubSource({ fe, name: "spandrel", version: "0.4.0",
//     repo: { owner: "chaiNNer-org", repo: "spandrel" } });
import { narHashArchive } from "../archive/nar_archive.ts";
import {
  type BuildInfo,
  openArchive,
  sourceTreeBuild,
} from "../python/dist_metadata.ts";
import { KitError } from "../kit/errors.ts";
import {
  archiveUrl,
  githubApiUrl,
  githubUrl,
  listTags,
} from "../net/github.ts";
import { toSri } from "../hash/sha256.ts";
import { info } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import type { SrcSpec } from "./render.ts";
import { fetchToCache } from "../repo/fetch_cache.ts";

/** OWNER/REPO or https://github.com/OWNER/REPO(.git), or undefined when it is neither. */
export function parseGithubRepo(
  text: string,
): { owner: string; repo: string } | undefined {
  const m =
    /^(?:https:\/\/github\.com\/)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/
      .exec(text);
  return m ? { owner: m[1]!, repo: m[2]! } : undefined;
}

/** The tags a release of `name` `version` is usually tagged with, most likely first. */
function tagCandidates(
  name: string,
  repo: string,
  version: string,
): string[] {
  return [
    `v${version}`,
    version,
    `${name}-${version}`,
    `${repo}-${version}`,
    `release-${version}`,
    `release/${version}`,
  ];
}

/**
 * The fetchFromGitHub source of `name` `version`: `tag` when given (it must exist), else the
 * tag asked through `fe` (default: the first of tagCandidates the repository has).
 */
export async function githubSource(opts: {
  fe: Frontend;
  name: string;
  version: string;
  repo: { owner: string; repo: string };
  tag?: string;
}): Promise<{ src: SrcSpec; build: BuildInfo }> {
  const { owner, repo } = opts.repo;
  const tags = await listTags(githubApiUrl(), owner, repo);
  const names = new Set(tags.map((t) => t.name));
  const v = opts.version;
  const guess = tagCandidates(opts.name, repo, v).find((t) => names.has(t));
  const tag = opts.tag ?? await opts.fe.input({
    key: "tag",
    flag: "--tag",
    message: `Tag of ${owner}/${repo} for ${v}:`,
    ...(guess ? { default: guess } : {}),
    validate: (t) => names.has(t) || `${owner}/${repo} has no tag "${t}"`,
  });
  if (!names.has(tag)) {
    throw new KitError(`${owner}/${repo} has no tag "${tag}"`);
  }
  const url = archiveUrl(githubUrl(), owner, repo, tag);
  const cached = await fetchToCache(url, { label: `${repo}-${tag}.tar.gz` });
  const sri = toSri(await narHashArchive(cached));
  const view = await openArchive(
    await Deno.readFile(cached),
    `${repo}-${tag}.tar.gz`,
  );
  const build = sourceTreeBuild(
    view,
    `GitHub archive ${owner}/${repo}@${tag}`,
  );
  info(`GitHub ${owner}/${repo} ${tag}: NAR hash ${sri}`);
  return { src: { kind: "github", owner, repo, rev: tag, sri }, build };
}
