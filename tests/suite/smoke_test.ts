// Every deno.json task run exactly as users run it: `deno task NAME …` in a fresh copy of the
// repository (its files, a git repository of its own, no ../shared beside it), with deno.json's
// permissions and a HOME of its own, against the fixture servers. A test that calls main() with
// every permission cannot see a permission list that is too narrow; these can (issue 24).
import assert from "node:assert/strict";
import { haveTool, ROOT, run, tmp } from "../_helpers.ts";
import { startServer } from "../_fixtures/server.ts";
import { wheelFile } from "../_fixtures/pypi.ts";
import { HERMETIC_PIP_ENV, mountSimpleIndex } from "../_fixtures/index.ts";
import { buildIndexFiles } from "../_fixtures/index.ts";
import { mountComfyGithub } from "../_fixtures/comfyui.ts";
import { mountReleases, NIXPKGS_INDEX } from "../_fixtures/bump.ts";
import {
  mountRegistry,
  nodeZip,
  pyprojectPack,
} from "../_fixtures/registry.ts";
import { buildArchive } from "../_fixtures/github.ts";

/** The tasks a user does not run on the repository: the suite itself and the benchmarks. */
const NOT_SMOKED: Record<string, string> = {
  test: "runs this suite",
  "test-parallel": "runs this suite's parallel files (deno task test runs it)",
  "test-serial": "runs this suite's serial files (deno task test runs it)",
  "update-golden": "rewrites the suite's golden files",
  bench: "a benchmark (bench_test.ts runs it quick)",
  "bench-freeze": "a benchmark (bench_freeze_test.ts runs it quick)",
  "bench-nar": "a benchmark (bench_test.ts runs it quick)",
  "bench-startup": "a benchmark (bench_test.ts runs it quick)",
  "bench-outdated": "a benchmark (bench_outdated_test.ts runs it once)",
  "bench-suite":
    "runs the whole suite on a fresh clone (inside the suite it would run itself); bench_test.ts checks how it reads the summaries",
  "lock-workflow":
    "needs a Hugging Face Hub: lock_workflow_test.ts runs its deno.json line against the fake Hub",
  models:
    "needs a lock and a Hub: models_test.ts runs its deno.json line (fetch 1 GiB, check, nix)",
};

const DENO_DIR = Deno.env.get("DENO_DIR") ??
  JSON.parse(
    (await run(Deno.execPath(), ["info", "--json"])).stdout,
  ).denoDir as string;

