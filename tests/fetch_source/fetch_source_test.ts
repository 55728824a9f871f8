import assert from "node:assert/strict";
import { join } from "node:path";
import { type FixtureServer, startServer } from "../_fixtures/server.ts";
import {
  type FakePypi,
  mountPypi,
  sdistFile,
  wheelFile,
} from "../_fixtures/pypi.ts";
import {
  buildArchive,
  fakeCommit,
  type FakeGithub,
  mountGithub,
} from "../_fixtures/github.ts";
import { hexOf } from "../_fixtures/build.ts";
import {
  captureOutput,
  haveTool,
  REAL_SOURCES,
  realSourcesTest,
  ROOT,
  run,
  runTaskProcess,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import { main } from "../../tasks/fetch_source.ts";
import { exists } from "../../lib/kit/fsutil.ts";
import {
  fileSizeProblem,
  parseManifest,
  renderSha256Sums,
  serializeManifest,
  type SourceEntry,
} from "../../lib/repo/manifest.ts";
import { acquireLock } from "../../lib/repo/lock.ts";
import { fetchToCache } from "../../lib/repo/fetch_cache.ts";
import { pypiStableUrl } from "../../lib/repo/source_kinds/pypi.ts";

const DEMO = { name: "demo-pkg", version: "1.0.0", packages: ["demo_pkg"] };
const OTHER = { name: "other", version: "2.1", packages: ["other"] };

interface Fixture extends AsyncDisposable {
  server: FixtureServer;
  pypi: FakePypi;
  github: FakeGithub;
  root: string;
  cache: string;
  env: Record<string, string>;
  sources: string;
  manifestPath: string;
}

/** A temp repository root, a fixture server with fake PyPI/GitHub, and the env pointing at them. */
async function fixture(): Promise<Fixture> {
  const server = await startServer();
  const dir = await tmp();
  const demoWheel = wheelFile(DEMO);
  const pypi = mountPypi(server, [
    {
      name: DEMO.name,
      version: DEMO.version,
      files: [demoWheel, await sdistFile(DEMO)],
    },
    // No wheel at all: the sdist is the default.
    {
      name: OTHER.name,
      version: OTHER.version,
      files: [await sdistFile(OTHER)],
    },
  ]);
  const github = mountGithub(server, []);
  const root = join(dir.path, "repo");
  await Deno.mkdir(join(root, ".flox", "sources"), { recursive: true });
  const cache = join(dir.path, "cache");
  const env = {
    COMFYKIT_PYPI_URL: pypi.url,
    COMFYKIT_GITHUB_URL: github.url,
    COMFYKIT_GITHUB_API_URL: github.apiUrl,
    COMFYKIT_CACHE_DIR: cache,
    COMFYKIT_MIRRORS: "",
    NO_COLOR: "1",
  };
  return {
    server,
    pypi,
    github,
    root,
    cache,
    env,
    sources: join(root, ".flox", "sources"),
    manifestPath: join(root, "sources-manifest.json"),
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** In-process runs under way, and the environment from before the first of them. */
let running = 0;
let savedEnv: (readonly [string, string | undefined])[] = [];

/**
 * Runs main() in-process with the fixture's environment, restored when the last concurrent run
 * ends (runs started together must not restore each other's values: later subprocesses would
 * inherit them).
 */
async function fetchSource(f: Fixture, ...args: string[]): Promise<number> {
  if (running++ === 0) {
    savedEnv = Object.keys(f.env).map((k) => [k, Deno.env.get(k)] as const);
  }
  for (const [k, v] of Object.entries(f.env)) Deno.env.set(k, v);
  try {
    return await main(["--root", f.root, ...args]);
  } finally {
    if (--running === 0) {
      for (const [k, v] of savedEnv) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
    }
  }
}

/** Runs main() in-process, capturing what it prints (fast; used for most output checks). */
function fetchSourceOut(f: Fixture, ...args: string[]) {
  return captureOutput(() => fetchSource(f, ...args));
}

/** Runs the task in a subprocess (for stdout/stderr/exit code). */
function fetchSourceProcess(f: Fixture, ...args: string[]) {
  return runTaskProcess("fetch_source.ts", ["--root", f.root, ...args], {
    env: f.env,
  });
}

async function manifestOf(f: Fixture) {
  return parseManifest(await Deno.readTextFile(f.manifestPath));
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

async function assertSumsAgree(f: Fixture) {
  const m = await manifestOf(f);
  assert.equal(
    await Deno.readTextFile(join(f.sources, "SHA256SUMS.txt")),
    renderSha256Sums(m),
  );
  const r = await run("sha256sum", ["-c", "SHA256SUMS.txt"], {
    cwd: f.sources,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

const demoWheelName = "demo_pkg-1.0.0-py3-none-any.whl";

// ------------------------------------------------------------------ pypi:

Deno.test("main() vendors a PyPI wheel, records it and writes SHA256SUMS.txt", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, "pypi:Demo_Pkg==1.0.0"), 0);
  const bytes = await Deno.readFile(join(f.sources, demoWheelName));
  const m = await manifestOf(f);
  assert.deepEqual(m.sources, [{
    name: "demo-pkg",
    version: "1.0.0",
    kind: "pypi-wheel",
    file: demoWheelName,
    url: f.pypi.fileUrl(demoWheelName),
    sha256: hexOf(bytes),
    size: bytes.length,
  }]);
  assert.equal(
    await Deno.readTextFile(f.manifestPath),
    serializeManifest(m),
  );
  await assertSumsAgree(f);
  assert.deepEqual(await listDir(f.sources), [
    "SHA256SUMS.txt",
    demoWheelName,
  ]);
});

Deno.test("main() picks the sdist when there is no pure wheel, and --sdist forces it", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, "pypi:other==2.1"), 0);
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0", "--sdist"), 0);
  const m = await manifestOf(f);
  assert.deepEqual(
    m.sources.map((e) => [e.file, e.kind]),
    [["demo_pkg-1.0.0.tar.gz", "pypi-sdist"], [
      "other-2.1.tar.gz",
      "pypi-sdist",
    ]],
  );
  const r = await fetchSourceOut(f, "pypi:other==2.1", "--wheel");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /other==2\.1 has no pure-Python wheel .*try --sdist/);
});

