// The rest of the kit knows node packs: outdated shows a Registry pack's newer versions and
// checks its requirements against nixpkgs; freeze-deps includes the packs' requirements;
// fix-build maps a failing pack's log to its file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { run, taskArgs, tmp } from "../_helpers.ts";
import { startServer } from "../_fixtures/server.ts";
import {
  mountRegistry,
  nodeZip,
  pyprojectPack,
} from "../_fixtures/registry.ts";
import { scratchRepo } from "../_fixtures/nodes.ts";
import { buildArchive, fakeCommit, mountGithub } from "../_fixtures/github.ts";
import { outdated } from "../../lib/outdated/run.ts";
import { indexLookup, readNixpkgsIndex } from "../../lib/nix/nixpkgs_index.ts";
import { planWorkflow } from "../../lib/add_node/workflow.ts";
import { haveRealSources, ROOT } from "../_helpers.ts";

const REAL_WORKFLOWS = `${ROOT}/../shared/real-workflows`;
const haveRealWorkflows = () => haveRealSources(REAL_WORKFLOWS);

async function addNode(
  repo: string,
  args: string[],
  env: Record<string, string>,
) {
  await using home = await tmp();
  return await run(Deno.execPath(), [
    ...await taskArgs("add-node", home.path),
    ...args,
  ], {
    cwd: repo,
    env: { HOME: home.path, ...env },
  });
}

Deno.test("outdated shows a Registry pack's newer version and checks its requirements against nixpkgs", async () => {
  await using server = await startServer();
  const zip = nodeZip(pyprojectPack("flat-pack", "1.0.0", ["imageio>=99"]));
  const registry = mountRegistry(server, {
    "flat-pack": [
      { version: "1.2.0-beta", zip },
      { version: "1.1.0", zip },
      { version: "1.0.0", zip },
    ],
  });
  const pack = pyprojectPack("gh-pack", "3.0.0", []);
  const gh = mountGithub(server, [{
    owner: "tester",
    repo: "GH-Pack",
    tags: [
      { name: "v3.0.0", commit: fakeCommit("gh v3.0.0") },
      { name: "v3.1.0", commit: fakeCommit("gh v3.1.0") },
    ],
    archives: { "v3.0.0": await buildArchive("GH-Pack", "v3.0.0", pack) },
  }]);
  await using repo = await scratchRepo();
  const env = {
    COMFYKIT_REGISTRY_URL: registry,
    COMFYKIT_GITHUB_URL: gh.url,
    COMFYKIT_GITHUB_API_URL: gh.apiUrl,
  };
  const g = await addNode(repo.path, [
    "github:tester/GH-Pack@v3.0.0",
    "--yes",
    "--nixpkgs-index",
    repo.index,
  ], env);
  assert.equal(g.code, 0, g.stderr);
  const r = await addNode(repo.path, [
    "registry:flat-pack@1.0.0",
    "--yes",
    "--nixpkgs-index",
    repo.index,
  ], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /nixpkgs has imageio 2\.38\.0, which does not satisfy imageio>=99/,
  );
  const report = await outdated({
    root: repo.path,
    pre: false,
    offline: false,
    python: "3.12",
    jobs: 4,
    nixpkgs: indexLookup(await readNixpkgsIndex(repo.index), repo.index),
    env: { ...env, COMFYKIT_PYPI_URL: server.url },
    request: { retry: { attempts: 1, baseDelayMs: 1, timeoutMs: 2000 } },
  });
  const row = report.rows.find((x) => x.name === "comfyui-node-flat-pack")!;
  assert.equal(row.ours, "1.0.0");
  assert.equal(row.newest, "1.1.0");
  assert.equal(row.status, "newer");
  const ghRow = report.rows.find((x) => x.name === "comfyui-node-gh-pack")!;
  assert.deepEqual([ghRow.ours, ghRow.newest, ghRow.status], [
    "3.0.0",
    "3.1.0",
    "newer",
  ]);
  const imageio = report.rows.find((x) =>
    x.kind === "nixpkgs" && x.name === "imageio"
  )!;
  assert.equal(imageio.status, "unsatisfied");
  assert.ok(
    imageio.details.some((d) => /comfyui-node-flat-pack/.test(d)),
    imageio.details.join("\n"),
  );
});

Deno.test("fix-build names the node pack file a failed build log is about", async () => {
  await using repo = await scratchRepo();
  const drv =
    "/nix/store/5y3kqz8rlj1d5a6ymb8x0i3b3v9q1p2a-comfyui-node-comfyui-custom-scripts-1.2.5.drv";
  const log = join(repo.path, "build.log");
  await Deno.writeTextFile(
    log,
    `building '${drv}'...
error: builder for '${drv}' failed with exit code 1;
       last 10 log lines:
       > cp: cannot create regular file: Permission denied
`,
  );
  await using home = await tmp();
  const r = await run(Deno.execPath(), [
    ...await taskArgs("fix-build", home.path),
    "--dry-run",
    "--json",
    "build.log",
  ], { cwd: repo.path });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /It failed building \.flox\/pkgs\/comfyui-node-comfyui-custom-scripts\.nix \(a node pack/,
  );
  assert.equal(
    JSON.parse(r.stdout).failedFile,
    ".flox/pkgs/comfyui-node-comfyui-custom-scripts.nix",
  );
});

Deno.test({
  name:
    "--from-workflow's plan of a real workflow: GitHub packs at their commits, Registry packs saved from git via their repository",
  ignore: !haveRealWorkflows(),
  fn: async () => {
    await using server = await startServer();
    const registry = mountRegistry(server, {}, {
      "comfyui-kjnodes": "https://github.com/kijai/ComfyUI-KJNodes",
      "comfyui-videohelpersuite":
        "https://github.com/Kosinkadink/ComfyUI-VideoHelperSuite.git",
    });
    await using repo = await scratchRepo();
    const plans = await planWorkflow(
      join(
        REAL_WORKFLOWS,
        "kijai-ComfyUI-FramePackWrapper__framepack_hv_example.json",
      ),
      repo.path,
      { COMFYKIT_REGISTRY_URL: registry },
    );
    assert.deepEqual(
      plans.map((p) => [p.pack, p.spec]).sort(),
      [
        [
          "comfyui-kjnodes",
          "github:kijai/ComfyUI-KJNodes@8ecf5cd05e0a1012087b0da90eea9a13674668db",
        ],
        [
          "comfyui-videohelpersuite",
          "github:Kosinkadink/ComfyUI-VideoHelperSuite@0a75c7958fe320efcb052f1d9f8451fd20c730a8",
        ],
        [
          "kijai/ComfyUI-FramePackWrapper",
          "github:kijai/ComfyUI-FramePackWrapper@8e5ec6b7f3acf88255c5d93d062079f18b43aa2b",
        ],
        [
          "kijai/ComfyUI_essentials",
          "github:kijai/ComfyUI_essentials@76e9d1e4399bd025ce8b12c290753d58f9f53e93",
        ],
        [
          "lllyasviel/FramePack",
          "github:lllyasviel/FramePack@0e5fe5d7ca13c76fb8e13708f4b92e7c7a34f20c",
        ],
      ],
    );
    // Workflows with core nodes only need no pack.
    assert.deepEqual(
      await planWorkflow(
        join(REAL_WORKFLOWS, "video_wan2_2_14B_t2v.json"),
        repo.path,
        {
          COMFYKIT_REGISTRY_URL: registry,
        },
      ),
      [],
    );
  },
});
