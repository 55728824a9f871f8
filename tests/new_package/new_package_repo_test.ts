// new-package PATH in a repository of its own (--root): a real wheel from the shared real
// sources, vendored into a repository that has no .flox/sources yet, with the dependencies
// looked up in that repository's own offline nixpkgs index.
import assert from "node:assert/strict";
import {
  REAL_SOURCES,
  realSourcesTest,
  ROOT,
  run,
  runTaskProcess,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import { readManifest } from "../../lib/repo/manifest.ts";
import { sha256File, toHex } from "../../lib/hash/sha256.ts";

const WHEEL = "nunchaku-0.16.1-py3-none-any.whl";

realSourcesTest(
  "new-package PATH vendors into a repository without .flox/sources and uses the root's nixpkgs index",
  async () => {
    await using dir = await tmp();
    const root = `${dir.path}/repo`;
    await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
    await Deno.copyFile(
      `${ROOT}/tests/_fixtures/comfyui_seed.nix`,
      `${root}/.flox/pkgs/comfyui.nix`,
    );
    // Only numpy: the kit's own index (which has the others) must not be consulted.
    await Deno.writeTextFile(
      `${root}/nixpkgs-index.json`,
      JSON.stringify({
        description: "this repository's index",
        nixpkgs: { rev: "1".repeat(40), date: "2025-07-01", channel: null },
        python3Packages: { numpy: "2.3.1" },
      }),
    );
    const r = await runTaskProcess("new_package.ts", [
      `${REAL_SOURCES}/${WHEEL}`,
      "--yes",
      "--json",
      "--root",
      root,
    ], {
      // No nix-instantiate or flox on PATH: the offline index answers.
      env: {
        PATH: `${dir.path}/empty-bin`,
        HOME: dir.path,
        COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
        COMFYKIT_PYPI_URL: "http://127.0.0.1:9",
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    assert.match(
      r.stderr,
      new RegExp(`^nixpkgs: offline index ${root}/nixpkgs-index\\.json `, "m"),
    );
    const res = JSON.parse(r.stdout).packages[0];
    assert.equal(res.action, "written");
    assert.deepEqual(
      Object.fromEntries(
        res.dependencies.map((d: { name: string; status: string }) => [
          d.name,
          d.status,
        ]),
      ),
      {
        matplotlib: "missing",
        numpy: "nixpkgs",
        pandas: "missing",
        scipy: "missing",
        tqdm: "missing",
      },
    );
    // Vendored byte for byte, recorded in the manifest and SHA256SUMS.txt it created.
    const sha = toHex(await sha256File(`${REAL_SOURCES}/${WHEEL}`));
    assert.equal(
      toHex(await sha256File(`${root}/.flox/sources/${WHEEL}`)),
      sha,
    );
    const manifest = await readManifest(`${root}/sources-manifest.json`);
    assert.deepEqual(
      manifest.sources.map((e) => [e.file, e.sha256]),
      [[WHEEL, sha]],
    );
    assert.equal(
      await Deno.readTextFile(`${root}/.flox/sources/SHA256SUMS.txt`),
      `${sha}  ${WHEEL}\n`,
    );
    const main = await Deno.readTextFile(`${root}/.flox/pkgs/comfyui.nix`);
    assert.match(main, /\bnunchaku\b/);
    assert.match(
      await Deno.readTextFile(`${root}/.flox/pkgs/nunchaku.nix`),
      /src = \.\.\/\.\.\/\.flox\/sources\/nunchaku-0\.16\.1-py3-none-any\.whl;/,
    );
  },
);

/** deno.json's new-package task line as `deno run` arguments ($HOME expanded), script last. */
async function taskLine(home: string): Promise<string[]> {
  const args = await taskArgs("new-package", home);
  assert.equal(args.at(-1), `${ROOT}/tasks/new_package.ts`);
  return args;
}

realSourcesTest(
  "new-package with deno.json's permissions writes its repository, and refuses another --root in one line",
  async () => {
    await using dir = await tmp();
    // Outside /tmp, which the task line may write (its scratch space).
    const outside = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "np-" });
    await using _outside = {
      [Symbol.asyncDispose]: () => Deno.remove(outside, { recursive: true }),
    };
    const root = `${outside}/repo`;
    await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
    const seed = await Deno.readTextFile(
      `${ROOT}/tests/_fixtures/comfyui_seed.nix`,
    );
    await Deno.writeTextFile(`${root}/.flox/pkgs/comfyui.nix`, seed);
    const env = { PATH: `${dir.path}/empty-bin`, HOME: dir.path };
    const args = [
      ...(await taskLine(dir.path)),
      `${REAL_SOURCES}/spandrel-0.4.0.tar.gz`,
      "--yes",
    ];

    // From elsewhere: the task may not write root, so it says so before anything else.
    await Deno.mkdir(`${dir.path}/elsewhere`);
    const refused = await run(Deno.execPath(), [...args, "--root", root], {
      cwd: `${dir.path}/elsewhere`,
      env,
    });
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(
      refused.stderr,
      `error: No write access to "${root}/.flox": the task may write only the current repository's .flox/ and sources-manifest.json; run it from the repository --root names (cd DIR && deno task new-package …), or add --dry-run\n`,
    );
    assert.deepEqual(
      [...Deno.readDirSync(`${root}/.flox`)].map((e) => e.name),
      ["pkgs"],
    );
    assert.equal(
      await Deno.readTextFile(`${root}/.flox/pkgs/comfyui.nix`),
      seed,
    );

    // From the repository itself (an sdist: format, build system and import names from it).
    const r = await run(Deno.execPath(), args, { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "spandrel 0.4.0: wrote .flox/pkgs/spandrel.nix, vendored .flox/sources/spandrel-0.4.0.tar.gz, wired into .flox/pkgs/comfyui.nix\n",
    );
    const pkg = await Deno.readTextFile(`${root}/.flox/pkgs/spandrel.nix`);
    assert.match(pkg, /pyproject = true;\n/);
    assert.match(pkg, /pythonImportsCheck = \[ "spandrel" \];/);
  },
);