Deno.test("main() re-run changes nothing and downloads nothing", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0"), 0);
  const before = await Deno.readTextFile(f.manifestPath);
  const stat = await Deno.stat(f.manifestPath);
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0"), 0);
  assert.equal(await Deno.readTextFile(f.manifestPath), before);
  assert.deepEqual((await Deno.stat(f.manifestPath)).mtime, stat.mtime);
  assert.equal(f.pypi.downloads(demoWheelName), 1);
});

Deno.test("main() takes a cached file instead of downloading it again", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0"), 0);
  // A fresh clone: the file is gone, the cache is not.
  await Deno.remove(join(f.sources, demoWheelName));
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0"), 0);
  assert.equal(f.pypi.downloads(demoWheelName), 1);
  const bytes = await Deno.readFile(join(f.sources, demoWheelName));
  assert.equal(hexOf(bytes), (await manifestOf(f)).sources[0]!.sha256);
  // --no-cache goes to the network.
  await Deno.remove(join(f.sources, demoWheelName));
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0", "--no-cache"), 0);
  assert.equal(f.pypi.downloads(demoWheelName), 2);
});

Deno.test("main() rejects bytes that do not match PyPI's sha256 and writes nothing", async () => {
  await using f = await fixture();
  const spec = { name: "liar", version: "1.0" };
  f.pypi.add({
    name: "liar",
    version: "1.0",
    files: [wheelFile(spec, { sha256: "ab".repeat(32) })],
  });
  const r = await fetchSourceOut(f, "pypi:liar==1.0");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `error: liar-1\\.0-py3-none-any\\.whl: sha256 mismatch .*expected ${
        "ab".repeat(32)
      }, got ${hexOf(wheelFile(spec).bytes)}`,
    ),
  );
  assert.deepEqual(await listDir(f.sources), []);
  assert.deepEqual(await listDir(f.root), [".flox"]);
  assert.deepEqual(await listDir(join(f.cache, "sha256")), []);
});

Deno.test("main() rejects hostile file names from PyPI", async () => {
  await using f = await fixture();
  const bytes = wheelFile(DEMO).bytes;
  for (
    const filename of [
      "../../escape-1.0-py3-none-any.whl",
      ".hidden-1.0-py3-none-any.whl",
      "a\\b-1.0-py3-none-any.whl",
    ]
  ) {
    f.pypi.add({
      name: "hostile",
      version: "1.0",
      files: [{ filename, bytes }],
    });
    const r = await fetchSourceOut(f, "pypi:hostile==1.0");
    assert.equal(r.code, 1, filename);
    assert.match(r.stderr, /not a plain file name: refusing to write it/);
  }
  assert.deepEqual(await listDir(f.sources), []);
  assert.deepEqual(await listDir(join(f.root, "..")), ["repo"]);
});

Deno.test("main() never overwrites a vendored file with different bytes without --force", async () => {
  await using f = await fixture();
  const path = join(f.sources, demoWheelName);
  await Deno.writeTextFile(path, "local edit");
  const r = await fetchSourceOut(f, "pypi:demo-pkg==1.0.0");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /exists with different bytes .*rerun with --force/);
  assert.equal(await Deno.readTextFile(path), "local edit");
  assert.equal(await Deno.readTextFile(f.manifestPath).catch(() => ""), "");
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0", "--force"), 0);
  assert.equal(
    hexOf(await Deno.readFile(path)),
    hexOf(wheelFile(DEMO).bytes),
  );
});

Deno.test("main() never silently changes a recorded hash", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0"), 0);
  const before = await Deno.readTextFile(f.manifestPath);
  // PyPI now serves other bytes under the same name.
  f.pypi.add({
    name: DEMO.name,
    version: DEMO.version,
    files: [wheelFile({ ...DEMO, summary: "changed" })],
  });
  const r = await fetchSourceOut(f, "pypi:demo-pkg==1.0.0");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refusing to change the entry \(rerun with --force/);
  assert.equal(await Deno.readTextFile(f.manifestPath), before);
});

Deno.test("main() reports PyPI 404s and refuses a malformed manifest before downloading", async () => {
  await using f = await fixture();
  let r = await fetchSourceOut(f, "pypi:demo-pkg==9.9");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: PyPI has no release "demo-pkg==9\.9"/);
  const bad = JSON.stringify({
    version: 1,
    sources: [{
      name: "x",
      version: "1",
      kind: "pypi-wheel",
      file: "x.whl",
      url: "https://x/x.whl",
      sha256: "nothex",
    }],
  });
  await Deno.writeTextFile(f.manifestPath, bad);
  r = await fetchSourceOut(f, "pypi:demo-pkg==1.0.0");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /sources\[0\] \(x\)\.sha256: expected 64 lowercase hex/,
  );
  assert.equal(await Deno.readTextFile(f.manifestPath), bad);
  assert.equal(f.pypi.downloads(demoWheelName), 0);
  // A hostile name is named with its entry and field, too.
  const hostile = bad.replace('"name":"x"', '"name":"../x"').replace(
    '"nothex"',
    `"${"a".repeat(64)}"`,
  );
  await Deno.writeTextFile(f.manifestPath, hostile);
  r = await fetchSourceOut(f, "--all", "--check");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: .*sources-manifest\.json: sources\[0\] \(\.\.\/x\)\.name: expected a project name/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.equal(await Deno.readTextFile(f.manifestPath), hostile);
});

