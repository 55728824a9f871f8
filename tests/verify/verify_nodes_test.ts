// verify's node-pack checks (lib/verify/nodes.ts) on the repository's own packs and on seeded
// defects: an unwired pack, a customNodes item without a file, a requirement nothing provides,
// a placeholder hash, hazards without a decision.
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyRepo } from "../../lib/verify/run.ts";
import type { Finding } from "../../lib/verify/types.ts";
import { scratchRepo } from "../_fixtures/nodes.ts";
import { run, taskArgs, tmp } from "../_helpers.ts";
import { startServer } from "../_fixtures/server.ts";
import { buildArchive, fakeCommit, mountGithub } from "../_fixtures/github.ts";
import { pyprojectPack } from "../_fixtures/registry.ts";

const CS = ".flox/pkgs/comfyui-node-comfyui-custom-scripts.nix";
const MAIN = ".flox/pkgs/comfyui.nix";

function nodeErrors(findings: Finding[]): string[] {
  return findings.filter((f) =>
    f.level === "error" && /node pack|customNodes|requirement/.test(f.message)
  )
    .map((f) => f.message);
}

async function edit(
  root: string,
  rel: string,
  from: string | RegExp,
  to: string,
) {
  const path = join(root, rel);
  const text = await Deno.readTextFile(path);
  const next = text.replace(from, to);
  assert.notEqual(next, text, `seeding ${rel}`);
  await Deno.writeTextFile(path, next);
}

Deno.test("verify passes the repository's node packs and reports each seeded defect", async () => {
  await using repo = await scratchRepo();
  const ok = await verifyRepo({ root: repo.path });
  assert.deepEqual(nodeErrors(ok), []);
  assert.ok(
    ok.some((f) =>
      /node pack comfyui-node-comfyui-custom-scripts: 3 hazard\(s\) accepted/
        .test(f.message)
    ),
  );

  await edit(
    repo.path,
    MAIN,
    "    comfyui-node-comfyui-custom-scripts\n",
    "    comfyui-node-gone\n",
  );
  await edit(
    repo.path,
    CS,
    "pythonDependencies = [ ];",
    "pythonDependencies = [ python3.pkgs.no-such-thing ];",
  );
  await edit(
    repo.path,
    CS,
    /hash = "sha256-[^"]+";/,
    'hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";',
  );
  await edit(repo.path, CS, /^# Decision: .*$/m, "# (decision lost)");
  await edit(
    repo.path,
    CS,
    "# Requirements:\n#   none declared",
    "# Requirements:\n#   numpy>=1 (requirements.txt:1): ComfyUI's own numpy\n#   kornia (requirements.txt:2): ComfyUI's own no-longer-there",
  );
  const bad = nodeErrors(await verifyRepo({ root: repo.path }));
  assert.deepEqual(
    bad.sort(),
    [
      "customNodes lists comfyui-node-gone, which has no .flox/pkgs/comfyui-node-gone.nix",
      "node pack comfyui-node-comfyui-custom-scripts is not wired into comfyui.nix (customNodes and its arguments)",
      "node pack comfyui-node-comfyui-custom-scripts: no recorded hazard scan and decision",
      "node pack comfyui-node-comfyui-custom-scripts: src is not a fetchFromGitHub/fetchzip with a NAR hash",
      "requirement python3.pkgs.no-such-thing of comfyui-node-comfyui-custom-scripts is in neither nixpkgs-index.json nor .flox/pkgs",
      "node pack comfyui-node-comfyui-custom-scripts relies on ComfyUI's own no-longer-there, which .flox/pkgs/comfyui.nix no longer lists",
    ].sort(),
  );
});

Deno.test("verify recomputes a node pack's NAR hash from the archive add-node left in the download cache", async () => {
  await using server = await startServer();
  const commit = fakeCommit("cached-pack");
  const gh = mountGithub(server, [{
    owner: "tester",
    repo: "Cached-Pack",
    archives: {
      [commit]: await buildArchive(
        "Cached-Pack",
        commit,
        pyprojectPack("cached-pack", "1.0.0", []),
      ),
    },
  }]);
  await using repo = await scratchRepo();
  await using home = await tmp();
  const vars: Record<string, string> = {
    HOME: home.path,
    COMFYKIT_GITHUB_URL: gh.url,
    COMFYKIT_GITHUB_API_URL: gh.apiUrl,
  };
  const r = await run(Deno.execPath(), [
    ...await taskArgs("add-node", home.path),
    `github:tester/Cached-Pack@${commit}`,
    "--yes",
    "--nixpkgs-index",
    repo.index,
  ], { cwd: repo.path, env: vars });
  assert.equal(r.code, 0, r.stderr);
  const env = (name: string) => vars[name];
  const ok = await verifyRepo({ root: repo.path, env });
  assert.deepEqual(nodeErrors(ok), []);
  assert.ok(
    ok.some((f) =>
      f.message ===
        "node pack comfyui-node-cached-pack: the cached archive has the pinned NAR hash"
    ),
  );
  const file = ".flox/pkgs/comfyui-node-cached-pack.nix";
  await edit(
    repo.path,
    file,
    /hash = "sha256-[^"]+";/,
    'hash = "sha256-0DgPrOFXOjQ4K1RKxLQdtGfJHbopP8iovoJqna8d+Gg=";',
  );
  const bad = await verifyRepo({ root: repo.path, env });
  assert.ok(
    bad.some((f) =>
      f.level === "error" &&
      /the cached archive of \S+Cached-Pack\/archive\/\S+ has NAR hash sha256-\S+, not the pinned sha256-0DgPr/
        .test(f.message)
    ),
  );
});
