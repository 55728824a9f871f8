// The rest of the kit knows node packs: outdated shows a Registry pack's newer versions and
// checks its requirements against nixpkgs; freeze-deps includes the packs' requirements;
// fix-build maps a failing pack's log to its file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { run, taskArgs, tmp } from "./_helpers.ts";
import { startServer } from "./_fixtures/server.ts";
import { mountRegistry, nodeZip, pyprojectPack } from "./_fixtures/registry.ts";
import { scratchRepo } from "./_fixtures/nodes.ts";
import { outdated } from "../lib/outdated/run.ts";
import { indexLookup, readNixpkgsIndex } from "../lib/nix/nixpkgs_index.ts";

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
  await using repo = await scratchRepo();
  const env = { COMFYKIT_REGISTRY_URL: registry };
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
    env: {
      ...env,
      COMFYKIT_PYPI_URL: server.url,
      COMFYKIT_GITHUB_API_URL: server.url,
    },
    request: { retry: { attempts: 1, baseDelayMs: 1, timeoutMs: 2000 } },
  });
  const row = report.rows.find((x) => x.name === "comfyui-node-flat-pack")!;
  assert.equal(row.ours, "1.0.0");
  assert.equal(row.newest, "1.1.0");
  assert.equal(row.status, "newer");
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
