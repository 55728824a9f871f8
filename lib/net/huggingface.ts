// Hugging Face Hub as a source kind, in one file: what a Hub URL names (repo, revision, path),
// the web-page and `?download=true` forms normalised to `resolve/`, the branch → commit lookup
// (`GET {hub}/api/{models|datasets|spaces}/{repo}/revision/{rev}`) that makes a URL immutable, and
// a file's size and sha256 from the LFS headers of a HEAD on `resolve/` (X-Linked-Etag,
// X-Linked-Size). A non-LFS file's ETag is a git blob id (sha1 of "blob N\0…"), never a sha256:
// for those the caller downloads and hashes.
//
// The Hub's base URL is $COMFYKIT_HF_URL (default https://huggingface.co): a URL on
// huggingface.co is asked of that base. $HF_TOKEN, for gated repositories, is sent only to the
// Hub's own host (never to the CDN a download redirects to) and never printed or written.
import { KitError } from "../kit/errors.ts";
import { baseUrlFrom, envGet, type EnvLike } from "../kit/env.ts";
import {
  type FetchFn,
  fetchJson,
  HttpStatusError,
  type RequestOptions,
  RetryableError,
  withRetries,
} from "./http.ts";

/** The public Hub. */
const HF_ORIGIN = "https://huggingface.co";

/** What a Hub file URL names. */
interface HfRef {
  /** The origin the URL was written with (https://huggingface.co, or the configured hub). */
  origin: string;
  kind: "models" | "datasets" | "spaces";
  /** "owner/name". */
  repo: string;
  /** Branch, tag or commit, as written. */
  revision: string;
  /** Path inside the repository, decoded ("split_files/vae/x.safetensors"). */
  path: string;
}

/** The Hub base URL ($COMFYKIT_HF_URL, default https://huggingface.co), without trailing slash. */
export function hubFromEnv(env: EnvLike = Deno.env): string {
  try {
    return baseUrlFrom(env, "COMFYKIT_HF_URL", HF_ORIGIN);
  } catch (e) {
    throw new KitError((e as Error).message);
  }
}

/** $HF_TOKEN, when set. */
export function tokenFromEnv(env: EnvLike = Deno.env): string | undefined {
  return envGet(env, "HF_TOKEN");
}

const COMMIT = /^[0-9a-f]{40}$/;

/** True when `rev` is a full commit id (already immutable). */
function isCommit(rev: string): boolean {
  return COMMIT.test(rev);
}

/**
 * Parses a Hub file URL on huggingface.co or on `hub`: `/{repo}/resolve|blob/{rev}/{path}`,
 * `/datasets/…` and `/spaces/…` too, any query (`?download=true`) dropped. Undefined for a URL
 * elsewhere; a KitError for a Hub URL that names no file.
 */
export function parseHfUrl(url: string, hub: string): HfRef | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const origins = new Set([HF_ORIGIN, new URL(hub).origin, "https://hf.co"]);
  if (!origins.has(u.origin)) return undefined;
  // Hub paths are under the base's own path when it has one (a mirror at /hf/…).
  const basePath = u.origin === new URL(hub).origin
    ? new URL(hub).pathname.replace(/\/+$/, "")
    : "";
  const rest = u.pathname.startsWith(basePath + "/")
    ? u.pathname.slice(basePath.length)
    : u.pathname;
  const parts = rest.split("/").slice(1);
  let kind: HfRef["kind"] = "models";
  if (parts[0] === "datasets" || parts[0] === "spaces") {
    kind = parts.shift() as HfRef["kind"];
  }
  const [owner, name, verb, ...tail] = parts;
  if (
    !owner || !name || (verb !== "resolve" && verb !== "blob") ||
    tail.length < 2
  ) {
    throw new KitError(
      `"${url}" is a Hugging Face URL but not of a file: expected …/OWNER/REPO/resolve/REVISION/PATH`,
    );
  }
  // A pull-request revision is three segments: refs/pr/N.
  const revLen = tail[0] === "refs" && tail[1] === "pr" ? 3 : 1;
  const revision = tail.slice(0, revLen).map(decodeURIComponent).join("/");
  const path = tail.slice(revLen).map(decodeURIComponent).join("/");
  if (path === "" || tail.length <= revLen) {
    throw new KitError(`"${url}": no file path after the revision`);
  }
  return { origin: u.origin, kind, repo: `${owner}/${name}`, revision, path };
}

