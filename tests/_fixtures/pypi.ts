// A fake PyPI on the fixture server: the JSON API (`/pypi/<name>/json`,
// `/pypi/<name>/<version>/json`) and file downloads under `/packages/ab/cd/<rest>/<file>`,
// with the same shapes as the real one (info, urls[], releases{}, digests.sha256, yanked, size).
import type { FixtureServer } from "./server.ts";
import { json } from "./server.ts";
import {
  buildSdist,
  buildWheel,
  type DistSpec,
  hexOf,
  sdistFileName,
  wheelFileName,
} from "./build.ts";
import { normalizeName } from "../../lib/python/names.ts";

/** One file of a fake release. */
export interface FakeFile {
  filename: string;
  bytes: Uint8Array;
  /** Defaults from the name: `.whl` → bdist_wheel, else sdist. */
  packagetype?: string;
  yanked?: boolean;
  /** The sha256 PyPI publishes (default: the real one of `bytes`; set it to fake a mismatch). */
  sha256?: string;
}

/** A fake release. */
export interface FakeRelease {
  name: string;
  version: string;
  files: FakeFile[];
  summary?: string;
}

/** The mounted fake: file URLs and download counts. */
export interface FakePypi {
  /** The base URL to set as COMFYKIT_PYPI_URL. */
  url: string;
  /** Download URL of a file (as the JSON API publishes it). */
  fileUrl(filename: string): string;
  /** How many times a file's bytes were requested. */
  downloads(filename: string): number;
  /** Adds (or replaces) a release after mounting. */
  add(release: FakeRelease): void;
}

/** A fake file holding a built pure-Python wheel. */
export function wheelFile(
  spec: DistSpec,
  extra: Partial<FakeFile> = {},
): FakeFile {
  return { filename: wheelFileName(spec), bytes: buildWheel(spec), ...extra };
}

/** A fake file holding a built sdist. */
export async function sdistFile(
  spec: DistSpec,
  extra: Partial<FakeFile> = {},
): Promise<FakeFile> {
  return {
    filename: sdistFileName(spec),
    bytes: await buildSdist(spec),
    ...extra,
  };
}

function filePath(f: FakeFile): string {
  const h = hexOf(f.bytes);
  return `/packages/${h.slice(0, 2)}/${h.slice(2, 4)}/${
    h.slice(4)
  }/${f.filename}`;
}

/** Mounts a fake PyPI serving `releases` on `server`. */
export function mountPypi(
  server: FixtureServer,
  releases: FakeRelease[] = [],
): FakePypi {
  const all: FakeRelease[] = [];
  const byPath = new Map<string, FakeFile>();
  const add = (r: FakeRelease) => {
    const i = all.findIndex((x) =>
      normalizeName(x.name) === normalizeName(r.name) && x.version === r.version
    );
    if (i >= 0) all.splice(i, 1);
    all.push(r);
    for (const f of r.files) byPath.set(filePath(f), f);
  };
  releases.forEach(add);

  const describe = (f: FakeFile) => ({
    filename: f.filename,
    url: server.url + filePath(f),
    packagetype: f.packagetype ??
      (f.filename.endsWith(".whl") ? "bdist_wheel" : "sdist"),
    digests: { sha256: f.sha256 ?? hexOf(f.bytes), md5: "0".repeat(32) },
    yanked: f.yanked ?? false,
    yanked_reason: null,
    size: f.bytes.length,
    requires_python: null,
    python_version: f.filename.endsWith(".whl") ? "py3" : "source",
  });
  const info = (r: FakeRelease) => ({
    name: r.name,
    version: r.version,
    summary: r.summary ?? `${r.name} for tests`,
    yanked: r.files.length > 0 && r.files.every((f) => f.yanked),
  });
  const versionsOf = (name: string) =>
    all.filter((r) => normalizeName(r.name) === normalizeName(name));

  server.route("GET", /^\/pypi\/([^/]+)\/json$/, (_req, m) => {
    const rs = versionsOf(decodeURIComponent(m[1]!));
    if (!rs.length) return json({ message: "Not Found" }, 404);
    // PyPI's info.version: the newest release that is not wholly yanked (by insertion order here).
    const live = rs.filter((r) => r.files.some((f) => !f.yanked));
    const latest = live.at(-1) ?? rs.at(-1)!;
    return json({
      info: info(latest),
      urls: latest.files.map(describe),
      releases: Object.fromEntries(
        rs.map((r) => [r.version, r.files.map(describe)]),
      ),
    });
  });
  server.route("GET", /^\/pypi\/([^/]+)\/([^/]+)\/json$/, (_req, m) => {
    const r = versionsOf(decodeURIComponent(m[1]!)).find((x) =>
      x.version === decodeURIComponent(m[2]!)
    );
    if (!r) return json({ message: "Not Found" }, 404);
    return json({ info: info(r), urls: r.files.map(describe) });
  });
  server.route("GET", /^\/packages\/.+$/, (_req, m) => {
    const f = byPath.get(m[0]);
    if (!f) return new Response("not found", { status: 404 });
    return new Response(f.bytes as BodyInit, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(f.bytes.length),
      },
    });
  });

  return {
    url: server.url,
    fileUrl(filename) {
      for (const [p, f] of byPath) {
        if (f.filename === filename) return server.url + p;
      }
      throw new Error(`no fake file ${filename}`);
    },
    downloads(filename) {
      return server.log.filter((l) =>
        l.startsWith("GET /packages/") && l.endsWith(`/${filename}`)
      ).length;
    },
    add,
  };
}