Deno.test("main() retries a file download that fails with 500 once", async () => {
  await using f = await fixture();
  let n = 0;
  const url = new URL(f.pypi.fileUrl(demoWheelName));
  f.server.route(
    "GET",
    new RegExp(`^${url.pathname}$`),
    () =>
      ++n === 1
        ? new Response("oops", { status: 500 })
        : new Response(wheelFile(DEMO).bytes as BodyInit),
  );
  assert.equal(
    await fetchSource(f, "pypi:demo-pkg==1.0.0", "--retries", "2"),
    0,
  );
  assert.equal(n, 2);
  await assertSumsAgree(f);
});

Deno.test("main() --dry-run and --json show the plan and write nothing", async () => {
  await using f = await fixture();
  let r = await fetchSourceProcess(f, "pypi:demo-pkg==1.0.0", "--dry-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^would download http:\/\/127\.0\.0\.1:\d+\/packages\/.*demo_pkg-1\.0\.0-py3-none-any\.whl -> \.flox\/sources\/demo_pkg-1\.0\.0-py3-none-any\.whl and record it/,
  );
  assert.deepEqual(await listDir(f.sources), []);
  assert.deepEqual(await listDir(f.root), [".flox"]);
  r = await fetchSourceOut(f, "pypi:demo-pkg==1.0.0", "--json");
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  assert.equal(data.results[0].action, "added");
  assert.equal(data.results[0].entry.file, demoWheelName);
  assert.equal(data.results[0].entry.sha256, hexOf(wheelFile(DEMO).bytes));
  assert.match(r.stderr, /downloaded demo_pkg-1\.0\.0-py3-none-any\.whl/);
});

Deno.test("main() answers --help and usage errors", async () => {
  await using f = await fixture();
  const help = await runTaskProcess("fetch_source.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /deno task fetch-source --all \[--check\]/);
  for (
    const args of [
      [],
      ["--bogus"],
      ["pypi:a==1", "--wheel", "--sdist"],
      ["--all", "pypi:a==1"],
      ["--all", "--jobs", "0"],
      ["https://example.org/a.whl"],
      ["ftp:nonsense"],
      ["pypi:a==1", "--check"],
      ["github:owner/repo"],
      ["github:owner/../x@v1"],
    ]
  ) {
    const r = await fetchSourceOut(f, ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /);
  }
});

// ------------------------------------------------------------------ URL

Deno.test("main() vendors a URL only over https unless --insecure-http", async () => {
  await using f = await fixture();
  const body = new TextEncoder().encode("some archive");
  f.server.route(
    "GET",
    /^\/dl\/thing-1\.0\.tar\.gz$/,
    () => new Response(body as BodyInit),
  );
  const url = `${f.server.url}/dl/thing-1.0.tar.gz`;
  let r = await fetchSourceOut(
    f,
    url,
    "--name",
    "thing",
    "--version",
    "1.0",
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Refusing plain http .*--insecure-http/);
  assert.equal(f.server.log.length, 0);
  r = await fetchSourceOut(
    f,
    url,
    "--name",
    "thing",
    "--version",
    "1.0",
    "--insecure-http",
    "--sha256",
    hexOf(body),
  );
  assert.equal(r.code, 0, r.stderr);
  const e = (await manifestOf(f)).sources[0]!;
  assert.deepEqual(
    [e.kind, e.file, e.url, e.sha256],
    ["url", "thing-1.0.tar.gz", url, hexOf(body)],
  );
  // A name taken from the URL must be a plain file name.
  r = await fetchSourceOut(
    f,
    `${f.server.url}/dl/..%2F..%2Fevil`,
    "--name",
    "x",
    "--version",
    "1",
    "--insecure-http",
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /it contains a path separator: choose another name/);
  // --name and --version become manifest fields: validated before anything is fetched.
  const served = f.server.log.length;
  for (
    const [flag, value, re] of [
      ["--name", "../x", /--name "\.\.\/x" is not a project name/],
      ["--version", "1 2", /--version "1 2" is not a version/],
    ] as const
  ) {
    r = await fetchSourceOut(
      f,
      url,
      "--insecure-http",
      ...(flag === "--name"
        ? ["--name", value, "--version", "1"]
        : ["--name", "x", "--version", value]),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, re);
  }
  assert.equal(f.server.log.length, served);
});

// ------------------------------------------------------------------ github:

async function mountRepo(f: Fixture) {
  const files = [
    { path: "main.py", content: "print('hi')\n" },
    { path: "bin/run.sh", content: "#!/bin/sh\n", mode: 0o755 },
    { path: "link", symlink: "main.py" },
  ];
  const tag = await buildArchive("Tool", "v1.2.0", files);
  const head = await buildArchive("Tool", "main", [{
    path: "x",
    content: "1",
  }]);
  f.github.add({
    owner: "acme",
    repo: "Tool",
    tags: [
      { name: "v1.2.0", commit: fakeCommit("c120") },
      { name: "v1.3.0", commit: fakeCommit("c130"), annotated: true },
    ],
    branches: [{ name: "main", commit: fakeCommit("head") }],
    archives: {
      "v1.2.0": tag,
      "v1.3.0": tag,
      [fakeCommit("head")]: head,
    },
  });
  return { tag, head };
}

Deno.test("main() vendors a GitHub tag with its commit, sha256 and NAR hash", async () => {
  await using f = await fixture();
  const { tag } = await mountRepo(f);
  assert.equal(await fetchSource(f, "github:acme/Tool@v1.2.0"), 0);
  const e = (await manifestOf(f)).sources[0]! as Extract<
    SourceEntry,
    { kind: "github" }
  >;
  assert.deepEqual(
    [e.kind, e.name, e.version, e.file, e.owner, e.repo, e.rev, e.commit],
    [
      "github",
      "Tool",
      "1.2.0",
      "Tool-v1.2.0.tar.gz",
      "acme",
      "Tool",
      "v1.2.0",
      fakeCommit("c120"),
    ],
  );
  assert.equal(e.url, `${f.github.url}/acme/Tool/archive/v1.2.0.tar.gz`);
  assert.equal(e.sha256, hexOf(tag));
  assert.match(e.nar, /^sha256-[A-Za-z0-9+/]{43}=$/);
  if (haveTool("nix-hash")) {
    // Oracle: Nix's own NAR hash of the unpacked top directory.
    await using x = await tmp();
    await run("tar", ["xzf", join(f.sources, e.file), "-C", x.path]);
    const r = await run("nix-hash", [
      "--type",
      "sha256",
      "--base32",
      join(x.path, "Tool-1.2.0"),
    ]);
    const sri = await run("nix", [
      "--extra-experimental-features",
      "nix-command",
      "hash",
      "to-sri",
      "--type",
      "sha256",
      r.stdout.trim(),
    ]);
    assert.equal(e.nar, sri.stdout.trim());
  }
  await assertSumsAgree(f);
  // An annotated tag resolves through the tag object.
  assert.equal(await fetchSource(f, "github:acme/Tool@v1.3.0"), 0);
  const e2 = (await manifestOf(f)).sources.find((s) =>
    s.file === "Tool-v1.3.0.tar.gz"
  ) as Extract<SourceEntry, { kind: "github" }>;
  assert.equal(e2.commit, fakeCommit("c130"));
});

Deno.test("main() refuses a branch unless --allow-branch, then pins its commit", async () => {
  await using f = await fixture();
  const { head } = await mountRepo(f);
  const r = await fetchSourceOut(f, "github:acme/Tool@main");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /"main" is a branch of acme\/Tool.*--allow-branch/);
  assert.deepEqual(await listDir(f.sources), []);
  assert.equal(
    await fetchSource(f, "github:acme/Tool@main", "--allow-branch"),
    0,
  );
  const e = (await manifestOf(f)).sources[0]! as Extract<
    SourceEntry,
    { kind: "github" }
  >;
  assert.deepEqual([e.rev, e.commit, e.sha256], [
    "main",
    fakeCommit("head"),
    hexOf(head),
  ]);
  assert.equal(
    e.url,
    `${f.github.url}/acme/Tool/archive/${fakeCommit("head")}.tar.gz`,
  );
  const missing = await fetchSourceOut(f, "github:acme/Tool@nope");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no tag or branch "nope"/);
});

