// verify's checks from issue 16, each with the seeded defect that passed before: two manifest
// entries on one file or an entry naming another project's file (#9), the package layouts Flox
// builds (#16), a wrong size (#17), network tools in build phases (#18), and requirements.txt
// of the pinned ComfyUI against comfyui.nix (#20).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { narHashArchive } from "../../lib/archive/nar_archive.ts";
import {
  sha256Bytes,
  sha256File,
  toHex,
  toSri,
} from "../../lib/hash/sha256.ts";
import { archiveUrl, githubUrl } from "../../lib/net/github.ts";
import { verifyRepo } from "../../lib/verify/run.ts";
import { run, taskArgs, tmp } from "../_helpers.ts";
import { startServer } from "../_fixtures/server.ts";
import { PACKAGE } from "../_fixtures/nix_files.ts";
import {
  COMFYUI,
  entry,
  errors,
  MAIN_WITH_FOO,
  makeRepo,
  pick,
  runCommand,
  WHEEL,
} from "./verify_helpers.ts";

const FILE = "foo-1.2.3-py3-none-any.whl";
const MIB = 1024 * 1024;

Deno.test("verifyRepo() reports two manifest entries sharing one file (#9)", async () => {
  await using dir = await tmp();
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, {
      entries: [entry(FILE, WHEEL), entry(FILE, WHEEL, "bar")],
    }),
  });
  assert.deepEqual(errors(fs), [
    `sources-manifest.json: sources[1] (foo).file: "${FILE}" is also used by sources[0]`,
  ]);
});

Deno.test("verifyRepo() reports a PyPI entry that names another project's file (#9)", async () => {
  await using dir = await tmp();
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, { entries: [entry(FILE, WHEEL, "bar")] }),
  });
  const e = pick(fs, "error", /names foo-1\.2\.3/)[0]!;
  assert.equal(e.where, "sources-manifest.json");
  assert.equal(
    e.message,
    `entry bar 1.2.3 names ${FILE}, the file of foo 1.2.3`,
  );
  assert.equal(
    e.fix,
    "remove the entry and vendor it again: deno task fetch-source pypi:bar==1.2.3",
  );
});

Deno.test("verifyRepo() compares the manifest's size with the file's (#17)", async () => {
  await using dir = await tmp();
  const bad = { ...entry(FILE, WHEEL), size: WHEEL.length + 1 };
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, { entries: [bad] }),
  });
  assert.deepEqual(errors(fs), [
    `sources-manifest.json: the manifest says size ${
      WHEEL.length + 1
    }, the file has ${WHEEL.length} bytes (its sha256 matches)`,
  ]);
  assert.equal(
    pick(fs, "error", /size/)[0]!.fix,
    `set "size": ${WHEEL.length} for ${FILE} in sources-manifest.json`,
  );
  await using dir2 = await tmp();
  const ok = await verifyRepo({
    root: await makeRepo(dir2.path, {
      entries: [{ ...entry(FILE, WHEEL), size: WHEEL.length }],
    }),
  });
  assert.deepEqual(errors(ok), []);
});

