// comfyui.nix names the repository's owner of today, Comfy-Org (GitHub redirects
// comfyanonymous/ComfyUI there), without a new hash: fetchFromGitHub's hash is the NAR hash of
// the unpacked tree, with the archive's single top folder stripped (fetchzip), so neither the
// owner in the URL nor the folder name GitHub gives the archive enters it. Shown with the
// kit's own NAR hash (the one bump-comfyui and verify use) of the fixture's ComfyUI archive,
// served under both owners, and checked against the pin the file had under the old owner.
import assert from "node:assert/strict";
import { ROOT, run } from "../_helpers.ts";
import { startServer } from "../_fixtures/server.ts";
import { buildTarGz } from "../_fixtures/build.ts";
import {
  buildComfyArchive,
  comfyFiles,
  fixtureNarHash,
} from "../_fixtures/comfyui.ts";
import { narHashArchive } from "../../lib/archive/nar_archive.ts";
import { toSri } from "../../lib/hash/sha256.ts";
import { readMainPackage } from "../../lib/repo/main_package.ts";
import { tmp } from "../_helpers.ts";

Deno.test("the ComfyUI archive has one NAR hash under either owner and any top folder name", async () => {
  const archive = await buildComfyArchive("0.3.75");
  await using server = await startServer();
  for (const owner of ["comfyanonymous", "Comfy-Org"]) {
    server.route(
      "GET",
      new RegExp(`^/${owner}/ComfyUI/archive/v0\\.3\\.75\\.tar\\.gz$`),
      () => new Response(archive as BodyInit),
    );
  }
  await using dir = await tmp();
  const hashes: string[] = [];
  for (const owner of ["comfyanonymous", "Comfy-Org"]) {
    const res = await fetch(
      `${server.url}/${owner}/ComfyUI/archive/v0.3.75.tar.gz`,
    );
    assert.equal(res.status, 200);
    const file = `${dir.path}/${owner}.tar.gz`;
    await Deno.writeFile(file, new Uint8Array(await res.arrayBuffer()));
    hashes.push(toSri(await narHashArchive(file)));
  }
  // A top folder named after another owner or repository spelling: stripped, same hash.
  const renamed = `${dir.path}/renamed.tar.gz`;
  await Deno.writeFile(
    renamed,
    await buildTarGz(
      comfyFiles("0.3.75").map((f) => ({
        ...f,
        path: `Comfy-Org-ComfyUI-0123abc/${f.path}`,
      })),
    ),
  );
  hashes.push(toSri(await narHashArchive(renamed)));
  assert.deepEqual(hashes, Array(3).fill(fixtureNarHash("0.3.75")));
  // The seeded control: one byte of content more is another hash.
  const changed = `${dir.path}/changed.tar.gz`;
  await Deno.writeFile(
    changed,
    await buildTarGz(
      comfyFiles("0.3.75").map((f) => ({
        ...f,
        path: `ComfyUI-0.3.75/${f.path}`,
        ...(f.path === "main.py" ? { content: `${f.content}\n` } : {}),
      })),
    ),
  );
  assert.notEqual(toSri(await narHashArchive(changed)), hashes[0]);
});

Deno.test("comfyui.nix names Comfy-Org, with tag = and the hash it had under comfyanonymous", async () => {
  const main = readMainPackage(
    await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`),
  );
  assert.equal(main.owner, "Comfy-Org");
  assert.equal(main.revAttr, "tag");
  assert.equal(main.rev, `v${main.version}`);
  // The last version of the file under the old owner, from the history (skipped in a
  // shallow clone without it).
  const log = await run("git", [
    "log",
    "--format=%H",
    "-S",
    'owner = "comfyanonymous"',
    "--",
    ".flox/pkgs/comfyui.nix",
  ], { cwd: ROOT });
  const commit = log.stdout.split("\n")[0];
  if (log.code !== 0 || !commit) return;
  const old = await run("git", ["show", `${commit}~1:.flox/pkgs/comfyui.nix`], {
    cwd: ROOT,
  });
  if (old.code !== 0) return;
  const before = readMainPackage(old.stdout);
  assert.equal(before.owner, "comfyanonymous");
  if (before.version === main.version) assert.equal(main.hash, before.hash);
});
