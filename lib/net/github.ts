// GitHub: archive URLs, the tags API (paginated through Link headers) and ref resolution
// (tag → commit, through annotated tags), with endpoints from the environment.
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import { plainFileNameProblem } from "../kit/fsutil.ts";
import { fetchJson, HttpStatusError, type RequestOptions } from "./http.ts";
import { baseUrlFrom, envGet, type EnvLike } from "../kit/env.ts";
import { parseWith } from "../kit/schema.ts";

/** Default web and API base URLs. */
export const DEFAULT_GITHUB_URL = "https://github.com";
const DEFAULT_GITHUB_API_URL = "https://api.github.com";

/** GitHub's web base (archives): `COMFYKIT_GITHUB_URL` or https://github.com. */
export function githubUrl(env: EnvLike = Deno.env): string {
  return base(env, "COMFYKIT_GITHUB_URL", DEFAULT_GITHUB_URL);
}

/** GitHub's API base: `COMFYKIT_GITHUB_API_URL` or https://api.github.com. */
export function githubApiUrl(env: EnvLike = Deno.env): string {
  return base(env, "COMFYKIT_GITHUB_API_URL", DEFAULT_GITHUB_API_URL);
}

function base(env: EnvLike, key: string, fallback: string): string {
  try {
    return baseUrlFrom(env, key, fallback);
  } catch (e) {
    throw new KitError((e as Error).message);
  }
}

/** API request headers; `GITHUB_TOKEN` (when set) lifts the anonymous rate limit. */
export function githubHeaders(env: EnvLike = Deno.env): Record<string, string> {
  const token = envGet(env, "GITHUB_TOKEN");
  return {
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** True for a plausible GitHub owner or repository name. */
export function isValidRepoPart(s: string): boolean {
  return NAME.test(s) && s !== "." && s !== "..";
}

/** True for a full 40-hex commit id. */
export function isCommit(rev: string): boolean {
  return /^[0-9a-f]{40}$/.test(rev);
}

/** True for a ref name git would accept (a subset: no spaces, `..`, `~^:?*[\`, leading `-`). */
export function isValidRef(rev: string): boolean {
  return rev.length > 0 && rev.length <= 250 && !rev.startsWith("-") &&
    !rev.includes("..") && !rev.startsWith("/") && !rev.endsWith("/") &&
    !rev.endsWith(".lock") && /^[\x21-\x7e]+$/.test(rev) &&
    !/[~^:?*[\\]/.test(rev) && !rev.includes("@{");
}

/** Parses `OWNER/REPO@REV`. */
export function parseGithubSpec(
  spec: string,
): { owner: string; repo: string; rev: string } {
  const m = spec.match(/^([^/@]+)\/([^/@]+)@(.+)$/);
  if (!m) {
    throw new KitError(
      `"${spec}" is not OWNER/REPO@REV (e.g. comfyanonymous/ComfyUI@v0.3.75)`,
    );
  }
  const [, owner, repo, rev] = m as unknown as [string, string, string, string];
  if (!isValidRepoPart(owner)) {
    throw new KitError(`"${owner}" is not a valid GitHub owner`);
  }
  if (!isValidRepoPart(repo)) {
    throw new KitError(`"${repo}" is not a valid GitHub repository name`);
  }
  if (!isValidRef(rev)) throw new KitError(`"${rev}" is not a valid git ref`);
  return { owner, repo, rev };
}

/** The archive URL `fetchFromGitHub` uses: `<base>/<owner>/<repo>/archive/<rev>.tar.gz`. */
export function archiveUrl(
  base: string,
  owner: string,
  repo: string,
  rev: string,
): string {
  return `${base}/${owner}/${repo}/archive/${
    rev.split("/").map(encodeURIComponent).join("/")
  }.tar.gz`;
}

/** The vendored file name of an archive: `<repo>-<rev>.tar.gz` (a `/` in a tag becomes `-`). */
export function archiveFileName(repo: string, rev: string): string {
  const name = `${repo}-${rev.replaceAll("/", "-")}.tar.gz`;
  if (plainFileNameProblem(name) !== undefined) {
    throw new KitError(
      `Archive name "${name}" is not a plain file name: refusing to write it`,
    );
  }
  return name;
}

const tagsSchema = z.array(z.object({
  name: z.string().min(1),
  commit: z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) }),
}));

const refSchema = z.object({
  object: z.object({
    type: z.string(),
    sha: z.string().regex(/^[0-9a-f]{40}$/),
  }),
});

function malformed(url: string): string {
  return `malformed GitHub API response from ${url}`;
}

