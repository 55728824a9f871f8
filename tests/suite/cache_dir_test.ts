// The download cache wherever README puts it (COMFYKIT_CACHE_DIR, XDG_CACHE_HOME/comfykit,
// ~/.cache/comfykit) works with each task's deno.json permissions (issue 22 #26): run exactly as
// users do, `deno task NAME` in a fresh copy of the kit, with a cache outside ~/.cache and /tmp:
// fetch-source, outdated, new-package, verify --online and bump-comfyui each fill one.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer } from "../_fixtures/server.ts";
import { wheelFile } from "../_fixtures/pypi.ts";
import { mountReleases, NIXPKGS_INDEX } from "../_fixtures/bump.ts";
import { fixtureNarHash, mountComfyGithub } from "../_fixtures/comfyui.ts";
import { copyTree, ROOT, run, SEED_MAIN, tmp } from "../_helpers.ts";
import { readMainPackage } from "../../lib/repo/main_package.ts";

const DEMO = { name: "demo-pkg", version: "1.0.0", packages: ["demo_pkg"] };

/** A fresh copy of the kit that is also the repository (.flox, manifest, index). */
async function freshCopy(dir: string): Promise<string> {
  const kit = join(dir, "kit");
  for (const d of ["lib", "tasks", "templates"]) {
    await copyTree(`${ROOT}/${d}`, `${kit}/${d}`);
  }
  for (const f of ["deno.json", "deno.lock", "nixpkgs-index.json"]) {
    await Deno.copyFile(`${ROOT}/${f}`, `${kit}/${f}`);
  }
  await Deno.mkdir(`${kit}/.flox/sources`, { recursive: true });
  await Deno.mkdir(`${kit}/.flox/pkgs`, { recursive: true });
  const seed = await Deno.readTextFile(SEED_MAIN);
  await Deno.writeTextFile(
    `${kit}/.flox/pkgs/comfyui.nix`,
    seed.replace(readMainPackage(seed).hash, fixtureNarHash("0.3.75")),
  );
  await Deno.writeTextFile(
    `${kit}/sources-manifest.json`,
    JSON.stringify({ version: 1, sources: [] }, null, 2) + "\n",
  );
  return kit;
}

async function entries(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const _ of Deno.readDir(dir)) n++;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}

Deno.test("every task honours the download cache outside ~/.cache and /tmp under deno.json's permissions (#26)", async () => {
  await using dir = await tmp();
  await using server = await startServer();
  // The releases bump-comfyui 0.3.76 fetches, and demo-pkg.
  const pypi = mountReleases(server, [
    { name: DEMO.name, version: DEMO.version, files: [wheelFile(DEMO)] },
  ]);
  const gh = await mountComfyGithub(server);
  const kit = await freshCopy(dir.path);
  // Outside /tmp and ~/.cache/comfykit, which the task lines grant anyway.
  const outside = await Deno.makeTempDir({ dir: ROOT, prefix: ".cache-test-" });
  try {
    const base = {
      HOME: join(dir.path, "home"),
      COMFYKIT_PYPI_URL: pypi.url,
      COMFYKIT_GITHUB_URL: gh.url,
      COMFYKIT_GITHUB_API_URL: gh.apiUrl,
      COMFYKIT_MIRRORS: "",
      NO_COLOR: "1",
    };
    const deno = (args: string[], env: Record<string, string>) =>
      run(Deno.execPath(), ["task", "-q", ...args], { cwd: kit, env });
    // fetch-source through XDG_CACHE_HOME, outdated through COMFYKIT_CACHE_DIR (each task line
    // picks the folder the same way; the test below checks every line grants it).
    const xdg = { ...base, COMFYKIT_CACHE_DIR: "", XDG_CACHE_HOME: outside };
    const fetched = await deno(
      ["fetch-source", `pypi:${DEMO.name}==${DEMO.version}`],
      xdg,
    );
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.doesNotMatch(fetched.stderr, /not writable|Not permitted/);
    assert.equal(await entries(join(outside, "comfykit", "sha256")), 1);
    // outdated fetches ComfyUI's pinned archive into the cache to read its requirements.
    const ck = join(outside, "ck");
    const report = await deno([
      "outdated",
      "--nixpkgs-index",
      `${kit}/nixpkgs-index.json`,
    ], { ...base, COMFYKIT_CACHE_DIR: ck, XDG_CACHE_HOME: "" });
    assert.equal(report.code, 0, report.stderr);
    assert.doesNotMatch(report.stderr, /requirements of comfyui/);
    assert.doesNotMatch(report.stderr, /not writable|Not permitted/);
    assert.equal(await entries(join(ck, "sha256")), 1);
    // new-package downloads the release into the cache before it vendors it; verify --online
    // downloads ComfyUI's pinned archive to compare its hash.
    const np = join(outside, "np");
    const added = await deno([
      "new-package",
      DEMO.name,
      "--yes",
      "--license",
      "mit",
      "--nixpkgs-index",
      `${kit}/nixpkgs-index.json`,
    ], { ...base, COMFYKIT_CACHE_DIR: np, XDG_CACHE_HOME: "" });
    assert.equal(added.code, 0, added.stderr);
    assert.doesNotMatch(added.stderr, /not writable|Not permitted/);
    assert.ok(await entries(join(np, "sha256")) >= 1, added.stderr);
    const vc = join(outside, "vc");
    const verified = await deno(["verify", "--online"], {
      ...base,
      COMFYKIT_CACHE_DIR: vc,
      XDG_CACHE_HOME: "",
    });
    assert.doesNotMatch(verified.stderr, /not writable|Not permitted/);
    assert.doesNotMatch(verified.stdout, /not writable|Not permitted/);
    assert.equal(await entries(join(vc, "sha256")), 1, verified.stdout);
    // bump-comfyui --dry-run downloads the new release's archive to read its requirements.
    const index = join(dir.path, "bump-index.json");
    await Deno.writeTextFile(index, NIXPKGS_INDEX);
    const bc = join(outside, "bc");
    const bumped = await deno([
      "bump-comfyui",
      "0.3.76",
      "--nixpkgs-index",
      index,
      "--dry-run",
    ], { ...base, COMFYKIT_CACHE_DIR: bc, XDG_CACHE_HOME: "" });
    assert.equal(bumped.code, 0, bumped.stderr);
    assert.doesNotMatch(bumped.stderr, /not writable|Not permitted/);
    assert.ok(await entries(join(bc, "sha256")) >= 1, bumped.stderr);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("every task line that downloads grants the cache the environment selects (#26)", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  for (const [name, t] of Object.entries(tasks)) {
    const command = (t as { command: string }).command;
    const write = /--allow-write=(\S+)/.exec(command)?.[1];
    if (!/--allow-net(\s|$)/.test(command) || write === undefined) continue;
    assert.ok(write.split(",").includes('"$cache"'), `${name}: ${write}`);
    assert.ok(
      command.startsWith(
        'cache=$HOME/.cache/comfykit && test -z "$XDG_CACHE_HOME" || cache=$XDG_CACHE_HOME/comfykit; test -z "$COMFYKIT_CACHE_DIR" || cache=$COMFYKIT_CACHE_DIR; deno run ',
      ),
      name,
    );
  }
});
