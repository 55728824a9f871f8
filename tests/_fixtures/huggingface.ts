// A fake Hugging Face Hub on the loopback fixture server: the revision API, `resolve/` with LFS
// files (a 302 to a separate CDN server carrying X-Linked-Etag / X-Linked-Size / X-Repo-Commit)
// and files kept in git (200 with a git-blob-id ETag), range requests, gated repositories (401
// without the token), branches that move to new commits, a file with a wrong X-Linked-Size, and
// generated model bytes up to gigabytes (streamed, never held in memory).
import { createHash } from "node:crypto";
import { type FixtureServer, json, startServer } from "./server.ts";

/** A file's bytes: literal, or generated from a seed (any size, streamed). */
export type Content =
  | { bytes: Uint8Array }
  | { size: number; seed: number };

/** A file in a commit. */
export interface HubFile {
  content: Content;
  /** Stored in LFS (default true): the Hub gives its sha256 and size in headers. */
  lfs?: boolean;
  /** X-Linked-Size to claim instead of the real size (a broken Hub answer). */
  claimSize?: number;
}

/** A repository: commits (id → files) and branches (name → commit id). */
export interface HubRepo {
  commits: Map<string, Map<string, HubFile>>;
  branches: Map<string, string>;
  gated?: "auto" | "manual";
  license?: string;
}

const BLOCK = 1024 * 1024;

/** The size of a content. */
export function sizeOf(c: Content): number {
  return "bytes" in c ? c.bytes.length : c.size;
}

/** Block `i` of generated content (xorshift32, fast enough for a GiB in a second or two). */
function genBlock(seed: number, i: number, out: Uint32Array): void {
  let x = (seed * 0x9e3779b1 + i * 0x85ebca6b + 1) >>> 0 || 1;
  for (let j = 0; j < out.length; j++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[j] = x;
  }
}

/**
 * Bytes [start, end) of a content as a stream; `cutAfter` ends it early (shorter than its
 * Content-Length: the client sees a dropped connection).
 */
