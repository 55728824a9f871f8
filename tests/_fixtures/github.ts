// A fake GitHub on the fixture server: archives at `/<owner>/<repo>/archive/<rev>.tar.gz`
// (web base = server.url) and, under `/api`, the tags API paginated with Link headers plus
// `git/ref/{tags,heads}/<name>` and `git/tags/<sha>` (annotated tags) to resolve refs.
import type { FixtureServer } from "./server.ts";
import { json } from "./server.ts";
import { buildTarGz, type FileSpec } from "./build.ts";
import { hexOf } from "./build.ts";

/** A tag of a fake repository; `annotated` makes the ref point at a tag object. */
export interface FakeTag {
  name: string;
  commit: string;
  annotated?: boolean;
}

/** A fake repository. */
export interface FakeRepo {
  owner: string;
  repo: string;
  tags?: FakeTag[];
  branches?: { name: string; commit: string }[];
  /** Archive bytes by rev (tag name, branch name or commit id). */
  archives?: Record<string, Uint8Array>;
}

/** The mounted fake. */
export interface FakeGithub {
  /** Web base, for COMFYKIT_GITHUB_URL. */
  url: string;
  /** API base, for COMFYKIT_GITHUB_API_URL. */
  apiUrl: string;
  /** How many times an archive was downloaded. */
  downloads(owner: string, repo: string, rev: string): number;
  /** Adds or replaces a repository. */
  add(repo: FakeRepo): void;
}

/** A deterministic fake commit id from a label. */
export function fakeCommit(label: string): string {
  return hexOf(new TextEncoder().encode(label)).slice(0, 40);
}

/**
 * A GitHub-style source archive: every file under `<repo>-<rev>/` (GitHub strips a leading
 * `v` from tags in the directory name; tests do not depend on that).
 */
export async function buildArchive(
  repo: string,
  rev: string,
  files: FileSpec[],
): Promise<Uint8Array> {
  const top = `${repo}-${rev.replace(/^v(?=\d)/, "").replaceAll("/", "-")}`;
  return await buildTarGz(
    files.map((f) => ({ ...f, path: `${top}/${f.path}` })),
  );
}

/** Mounts a fake GitHub; `pageSize` (default 2) forces pagination of the tags API. */
export function mountGithub(
  server: FixtureServer,
  repos: FakeRepo[] = [],
  opts: { pageSize?: number } = {},
): FakeGithub {
  const pageSize = opts.pageSize ?? 2;
  const byKey = new Map<string, FakeRepo>();
  const key = (o: string, r: string) => `${o}/${r}`.toLowerCase();
  const add = (r: FakeRepo) => byKey.set(key(r.owner, r.repo), r);
  repos.forEach(add);
  const api = `${server.url}/api`;
  const tagObject = (t: FakeTag) => fakeCommit(`tag object ${t.name}`);

  server.route(
    "GET",
    /^\/([^/]+)\/([^/]+)\/archive\/(.+)\.tar\.gz$/,
    (_req, m) => {
      const r = byKey.get(key(m[1]!, m[2]!));
      const bytes = r?.archives?.[decodeURIComponent(m[3]!)];
      if (!bytes) return new Response("Not Found", { status: 404 });
      return new Response(bytes as BodyInit, {
        headers: {
          "content-type": "application/x-gzip",
          "content-length": String(bytes.length),
        },
      });
    },
  );
  server.route("GET", /^\/api\/repos\/([^/]+)\/([^/]+)\/tags$/, (req, m) => {
    const r = byKey.get(key(m[1]!, m[2]!));
    if (!r) return json({ message: "Not Found" }, 404);
    const u = new URL(req.url);
    const per = Math.min(
      Number(u.searchParams.get("per_page") ?? 30),
      pageSize,
    );
    const page = Number(u.searchParams.get("page") ?? 1);
    const tags = r.tags ?? [];
    const slice = tags.slice((page - 1) * per, page * per);
    const headers: Record<string, string> = {};
    const last = Math.max(1, Math.ceil(tags.length / per));
    const link = (p: number) =>
      `<${api}/repos/${r.owner}/${r.repo}/tags?per_page=${per}&page=${p}>`;
    const rels = [];
    if (page < last) rels.push(`${link(page + 1)}; rel="next"`);
    rels.push(`${link(last)}; rel="last"`);
    headers.link = rels.join(", ");
    return new Response(
      JSON.stringify(slice.map((t) => ({
        name: t.name,
        commit: {
          sha: t.commit,
          url: `${api}/repos/${r.owner}/${r.repo}/commits/${t.commit}`,
        },
        tarball_url: `${api}/repos/${r.owner}/${r.repo}/tarball/${t.name}`,
      }))),
      { headers: { "content-type": "application/json", ...headers } },
    );
  });
  server.route(
    "GET",
    /^\/api\/repos\/([^/]+)\/([^/]+)\/git\/ref\/(tags|heads)\/(.+)$/,
    (_req, m) => {
      const r = byKey.get(key(m[1]!, m[2]!));
      const name = decodeURIComponent(m[4]!);
      if (m[3] === "tags") {
        const t = r?.tags?.find((x) => x.name === name);
        if (!t) return json({ message: "Not Found" }, 404);
        return json({
          ref: `refs/tags/${t.name}`,
          object: t.annotated
            ? { type: "tag", sha: tagObject(t) }
            : { type: "commit", sha: t.commit },
        });
      }
      const b = r?.branches?.find((x) => x.name === name);
      if (!b) return json({ message: "Not Found" }, 404);
      return json({
        ref: `refs/heads/${b.name}`,
        object: { type: "commit", sha: b.commit },
      });
    },
  );
  server.route(
    "GET",
    /^\/api\/repos\/([^/]+)\/([^/]+)\/git\/tags\/([0-9a-f]{40})$/,
    (_req, m) => {
      const r = byKey.get(key(m[1]!, m[2]!));
      const t = r?.tags?.find((x) => x.annotated && tagObject(x) === m[3]);
      if (!t) return json({ message: "Not Found" }, 404);
      return json({
        tag: t.name,
        sha: m[3],
        object: { type: "commit", sha: t.commit },
      });
    },
  );
  server.route(
    "GET",
    /^\/api\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)$/,
    (_req, m) => {
      const r = byKey.get(key(m[1]!, m[2]!));
      const ref = decodeURIComponent(m[3]!);
      const sha = /^[0-9a-f]{40}$/.test(ref)
        ? ref
        : (r?.tags?.find((t) => t.name === ref) ??
          r?.branches?.find((b) => b.name === ref))?.commit;
      if (!r || !sha) return json({ message: "No commit found" }, 422);
      return json({ sha });
    },
  );

  return {
    url: server.url,
    apiUrl: api,
    downloads(owner, repo, rev) {
      return server.log.filter((l) =>
        l === `GET /${owner}/${repo}/archive/${rev}.tar.gz`
      ).length;
    },
    add,
  };
}