function apiError(e: unknown, what: string): never {
  if (e instanceof HttpStatusError && (e.status === 403 || e.status === 401)) {
    throw new KitError(
      `${what}: HTTP ${e.status} from the GitHub API (rate limit or credentials): set GITHUB_TOKEN`,
    );
  }
  throw e;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?([^";]+)"?/);
    if (m && m[2]!.split(/\s+/).includes("next")) return m[1];
  }
  return undefined;
}

/** Every tag of a repository with its commit, following the Link pagination (≤ 100 pages). */
export async function listTags(
  apiBase: string,
  owner: string,
  repo: string,
  opts: RequestOptions = {},
): Promise<{ name: string; commit: string }[]> {
  const origin = new URL(apiBase).origin;
  const tags: { name: string; commit: string }[] = [];
  let url: string | undefined =
    `${apiBase}/repos/${owner}/${repo}/tags?per_page=100`;
  const seen = new Set<string>();
  for (let page = 0; url; page++) {
    if (seen.has(url) || page >= 100) {
      throw new KitError(`${apiBase}: tag pagination does not end (at ${url})`);
    }
    seen.add(url);
    let r: Awaited<ReturnType<typeof fetchJson>>;
    try {
      r = await fetchJson(url, withApiHeaders(opts));
    } catch (e) {
      if (e instanceof HttpStatusError && e.status === 404) {
        throw new KitError(`GitHub has no repository "${owner}/${repo}"`);
      }
      apiError(e, `listing tags of ${owner}/${repo}`);
    }
    for (const t of parseWith(tagsSchema, r.data, malformed(url))) {
      tags.push({ name: t.name, commit: t.commit.sha });
    }
    const next = nextLink(r.headers.get("link"));
    if (next !== undefined && new URL(next, url).origin !== origin) {
      throw new KitError(`${url}: pagination link leaves ${origin}: ${next}`);
    }
    url = next === undefined ? undefined : new URL(next, url).href;
  }
  return tags;
}

// The API's accept/version headers; the caller's headers (githubHeaders(env) with a token) win.
function withApiHeaders(opts: RequestOptions): RequestOptions {
  return { ...opts, headers: { ...githubHeaders({}), ...opts.headers } };
}

/** Follows a ref (`tags/<name>` or `heads/<name>`) to its commit; undefined when absent. */
async function resolveRef(
  apiBase: string,
  owner: string,
  repo: string,
  ref: string,
  opts: RequestOptions,
): Promise<string | undefined> {
  const path = ref.split("/").map(encodeURIComponent).join("/");
  const url = `${apiBase}/repos/${owner}/${repo}/git/ref/${path}`;
  let data: unknown;
  try {
    data = (await fetchJson(url, withApiHeaders(opts))).data;
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) return undefined;
    apiError(e, `resolving ${owner}/${repo} ${ref}`);
  }
  // A one-ref lookup that matches several refs by prefix answers with an array: not ours.
  if (Array.isArray(data)) return undefined;
  let obj = parseWith(refSchema, data, malformed(url)).object;
  // Annotated tags point at a tag object; peel (tags of tags too) down to the commit.
  for (let depth = 0; obj.type === "tag"; depth++) {
    if (depth >= 5) throw new KitError(`${url}: tag nesting too deep`);
    const tagUrl = `${apiBase}/repos/${owner}/${repo}/git/tags/${obj.sha}`;
    let tagData: unknown;
    try {
      tagData = (await fetchJson(tagUrl, withApiHeaders(opts))).data;
    } catch (e) {
      apiError(e, `resolving ${owner}/${repo} ${ref}`);
    }
    obj = parseWith(refSchema, tagData, malformed(tagUrl)).object;
  }
  if (obj.type !== "commit") {
    throw new KitError(`${url}: ${ref} points at a ${obj.type}, not a commit`);
  }
  return obj.sha;
}

/** What a revision names: a full commit id, a tag (with its commit) or a branch (with its head). */
type RevKind =
  | { kind: "commit"; commit: string }
  | { kind: "tag"; commit: string }
  | { kind: "branch"; commit: string };

/**
 * Classifies `rev` for `owner/repo`: a 40-hex id is a commit as is; otherwise tags are tried,
 * then branches. A KitError when it is neither.
 */
export async function classifyRev(
  apiBase: string,
  owner: string,
  repo: string,
  rev: string,
  opts: RequestOptions = {},
): Promise<RevKind> {
  if (isCommit(rev)) return { kind: "commit", commit: rev };
  const tag = await resolveRef(apiBase, owner, repo, `tags/${rev}`, opts);
  if (tag) return { kind: "tag", commit: tag };
  const head = await resolveRef(apiBase, owner, repo, `heads/${rev}`, opts);
  if (head) return { kind: "branch", commit: head };
  throw new KitError(
    `${owner}/${repo} has no tag or branch "${rev}" (use a tag or a 40-hex commit)`,
  );
}
