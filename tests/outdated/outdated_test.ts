// outdated against a fake PyPI and GitHub on loopback, in a scratch repository: several
// releases, yanked files, pre-releases, paginated tags, a 500 and a timeout, holds by ComfyUI's
// requirements.txt and by another custom package, and nixpkgs checks from an offline index.
import assert from "node:assert/strict";
import { startServer } from "../_fixtures/server.ts";
import {
  fixtureNarHash,
  mountComfyGithub,
  REQUIREMENTS_0_3_75,
} from "../_fixtures/comfyui.ts";
import { mountPypi, wheelFile } from "../_fixtures/pypi.ts";
import { fakeCommit } from "../_fixtures/github.ts";
import { buildWheel, hexOf, wheelFileName } from "../_fixtures/build.ts";
import { run, runTaskProcess, SEED_MAIN, taskArgs, tmp } from "../_helpers.ts";
import { readMainPackage } from "../../lib/repo/main_package.ts";
import { pypiToNixAttr } from "../../lib/nix/nixpkgs_names.ts";
import { indexLookup } from "../../lib/nix/nixpkgs_index.ts";
import { parseRequirementsTxt } from "../../lib/python/requirements.ts";
import { outdated, type Report, type Row } from "../../lib/outdated/run.ts";
import { fails } from "../../lib/outdated/report.ts";
import { standing, tagCandidates } from "../../lib/outdated/versions.ts";

const pypiNix = (pname: string, version: string) =>
  `{ lib, python3 }:

python3.pkgs.buildPythonPackage rec {
  pname = "${pname}";
  version = "${version}";
  src = python3.pkgs.fetchPypi {
    inherit pname version;
    hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };
}
`;

const vendoredNix = (pname: string, version: string, file: string) =>
  `{ lib, python3 }:

python3.pkgs.buildPythonPackage rec {
  pname = "${pname}";
  version = "${version}";
  format = "wheel";
  src = ../../.flox/sources/${file};
}
`;

const GH_NIX = `{ lib, python3, fetchFromGitHub }:

python3.pkgs.buildPythonPackage rec {
  pname = "ghpkg";
  version = "1.2.0";
  src = fetchFromGitHub {
    owner = "acme";
    repo = "ghpkg";
    rev = "v\${version}";
    hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };
}
`;

/** nixpkgs at a version meeting each of ComfyUI's specifiers; sentencepiece missing, av 14.4.0. */
function nixpkgsIndex() {
  const pkgs: Record<string, string> = {};
  for (const r of parseRequirementsTxt(REQUIREMENTS_0_3_75, "r.txt")) {
    if (/^comfy|^spandrel$|^sentencepiece$/i.test(r.name)) continue;
    pkgs[pypiToNixAttr(r.name)] = r.specifier.match(/\d[\d.]*/)?.[0] ??
      "1.0.0";
  }
  pkgs.av = "14.4.0";
  return {
    description: "outdated test index",
    nixpkgs: { rev: "0".repeat(40), date: "2025-11-20", channel: null },
    python3Packages: pkgs,
  };
}

