// new-package end to end against a fixture PyPI (and GitHub), in a scratch repository: the
// task's main() in-process with the scripted frontend (np()), a few subprocess runs where the
// process itself matters (no --root, INIT_CWD), and one run of the real interactive prompts
// through tmux.
import assert from "node:assert/strict";
import { captureOutput, ROOT, run, runTaskProcess, tmp } from "../_helpers.ts";
import { main } from "../../tasks/new_package.ts";
import { type FixtureServer, startServer } from "../_fixtures/server.ts";
import {
  type FakeRelease,
  mountPypi,
  sdistFile,
  wheelFile,
} from "../_fixtures/pypi.ts";
import { buildTarGz, type DistSpec, hexOf } from "../_fixtures/build.ts";
import { fakeCommit, mountGithub } from "../_fixtures/github.ts";
import { assertGolden, evalPackage, haveNix } from "./new_package_helpers.ts";
import { readManifest } from "../../lib/repo/manifest.ts";
import { haveTool } from "../_helpers.ts";
import { parseHash, toHex } from "../../lib/hash/sha256.ts";
import { exists } from "../../lib/kit/fsutil.ts";

const INDEX = {
  description: "test index",
  nixpkgs: { rev: "0".repeat(40), date: "2025-07-01", channel: null },
  python3Packages: {
    numpy: "2.3.1",
    torch: "2.7.1",
    triton: "3.3.1",
    requests: "2.32.4",
    setuptools: "80.9.0",
    wheel: "0.45.1",
    hatchling: "1.27.0",
    "typing-extensions": "4.14.1",
    pyyaml: "6.0.2",
    pillow: "11.3.0",
    sphinx: "8.2.3",
  },
};

const FANCY: DistSpec = {
  name: "fancy_kit",
  version: "2.0.1",
  summary: "Fancy kit for tests",
  licenseExpression: "MIT OR Apache-2.0",
  packages: ["fancy_kit", "tests"],
  projectUrls: { Source: "https://github.com/acme/fancy-kit" },
  requiresDist: [
    "numpy>=1.24",
    "PyYAML",
    "torch>=2.1; python_version >= '3.9'",
    "triton; sys_platform == 'linux' and platform_machine == 'x86_64'",
    "pywin32; os_name == 'nt'",
    "tomli; python_version < '3.11'",
    "fancy-core==1.0",
    "sphinx; extra == 'docs'",
    "Pillow; extra == 'images'",
    "fancy_kit[images]; extra == 'all'",
  ],
};
const CORE: DistSpec = {
  name: "fancy-core",
  version: "1.0",
  summary: "Core of fancy",
  license: "BSD-3-Clause",
  packages: ["fancy_core"],
  buildSystem: ["hatchling"],
  requiresDist: ["numpy"],
} as DistSpec;

