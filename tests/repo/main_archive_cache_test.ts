// The pinned ComfyUI archive is checked before the download cache keeps it (issue 22 #5): a
// corrupt or tampered download is refused and not cached, and a bad copy already in the cache
// (left by an older kit) is dropped and fetched again, so outdated, verify --online,
// freeze-deps and bump-comfyui never need the cache deleted by hand.
import assert from "node:assert/strict";
import { startServer } from "../_fixtures/server.ts";
import {
  buildComfyArchive,
  fixtureNarHash,
  mountComfyGithub,
} from "../_fixtures/comfyui.ts";
import { SEED_MAIN, tmp } from "../_helpers.ts";
import { readMainPackage } from "../../lib/repo/main_package.ts";
import { mainPackageRequirements } from "../../lib/repo/main_archive.ts";
import { KitError } from "../../lib/kit/errors.ts";

const ARCHIVE = /^\/comfyanonymous\/ComfyUI\/archive\/v0\.3\.75\.tar\.gz$/;

async function cachedFiles(cache: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["sha256", "urls"]) {
    try {
      for await (const e of Deno.readDir(`${cache}/${sub}`)) {
        out.push(`${sub}/${e.name}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return out.sort();
}

function withEnv(env: Record<string, string>): Disposable {
  const saved = Object.fromEntries(
    Object.keys(env).map((k) => [k, Deno.env.get(k)]),
  );
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  return {
    [Symbol.dispose]() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
    },
  };
}

Deno.test("a corrupt ComfyUI archive is refused before the cache keeps it; a bad cached copy is replaced (#5)", async () => {
  await using dir = await tmp();
  await using server = await startServer();
  const gh = await mountComfyGithub(server);
  const root = `${dir.path}/repo`;
  await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
  const seed = await Deno.readTextFile(SEED_MAIN);
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui.nix`,
    seed.replace(readMainPackage(seed).hash, fixtureNarHash("0.3.75")),
  );
  const cache = `${dir.path}/cache`;
  using _env = withEnv({
    COMFYKIT_GITHUB_URL: gh.url,
    COMFYKIT_CACHE_DIR: cache,
    COMFYKIT_MIRRORS: "",
  });
  const good = await buildComfyArchive("0.3.75");
  let body: Uint8Array = good.slice(0, good.length / 2); // a truncated tarball, HTTP 200
  server.route("GET", ARCHIVE, () => new Response(body as BodyInit));

  await assert.rejects(mainPackageRequirements(root), KitError);
  assert.deepEqual(await cachedFiles(cache), [], "nothing unchecked cached");

  // A tampered archive (other bytes, a valid tarball): refused by the pinned NAR hash.
  body = await buildComfyArchive("0.3.76");
  await assert.rejects(
    mainPackageRequirements(root),
    /has NAR hash sha256-\S+, not the sha256-\S+ pinned in \.flox\/pkgs\/comfyui\.nix/,
  );
  assert.deepEqual(await cachedFiles(cache), []);

  // Upstream serves the right bytes again: read, then cached.
  body = good;
  const ok = await mainPackageRequirements(root);
  assert.ok(ok.requirements.length > 0);
  const stored = await cachedFiles(cache);
  assert.equal(stored.length, 2, stored.join(", "));

  // A bad copy an older kit left under the remembered sha256: dropped, fetched again.
  const entry = stored.find((f) => f.startsWith("sha256/"))!;
  await Deno.writeFile(`${cache}/${entry}`, new Uint8Array([1, 2, 3]));
  const before = server.log.length;
  // Offline (verify without --online): the copy's fault is said, the cache left as it is.
  await assert.rejects(
    mainPackageRequirements(root, { offline: true }),
    /The archive of comfyanonymous\/ComfyUI@v0\.3\.75 is not a readable archive/,
  );
  assert.equal(server.log.length, before, "--offline asks no server");
  assert.deepEqual(await cachedFiles(cache), stored);
  const again = await mainPackageRequirements(root);
  assert.deepEqual(again.requirements, ok.requirements);
  assert.deepEqual(await cachedFiles(cache), stored);
});