export function streamOf(
  c: Content,
  start: number,
  end: number,
  cutAfter?: number,
): ReadableStream<Uint8Array> {
  if ("bytes" in c) {
    const slice = c.bytes.subarray(start, end);
    return new ReadableStream({
      start(ctl) {
        if (cutAfter !== undefined && cutAfter < slice.length) {
          ctl.enqueue(slice.slice(0, cutAfter));
          ctl.close();
          return;
        }
        ctl.enqueue(slice.slice());
        ctl.close();
      },
    });
  }
  let pos = start;
  let sent = 0;
  const words = new Uint32Array(BLOCK / 4);
  return new ReadableStream({
    pull(ctl) {
      if (pos >= end) return ctl.close();
      if (cutAfter !== undefined && sent >= cutAfter) {
        return ctl.close();
      }
      const block = Math.floor(pos / BLOCK);
      genBlock(c.seed, block, words);
      const bytes = new Uint8Array(words.buffer);
      const from = pos - block * BLOCK;
      const to = Math.min(BLOCK, end - block * BLOCK);
      const chunk = bytes.slice(from, to);
      pos += chunk.length;
      sent += chunk.length;
      ctl.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

const digests = new Map<string, { sha256: string; sha1: string }>();

/** sha256 (hex) and git blob id of a content, computed once by streaming it. */
export async function digestsOf(
  c: Content,
): Promise<{ sha256: string; sha1: string }> {
  const key = "bytes" in c ? undefined : `${c.size}:${c.seed}`;
  if (key && digests.has(key)) return digests.get(key)!;
  const sha256 = createHash("sha256");
  const sha1 = createHash("sha1").update(`blob ${sizeOf(c)}\0`);
  for await (const chunk of streamOf(c, 0, sizeOf(c))) {
    sha256.update(chunk);
    sha1.update(chunk);
  }
  const d = { sha256: sha256.digest("hex"), sha1: sha1.digest("hex") };
  if (key) digests.set(key, d);
  return d;
}

/** A deterministic fake commit id. */
export function commitId(label: string): string {
  return createHash("sha1").update(label).digest("hex");
}

/** The fake Hub and its CDN. */
export interface FakeHub extends AsyncDisposable {
  hub: FixtureServer;
  cdn: FixtureServer;
  url: string;
  repos: Map<string, HubRepo>;
  /** The token gated repositories accept. */
  token: string;
  /** Authorization headers the CDN received (must stay empty: the token is for the Hub). */
  cdnAuth: string[];
  /** Authorization headers `resolve/` on the Hub received. */
  hubAuth: string[];
  /** Ranges asked of the CDN and the Hub ("bytes=N-"), in order. */
  ranges: string[];
  /** Called after each revision-API answer (e.g. to move a branch right after it was read). */
  afterRevision?: (() => void) | undefined;
  /** Cut the next CDN body after this many bytes (once). */
  cutNextAfter?: number | undefined;
  /** Adds a repository with one commit on main holding `files`; returns the commit id. */
  addRepo(
    repo: string,
    files: Record<string, HubFile>,
    extra?: Partial<HubRepo>,
  ): string;
  /** A new commit on `branch` with `files` changed; returns its id. */
  advance(
    repo: string,
    files: Record<string, HubFile>,
    branch?: string,
  ): string;
}

function parseRange(
  h: string | null,
  size: number,
): [number, number] | "bad" | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(h);
  if (!m) return "bad";
  const start = Number(m[1]);
  const end = m[2] ? Math.min(size, Number(m[2]) + 1) : size;
  return start >= size || end <= start ? "bad" : [start, end];
}

/** Serves `c` with range support; `cut` truncates the body (a dropped connection). */
function serve(
  req: Request,
  c: Content,
  headers: Record<string, string>,
  cut?: number,
): Response {
  const size = sizeOf(c);
  const range = parseRange(req.headers.get("range"), size);
  if (range === "bad") {
    return new Response(null, {
      status: 416,
      headers: { "content-range": `bytes */${size}` },
    });
  }
  const [start, end] = range ?? [0, size];
  const h = {
    ...headers,
    "accept-ranges": "bytes",
    "content-length": String(end - start),
    ...(range ? { "content-range": `bytes ${start}-${end - 1}/${size}` } : {}),
  };
  const status = range ? 206 : 200;
  if (req.method === "HEAD") return new Response(null, { status, headers: h });
  return new Response(streamOf(c, start, end, cut), { status, headers: h });
}

/** Starts the fake Hub (and its CDN) on loopback. */
export async function startFakeHub(): Promise<FakeHub> {
  const hub = await startServer();
  const cdn = await startServer();
  const repos = new Map<string, HubRepo>();
  const blobs = new Map<string, Content>();
  let n = 0;
  const fake: FakeHub = {
    hub,
    cdn,
    url: hub.url,
    repos,
    token: "hf_fixture_token_123",
    cdnAuth: [],
    hubAuth: [],
    ranges: [],
    addRepo(repo, files, extra = {}) {
      const id = commitId(`${repo}#${n++}`);
      repos.set(repo, {
        commits: new Map([[id, new Map(Object.entries(files))]]),
        branches: new Map([["main", id]]),
        ...extra,
      });
      return id;
    },
    advance(repo, files, branch = "main") {
      const r = repos.get(repo)!;
      const parent = r.commits.get(r.branches.get(branch)!)!;
      const id = commitId(`${repo}#${n++}`);
      r.commits.set(id, new Map([...parent, ...Object.entries(files)]));
      r.branches.set(branch, id);
      return id;
    },
    async [Symbol.asyncDispose]() {
      await hub[Symbol.asyncDispose]();
      await cdn[Symbol.asyncDispose]();
    },
  };
  const commitOf = (r: HubRepo, rev: string) =>
    r.commits.has(rev) ? rev : r.branches.get(rev);
  hub.route(
    "GET",
    /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/revision\/([^/]+)$/,
    (_req, m) => {
      const r = repos.get(m[2]!);
      const sha = r && commitOf(r, decodeURIComponent(m[3]!));
      if (!r || !sha) return json({ error: "Repository not found" }, 404);
      queueMicrotask(() => fake.afterRevision?.());
      return json({
        id: m[2],
        sha,
        gated: r.gated ?? false,
        ...(r.license
          ? { cardData: { license: r.license }, tags: [`license:${r.license}`] }
          : {}),
      });
    },
  );
  hub.route(
    "GET",
    /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/,
    async (req, m) => {
      const r = repos.get(m[1]!);
      const sha = r && commitOf(r, decodeURIComponent(m[2]!));
      const path = m[3]!.split("/").map(decodeURIComponent).join("/");
      const file = sha ? r!.commits.get(sha)!.get(path) : undefined;
      if (!r || !sha || !file) {
        return new Response("Entry not found", {
          status: 404,
        });
      }
      const auth = req.headers.get("authorization");
      if (auth) fake.hubAuth.push(auth);
      if (
        r.gated && req.headers.get("authorization") !== `Bearer ${fake.token}`
      ) {
        return new Response("Access to this model is restricted", {
          status: 401,
        });
      }
      if (req.headers.has("range")) {
        fake.ranges.push(
          `hub ${req.headers.get("range")}`,
        );
      }
      const d = await digestsOf(file.content);
      if (file.lfs === false) {
        return serve(req, file.content, {
          etag: `"${d.sha1}"`,
          "x-repo-commit": sha,
        });
      }
      blobs.set(d.sha256, file.content);
      await req.body?.cancel();
      return new Response(null, {
        status: 302,
        headers: {
          location: `${cdn.url}/blobs/${d.sha256}?signed=1`,
          "x-repo-commit": sha,
          "x-linked-etag": `"${d.sha256}"`,
          "x-linked-size": String(file.claimSize ?? sizeOf(file.content)),
          etag: `"${d.sha256}"`,
        },
      });
    },
  );
  cdn.route("GET", /^\/blobs\/([0-9a-f]{64})$/, (req, m) => {
    const c = blobs.get(m[1]!);
    if (!c) return new Response("no such blob", { status: 404 });
    const auth = req.headers.get("authorization");
    if (auth) fake.cdnAuth.push(auth);
    if (req.headers.has("range")) {
      fake.ranges.push(`cdn ${req.headers.get("range")}`);
    }
    const cut = fake.cutNextAfter;
    fake.cutNextAfter = undefined;
    return serve(req, c, {}, cut);
  });
  return fake;
}
