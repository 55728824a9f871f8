import assert from "node:assert/strict";
import { startServer } from "../_fixtures/server.ts";
import { mountPypi, sdistFile, wheelFile } from "../_fixtures/pypi.ts";
import { buildArchive, fakeCommit, mountGithub } from "../_fixtures/github.ts";
import { hexOf } from "../_fixtures/build.ts";
import {
  fetchRelease,
  isPureWheel,
  pickFile,
  type PypiRelease,
  pypiUrl,
} from "../../lib/net/pypi.ts";
import {
  archiveFileName,
  archiveUrl,
  classifyRev,
  githubApiUrl,
  githubUrl,
  listTags,
  nextLink,
  parseGithubSpec,
} from "../../lib/net/github.ts";
import { json } from "../_fixtures/server.ts";

const fast = { retry: { attempts: 2, baseDelayMs: 1 } };

Deno.test("pypiUrl() reads COMFYKIT_PYPI_URL and defaults to pypi.org", () => {
  assert.equal(pypiUrl({}), "https://pypi.org");
  assert.equal(
    pypiUrl({ COMFYKIT_PYPI_URL: "http://127.0.0.1:9/x/" }),
    "http://127.0.0.1:9/x",
  );
  assert.throws(() => pypiUrl({ COMFYKIT_PYPI_URL: "ftp://x" }), /http/);
});

Deno.test("fetchRelease() returns a validated release with its files", async () => {
  await using server = await startServer();
  const spec = { name: "demo-pkg", version: "1.2.0", packages: ["demo_pkg"] };
  const pypi = mountPypi(server, [{
    name: "demo-pkg",
    version: "1.2.0",
    files: [wheelFile(spec), await sdistFile(spec)],
  }]);
  const r = await fetchRelease(pypi.url, "Demo_Pkg", "1.2.0", fast);
  assert.equal(r.info.version, "1.2.0");
  assert.equal(r.urls.length, 2);
  assert.equal(r.urls[0]!.filename, "demo_pkg-1.2.0-py3-none-any.whl");
  assert.equal(r.urls[0]!.digests.sha256, hexOf(wheelFile(spec).bytes));
  assert.ok(server.log.includes("GET /pypi/demo-pkg/1.2.0/json"));
});

Deno.test("fetchRelease() without a version picks the newest final, non-yanked release", async () => {
  await using server = await startServer();
  const mk = (v: string, yanked = false) => ({
    name: "pick",
    version: v,
    files: [wheelFile({ name: "pick", version: v }, { yanked })],
  });
  const pypi = mountPypi(server, [
    mk("1.0.0"),
    mk("1.10.0"),
    mk("1.9.0"),
    mk("2.0.0", true),
    mk("2.1.0rc1"),
  ]);
  const r = await fetchRelease(pypi.url, "pick", undefined, fast);
  assert.equal(r.info.version, "1.10.0");
  assert.equal(r.urls[0]!.filename, "pick-1.10.0-py3-none-any.whl");
});

Deno.test("fetchRelease() names the field of a malformed response", async () => {
  await using server = await startServer();
  server.route("GET", /^\/pypi\/bad\/1\.0\/json$/, () =>
    json({
      info: { name: "bad", version: "1.0" },
      urls: [{
        filename: "bad-1.0.tar.gz",
        url: "https://x/bad-1.0.tar.gz",
        packagetype: "sdist",
        digests: { sha256: "zz" },
      }],
    }));
  await assert.rejects(
    fetchRelease(server.url, "bad", "1.0", fast),
    /malformed PyPI response for bad==1\.0: urls\[0\]\.digests\.sha256: expected 64 hex/,
  );
});