async function setup(opts: { faults?: boolean } = {}) {
  const dir = await tmp();
  const server = await startServer();
  const comfy = await mountComfyGithub(server, { pageSize: 3 });
  comfy.add({
    owner: "acme",
    repo: "ghpkg",
    tags: ["v1.2.0", "v1.10.0", "latest", "v2.0.0b1", "v1.9.0"].map((
      name,
    ) => ({ name, commit: fakeCommit(name) })),
  });
  const w = (name: string, version: string, requiresDist: string[] = []) =>
    wheelFile({
      name,
      version,
      requiresDist,
      packages: [name.replace(/-/g, "_")],
    });
  mountPypi(server, [
    {
      name: "comfyui-frontend-package",
      version: "1.30.6",
      files: [w("comfyui-frontend-package", "1.30.6")],
    },
    {
      name: "comfyui-frontend-package",
      version: "1.31.0",
      files: [w("comfyui-frontend-package", "1.31.0")],
    },
    {
      name: "comfyui-frontend-package",
      version: "1.32.1",
      files: [w("comfyui-frontend-package", "1.32.1", [])].map((f) => ({
        ...f,
        yanked: true,
      })),
    },
    {
      name: "comfyui-frontend-package",
      version: "1.33.0rc1",
      files: [w("comfyui-frontend-package", "1.33.0rc1")],
    },
    { name: "fancy-core", version: "1.0", files: [w("fancy-core", "1.0")] },
    { name: "fancy-core", version: "2.0", files: [w("fancy-core", "2.0")] },
    { name: "fancy-core", version: "1.5", files: [w("fancy-core", "1.5")] },
    { name: "fancy-kit", version: "1.0", files: [w("fancy-kit", "1.0")] },
  ]);
  server.route(
    "GET",
    /^\/pypi\/broken\/.*json$/,
    () => new Response("oops", { status: 500 }),
  );
  server.route("GET", /^\/pypi\/slow\/.*json$/, async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return new Response("{}", {
      headers: { "content-type": "application/json" },
    });
  });

  const root = `${dir.path}/repo`;
  await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
  await Deno.mkdir(`${root}/.flox/sources`, { recursive: true });
  const seed = await Deno.readTextFile(SEED_MAIN);
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui.nix`,
    seed.replace(readMainPackage(seed).hash, fixtureNarHash("0.3.75")),
  );
  const files: Record<string, string> = {
    "fancy-core.nix": pypiNix("fancy-core", "1.0"),
    "ghpkg.nix": GH_NIX,
  };
  const sources = [];
  for (
    const [name, version, reqs] of [
      ["comfyui-frontend-package", "1.30.6", []],
      ["fancy-kit", "1.0", [
        "fancy-core<2",
        "av>=99.0",
        'winonly; sys_platform == "win32"',
        'extradep; extra == "docs"',
      ]],
    ] as [string, string, string[]][]
  ) {
    const spec = {
      name,
      version,
      requiresDist: reqs,
      packages: [name.replace(/-/g, "_")],
    };
    const bytes = buildWheel(spec);
    const file = wheelFileName(spec);
    await Deno.writeFile(`${root}/.flox/sources/${file}`, bytes);
    files[`${name}.nix`] = vendoredNix(name, version, file);
    sources.push({
      name,
      version,
      kind: "pypi-wheel",
      file,
      url: `https://files.pythonhosted.org/packages/py3/x/${file}`,
      sha256: hexOf(bytes),
    });
  }
  if (opts.faults) {
    files["broken.nix"] = pypiNix("broken", "1.0");
    files["slow.nix"] = pypiNix("slow", "1.0");
  }
  for (const [f, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${root}/.flox/pkgs/${f}`, text);
  }
  await Deno.writeTextFile(
    `${root}/sources-manifest.json`,
    JSON.stringify({ version: 1, sources }, null, 2),
  );
  const index = `${dir.path}/index.json`;
  await Deno.writeTextFile(index, JSON.stringify(nixpkgsIndex()));
  const env = {
    COMFYKIT_GITHUB_URL: comfy.url,
    COMFYKIT_GITHUB_API_URL: comfy.apiUrl,
    COMFYKIT_PYPI_URL: server.url,
    COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
    NO_COLOR: "1",
  };
  return {
    root,
    index,
    env,
    server,
    task: (args: string[]) =>
      runTaskProcess("outdated.ts", [
        "--root",
        root,
        "--nixpkgs-index",
        index,
        ...args,
      ], { env }),
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

const row = (r: Report, name: string): Row => {
  const found = r.rows.find((x) => x.name === name);
  assert.ok(found, `no row ${name} in ${r.rows.map((x) => x.name).join(", ")}`);
  return found;
};

Deno.test("standing() is held when a constraint excludes the newest, with the newest allowed", () => {
  const c = [{ version: "1.0" }, { version: "2.0" }, { version: "1.5" }, {
    version: "1.7",
    yanked: true,
  }];
  const s = standing("1.0", c, [{
    by: "kit 1",
    requirement: "core<2",
    specifier: "<2",
  }], false);
  assert.equal(s.status, "held");
  assert.equal(s.newest, "2.0");
  assert.equal(s.allowed, "1.5");
  assert.equal(standing("2.0", c, [], false).status, "current");
  assert.equal(
    standing("1.0", [...c, { version: "3.0a1" }], [], true).newest,
    "3.0a1",
  );
});

Deno.test("standing() is unknown, with the reason, when it cannot compare (#12)", () => {
  const cases: [string, { version: string; yanked?: boolean }[], RegExp][] = [
    ["0-unstable-2024-01-01", [{ version: "1.0" }], /not a PEP 440 version/],
    ["1.0", [], /no release or version tag/],
    [
      "1.0",
      [{ version: "2.0", yanked: true }],
      /every upstream release is yanked/,
    ],
    ["1.0", [{ version: "2.0a1" }], /only pre-releases/],
  ];
  for (const [ours, candidates, reason] of cases) {
    const s = standing(ours, candidates, [], false);
    assert.equal(s.status, "unknown", `${ours} ${JSON.stringify(candidates)}`);
    assert.match(s.reason ?? "", reason);
  }
  assert.equal(
    standing("2.0", [{ version: "2.0" }], [], false).status,
    "current",
  );
});

Deno.test("tagCandidates() keeps version tags only", () => {
  assert.deepEqual(
    tagCandidates([{ name: "v0.3.75" }, { name: "latest" }, { name: "1.0" }])
      .map((c) => c.version),
    ["0.3.75", "1.0"],
  );
});

Deno.test("outdated() reports newer, held, unsatisfied and unreachable rows without aborting", async () => {
  await using s = await setup({ faults: true });
  const saved = Object.fromEntries(
    Object.keys(s.env).map((k) => [k, Deno.env.get(k)]),
  );
  for (const [k, v] of Object.entries(s.env)) Deno.env.set(k, v);
  try {
    const index = JSON.parse(await Deno.readTextFile(s.index));
    const ticks: string[] = [];
    const report = await outdated({
      root: s.root,
      pre: false,
      offline: false,
      python: "3.12",
      jobs: 3,
      nixpkgs: indexLookup(index, s.index),
      env: s.env,
      request: { retry: { attempts: 2, baseDelayMs: 1, timeoutMs: 300 } },
      onProgress: (done, total, name) => ticks.push(`${done}/${total} ${name}`),
    });
    // One tick per lookup (ComfyUI and six custom packages), counting up to the total.
    assert.deepEqual(ticks.map((t) => t.split(" ")[0]), [
      "1/7",
      "2/7",
      "3/7",
      "4/7",
      "5/7",
      "6/7",
      "7/7",
    ]);
    assert.deepEqual(
      ticks.map((t) => t.split(" ")[1]).sort(),
      [
        "broken",
        "comfyui",
        "comfyui-frontend-package",
        "fancy-core",
        "fancy-kit",
        "ghpkg",
        "slow",
      ],
    );
    const comfy = row(report, "comfyui");
    assert.equal(comfy.newest, "0.3.100");
    assert.equal(comfy.status, "newer");
    assert.equal(comfy.command, "deno task bump-comfyui 0.3.100");

    const fe = row(report, "comfyui-frontend-package");
    assert.equal(
      fe.newest,
      "1.31.0",
      "yanked 1.32.1 and 1.33.0rc1 are not candidates",
    );
    assert.equal(fe.status, "held");
    assert.deepEqual(fe.heldBy?.map((c) => c.by), ["comfyui 0.3.75"]);
    assert.equal(fe.command, undefined);

    const core = row(report, "fancy-core");
    assert.equal(core.status, "held");
    assert.deepEqual(fe.heldBy?.map((c) => c.requirement), [
      "comfyui-frontend-package==1.30.6",
    ]);
    assert.deepEqual(core.heldBy?.map((c) => c.by), ["fancy-kit 1.0"]);
    assert.equal(core.allowed, "1.5");
    // A fetchPypi package stays one: following the command must not vendor it (#19).
    assert.equal(
      core.command,
      "deno task new-package fancy-core==1.5 --source pypi --force",
    );

    assert.equal(row(report, "fancy-kit").status, "current");
    const gh = row(report, "ghpkg");
    assert.equal(
      gh.newest,
      "1.10.0",
      "version order across tag pages, not string order",
    );
    assert.equal(gh.status, "newer");

    const broken = row(report, "broken");
    assert.equal(broken.status, "unreachable");
    assert.match(broken.details.join("\n"), /HTTP 500/);
    const slow = row(report, "slow");
    assert.equal(slow.status, "unreachable");
    assert.match(slow.details.join("\n"), /timed out/);

    const av = row(report, "av");
    assert.equal(av.status, "unsatisfied");
    assert.deepEqual(av.details, [
      "av>=99.0 (fancy-kit 1.0): nixpkgs av 14.4.0 does not satisfy it",
    ]);
    assert.equal(row(report, "sentencepiece").status, "unsatisfied");
    assert.equal(row(report, "numpy").status, "current");
    assert.ok(
      !report.rows.some((r) => r.name === "winonly" || r.name === "extradep"),
    );
    assert.ok(fails(report, ["outdated"]));
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
});

Deno.test("outdated() with no network: one check per host, no retries, every row unreachable with the reason (issue 23)", async () => {
  await using s = await setup({ faults: true });
  // A port that was just free: every endpoint refuses, as a machine without network does.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  const env = {
    ...s.env,
    COMFYKIT_GITHUB_URL: dead,
    COMFYKIT_GITHUB_API_URL: dead,
    COMFYKIT_PYPI_URL: dead,
  };
  const saved = Object.fromEntries(
    Object.keys(env).map((k) => [k, Deno.env.get(k)]),
  );
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    let asked = 0;
    const retries: string[] = [];
    const report = await outdated({
      root: s.root,
      pre: false,
      offline: false,
      python: "3.12",
      jobs: 1,
      nixpkgs: indexLookup(
        JSON.parse(await Deno.readTextFile(s.index)),
        s.index,
      ),
      env,
      request: {
        fetch: (u, i) => (asked++, fetch(u, i)),
        onRetry: (m) => retries.push(m),
        retry: { sleep: () => Promise.resolve() },
      },
    });
    assert.equal(retries.length, 0, retries.join("\n"));
    // The lookups and the requirement reads run side by side: at most one request each.
    assert.ok(asked <= 2, `${asked} requests`);
    const upstream = report.rows.filter((r) => r.kind !== "nixpkgs");
    assert.equal(upstream.length, 7);
    for (const r of upstream) {
      assert.equal(r.status, "unreachable", r.name);
      assert.match(
        r.details.join("\n"),
        /is unreachable \(no network\?\): connection refused/,
        r.name,
      );
    }
    assert.ok(
      report.warnings.some((w) =>
        /no upstream source could be reached/.test(w)
      ),
    );
    // One warning for the requirements no network let it read, not one per package.
    const reqs = report.warnings.filter((w) => /^requirements of/.test(w));
    assert.equal(
      reqs.filter((w) => /no network/.test(w)).length,
      1,
      reqs.join("\n"),
    );
    assert.match(
      reqs[0]!,
      /^requirements of 4 packages not read, no network: comfyui 0\.3\.75, broken 1\.0, fancy-core 1\.0, slow 1\.0 /,
    );
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
});

Deno.test("outdated prints the table, --json, --pre, --fail-on and --offline from the cache", async () => {
  await using s = await setup();
  const r = await s.task([]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.match(lines[0]!, /^NAME\s+OURS\s+NEWEST\s+STATUS$/);
  assert.ok(
    lines.some((l) => /^comfyui\s+0\.3\.75\s+0\.3\.100\s+newer$/.test(l)),
    r.stdout,
  );
  assert.ok(
    lines.some((l) =>
      /^comfyui-frontend-package\s+1\.30\.6\s+1\.31\.0\s+held by comfyui 0\.3\.75$/
        .test(l)
    ),
    r.stdout,
  );
  assert.ok(
    lines.includes(
      "    av>=99.0 (fancy-kit 1.0): nixpkgs av 14.4.0 does not satisfy it",
    ),
  );

  const pre = JSON.parse((await s.task(["--pre", "--json"])).stdout) as Report;
  assert.equal(row(pre, "comfyui").newest, "0.4.0rc1");
  assert.equal(row(pre, "comfyui-frontend-package").newest, "1.33.0rc1");
  assert.equal(row(pre, "ghpkg").newest, "2.0.0b1");

  const failing = await s.task(["--fail-on", "unsatisfied"]);
  assert.equal(failing.code, 1);

  const before = s.server.log.length;
  const off = await s.task(["--offline", "--json"]);
  assert.equal(off.code, 0, off.stderr);
  assert.equal(s.server.log.length, before, "--offline asks no server");
  const rep = JSON.parse(off.stdout) as Report;
  assert.ok(rep.rows.every((x) => x.kind === "nixpkgs"));
  assert.equal(
    row(rep, "transformers").status,
    "current",
    "ComfyUI's requirements read from the cache",
  );

  const usage = await s.task(["--fail-on", "sometimes"]);
  assert.equal(usage.code, 2);
  assert.match(
    usage.stderr,
    /^error: --fail-on "sometimes" is not one of: outdated, unsatisfied$/m,
  );
});

Deno.test("outdated --offline without a cached ComfyUI archive warns and checks the custom packages", async () => {
  await using s = await setup();
  const r = await s.task(["--offline"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: requirements of comfyui 0\.3\.75: .*not in the download cache.*without --offline/,
  );
  assert.match(r.stdout, /^av\s+14\.4\.0\s+-\s+unsatisfied$/m);
  assert.equal(s.server.log.length, 0);
});

Deno.test("outdated --help lists exit codes", async () => {
  const r = await runTaskProcess("outdated.ts", ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: deno task outdated/);
  assert.match(r.stdout, /Exit status: 0/);
  const bad = await runTaskProcess("outdated.ts", ["--jobs", "0"]);
  assert.equal(bad.code, 2);
});

Deno.test("outdated --offline with deno.json's permissions", async () => {
  await using s = await setup();
  const r = await run(Deno.execPath(), [
    ...await taskArgs("outdated", s.root),
    "--offline",
    "--nixpkgs-index",
    s.index,
    "--root",
    s.root,
  ], { env: s.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^av\s+14\.4\.0\s+-\s+unsatisfied$/m);
});

Deno.test("outdated with deno.json's permissions and a failing flox falls back to the offline index (issue 22 #8)", async () => {
  await using s = await setup();
  const bin = `${s.root}/bin`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/flox`,
    "#!/bin/sh\necho 'error: catalog unreachable' >&2\nexit 1\n",
  );
  await Deno.chmod(`${bin}/flox`, 0o755);
  const r = await run(Deno.execPath(), [
    ...await taskArgs("outdated", s.root),
    "--offline",
    "--root",
    s.root,
  ], {
    // A HOME and NIX_PATH without a nixpkgs: flox is the source tried first.
    env: {
      ...s.env,
      HOME: s.root,
      NIX_PATH: "",
      PATH: `${bin}:${Deno.env.get("PATH")}`,
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: flox search failed \(error: catalog unreachable\): using offline index/,
  );
  assert.match(r.stdout, /^av\s+\S+\s+-\s+\S+/m);
});

Deno.test("outdated reads a symlinked comfyui.nix and NAME/default.nix packages, as Flox does", async () => {
  await using s = await setup();
  const pkgs = `${s.root}/.flox/pkgs`;
  await Deno.mkdir(`${s.root}/.flox/main`);
  await Deno.rename(`${pkgs}/comfyui.nix`, `${s.root}/.flox/main/comfyui.nix`);
  await Deno.symlink("../main/comfyui.nix", `${pkgs}/comfyui.nix`);
  const kit = await Deno.readTextFile(`${pkgs}/fancy-kit.nix`);
  await Deno.remove(`${pkgs}/fancy-kit.nix`);
  await Deno.mkdir(`${pkgs}/fancy-kit`);
  await Deno.writeTextFile(
    `${pkgs}/fancy-kit/default.nix`,
    kit.replace("../../.flox/sources/", "../../../.flox/sources/"),
  );
  const r = await s.task(["--offline"]);
  assert.equal(r.code, 0, r.stderr);
  // av>=99.0 is fancy-kit's requirement: the package in a folder was read.
  assert.match(r.stdout, /^av\s+14\.4\.0\s+-\s+unsatisfied$/m);
});