Deno.test("main() refuses a GitHub archive that cannot be unpacked and writes nothing", async () => {
  await using f = await fixture();
  f.github.add({
    owner: "acme",
    repo: "Broken",
    tags: [{ name: "v1", commit: fakeCommit("b1") }],
    archives: { v1: new TextEncoder().encode("<html>rate limited</html>") },
  });
  const r = await fetchSourceOut(f, "github:acme/Broken@v1");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: Broken-v1\.tar\.gz from .*nothing was written/,
  );
  assert.deepEqual(await listDir(f.sources), []);
  assert.deepEqual(await listDir(f.root), [".flox"]);
});

// ------------------------------------------------------------------ --all

async function vendorTwo(f: Fixture) {
  assert.equal(await fetchSource(f, "pypi:demo-pkg==1.0.0"), 0);
  assert.equal(await fetchSource(f, "pypi:other==2.1"), 0);
  await mountRepo(f);
  assert.equal(await fetchSource(f, "github:acme/Tool@v1.2.0"), 0);
  return await manifestOf(f);
}

Deno.test("main() --all restores every missing file (from the network without a cache)", async () => {
  await using f = await fixture();
  const m = await vendorTwo(f);
  for (const e of m.sources) await Deno.remove(join(f.sources, e.file));
  await Deno.remove(f.cache, { recursive: true });
  const before = f.server.log.length;
  assert.equal(await fetchSource(f, "--all", "--jobs", "2"), 0);
  assert.equal(f.server.log.length - before, 3);
  await assertSumsAgree(f);
  // Everything present: verified, nothing downloaded.
  const r = await fetchSourceOut(f, "--all", "--json");
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  assert.deepEqual(data.results.map((x: { status: string }) => x.status), [
    "ok",
    "ok",
    "ok",
  ]);
  assert.equal(f.server.log.length - before, 3);
});

Deno.test("main() --all --check reports missing and corrupt files without downloading", async () => {
  await using f = await fixture();
  const m = await vendorTwo(f);
  const [a, b] = m.sources;
  await Deno.remove(join(f.sources, a!.file));
  await Deno.writeTextFile(join(f.sources, b!.file), "corrupted");
  const before = f.server.log.length;
  const r = await fetchSourceOut(f, "--all", "--check", "--json");
  assert.equal(r.code, 1);
  const byFile = Object.fromEntries(
    JSON.parse(r.stdout).results.map((
      x: { file: string; status: string },
    ) => [x.file, x.status]),
  );
  assert.deepEqual(byFile, {
    [a!.file]: "missing",
    [b!.file]: "corrupt",
    [m.sources[2]!.file]: "ok",
  });
  assert.equal(f.server.log.length, before);
  assert.equal(await Deno.readTextFile(join(f.sources, b!.file)), "corrupted");
  const text = await fetchSourceOut(f, "--all", "--check");
  assert.match(text.stdout, /^corrupt .*expected sha256 [0-9a-f]{64}, found/m);
  assert.match(
    text.stderr,
    /2 of 3 sources need attention \(run "deno task fetch-source --all" to restore\)/,
  );
});