Deno.test("fetchRelease() turns a 404 into a clear error, without retrying", async () => {
  await using server = await startServer();
  await assert.rejects(
    fetchRelease(server.url, "nothing", "9.9", fast),
    /PyPI has no release "nothing==9\.9" \(404/,
  );
  assert.equal(server.log.length, 1);
  await assert.rejects(
    fetchRelease(server.url, "../etc", "1", fast),
    /not a valid PyPI project name/,
  );
  await assert.rejects(
    fetchRelease(server.url, "ok", "1/../../x", fast),
    /not a valid version/,
  );
});

function release(files: Partial<PypiRelease["urls"][number]>[]): PypiRelease {
  return {
    info: { name: "p", version: "1" },
    urls: files.map((f) => ({
      filename: "x",
      url: "https://files.example/x",
      packagetype: "bdist_wheel",
      digests: { sha256: "a".repeat(64) },
      yanked: false,
      ...f,
    })),
  };
}

Deno.test("pickFile() prefers the pure wheel, falls back to the sdist, honours --wheel/--sdist", () => {
  const pure = { filename: "p-1-py3-none-any.whl" };
  const plat = { filename: "p-1-cp312-cp312-manylinux_2_17_x86_64.whl" };
  const zip = { filename: "p-1.zip", packagetype: "sdist" };
  const sdist = { filename: "p-1.tar.gz", packagetype: "sdist" };
  assert.equal(pickFile(release([plat, sdist, pure])).filename, pure.filename);
  assert.equal(pickFile(release([plat, zip, sdist])).filename, sdist.filename);
  assert.equal(
    pickFile(release([pure, sdist]), { sdist: true }).filename,
    sdist.filename,
  );
  assert.throws(
    () => pickFile(release([plat, sdist]), { wheel: true }),
    /no pure-Python wheel.*try --sdist/,
  );
  assert.throws(
    () => pickFile(release([pure]), { sdist: true }),
    /no sdist.*try --wheel/,
  );
  assert.throws(
    () => pickFile(release([plat])),
    /neither a pure-Python wheel nor an sdist/,
  );
  assert.throws(
    () => pickFile(release([{ ...pure, yanked: true }])),
    /every file of p==1 is yanked/,
  );
  assert.throws(() => pickFile(release([])), /has no files/);
  assert.ok(isPureWheel("a-1-py2.py3-none-any.whl"));
  assert.ok(!isPureWheel("a-1-cp39-abi3-any.whl"));
});

Deno.test("pickFile() rejects hostile file names", () => {
  for (
    const filename of [
      "../../etc/passwd-py3-none-any.whl",
      ".hidden-1-py3-none-any.whl",
      "a/b-1-py3-none-any.whl",
      "x".repeat(300) + "-1-py3-none-any.whl",
    ]
  ) {
    assert.throws(
      () => pickFile(release([{ filename }])),
      /not a plain file name/,
      filename,
    );
  }
});

Deno.test("githubUrl() and githubApiUrl() read their variables", () => {
  assert.equal(githubUrl({}), "https://github.com");
  assert.equal(githubApiUrl({}), "https://api.github.com");
  assert.equal(
    githubApiUrl({ COMFYKIT_GITHUB_API_URL: "http://h:1/api/" }),
    "http://h:1/api",
  );
});

Deno.test("parseGithubSpec() and archiveFileName() validate their input", () => {
  assert.deepEqual(parseGithubSpec("comfyanonymous/ComfyUI@v0.3.75"), {
    owner: "comfyanonymous",
    repo: "ComfyUI",
    rev: "v0.3.75",
  });
  for (const bad of ["a/b", "a@v1", "../b@v1", "a/b@..", "a/b@x y", "a/b@-x"]) {
    assert.throws(() => parseGithubSpec(bad), Error, bad);
  }
  assert.equal(
    archiveFileName("ComfyUI", "release/1.0"),
    "ComfyUI-release-1.0.tar.gz",
  );
  assert.equal(
    archiveUrl("https://github.com", "o", "r", "v1"),
    "https://github.com/o/r/archive/v1.tar.gz",
  );
});

Deno.test("nextLink() finds rel=next among Link entries", () => {
  assert.equal(
    nextLink(
      '<https://a/x?page=2>; rel="next", <https://a/x?page=5>; rel="last"',
    ),
    "https://a/x?page=2",
  );
  assert.equal(nextLink('<https://a/x?page=5>; rel="last"'), undefined);
  assert.equal(nextLink(null), undefined);
});

Deno.test("listTags() follows Link pagination to the last page", async () => {
  await using server = await startServer();
  const tags = ["v1", "v2", "v3", "v4", "v5"].map((name) => ({
    name,
    commit: fakeCommit(name),
  }));
  const gh = mountGithub(server, [{ owner: "o", repo: "r", tags }], {
    pageSize: 2,
  });
  const got = await listTags(gh.apiUrl, "o", "r", fast);
  assert.deepEqual(got, tags);
  assert.equal(server.log.filter((l) => l.includes("/tags")).length, 3);
  await assert.rejects(
    listTags(gh.apiUrl, "o", "missing", fast),
    /no repository "o\/missing"/,
  );
});

Deno.test("classifyRev() resolves tags (annotated too), branches and commits", async () => {
  await using server = await startServer();
  const gh = mountGithub(server, [{
    owner: "o",
    repo: "r",
    tags: [
      { name: "v1", commit: fakeCommit("c1") },
      { name: "v2", commit: fakeCommit("c2"), annotated: true },
    ],
    branches: [{ name: "main", commit: fakeCommit("head") }],
  }]);
  assert.deepEqual(await classifyRev(gh.apiUrl, "o", "r", "v1", fast), {
    kind: "tag",
    commit: fakeCommit("c1"),
  });
  assert.deepEqual(await classifyRev(gh.apiUrl, "o", "r", "main", fast), {
    kind: "branch",
    commit: fakeCommit("head"),
  });
  assert.deepEqual(await classifyRev(gh.apiUrl, "o", "r", "v2", fast), {
    kind: "tag",
    commit: fakeCommit("c2"),
  });
  const c = fakeCommit("any");
  assert.deepEqual(await classifyRev(gh.apiUrl, "o", "r", c, fast), {
    kind: "commit",
    commit: c,
  });
  await assert.rejects(
    classifyRev(gh.apiUrl, "o", "r", "nope", fast),
    /no tag or branch "nope"/,
  );
  // The archive route serves what the repository declares.
  const bytes = await buildArchive("r", "v1", [{
    path: "a.txt",
    content: "a",
  }]);
  gh.add({ owner: "o", repo: "r", archives: { v1: bytes } });
  const res = await fetch(archiveUrl(gh.url, "o", "r", "v1"));
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);
  assert.equal(gh.downloads("o", "r", "v1"), 1);
});