function repoPrefix(ref: Pick<HfRef, "kind" | "repo">): string {
  return `${ref.kind === "models" ? "" : `${ref.kind}/`}${ref.repo}`;
}

/** The `resolve/` URL of a file, at `revision` (default the ref's), under `base`. */
export function hfFileUrl(
  ref: HfRef,
  base: string = ref.origin,
  revision: string = ref.revision,
): string {
  const rev = revision.split("/").map(encodeURIComponent).join("/");
  const path = ref.path.split("/").map(encodeURIComponent).join("/");
  return `${base.replace(/\/+$/, "")}/${
    repoPrefix(ref)
  }/resolve/${rev}/${path}`;
}

/**
 * `url` as it is fetched: a huggingface.co URL moved onto `hub` ($COMFYKIT_HF_URL), anything
 * else unchanged.
 */
export function onHub(url: string, hub: string): string {
  const u = new URL(url);
  if (u.origin !== HF_ORIGIN && u.origin !== "https://hf.co") return url;
  return hub.replace(/\/+$/, "") + u.pathname + u.search;
}

/** What the revision API says of a repository at a revision. */
interface HfRevision {
  commit: string;
  /** false, "auto" or "manual" as the Hub says; undefined when it does not. */
  gated?: false | "auto" | "manual";
  /** SPDX-like id from the model card (`cardData.license`, else a `license:` tag). */
  license?: string;
}

/** Headers for a request to the Hub itself (the token goes nowhere else). */
function hubHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Turns 401/403 into the one-line hint a gated repository needs; the token is never named. */
function gatedHint(e: unknown, what: string, token: string | undefined): never {
  if (e instanceof HttpStatusError && (e.status === 401 || e.status === 403)) {
    throw new KitError(
      `${what}: HTTP ${e.status}: ${
        token
          ? "HF_TOKEN is not accepted for this repository (gated: accept its terms on the Hub with that account)"
          : "the repository is gated or private: set HF_TOKEN to a Hugging Face token that may read it"
      }`,
    );
  }
  throw e;
}

/**
 * The commit `ref.revision` points at now, with the repository's gated state and licence:
 * `GET {hub}/api/{kind}/{repo}/revision/{rev}`.
 */
export async function repoRevision(
  hub: string,
  ref: HfRef,
  token: string | undefined,
  opts: RequestOptions = {},
): Promise<HfRevision> {
  const rev = encodeURIComponent(ref.revision);
  const url = `${hub}/api/${ref.kind}/${ref.repo}/revision/${rev}`;
  let data: unknown;
  try {
    ({ data } = await fetchJson(url, {
      ...opts,
      headers: { ...opts.headers, ...hubHeaders(token) },
    }));
  } catch (e) {
    gatedHint(e, `${ref.repo}@${ref.revision}`, token);
  }
  const o = (typeof data === "object" && data !== null ? data : {}) as Record<
    string,
    unknown
  >;
  const sha = o.sha;
  if (typeof sha !== "string" || !isCommit(sha)) {
    throw new KitError(
      `${url}: the Hub's answer has no commit ("sha" is ${
        JSON.stringify(sha)
      })`,
    );
  }
  const gated = o.gated === false || o.gated === "auto" || o.gated === "manual"
    ? o.gated
    : o.gated === true
    ? "auto"
    : undefined;
  return {
    commit: sha,
    ...(gated !== undefined ? { gated } : {}),
    ...licenseOf(o),
  };
}