Deno.test("main() --all --dry-run counts what it would download and writes nothing", async () => {
  await using f = await fixture();
  const m = await vendorTwo(f);
  await Deno.remove(join(f.sources, m.sources[0]!.file));
  await Deno.remove(f.cache, { recursive: true });
  const before = f.server.log.length;
  const r = await fetchSourceOut(f, "--all", "--dry-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^would-restore .* from http:\/\/127\.0\.0\.1:/m);
  assert.match(
    r.stderr,
    /1 of 3 sources would be downloaded, 2 verified \(dry run: nothing written\)/,
  );
  assert.equal(f.server.log.length, before);
  assert.equal(await exists(join(f.sources, m.sources[0]!.file)), false);
});

Deno.test("main() --all reports a failed download per file and says what to do, exit 1", async () => {
  await using f = await fixture();
  const m = await vendorTwo(f);
  const gone = m.sources[0]!;
  await Deno.remove(join(f.sources, gone.file));
  await Deno.remove(f.cache, { recursive: true });
  f.server.route(
    "GET",
    new RegExp(`/${gone.file.replace(/[.+]/g, "\\$&")}$`),
    () => new Response("gone", { status: 404 }),
  );
  const r = await fetchSourceOut(f, "--all", "--retries", "1");
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`^failed ${gone.file}: .*HTTP 404`, "m"));
  assert.match(
    r.stderr,
    /1 of 3 sources need attention \(check the network, or point COMFYKIT_MIRRORS at a mirror, and rerun\)/,
  );
  assert.equal(await exists(join(f.sources, gone.file)), false);
  assert.deepEqual(
    (await listDir(f.sources)).filter((n) => n.includes(".tmp")),
    [],
  );
});

Deno.test("main() --all keeps a corrupt file unless --force, and restores it with --force", async () => {
  await using f = await fixture();
  const m = await vendorTwo(f);
  const e = m.sources[0]!;
  const path = join(f.sources, e.file);
  await Deno.writeTextFile(path, "corrupted");
  const r = await fetchSourceOut(f, "--all");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rerun with --force/);
  assert.equal(await Deno.readTextFile(path), "corrupted");
  assert.equal(await fetchSource(f, "--all", "--force"), 0);
  assert.equal(hexOf(await Deno.readFile(path)), e.sha256);
});

Deno.test("main() --all regenerates a stale SHA256SUMS.txt and --check flags it", async () => {
  await using f = await fixture();
  await vendorTwo(f);
  const sums = join(f.sources, "SHA256SUMS.txt");
  await Deno.writeTextFile(sums, "stale\n");
  assert.equal((await fetchSourceOut(f, "--all", "--check")).code, 1);
  assert.equal(await fetchSource(f, "--all"), 0);
  await assertSumsAgree(f);
});

realSourcesTest(
  "main() --all restores the real 0.3.75 files through a mirror and checks them against the real manifest",
  async () => {
    await using f = await fixture();
    await Deno.copyFile(join(ROOT, "sources-manifest.json"), f.manifestPath);
    const real = new Map<string, Uint8Array>();
    for await (const e of Deno.readDir(REAL_SOURCES)) {
      if (/\.(whl|tar\.gz)$/.test(e.name)) {
        real.set(e.name, await Deno.readFile(join(REAL_SOURCES, e.name)));
      }
    }
    f.server.route(
      "GET",
      /^\/mirror\/packages\/[^/]+\/.\/[^/]+\/([^/]+)$/,
      (_r, m) => {
        const bytes = real.get(m[1]!);
        return bytes
          ? new Response(bytes as BodyInit)
          : new Response("gone", { status: 404 });
      },
    );
    f.env.COMFYKIT_MIRRORS =
      `https://files.pythonhosted.org=${f.server.url}/mirror`;
    const r = await fetchSourceProcess(f, "--all", "--json", "--retries", "1");
    assert.equal(r.code, 1, "six files cannot be restored here");
    const results: { file: string; status: string; error?: string }[] =
      JSON.parse(r.stdout).results;
    const restored = results.filter((x) => x.status === "restored").map((x) =>
      x.file
    );
    assert.deepEqual(restored.sort(), [...real.keys()].sort());
    const failed = results.filter((x) => x.status === "failed");
    assert.equal(failed.length, 6);
    assert.match(failed[0]!.error!, /HTTP 404/);
    // The restored files are the real ones: the real SHA256SUMS.txt agrees.
    for (const name of real.keys()) {
      assert.deepEqual(
        await Deno.readFile(join(f.sources, name)),
        real.get(name),
      );
    }
    const check = await run("sha256sum", [
      "-c",
      "--ignore-missing",
      "SHA256SUMS.txt",
    ], {
      cwd: f.sources,
    });
    assert.equal(check.code, 0, check.stdout);
    assert.equal(
      await Deno.readTextFile(f.manifestPath),
      await Deno.readTextFile(join(ROOT, "sources-manifest.json")),
    );
  },
);

