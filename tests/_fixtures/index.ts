// A local package index for resolver tests: tiny wheels (and one sdist) built on the fly, written
// to a --find-links folder and/or served as a PEP 503 simple index by the fixture server.
//
// The projects make the shapes a resolver must get right:
//   diamond      app -> left -> base>=1,<3   and   app -> right -> base>=2   => base 2.0 (not 3.0)
//   conflict     clash -> base<2  together with right -> base>=2  => ResolutionImpossible
//   marker       app -> linuxdep ; sys_platform == "linux"   and   winonly ; sys_platform == "win32"
//   extra        app -> extraful[fast] -> speedup ; extra == "fast"   (plus an unused extra "slow")
import {
  buildSdist,
  buildWheel,
  type DistSpec,
  hexOf,
  sdistFileName,
  wheelFileName,
} from "./build.ts";
import type { FixtureServer } from "./server.ts";

/** A built distribution file. */
export interface IndexFile {
  project: string;
  version: string;
  file: string;
  bytes: Uint8Array;
  sha256: string;
}

/** The projects of the fixture index (every one gets a wheel; `sdist` adds an sdist). */
export const INDEX_PROJECTS: (DistSpec & { sdist?: boolean })[] = [
  {
    name: "app",
    version: "1.0",
    packages: ["app"],
    requiresDist: [
      "left>=1",
      "right>=1",
      'linuxdep>=1; sys_platform == "linux"',
      'winonly; sys_platform == "win32"',
      "extraful[fast]",
    ],
  },
  {
    name: "left",
    version: "1.0",
    packages: ["left"],
    requiresDist: ["base>=1,<3"],
  },
  {
    name: "right",
    version: "1.0",
    packages: ["right"],
    requiresDist: ["base>=2"],
  },
  { name: "base", version: "1.0", packages: ["base"] },
  { name: "base", version: "2.0", packages: ["base"], sdist: true },
  { name: "base", version: "3.0", packages: ["base"] },
  {
    name: "clash",
    version: "1.0",
    packages: ["clash"],
    requiresDist: ["base<2"],
  },
  { name: "linuxdep", version: "1.0", packages: ["linuxdep"] },
  { name: "winonly", version: "1.0", packages: ["winonly"] },
  {
    name: "extraful",
    version: "1.0",
    packages: ["extraful"],
    providesExtra: ["fast", "slow"],
    requiresDist: ['speedup>=1; extra == "fast"', 'slowdep; extra == "slow"'],
  },
  { name: "speedup", version: "1.5", packages: ["speedup"] },
  { name: "slowdep", version: "1.0", packages: ["slowdep"] },
  { name: "Typing_Ext", version: "4.2.0", packages: ["typing_ext"] },
]; // deno-fmt-ignore

/** Builds every file of the index (deterministic bytes). */
export async function buildIndexFiles(): Promise<IndexFile[]> {
  const files: IndexFile[] = [];
  for (const spec of INDEX_PROJECTS) {
    const wheel = buildWheel(spec);
    files.push({
      project: spec.name,
      version: spec.version,
      file: wheelFileName(spec),
      bytes: wheel,
      sha256: hexOf(wheel),
    });
    if (spec.sdist) {
      const sdist = await buildSdist(spec);
      files.push({
        project: spec.name,
        version: spec.version,
        file: sdistFileName(spec),
        bytes: sdist,
        sha256: hexOf(sdist),
      });
    }
  }
  return files;
}

/** Writes the files into `dir` (a --find-links folder). */
export async function writeFindLinks(
  dir: string,
  files: readonly IndexFile[],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const f of files) await Deno.writeFile(`${dir}/${f.file}`, f.bytes);
}

const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * Serves the files as a PEP 503 simple index at `<server>/simple/` (links carry `#sha256=`),
 * files under `<server>/files/`. Returns the index URL.
 */
export function mountSimpleIndex(
  server: FixtureServer,
  files: readonly IndexFile[],
): string {
  const html = (body: string) =>
    new Response(`<!DOCTYPE html><html><body>\n${body}</body></html>\n`, {
      headers: { "content-type": "text/html" },
    });
  server.route("GET", /^\/simple\/$/, () => {
    const projects = [...new Set(files.map((f) => norm(f.project)))].sort();
    return html(projects.map((p) => `<a href="${p}/">${p}</a>\n`).join(""));
  });
  server.route("GET", /^\/simple\/([^/]+)\/$/, (_req, m) => {
    const wanted = norm(decodeURIComponent(m[1]!));
    const mine = files.filter((f) => norm(f.project) === wanted);
    if (mine.length === 0) return new Response("not found", { status: 404 });
    return html(
      mine.map((f) =>
        `<a href="../../files/${f.file}#sha256=${f.sha256}">${f.file}</a><br>\n`
      ).join(""),
    );
  });
  server.route("GET", /^\/files\/([^/]+)$/, (_req, m) => {
    const f = files.find((x) => x.file === decodeURIComponent(m[1]!));
    return f
      ? new Response(f.bytes as BodyInit, {
        headers: { "content-type": "application/octet-stream" },
      })
      : new Response("not found", { status: 404 });
  });
  return `${server.url}/simple`;
}

/**
 * Environment for a hermetic pip: no user or site configuration (this machine's pip.conf adds
 * indexes, find-links and constraints), no version check.
 */
export const HERMETIC_PIP_ENV: Record<string, string> = {
  PIP_CONFIG_FILE: "/dev/null",
  PIP_FIND_LINKS: "",
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
  PIP_NO_INPUT: "1",
};