async function releases(): Promise<FakeRelease[]> {
  return [
    // An older fancy_kit that is yanked, then the current one: wheel and sdist.
    {
      name: "fancy_kit",
      version: "2.0.0",
      files: [wheelFile({ ...FANCY, version: "2.0.0" }, { yanked: true })],
    },
    {
      name: "fancy_kit",
      version: "2.0.1",
      summary: "A stale summary from the JSON API",
      files: [
        wheelFile(FANCY),
        await sdistFile(
          { ...FANCY, buildSystem: ["setuptools>=61", "wheel"] } as DistSpec,
        ),
      ],
    },
    // sdist-only, with a pyproject build system.
    { name: "fancy-core", version: "1.0", files: [await sdistFile(CORE)] },
    // In nixpkgs already.
    {
      name: "requests",
      version: "2.32.4",
      files: [wheelFile({ name: "requests", version: "2.32.4" })],
    },
    // Free-text licence that cannot be decided.
    {
      name: "gplish",
      version: "0.1",
      files: [
        wheelFile({
          name: "gplish",
          version: "0.1",
          license: "GNU GPL V3.0",
          packages: ["gplish"],
        }),
      ],
    },
    // Malformed metadata and a bad PEP 508 string.
    {
      name: "broken-meta",
      version: "1.0",
      files: [
        wheelFile({
          name: "broken-meta",
          version: "1.0",
          summary: "x\nnot a header line",
        }),
      ],
    },
    {
      name: "bad-req",
      version: "1.0",
      files: [
        wheelFile({
          name: "bad-req",
          version: "1.0",
          requiresDist: ["numpy>=>1"],
        }),
      ],
    },
    // Only a platform wheel: no usable file.
    {
      name: "binonly",
      version: "1.0",
      files: [{
        filename: "binonly-1.0-cp312-cp312-win_amd64.whl",
        bytes: new Uint8Array([1, 2, 3]),
      }],
    },
    // A dependency cycle: cyc-a needs cyc-b needs cyc-a.
    {
      name: "cyc-a",
      version: "1.0",
      files: [
        wheelFile({
          name: "cyc-a",
          version: "1.0",
          license: "MIT",
          packages: ["cyc_a"],
          requiresDist: ["cyc-b"],
        }),
      ],
    },
    {
      name: "cyc-b",
      version: "1.0",
      files: [
        wheelFile({
          name: "cyc-b",
          version: "1.0",
          license: "MIT",
          packages: ["cyc_b"],
          requiresDist: ["cyc-a"],
        }),
      ],
    },
  ];
}

interface World extends AsyncDisposable {
  root: string;
  env: Record<string, string>;
  server: FixtureServer;
}

async function world(): Promise<World> {
  const dir = await tmp();
  const server = await startServer();
  mountPypi(server, await releases());
  const root = `${dir.path}/repo`;
  await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
  await Deno.mkdir(`${root}/.flox/sources`, { recursive: true });
  await Deno.copyFile(
    `${ROOT}/.flox/pkgs/comfyui.nix`,
    `${root}/.flox/pkgs/comfyui.nix`,
  );
  await Deno.writeTextFile(
    `${root}/sources-manifest.json`,
    '{\n  "version": 1,\n  "sources": []\n}\n',
  );
  await Deno.writeTextFile(`${root}/.flox/sources/SHA256SUMS.txt`, "");
  await Deno.writeTextFile(`${dir.path}/index.json`, JSON.stringify(INDEX));
  return {
    root,
    server,
    env: {
      COMFYKIT_PYPI_URL: server.url,
      COMFYKIT_GITHUB_URL: server.url,
      COMFYKIT_GITHUB_API_URL: `${server.url}/api`,
      COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
      COMFYKIT_MIRRORS: "",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      // The real HOME: Deno's module cache is under it (a fresh one downloads before the task
      // starts); the kit's own cache is COMFYKIT_CACHE_DIR above.
      HOME: Deno.env.get("HOME") ?? dir.path,
    },
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** One in-process run at a time: the environment and the console are process-wide. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * new-package in-process: tasks/new_package.ts's main() with the world's endpoints in the
 * environment and its output captured (the scripted frontend answers, as without a terminal).
 */
function np(w: World, args: string[]) {
  const go = async () => {
    const keys = Object.keys(w.env).filter((k) => k !== "PATH" && k !== "HOME");
    const saved = keys.map((k) => [k, Deno.env.get(k)] as const);
    for (const k of keys) Deno.env.set(k, w.env[k]!);
    try {
      return await captureOutput(() =>
        main([
          ...args,
          "--root",
          w.root,
          "--nixpkgs-index",
          `${w.root}/../index.json`,
        ])
      );
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
    }
  };
  const run = queue.then(go, go);
  queue = run.catch(() => {});
  return run;
}

async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
      else {out.push(
          `${r}:${hexOf(await Deno.readFile(`${d}/${e.name}`)).slice(0, 12)}`,
        );}
    }
  };
  await walk(root, "");
  return out.sort();
}