realSourcesTest(
  "main() vendors the real spandrel sdist from a fake PyPI and matches the real manifest",
  async () => {
    await using f = await fixture();
    await Deno.copyFile(join(ROOT, "sources-manifest.json"), f.manifestPath);
    const before = await Deno.readTextFile(f.manifestPath);
    const bytes = await Deno.readFile(
      join(REAL_SOURCES, "spandrel-0.4.0.tar.gz"),
    );
    f.pypi.add({
      name: "spandrel",
      version: "0.4.0",
      files: [
        wheelFile({ name: "spandrel", version: "0.4.0" }),
        { filename: "spandrel-0.4.0.tar.gz", bytes },
      ],
    });
    assert.equal(await fetchSource(f, "pypi:spandrel==0.4.0", "--sdist"), 0);
    const entry = (await manifestOf(f)).sources.find((e) =>
      e.name === "spandrel"
    )!;
    assert.equal(
      hexOf(await Deno.readFile(join(f.sources, "spandrel-0.4.0.tar.gz"))),
      entry.sha256,
    );
    assert.equal(
      entry.sha256,
      "f45526893f923a12ef37542c44e444b1208976593bc7ccdfa54fd04c7c3e80ca",
    );
    // The recorded entry (and its fetchPypi URL) is unchanged: no diff.
    assert.equal(await Deno.readTextFile(f.manifestPath), before);
  },
);

// ------------------------------------------------------------------ concurrency and the lock

Deno.test("main() twice at the same time leaves a valid manifest with both entries", async () => {
  await using f = await fixture();
  const codes = await Promise.all([
    fetchSource(f, "pypi:demo-pkg==1.0.0"),
    fetchSource(f, "pypi:other==2.1"),
  ]);
  assert.deepEqual(codes, [0, 0]);
  assert.deepEqual(
    (await manifestOf(f)).sources.map((e) => e.name),
    ["demo-pkg", "other"],
  );
  await assertSumsAgree(f);
});

Deno.test("two fetch-source processes at the same time both land in the manifest", async () => {
  await using f = await fixture();
  for (let i = 0; i < 4; i++) {
    const spec = { name: `pkg${i}`, version: "1.0" };
    f.pypi.add({ name: spec.name, version: "1.0", files: [wheelFile(spec)] });
  }
  const rs = await Promise.all(
    [0, 1, 2, 3].map((i) => fetchSourceProcess(f, `pypi:pkg${i}==1.0`)),
  );
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    (await manifestOf(f)).sources.map((e) => e.name),
    ["pkg0", "pkg1", "pkg2", "pkg3"],
  );
  await assertSumsAgree(f);
  assert.deepEqual(
    (await listDir(f.sources)).filter((n) => n.startsWith(".")),
    [],
  );
});

Deno.test("acquireLock() waits for the holder, breaks an abandoned lock, and times out on a fresh one", async () => {
  await using dir = await tmp();
  const path = join(dir.path, ".lock");
  const held = await acquireLock(path);
  let got = false;
  const waiting = acquireLock(path, { pollMs: 5 }).then((l) => {
    got = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got, false);
  await held.release();
  await (await waiting).release();
  assert.equal(got, true);
  assert.deepEqual(await listDir(dir.path), []);

  // A lock nobody touched for longer than staleMs was abandoned: it is broken.
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      pid: 1,
      host: "elsewhere",
      created: "2020-01-01T00:00:00Z",
      token: "old",
    }),
  );
  const past = new Date(Date.now() - 60_000);
  await Deno.utime(path, past, past);
  const l = await acquireLock(path, { timeoutMs: 1_000 });
  assert.doesNotMatch(await Deno.readTextFile(path), /"old"/);
  await l.release();

  // A held lock stays fresh (its holder touches it), so a waiter never breaks it.
  const holder = await acquireLock(path, { staleMs: 60 });
  await assert.rejects(
    acquireLock(path, { staleMs: 60, timeoutMs: 300, pollMs: 10 }),
    /is held by pid \d+ on .* since/,
  );
  await holder.release();

  // A fresh lock of another run is waited for, then reported with how to fix it.
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      pid: 4242,
      host: "elsewhere",
      created: "2020-01-01T00:00:00Z",
      token: "live",
    }),
  );
  await assert.rejects(
    acquireLock(path, { timeoutMs: 100, pollMs: 10 }),
    /is held by pid 4242 on elsewhere .*remove the file if none is running/,
  );
  assert.match(await Deno.readTextFile(path), /"live"/);
});

// ------------------------------------------------------------------ library forms

Deno.test("fetchToCache() works as a library: one download, then the cache", async () => {
  await using f = await fixture();
  const url = f.pypi.fileUrl(demoWheelName);
  const p1 = await fetchToCache(url, { cacheDir: f.cache, env: f.env });
  assert.equal(p1, join(f.cache, "sha256", hexOf(wheelFile(DEMO).bytes)));
  const p2 = await fetchToCache(url, {
    cacheDir: f.cache,
    env: f.env,
    sha256: hexOf(wheelFile(DEMO).bytes),
  });
  assert.equal(p2, p1);
  assert.equal(f.pypi.downloads(demoWheelName), 1);
  assert.deepEqual(await listDir(join(f.cache, "incoming")), []);
});

Deno.test("pypiStableUrl() builds fetchPypi's URL like the seeded manifest", async () => {
  const m = parseManifest(
    await Deno.readTextFile(join(ROOT, "sources-manifest.json")),
  );
  for (const e of m.sources) {
    if (e.kind.startsWith("pypi-")) assert.equal(pypiStableUrl(e.file), e.url);
  }
});