function licenseOf(o: Record<string, unknown>): { license?: string } {
  const card = o.cardData as Record<string, unknown> | undefined;
  const fromCard = card?.license;
  if (typeof fromCard === "string" && fromCard) return { license: fromCard };
  if (Array.isArray(fromCard) && typeof fromCard[0] === "string") {
    return { license: fromCard.join(" OR ") };
  }
  const tags = Array.isArray(o.tags) ? o.tags : [];
  const tag = tags.find((t) =>
    typeof t === "string" && t.startsWith("license:")
  );
  return tag ? { license: (tag as string).slice("license:".length) } : {};
}

/** A file's metadata from a HEAD on its `resolve/` URL. */
interface HfFileInfo {
  /** The commit the Hub served it from (X-Repo-Commit). */
  commit?: string;
  /** sha256 and size from the LFS pointer; absent for a file kept in git. */
  lfs?: { sha256: string; size: number };
  /** Content-Length of a file kept in git (the body HEAD describes). */
  size?: number;
}

const MAX_HOPS = 5;

/**
 * HEAD `url` (a `resolve/` URL on the hub) without following the redirect to the CDN: the LFS
 * headers are on the Hub's own answer. Same-host redirects (a renamed repository) are followed.
 */
export async function fileInfo(
  url: string,
  token: string | undefined,
  opts: RequestOptions = {},
): Promise<HfFileInfo> {
  const fetchFn: FetchFn = opts.fetch ?? fetch;
  try {
    return await withRetries(`HEAD ${url}`, opts, async (signal) => {
      let current = new URL(url);
      for (let hop = 0;; hop++) {
        const res = await fetchFn(current, {
          method: "HEAD",
          redirect: "manual",
          signal,
          headers: {
            "user-agent": "comfykit",
            ...opts.headers,
            ...hubHeaders(token),
          },
        });
        await res.body?.cancel();
        const h = res.headers;
        const commit = h.get("x-repo-commit") ?? undefined;
        const base = commit !== undefined ? { commit } : {};
        if (h.has("x-linked-etag") || h.has("x-linked-size")) {
          return { ...base, lfs: linked(h, current.href) };
        }
        if (res.status >= 300 && res.status < 400 && h.has("location")) {
          const next = new URL(h.get("location")!, current);
          if (next.origin !== current.origin || hop >= MAX_HOPS) {
            throw new KitError(
              `${url}: redirected to "${next.origin}" without LFS headers (X-Linked-Etag)`,
            );
          }
          current = next;
          continue;
        }
        if (res.status === 200) {
          const len = Number(h.get("content-length") ?? NaN);
          return {
            ...base,
            ...(Number.isSafeInteger(len) ? { size: len } : {}),
          };
        }
        if (res.status === 429 || res.status >= 500) {
          throw new RetryableError(`HTTP ${res.status}`);
        }
        throw new HttpStatusError(current.href, res.status);
      }
    });
  } catch (e) {
    gatedHint(e, url, token);
  }
}

/** The sha256 and size of X-Linked-Etag / X-Linked-Size, validated. */
function linked(h: Headers, url: string): { sha256: string; size: number } {
  const etag = (h.get("x-linked-etag") ?? "").replace(/^W\//, "").replace(
    /^"|"$/g,
    "",
  ).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(etag)) {
    throw new KitError(
      `${url}: X-Linked-Etag "${h.get("x-linked-etag")}" is not a sha256`,
    );
  }
  const raw = h.get("x-linked-size") ?? "";
  const size = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(size)) {
    throw new KitError(`${url}: X-Linked-Size "${raw}" is not a byte count`);
  }
  return { sha256: etag, size };
}

/** Headers to download `url`: the token only when it goes to the Hub itself. */
export function downloadHeaders(
  url: string,
  hub: string,
  token: string | undefined,
): Record<string, string> {
  return new URL(url).origin === new URL(hub).origin ? hubHeaders(token) : {};
}