Deno.test("verifyRepo() checks .flox/pkgs/<name>/default.nix and symlinked files like the others (#16)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, {
    pkgs: { comfyui: MAIN_WITH_FOO },
    git: false,
  });
  // foo as a folder; its relative src climbs one level more.
  await mkdir(`${root}/.flox/pkgs/foo`);
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/foo/default.nix`,
    PACKAGE.replace("../../.flox/sources/", "../../../.flox/sources/")
      .replace('"x86_64-linux"', '"x86_64-macos"'),
  );
  const fs = await verifyRepo({ root });
  assert.equal(pick(fs, "ok", /foo\/default\.nix parses/).length, 1);
  assert.equal(pick(fs, "ok", /foo is wired in/).length, 1);
  assert.equal(
    pick(fs, "ok", /foo\/default\.nix:10 vendored foo-1\.2\.3/).length,
    1,
  );
  assert.deepEqual(errors(fs), [
    '.flox/pkgs/foo/default.nix:15: "x86_64-macos" is not a Nix system',
  ]);
  // A symlinked .nix is read through the link; its relative paths start at the target's folder.
  await using dir2 = await tmp();
  const root2 = await makeRepo(dir2.path, {
    pkgs: { comfyui: MAIN_WITH_FOO },
    git: false,
  });
  await mkdir(`${root2}/.flox/pkgs/impl`);
  await Deno.writeTextFile(
    `${root2}/.flox/pkgs/impl/foo.nix`,
    PACKAGE.replace("../../.flox/sources/", "../../../.flox/sources/")
      .replace(
        "doCheck = false;",
        "doCheck = false;\n  postInstall = ''\n    curl -sSL https://example.org/x.sh | sh\n  '';",
      ),
  );
  await Deno.symlink("impl/foo.nix", `${root2}/.flox/pkgs/foo.nix`);
  await Deno.symlink("impl/gone.nix", `${root2}/.flox/pkgs/gone.nix`);
  const fs2 = await verifyRepo({ root: root2 });
  assert.equal(pick(fs2, "ok", /foo\.nix:10 vendored foo-1\.2\.3/).length, 1);
  assert.deepEqual(errors(fs2), [
    ".flox/pkgs/gone.nix: dangling symlink",
    ".flox/pkgs/foo.nix:20: postInstall uses curl: the build has no network",
  ]);
});

Deno.test("verifyRepo() reports a package defined twice, as foo.nix and foo/default.nix (#16)", async () => {
  await using dir = await tmp();
  const root = await makeRepo(dir.path, { git: false });
  await mkdir(`${root}/.flox/pkgs/foo`);
  await Deno.copyFile(
    `${root}/.flox/pkgs/foo.nix`,
    `${root}/.flox/pkgs/foo/default.nix`,
  );
  const fs = await verifyRepo({ root });
  assert.equal(
    pick(
      fs,
      "error",
      /defines foo a second time \(also \.flox\/pkgs\/foo\.nix\)/,
    )
      .length,
    1,
  );
});

Deno.test("verifyRepo() flags network tools in build phases (#18)", async () => {
  await using dir = await tmp();
  const foo = PACKAGE.replace(
    "doCheck = false;",
    "doCheck = false;\n  preBuild = ''\n    wget https://example.org/model.bin\n    # curl in a comment is fine\n  '';\n  postFixup = \"git clone https://example.org/x\";",
  );
  const fs = await verifyRepo({
    root: await makeRepo(dir.path, { pkgs: { comfyui: MAIN_WITH_FOO, foo } }),
  });
  assert.deepEqual(errors(fs), [
    ".flox/pkgs/foo.nix:20: preBuild uses wget: the build has no network",
    ".flox/pkgs/foo.nix:23: postFixup uses git clone: the build has no network",
  ]);
  assert.match(pick(fs, "error", /wget/)[0]!.fix!, /deno task fetch-source/);
});

/** A ComfyUI release archive in a fresh download cache, and the main package pinning it. */
async function cachedRelease(dir: string, requirements: string[]) {
  const src = `${dir}/src/ComfyUI-0.3.75`;
  await mkdir(src, { recursive: true });
  await Deno.writeTextFile(
    `${src}/requirements.txt`,
    requirements.join("\n") + "\n",
  );
  await Deno.writeTextFile(`${src}/main.py`, "print('hi')\n");
  const archive = `${dir}/v0.3.75.tar.gz`;
  await run("tar", ["-czf", archive, "-C", `${dir}/src`, "ComfyUI-0.3.75"]);
  const bytes = await Deno.readFile(archive);
  const sha = toHex(sha256Bytes(bytes));
  const cache = `${dir}/cache`;
  const env = (n: string) => n === "COMFYKIT_CACHE_DIR" ? cache : undefined;
  const url = archiveUrl(
    githubUrl({ get: env }),
    "comfyanonymous",
    "ComfyUI",
    "v0.3.75",
  );
  await mkdir(`${cache}/sha256`, { recursive: true });
  await mkdir(`${cache}/urls`, { recursive: true });
  await Deno.writeFile(`${cache}/sha256/${sha}`, bytes);
  await Deno.writeTextFile(
    `${cache}/urls/${toHex(sha256Bytes(url))}`,
    `${sha}\n`,
  );
  const nar = toSri(await narHashArchive(archive));
  const main = MAIN_WITH_FOO.replace(
    "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=",
    nar,
  );
  return { env, main };
}

const SEED_REQS =
  (COMFYUI.match(/# requirements\.txt\n([\s\S]*?)\n {4}# non-essential/)![1]!)
    .split("\n").map((l) => l.trim()).filter(Boolean);

Deno.test("verifyRepo() compares comfyui.nix with requirements.txt of the cached pinned archive (#20)", async () => {
  await using dir = await tmp();
  // The release dropped av and added newdep; the seed's non-essential ones and foo stay.
  const reqs = [
    ...SEED_REQS.filter((r) => r !== "av"),
    "newdep>=1.0",
    'pywin32; sys_platform == "win32"',
    "kornia>=0.7.1",
    "pydantic~=2.0",
    "pydantic-settings~=2.0",
    "foo",
  ];
  const { env, main } = await cachedRelease(dir.path, reqs);
  const root = `${dir.path}/repo`;
  await mkdir(root);
  await makeRepo(root, { pkgs: { comfyui: main, foo: PACKAGE } });
  const fs = await verifyRepo({ root, env, runCommand });
  assert.deepEqual(errors(fs), [
    ".flox/pkgs/comfyui.nix:34: requirements.txt of v0.3.75 requires newdep; .flox/pkgs/comfyui.nix does not list it",
  ]);
  const w = pick(fs, "warning", /requirements\.txt/);
  assert.deepEqual(w.map((f) => `${f.where}: ${f.message}`), [
    ".flox/pkgs/comfyui.nix:55: av is listed, but requirements.txt of v0.3.75 does not name it",
  ]);
  // Without the archive in the cache (and without --online) nothing is compared.
  await using empty = await tmp();
  const none = await verifyRepo({
    root,
    env: (n) => n === "COMFYKIT_CACHE_DIR" ? empty.path : undefined,
  });
  assert.equal(pick(none, "ok", /not compared/).length, 1);
  assert.equal(pick(none, "error", /requirements\.txt/).length, 0);
});

Deno.test("verifyRepo() reports a cached archive whose NAR hash is not the pinned one (#20)", async () => {
  await using dir = await tmp();
  const { env } = await cachedRelease(dir.path, ["torch"]);
  const root = `${dir.path}/repo`;
  await mkdir(root);
  await makeRepo(root); // the seed's hash, not the archive's
  const fs = await verifyRepo({ root, env });
  assert.match(
    pick(fs, "error", /cannot read requirements\.txt/)[0]!.message,
    /does not have the NAR hash \.flox\/pkgs\/comfyui\.nix pins/,
  );
});

Deno.test("verify --online downloads the pinned archive (with the task's own permissions) and compares (#20)", async () => {
  await using dir = await tmp();
  const reqs = [
    ...SEED_REQS,
    "kornia",
    "pydantic",
    "pydantic-settings",
    "foo",
    "newdep",
  ];
  const { main } = await cachedRelease(dir.path, reqs);
  const archive = await Deno.readFile(`${dir.path}/v0.3.75.tar.gz`);
  await using server = await startServer();
  server.route(
    "GET",
    /^\/comfyanonymous\/ComfyUI\/archive\/v0\.3\.75\.tar\.gz$/,
    () => new Response(archive),
  );
  const root = `${dir.path}/repo`;
  await mkdir(root);
  await makeRepo(root, { pkgs: { comfyui: main, foo: PACKAGE } });
  const home = `${dir.path}/home`;
  await mkdir(home);
  // The verify task's permissions, exactly as deno.json grants them.
  const args = [...await taskArgs("verify", home), "--root", root, "--json"];
  const env = { HOME: home, COMFYKIT_GITHUB_URL: server.url };
  const offline = await run(Deno.execPath(), args, { env });
  assert.equal(server.log.length, 0);
  assert.match(
    offline.stdout,
    /not compared: its archive is not in the download cache/,
  );
  const online = await run(Deno.execPath(), [...args, "--online"], { env });
  assert.equal(online.code, 1, online.stderr);
  assert.ok(online.stdout.startsWith("{"), online.stderr);
  const json = JSON.parse(online.stdout);
  assert.deepEqual(
    json.findings.filter((f: { level: string }) => f.level === "error")
      .map((f: { message: string }) => f.message),
    [
      "requirements.txt of v0.3.75 requires newdep; .flox/pkgs/comfyui.nix does not list it",
    ],
  );
  assert.deepEqual(server.log, [
    "GET /comfyanonymous/ComfyUI/archive/v0.3.75.tar.gz",
  ]);
});

Deno.test("verify flags a vendored file over GitHub's limits: an error over 100 MiB, a warning over 50 MiB (#22.21)", async () => {
  await using dir = await tmp();
  const big = async (name: string, size: number) => {
    const path = `${dir.path}/${name}`;
    using f = await Deno.open(path, { create: true, write: true });
    await f.truncate(size); // sparse: no 100 MiB written
    return { name, size, sha256: toHex(await sha256File(path)), path };
  };
  const files = [
    await big("huge-1.0.tar.gz", 100 * MIB + 1),
    await big("large-1.0.tar.gz", 50 * MIB + 1),
    await big("fine-1.0.tar.gz", 50 * MIB),
  ];
  const root = `${dir.path}/repo`;
  await mkdir(root);
  await makeRepo(root, {
    git: false,
    entries: [
      entry(FILE, WHEEL),
      ...files.map((f) => ({
        name: f.name.split("-")[0]!,
        version: "1.0",
        kind: "url" as const,
        file: f.name,
        url: `https://example.org/${f.name}`,
        sha256: f.sha256,
        size: f.size,
      })),
    ],
  });
  for (const f of files) {
    await Deno.rename(f.path, `${root}/.flox/sources/${f.name}`);
  }
  const fs = await verifyRepo({ root });
  const e = pick(fs, "error", /MiB/);
  assert.deepEqual(e.map((f) => f.where), [".flox/sources/huge-1.0.tar.gz"]);
  assert.match(e[0]!.message, /100\.0 MiB.*GitHub refuses files over 100 MiB/);
  assert.match(e[0]!.fix!, /Git LFS/);
  const w = pick(fs, "warning", /MiB/);
  assert.deepEqual(w.map((f) => f.where), [".flox/sources/large-1.0.tar.gz"]);
  assert.match(w[0]!.message, /GitHub warns about files over 50 MiB/);
});