/** A fresh copy of the repository as git has it (tracked and new files), committed. */
async function freshCopy(dir: string): Promise<string> {
  const repo = `${dir}/repo`;
  const files = await run("git", [
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
  ], { cwd: ROOT });
  for (const f of files.stdout.split("\0").filter(Boolean)) {
    const from = `${ROOT}/${f}`;
    const info = await Deno.lstat(from).catch(() => null);
    if (!info?.isFile) continue; // deleted in the work tree, or a symlink
    const to = `${repo}/${f}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(from, to);
  }
  const git = (...args: string[]) =>
    run("git", args, { cwd: repo, env: GIT_ENV });
  await git("init", "-q", "-b", "main");
  await git("add", "-A");
  await git("commit", "-qm", "fresh clone");
  return repo;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "smoke",
  GIT_AUTHOR_EMAIL: "smoke@example.org",
  GIT_COMMITTER_NAME: "smoke",
  GIT_COMMITTER_EMAIL: "smoke@example.org",
};

Deno.test("every deno.json task runs as `deno task NAME` in a fresh copy with its own permissions", async (t) => {
  // haveTool() prints the skip notice (and throws when CI=true).
  if (!haveTool("nix-instantiate") || !haveTool("git")) return;
  await using dir = await tmp();
  await using server = await startServer();
  const repo = await freshCopy(dir.path);
  const home = `${dir.path}/home`;
  await Deno.mkdir(home);

  const smokeWheel = wheelFile({
    name: "smokepkg",
    version: "1.0",
    summary: "A package for the smoke test",
    license: "MIT",
    classifiers: ["License :: OSI Approved :: MIT License"],
    requiresDist: ["numpy"],
    packages: ["smokepkg"],
  });
  // smokepkg, and the releases bump-comfyui 0.3.76 fetches.
  const pypi = mountReleases(server, [{
    name: "smokepkg",
    version: "1.0",
    files: [smokeWheel],
  }]);
  const github = await mountComfyGithub(server);
  const simpleIndex = mountSimpleIndex(server, await buildIndexFiles());

  const env = {
    HOME: home,
    DENO_DIR,
    NO_COLOR: "1",
    COMFYKIT_PYPI_URL: pypi.url,
    COMFYKIT_GITHUB_URL: github.url,
    COMFYKIT_GITHUB_API_URL: github.apiUrl,
    ...GIT_ENV,
  };
  const smoked = new Set<string>();
  const task = async (
    name: string,
    args: string[],
    extraEnv: Record<string, string> = {},
  ) => {
    smoked.add(name);
    const r = await run(Deno.execPath(), ["task", "-q", name, ...args], {
      cwd: repo,
      env: { ...env, ...extraEnv },
    });
    // Deno never prompts and never prints a permission stack trace.
    assert.doesNotMatch(
      r.stderr,
      /NotCapable|PermissionDenied|Requires \w+ access/,
      r.stderr,
    );
    return r;
  };
  const read = (f: string) => Deno.readTextFile(`${repo}/${f}`);

  await t.step("checksum", async () => {
    const r = await task("checksum", [
      ".flox/sources/spandrel-0.4.0.tar.gz",
      "--format",
      "hex",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const sums = await read(".flox/sources/SHA256SUMS.txt");
    const line = sums.split("\n").find((l) =>
      l.endsWith("spandrel-0.4.0.tar.gz")
    )!;
    assert.ok(r.stdout.includes(line.split(/\s+/)[0]!), r.stdout);
  });

  await t.step(
    "checksum of a folder: the tar stream, as nix-hash",
    async () => {
      const r = await task("checksum", [".flox/pkgs", "--format", "hex"]);
      assert.equal(r.code, 0, r.stderr);
      if (haveTool("nix-hash")) {
        const n = await run("nix-hash", [
          "--type",
          "sha256",
          `${repo}/.flox/pkgs`,
        ]);
        assert.equal(r.stdout.split(/\s+/)[0], n.stdout.trim());
      }
    },
  );

  await t.step("sbom", async () => {
    const r = await task("sbom", ["--output", "bom.json"]);
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(await read("bom.json"));
    await Deno.remove(`${repo}/bom.json`); // later steps want a clean tree
    assert.equal(bom.specVersion, "1.6");
    assert.equal(bom.metadata.component.name, "comfyui");
    const denied = await task("sbom", ["--deny-license", "GPL-3.0-only"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /denied licence: comfyui /);
  });

  await t.step("verify", async () => {
    const r = await task("verify", ["--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(JSON.parse(r.stdout));
  });

  await t.step("fetch-source", async () => {
    const r = await task("fetch-source", ["pypi:smokepkg==1.0"]);
    assert.equal(r.code, 0, r.stderr);
    await Deno.stat(`${repo}/.flox/sources/${smokeWheel.filename}`);
    assert.match(await read("sources-manifest.json"), /smokepkg/);
    // The download went through the documented cache under this HOME.
    await Deno.stat(`${home}/.cache/comfykit`);
  });

  await t.step("new-package", async () => {
    const r = await task("new-package", ["smokepkg==1.0", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await read(".flox/pkgs/smokepkg.nix"), /pname = "smokepkg"/);
    assert.match(await read(".flox/pkgs/comfyui.nix"), /^, smokepkg$/m);
  });

  await t.step("remove-package", async () => {
    const r = await task("remove-package", ["smokepkg", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(await read(".flox/pkgs/comfyui.nix"), /smokepkg/);
    await assert.rejects(Deno.stat(`${repo}/.flox/pkgs/smokepkg.nix`));
    // A package of the repository itself, on a fresh clone (issue 24: `Cannot write "."`).
    const spandrel = await task("remove-package", ["spandrel", "--yes"]);
    assert.equal(spandrel.code, 0, spandrel.stderr);
    await assert.rejects(Deno.stat(`${repo}/.flox/pkgs/spandrel.nix`));
    await run("git", ["checkout", "-q", "--", "."], { cwd: repo });
    await run("git", ["clean", "-fdq", ".flox", "sources-manifest.json"], {
      cwd: repo,
    });
  });

  await t.step("add-node and remove-node", async () => {
    const registry = mountRegistry(server, {
      "smoke-pack": [{
        version: "1.0.0",
        zip: nodeZip(pyprojectPack("smoke-pack", "1.0.0", ["imageio"])),
      }],
    });
    const r = await task("add-node", ["registry:smoke-pack", "--yes"], {
      COMFYKIT_REGISTRY_URL: registry,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      await read(".flox/pkgs/comfyui-node-smoke-pack.nix"),
      /python3\.pkgs\.imageio/,
    );
    assert.match(
      await read(".flox/pkgs/comfyui.nix"),
      /^, comfyui-node-smoke-pack$/m,
    );
    // --vendor writes .flox/sources and the manifest under deno.json's permissions.
    const commit = "a".repeat(40);
    await Deno.writeFile(
      `${repo}/vend.tar.gz`,
      await buildArchive("Vend", commit, pyprojectPack("vend", "1.0.0", [])),
    );
    const v = await task("add-node", [
      "vend.tar.gz",
      "--source",
      `github:smoke/Vend@${commit}`,
      "--vendor",
      "--yes",
    ]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(await read("sources-manifest.json"), /Vend-a{40}\.tar\.gz/);
    for (const id of ["smoke-pack", "vend"]) {
      const rm = await task("remove-node", [id, "--yes"]);
      assert.equal(rm.code, 0, rm.stderr);
      await assert.rejects(
        Deno.stat(`${repo}/.flox/pkgs/comfyui-node-${id}.nix`),
      );
    }
    assert.doesNotMatch(await read("sources-manifest.json"), /Vend-/);
    assert.doesNotMatch(
      await read(".flox/pkgs/comfyui.nix"),
      /comfyui-node-(smoke-pack|vend)/,
    );
    await Deno.remove(`${repo}/vend.tar.gz`);
  });

  await t.step("fix-hash and fix-build", async () => {
    const main = await read(".flox/pkgs/comfyui.nix");
    const pinned = main.match(/hash = "(sha256-[A-Za-z0-9+/=]{44})"/)![1]!;
    const got = "sha256-XHBli47MvaX8BNxQeBoVw3Vxp80eNi9WFSKDenw5dJE=";
    const log = `${dir.path}/build.log`;
    await Deno.writeTextFile(
      log,
      `error: hash mismatch in fixed-output derivation '/nix/store/gxm1d4d14vb3s2pm21ga0yrqr3zbsxb1-source.drv':\n` +
        `         specified: ${pinned}\n            got:    ${got}\n`,
    );
    const dry = await task("fix-build", [log, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(await read(".flox/pkgs/comfyui.nix"), main);
    const r = await task("fix-hash", [log]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await read(".flox/pkgs/comfyui.nix")).includes(got));
    await run("git", ["checkout", "-q", "--", "."], { cwd: repo });
  });

  await t.step("bump-comfyui", async () => {
    const index = `${dir.path}/bump-index.json`;
    await Deno.writeTextFile(index, NIXPKGS_INDEX);
    const r = await task("bump-comfyui", [
      "0.3.76",
      "--nixpkgs-index",
      index,
      "--dry-run",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0\.3\.76/);
    assert.equal(
      (await run("git", ["status", "--porcelain"], { cwd: repo })).stdout,
      "",
    );
  });

  await t.step("outdated", async () => {
    const r = await task("outdated", ["--offline", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout));
  });

  await t.step("freeze-deps", async () => {
    const r = await task("freeze-deps", ["app", "--json"], {
      ...HERMETIC_PIP_ENV,
      PIP_INDEX_URL: simpleIndex,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).packages.length > 1);
  });

  await t.step("update-nixpkgs-index", async () => {
    // A stand-in nixpkgs with every attribute of the index at its recorded version.
    const index = JSON.parse(await read("nixpkgs-index.json"));
    const nixpkgs = `${dir.path}/nixpkgs`;
    await Deno.mkdir(nixpkgs);
    const attrs = Object.entries(
      index.python3Packages as Record<string, string>,
    )
      .map(([n, v]) =>
        `${JSON.stringify(n)} = { type = "derivation"; pname = ${
          JSON.stringify(n)
        }; version = ${JSON.stringify(v)}; };`
      ).join("\n");
    await Deno.writeTextFile(
      `${nixpkgs}/default.nix`,
      `{ ... }: {
        python3 = { version = ${
        JSON.stringify(index.python3?.version ?? "3.13.1")
      }; };
        lib.licenses = { mit = { spdxId = "MIT"; }; };
        python3Packages = {\n${attrs}\n};
      }`,
    );
    const r = await task("update-nixpkgs-index", [
      "--nixpkgs",
      nixpkgs,
      "--rev",
      "0".repeat(40),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      JSON.parse(await read("nixpkgs-index.json")).nixpkgs.rev,
      "0".repeat(40),
    );
    await run("git", ["checkout", "-q", "--", "."], { cwd: repo });
  });

  await t.step("release", async () => {
    const r = await task("release", ["--org", "smoke", "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /flox publish/);
  });

  await t.step("every task is smoked or says why not", async () => {
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
    for (const name of Object.keys(config.tasks)) {
      assert.ok(
        smoked.has(name) || name in NOT_SMOKED,
        `deno task ${name} has no smoke step in tests/suite/smoke_test.ts`,
      );
    }
  });
});