Deno.test("main() refuses a --root or COMFYKIT_ROOT that is missing or not a folder, one error line", async () => {
  await using dir = await tmp();
  await Deno.writeTextFile(join(dir.path, "file"), "x");
  const cases: [string[], RegExp][] = [
    [
      ["--root", join(dir.path, "nowhere"), "--all"],
      /^error: --root "[^"]*nowhere" does not exist\n$/,
    ],
    [
      ["--root", join(dir.path, "file"), "--all", "--check"],
      /^error: --root "[^"]*file" is not a directory\n$/,
    ],
  ];
  for (const [args, stderr] of cases) {
    const r = await captureOutput(() => main(args));
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, stderr);
    assert.equal(r.stdout, "");
  }
  const saved = Deno.env.get("COMFYKIT_ROOT");
  Deno.env.set("COMFYKIT_ROOT", join(dir.path, "gone"));
  try {
    const r = await captureOutput(() => main(["--all"]));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: COMFYKIT_ROOT "[^"]*gone" does not exist\n$/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("COMFYKIT_ROOT");
    else Deno.env.set("COMFYKIT_ROOT", saved);
  }
  assert.deepEqual(await listDir(dir.path), ["file"]);
});

Deno.test("fetch-source with deno.json's write grant and another --root is one error line naming the grant", async () => {
  await using f = await fixture();
  // deno.json allows writes to this repository's .flox/sources and manifest only.
  const r = await run(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-sys=hostname",
    `--allow-write=${ROOT}/.flox/sources,${ROOT}/sources-manifest.json`,
    `${ROOT}/tasks/fetch_source.ts`,
    "--root",
    f.root,
    "--no-cache",
    `pypi:${DEMO.name}==${DEMO.version}`,
  ], { env: f.env });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: No write access to "[^"]+": [^\n]*--allow-write=[^\n]+\n$/,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.deepEqual(await listDir(f.sources), []);
  assert.equal(await exists(f.manifestPath), false);
});

// ------------------------------------------------------------------ issue 16

Deno.test("main() refuses reserved names (SHA256SUMS.txt, the lock file, any '.' name) even with --force, never suggesting --force", async () => {
  await using f = await fixture();
  const body = new TextEncoder().encode("not a checksum file");
  f.server.route("GET", /^\/dl\/x$/, () => new Response(body as BodyInit));
  await Deno.writeTextFile(join(f.sources, "SHA256SUMS.txt"), "keep me\n");
  for (const name of ["SHA256SUMS.txt", ".lock", ".gitignore"]) {
    const r = await fetchSourceOut(
      f,
      `${f.server.url}/dl/x`,
      "--name",
      "x",
      "--version",
      "1",
      "--insecure-http",
      "--file",
      name,
      "--force",
    );
    assert.equal(r.code, 1, name);
    assert.match(
      r.stderr,
      name === "SHA256SUMS.txt"
        ? /^error: Cannot vendor as "SHA256SUMS\.txt": "SHA256SUMS\.txt" is reserved: the kit generates it/
        : /^error: Cannot vendor as "\.[a-z]+": it starts with '\.', reserved/,
    );
    assert.doesNotMatch(r.stderr, /--force/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
  assert.equal(
    await Deno.readTextFile(join(f.sources, "SHA256SUMS.txt")),
    "keep me\n",
  );
  assert.equal(await exists(f.manifestPath), false);
  assert.equal(f.server.log.length, 0, "nothing downloaded");
});

Deno.test("main() rejects a 270-character file name saying it is too long", async () => {
  await using f = await fixture();
  const long = `${"a".repeat(263)}.tar.gz`;
  const r = await fetchSourceOut(
    f,
    `${f.server.url}/dl/${long}`,
    "--name",
    "x",
    "--version",
    "1",
    "--insecure-http",
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /it is 270 characters long, at most 200 allowed/);
});

Deno.test("main() refuses a PyPI file whose name states another project or version", async () => {
  await using f = await fixture();
  // PyPI's JSON for wrong==1.0 lists demo-pkg's wheel, and right==2.0 lists a 1.0 file.
  f.pypi.add({ name: "wrong", version: "1.0", files: [wheelFile(DEMO)] });
  f.pypi.add({
    name: "right",
    version: "2.0",
    files: [wheelFile({ name: "right", version: "1.0", packages: ["right"] })],
  });
  let r = await fetchSourceOut(f, "pypi:wrong==1.0");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: PyPI lists "demo_pkg-1\.0\.0-py3-none-any\.whl" for wrong==1\.0, but its name says demo_pkg 1\.0\.0: refusing to vendor it as wrong 1\.0\n$/,
  );
  r = await fetchSourceOut(f, "pypi:right==2.0");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /its name says right 1\.0: refusing/);
  assert.equal(await exists(f.manifestPath), false);
  assert.deepEqual([...Deno.readDirSync(f.sources)], []);
  // Equal versions spelt differently (PEP 440) are the same release.
  f.pypi.add({
    name: "spelt",
    version: "1.0",
    files: [
      wheelFile({ name: "spelt", version: "1.0.0", packages: ["spelt"] }),
    ],
  });
  r = await fetchSourceOut(f, "pypi:spelt==1.0");
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("main() accepts a manifest that starts with a byte-order mark", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, `pypi:${DEMO.name}==${DEMO.version}`), 0);
  const text = await Deno.readTextFile(f.manifestPath);
  await Deno.writeTextFile(f.manifestPath, "\uFEFF" + text);
  const r = await fetchSourceOut(f, "--all", "--check");
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("main() --all --check compares sizes, and a wrong size or hash in the manifest gets a hint naming the manifest", async () => {
  await using f = await fixture();
  assert.equal(await fetchSource(f, `pypi:${DEMO.name}==${DEMO.version}`), 0);
  const m = await manifestOf(f);
  const entry = m.sources[0]!;
  const wrong = { ...m, sources: [{ ...entry, size: entry.size! + 1 }] };
  await Deno.writeTextFile(f.manifestPath, serializeManifest(wrong));
  let r = await fetchSourceOut(f, "--all", "--check");
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    new RegExp(
      `^failed ${
        entry.file.replaceAll(".", "\\.")
      }: sources-manifest\\.json records ${
        entry.size! + 1
      } bytes, but the file with the recorded sha256 has ${entry.size}: correct its "size" in sources-manifest\\.json$`,
      "m",
    ),
  );
  assert.match(r.stderr, /correct the entries in sources-manifest\.json/);
  assert.doesNotMatch(r.stderr, /network|restore/);
  // The file missing: the restore downloads it and the size disagrees: the hint names the
  // manifest, not the network, and the file name is not repeated.
  await Deno.remove(join(f.sources, entry.file));
  r = await fetchSourceOut(f, "--all");
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /size mismatch .*sha256\/size in sources-manifest\.json are wrong/,
  );
  assert.equal(r.stdout.split(entry.file).length, 2, r.stdout);
  assert.match(r.stderr, /correct the entries in sources-manifest\.json/);
  assert.doesNotMatch(r.stderr, /network/);
});