Deno.test("new-package --yes writes, vendors and wires a package from the fixture PyPI", async () => {
  await using w = await world();
  // fancy-core first (sdist-only, pyproject with hatchling), so fancy_kit finds it as custom.
  const core = await np(w, ["fancy-core", "--yes"]);
  assert.equal(core.code, 0, core.stderr);
  const r = await np(w, ["fancy_kit", "--yes", "--extras", "all"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /PyPI's JSON API and fancy_kit-2\.0\.1-py3-none-any\.whl's METADATA disagree on the summary \("A stale summary from the JSON API" vs "Fancy kit for tests"\): using the file's/,
  );
  assert.match(
    r.stdout,
    /fancy_kit 2\.0\.1: wrote \.flox\/pkgs\/fancy-kit\.nix, vendored \.flox\/sources\/fancy_kit-2\.0\.1-py3-none-any\.whl, wired into \.flox\/pkgs\/comfyui\.nix/,
  );
  const text = await Deno.readTextFile(`${w.root}/.flox/pkgs/fancy-kit.nix`);
  await assertGolden("new-package-fancy-kit.nix", text);
  await assertGolden(
    "new-package-fancy-core.nix",
    await Deno.readTextFile(`${w.root}/.flox/pkgs/fancy-core.nix`),
  );
  const manifest = await readManifest(`${w.root}/sources-manifest.json`);
  assert.deepEqual(manifest.sources.map((s) => [s.name, s.file, s.kind]), [
    ["fancy-core", "fancy_core-1.0.tar.gz", "pypi-sdist"],
    ["fancy-kit", "fancy_kit-2.0.1-py3-none-any.whl", "pypi-wheel"],
  ]);
  const sums = await Deno.readTextFile(
    `${w.root}/.flox/sources/SHA256SUMS.txt`,
  );
  assert.match(sums, /fancy_kit-2\.0\.1-py3-none-any\.whl/);
  const comfy = await Deno.readTextFile(`${w.root}/.flox/pkgs/comfyui.nix`);
  assert.match(comfy, /, fancy-kit\n/);
  assert.match(comfy, /\n {4}fancy-kit\n {2}\];/);

  // Same answers again: same bytes, nothing to do.
  const again = await np(w, ["fancy_kit", "--yes", "--extras", "all"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /fancy-kit\.nix unchanged/);
  assert.equal(
    await Deno.readTextFile(`${w.root}/.flox/pkgs/fancy-kit.nix`),
    text,
  );

  if (haveNix()) {
    const names = [
      "numpy",
      "pyyaml",
      "torch",
      "triton",
      "pillow",
      "fancy-core",
      "hatchling",
    ];
    const linux = await evalPackage(
      `${w.root}/.flox/pkgs/fancy-kit.nix`,
      names,
    );
    assert.equal(linux.pname, "fancy-kit");
    assert.equal(linux.version, "2.0.1");
    assert.equal(linux.format, "wheel");
    assert.deepEqual(linux.dependencies, [
      "fancy-core",
      "numpy",
      "pillow",
      "pyyaml",
      "torch",
      "triton",
    ]);
    assert.deepEqual(linux.pythonImportsCheck, ["fancy_kit"]);
    assert.deepEqual(linux.license, ["asl20", "mit"]);
    const mac = await evalPackage(
      `${w.root}/.flox/pkgs/fancy-kit.nix`,
      names,
      "aarch64-darwin",
    );
    assert.deepEqual(mac.dependencies, [
      "fancy-core",
      "numpy",
      "pillow",
      "pyyaml",
      "torch",
    ]);
    const coreEval = await evalPackage(
      `${w.root}/.flox/pkgs/fancy-core.nix`,
      names,
    );
    assert.equal(coreEval.format, "pyproject");
    assert.deepEqual(coreEval.buildSystem, ["hatchling"]);
    assert.deepEqual(coreEval.license, "bsd3");
    const parse = await run("nix-instantiate", [
      "--parse",
      `${w.root}/.flox/pkgs/comfyui.nix`,
    ]);
    assert.equal(parse.code, 0, parse.stderr);
  }
});

Deno.test("new-package --force shows the diff first, --dry-run writes nothing", async () => {
  await using w = await world();
  assert.equal((await np(w, ["fancy-core", "--yes"])).code, 0);
  const before = await tree(w.root);
  const clash = await np(w, ["fancy-core", "--yes", "--license", "mit"]);
  assert.equal(clash.code, 1);
  assert.match(
    clash.stderr,
    /^error: \.flox\/pkgs\/fancy-core\.nix exists and differs: not overwriting it; rerun with --force/m,
  );
  const dry = await np(w, [
    "fancy-core",
    "--yes",
    "--license",
    "mit",
    "--force",
    "--dry-run",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^- {4}license = licenses\.bsd3;$/m);
  assert.match(dry.stdout, /^\+ {4}license = licenses\.mit;$/m);
  assert.deepEqual(await tree(w.root), before);
  const forced = await np(w, [
    "fancy-core",
    "--yes",
    "--license",
    "mit",
    "--force",
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /^\+ {4}license = licenses\.mit;$/m);
  assert.match(
    await Deno.readTextFile(`${w.root}/.flox/pkgs/fancy-core.nix`),
    /licenses\.mit;/,
  );
});

Deno.test("new-package reports bad input in one line and writes nothing", async () => {
  await using w = await world();
  const before = await tree(w.root);
  const cases: [string[], number, RegExp][] = [
    [
      ["no-such-project", "--yes"],
      1,
      /^error: PyPI has no project "no-such-project"/,
    ],
    [
      ["fancy_kit==9.9", "--yes"],
      1,
      /^error: PyPI has no release "fancy_kit==9\.9"/,
    ],
    [
      ["fancy_kit==2.0.0", "--yes"],
      1,
      /^error: every file of fancy_kit==2\.0\.0 is yanked/,
    ],
    [
      ["binonly", "--yes"],
      1,
      /^error: binonly==1\.0 has neither a pure-Python wheel nor an sdist/,
    ],
    [
      ["broken-meta", "--yes"],
      1,
      /^error: Malformed metadata in broken_meta-1\.0-py3-none-any\.whl/,
    ],
    [
      ["bad-req", "--yes"],
      1,
      /^error: bad_req-1\.0-py3-none-any\.whl: Requires-Dist: Invalid PEP 508 requirement "numpy>=>1"/,
    ],
    [
      ["not a name!", "--yes"],
      1,
      /^error: "not a name!" is not a valid PyPI project name/,
    ],
    [
      ["gplish", "--yes"],
      2,
      /^error: Licence of gplish \(License "GNU GPL V3\.0"\): --yes takes defaults, and this question has none; pass --license/,
    ],
    [
      ["gplish"],
      2,
      /stdin is not a terminal; pass --in-nixpkgs|stdin is not a terminal; pass --source/,
    ],
    [
      ["fancy_kit", "--yes", "--extras", "nope"],
      2,
      /^error: --extras "nope": fancy_kit offers docs, images, all/,
    ],
    [
      ["fancy_kit", "--yes", "--source", "ftp"],
      2,
      /^error: --source "ftp" is not one of: vendored, pypi, github/,
    ],
    [
      ["fancy_kit", "--yes", "--license", "nonsense"],
      2,
      /--license "nonsense" is neither/,
    ],
  ];
  // Independent and read-only: run them three at a time.
  const runs: Awaited<ReturnType<typeof np>>[] = [];
  for (let i = 0; i < cases.length; i += 3) {
    runs.push(
      ...await Promise.all(cases.slice(i, i + 3).map(([args]) => np(w, args))),
    );
  }
  for (const [i, [args, code, re]] of cases.entries()) {
    const r = runs[i]!;
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    const errLine = r.stderr.split("\n").find((l) => l.startsWith("error: ")) ??
      "";
    assert.match(errLine, re, args.join(" "));
    assert.ok(
      !/\n\s+at /.test(r.stderr),
      `no stack trace for ${args.join(" ")}`,
    );
  }
  const noRoot = await runTaskProcess("new_package.ts", [
    "fancy_kit",
    "--yes",
    "--root",
    `${w.root}/nowhere`,
  ], { env: w.env, cwd: w.root });
  assert.equal(noRoot.code, 1, noRoot.stderr);
  assert.match(noRoot.stderr, /^error: --root ".*\/nowhere" does not exist\n$/);
  assert.deepEqual(await tree(w.root), before);
});

Deno.test("new-package uses nixpkgs when it has the package, and detects dependency cycles", async () => {
  await using w = await world();
  const use = await np(w, ["requests", "--yes", "--json"]);
  assert.equal(use.code, 0, use.stderr);
  const res = JSON.parse(use.stdout).packages[0];
  assert.equal(res.action, "use-nixpkgs");
  assert.equal(res.attr, "requests");
  assert.match(
    await Deno.readTextFile(`${w.root}/.flox/pkgs/comfyui.nix`),
    /\n {4}requests\n {2}\];/,
  );
  assert.ok(
    !(await Deno.readTextFile(`${w.root}/.flox/pkgs/comfyui.nix`)).includes(
      ", requests\n",
    ),
  );

  // A pin nixpkgs does not meet: the default answer is to write a package (so PyPI is asked,
  // and the fixture has no requests 9.9), not to use nixpkgs' other version.
  const pinned = await np(w, ["requests==9.9", "--yes", "--dry-run"]);
  assert.match(
    pinned.stderr,
    /nixpkgs has requests 2\.32\.4 \(index\), not the 9\.9 asked for/,
  );
  assert.equal(pinned.code, 1, pinned.stderr);
  assert.match(pinned.stderr, /error: PyPI has no release "requests==9\.9"/);

  const cyc = await np(w, [
    "cyc-a",
    "--yes",
    "--missing",
    "create",
    "--no-wire",
  ]);
  assert.equal(cyc.code, 0, cyc.stderr);
  assert.match(
    cyc.stderr,
    /dependency cycle: cyc-a -> cyc-b -> cyc-a\. .*pythonPackagesExtensions/,
  );
  const a = await Deno.readTextFile(`${w.root}/.flox/pkgs/cyc-a.nix`);
  const b = await Deno.readTextFile(`${w.root}/.flox/pkgs/cyc-b.nix`);
  assert.match(a, /, cyc-b\n/);
  assert.ok(!b.includes("cyc-a\n"), "the back edge is cut");
});

Deno.test("new-package PATH reads a local wheel without network and vendors it", async () => {
  await using w = await world();
  await using dl = await tmp();
  const path = `${dl.path}/gplish-0.1-py3-none-any.whl`;
  const { buildWheel } = await import("../_fixtures/build.ts");
  await Deno.writeFile(
    path,
    buildWheel({
      name: "gplish",
      version: "0.1",
      license: "GNU GPL V3.0",
      packages: ["gplish", "tests"],
    }),
  );
  const env = { ...w.env, COMFYKIT_PYPI_URL: "http://127.0.0.1:9" };
  const r = await runTaskProcess("new_package.ts", [
    path,
    "--yes",
    "--license",
    "gpl3Only",
    "--license-note",
    "from the repository's LICENSE",
    "--root",
    w.root,
    "--nixpkgs-index",
    `${w.root}/../index.json`,
    "--json",
  ], { env, cwd: w.root });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout).packages[0];
  assert.equal(res.vendored.file, "gplish-0.1-py3-none-any.whl");
  assert.deepEqual(res.importNames, ["gplish"]);
  assert.equal(w.server.log.length, 0, "no request was made");
  const text = await Deno.readTextFile(`${w.root}/.flox/pkgs/gplish.nix`);
  assert.match(
    text,
    /license = licenses\.gpl3Only; # from the repository's LICENSE\n/,
  );
  assert.equal(
    hexOf(
      await Deno.readFile(
        `${w.root}/.flox/sources/gplish-0.1-py3-none-any.whl`,
      ),
    ),
    hexOf(await Deno.readFile(path)),
  );
});

Deno.test("new-package --main is relative to the folder the command was typed in", async () => {
  await using w = await world();
  await Deno.mkdir(`${w.root}/alt`);
  await Deno.rename(
    `${w.root}/.flox/pkgs/comfyui.nix`,
    `${w.root}/alt/main.nix`,
  );
  const before = await Deno.readTextFile(`${w.root}/alt/main.nix`);
  const { buildWheel } = await import("../_fixtures/build.ts");
  await Deno.writeFile(
    `${w.root}/alt/tiny-1.0-py3-none-any.whl`,
    buildWheel({
      name: "tiny",
      version: "1.0",
      license: "MIT",
      packages: ["tiny"],
    }),
  );
  // As `cd alt && deno task new-package tiny-1.0-py3-none-any.whl --main main.nix` does:
  // deno task runs in the project root and passes the typed-in folder as INIT_CWD.
  const r = await runTaskProcess("new_package.ts", [
    "tiny-1.0-py3-none-any.whl",
    "--main",
    "main.nix",
    "--yes",
    "--dry-run",
    "--json",
    "--root",
    "..",
    "--nixpkgs-index",
    `${w.root}/../index.json`,
  ], { env: { ...w.env, INIT_CWD: `${w.root}/alt` }, cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout).packages[0];
  assert.equal(res.wired.changed, true);
  assert.match(r.stderr, /^would wire tiny into alt\/main\.nix$/m);
  assert.equal(await Deno.readTextFile(`${w.root}/alt/main.nix`), before);
  // A --main that is not there is bad input, not a silent "not wiring".
  const missing = await runTaskProcess("new_package.ts", [
    "tiny-1.0-py3-none-any.whl",
    "--main",
    "nope.nix",
    "--yes",
    "--root",
    "..",
  ], { env: { ...w.env, INIT_CWD: `${w.root}/alt` }, cwd: ROOT });
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(
    missing.stderr,
    /^error: --main ".*\/alt\/nope\.nix" does not exist$/m,
  );
  assert.equal(await exists(`${w.root}/.flox/pkgs/tiny.nix`), false);
});

Deno.test("new-package --source github pins a tag with the NAR hash of its archive", async () => {
  await using w = await world();
  const archive = await buildTarGz([
    {
      path: "fancy-kit-2.0.1/pyproject.toml",
      content: '[build-system]\nrequires = ["setuptools>=61", "wheel"]\n',
    },
    { path: "fancy-kit-2.0.1/fancy_kit/__init__.py", content: "" },
  ]);
  mountGithub(w.server, [{
    owner: "acme",
    repo: "fancy-kit",
    tags: [{ name: "v1.0", commit: fakeCommit("1.0") }, {
      name: "v2.0.1",
      commit: fakeCommit("2.0.1"),
    }],
    archives: { "v2.0.1": archive },
  }]);
  const r = await np(w, [
    "fancy_kit",
    "--yes",
    "--source",
    "github",
    "--extras",
    "",
    "--no-wire",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const text = await Deno.readTextFile(`${w.root}/.flox/pkgs/fancy-kit.nix`);
  assert.match(
    text,
    /src = fetchFromGitHub \{\n {4}owner = "acme";\n {4}repo = "fancy-kit";\n {4}tag = "v\$\{version\}";\n {4}hash = "sha256-[A-Za-z0-9+/]{43}=";/,
  );
  assert.match(text, /pyproject = true;\n/);
  assert.match(
    text,
    /build-system = with python3\.pkgs; \[\n {4}setuptools\n {4}wheel\n {2}\];/,
  );
  if (haveTool("nix-hash")) {
    await using x = await tmp();
    await Deno.mkdir(`${x.path}/src/fancy_kit`, { recursive: true });
    await Deno.writeTextFile(
      `${x.path}/src/pyproject.toml`,
      '[build-system]\nrequires = ["setuptools>=61", "wheel"]\n',
    );
    await Deno.writeTextFile(`${x.path}/src/fancy_kit/__init__.py`, "");
    const h = await run("nix-hash", ["--type", "sha256", `${x.path}/src`]);
    assert.equal(h.code, 0, h.stderr);
    const sri = /hash = "(sha256-[^"]+)";/.exec(text)![1]!;
    assert.equal(
      toHex(parseHash(sri)),
      h.stdout.trim(),
      "NAR hash matches nix-hash",
    );
  }
});

Deno.test("new-package walks through the real interactive prompts in a terminal (tmux)", async () => {
  if (!haveTool("tmux")) return;
  await using w = await world();
  assert.equal((await np(w, ["fancy-core", "--yes"])).code, 0);
  const session = `np-${crypto.randomUUID().slice(0, 8)}`;
  const envArgs = Object.entries(w.env).map(([k, v]) => `${k}=${shq(v)}`).join(
    " ",
  );
  const cmd =
    `cd ${shq(w.root)} && env NO_COLOR=1 ${envArgs} ${
      shq(Deno.execPath())
    } run -A ${shq(`${ROOT}/tasks/new_package.ts`)} fancy_kit ` +
    `--root ${shq(w.root)} --nixpkgs-index ${
      shq(`${w.root}/../index.json`)
    }; echo EXIT=$?; sleep 60`;
  await run("tmux", [
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "200",
    "-y",
    "50",
    cmd,
  ]);
  try {
    const screen = async () =>
      (await run("tmux", ["capture-pane", "-p", "-t", session, "-S", "-200"]))
        .stdout;
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200; i++) {
        const s = await screen();
        if (re.test(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`timed out waiting for ${re}:\n${await screen()}`);
    };
    const keys = (...k: string[]) =>
      run("tmux", ["send-keys", "-t", session, ...k]);
    // Extras: tick "images" (second) and submit.
    await waitFor(/Extras of fancy_kit to include/);
    await keys("Down", "Space", "Enter");
    // Source: the default (vendored).
    await waitFor(/Source\?/);
    await keys("Enter");
    // Import names: replace the default.
    await waitFor(/Import names for pythonImportsCheck/);
    await keys("C-u");
    await run("tmux", ["send-keys", "-t", session, "-l", "fancy_kit"]);
    await keys("Enter");
    // Write? yes. Wire? no.
    await waitFor(/Write \.flox\/pkgs\/fancy-kit\.nix\?/);
    await keys("Enter");
    await waitFor(/Add fancy-kit to \.flox\/pkgs\/comfyui\.nix\?/);
    await run("tmux", ["send-keys", "-t", session, "-l", "n"]);
    await keys("Enter");
    const final = await waitFor(/EXIT=\d+/);
    assert.match(final, /EXIT=0/);
    assert.match(final, /wrote \.flox\/pkgs\/fancy-kit\.nix/);
    const text = await Deno.readTextFile(`${w.root}/.flox/pkgs/fancy-kit.nix`);
    assert.match(text, /\n {4}pillow\n/);
    assert.ok(!text.includes("sphinx"));
    assert.ok(
      !(await Deno.readTextFile(`${w.root}/.flox/pkgs/comfyui.nix`)).includes(
        "fancy-kit",
      ),
    );

    // Ctrl-C at the first prompt: exit 130, nothing written.
    await run("tmux", ["kill-session", "-t", session]);
    await Deno.remove(`${w.root}/.flox/pkgs/fancy-kit.nix`);
    const before = await tree(w.root);
    await run("tmux", [
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "200",
      "-y",
      "50",
      cmd,
    ]);
    await waitFor(/Extras of fancy_kit to include/);
    await keys("C-c");
    const cancelled = await waitFor(/EXIT=\d+/);
    assert.match(cancelled, /EXIT=130/);
    assert.deepEqual(await tree(w.root), before);
  } finally {
    await run("tmux", ["kill-session", "-t", session]);
  }
});

function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