Deno.test("main() --timeout -5 says what a timeout must be (not 'argument is ambiguous')", async () => {
  await using f = await fixture();
  const r = await fetchSourceOut(f, "--all", "--timeout", "-5");
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^error: --timeout must be a whole number from 1 to 3600\n/,
  );
});

Deno.test("fetch-source waiting on a stale .flox/sources/.lock says what it waits for, then takes it over", async () => {
  await using f = await fixture();
  const lock = join(f.sources, ".lock");
  await Deno.writeTextFile(
    lock,
    JSON.stringify({
      pid: 4242,
      host: "elsewhere",
      created: "2026-11-30T10:00:00.000Z",
      token: "t",
    }) + "\n",
  );
  // Touched a moment ago: fresh for 15 s, so the run waits (about 2 s here).
  const t = new Date(Date.now() - 13_000);
  await Deno.utime(lock, t, t);
  const r = await runTaskProcess(
    "fetch_source.ts",
    ["--root", f.root, `pypi:${DEMO.name}==${DEMO.version}`],
    { env: f.env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /waiting for ".*\/\.flox\/sources\/\.lock", held by pid 4242 on elsewhere since 2026-11-30T10:00:00\.000Z \(a lock left untouched for 15 s is taken over; giving up after 60 s\)/,
  );
  assert.equal(await exists(lock), false);
});

Deno.test("fetch-source with deno.json's permissions fills a cache under /tmp (COMFYKIT_CACHE_DIR or XDG_CACHE_HOME)", async () => {
  await using f = await fixture();
  const home = join(f.root, "..", "home");
  await Deno.mkdir(home);
  const line = await taskArgs("fetch-source", home);
  // The repository is the folder the task runs in, as under deno task.
  const cached = await run(Deno.execPath(), [
    ...line,
    `pypi:${DEMO.name}==${DEMO.version}`,
  ], { cwd: f.root, env: { ...f.env, HOME: home } });
  assert.equal(cached.code, 0, cached.stderr);
  assert.doesNotMatch(cached.stderr, /not writable/);
  assert.equal((await listDir(join(f.cache, "sha256"))).length, 1);

  const xdg = join(f.root, "..", "xdg");
  const env: Record<string, string> = { ...f.env, HOME: home };
  // Empty, not deleted: the child would inherit a value from this process's environment.
  env.COMFYKIT_CACHE_DIR = "";
  env.XDG_CACHE_HOME = xdg;
  const viaXdg = await run(Deno.execPath(), [
    ...line,
    `pypi:${OTHER.name}==${OTHER.version}`,
  ], { cwd: f.root, env });
  assert.equal(viaXdg.code, 0, viaXdg.stderr);
  assert.doesNotMatch(viaXdg.stderr, /not writable/);
  assert.equal(
    (await listDir(join(xdg, "comfykit", "sha256"))).length,
    1,
    viaXdg.stderr,
  );
});

Deno.test("main() warns about a vendored file over GitHub's 50 MiB warning size (#22.21)", async () => {
  await using f = await fixture();
  const body = new Uint8Array(50 * 1024 * 1024 + 1);
  f.server.route(
    "GET",
    /^\/dl\/big-1\.0\.tar\.gz$/,
    () => new Response(body as BodyInit),
  );
  const r = await fetchSourceOut(
    f,
    `${f.server.url}/dl/big-1.0.tar.gz`,
    "--name",
    "big",
    "--version",
    "1.0",
    "--insecure-http",
    "--sha256",
    hexOf(body),
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^warning: \.flox\/sources\/big-1\.0\.tar\.gz is 50\.0 MiB: GitHub warns about files over 50 MiB/m,
  );
  assert.equal(JSON.parse(r.stdout).results[0].action, "added");
  // A small file gets no such warning.
  const small = await fetchSourceOut(f, "pypi:demo-pkg==1.0.0");
  assert.equal(small.code, 0, small.stderr);
  assert.doesNotMatch(small.stderr, /MiB/);
});

Deno.test("fileSizeProblem() follows GitHub's limits: refused over 100 MiB, a warning over 50 MiB", () => {
  const MIB = 1024 * 1024;
  assert.equal(fileSizeProblem(50 * MIB), undefined);
  assert.equal(fileSizeProblem(50 * MIB + 1)?.level, "warning");
  assert.equal(fileSizeProblem(100 * MIB)?.level, "warning");
  const e = fileSizeProblem(100 * MIB + 1)!;
  assert.equal(e.level, "error");
  assert.match(e.message, /^is 100\.0 MiB: GitHub refuses files over 100 MiB/);
});
