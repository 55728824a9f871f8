// Writes that fail for real: a full disk (a small tmpfs; mounting needs root, so without it
// these tests are skipped with a notice) and an immutable file (`chattr +i`, root too). Each
// must end in one `error:` line, exit 1, the tree byte-identical, and no `.tmp` copy or empty
// `.lock` left behind to stall the next run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyTree, ROOT, run, runTaskProcess, tmp } from "../_helpers.ts";
import { info } from "../../lib/kit/log.ts";
import { startServer } from "../_fixtures/server.ts";
import { setup, withFrontendPackage } from "../_fixtures/bump.ts";

const IS_ROOT = Deno.uid() === 0;
if (!IS_ROOT) {
  info("notice: not root: skipping the full-disk and immutable-file tests");
}

/** Every file under `dir` (relative) with its bytes, as text or hex. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else {
        const b = await Deno.readFile(join(dir, p));
        out[p] = Array.from(b.subarray(0, 4096), (x) => x.toString(16)).join(
          "",
        ) + `:${b.length}`;
      }
    }
  };
  await walk("");
  return out;
}

/** A scratch package set: .flox/ and the manifest, under `root`. */
async function packageSet(root: string): Promise<void> {
  await copyTree(join(ROOT, ".flox"), join(root, ".flox"));
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(root, "sources-manifest.json"),
  );
}

/** One error line, no stack trace. */
function assertOneLine(stderr: string, re: RegExp): void {
  assert.doesNotMatch(stderr, /Uncaught|^\s+at /m, stderr);
  const errors = stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, stderr);
  assert.match(errors[0]!, re);
}

Deno.test({
  name:
    "on a full disk remove-package, new-package and fetch-source fail with one line and leave no lock",
  ignore: !IS_ROOT,
  async fn() {
    await using dir = await tmp();
    const mnt = join(dir.path, "disk");
    await Deno.mkdir(mnt);
    const mount = await run("mount", [
      "-t",
      "tmpfs",
      "-o",
      "size=2m",
      "tmpfs",
      mnt,
    ]);
    if (mount.code !== 0) {
      info(`notice: cannot mount a tmpfs (${mount.stderr.trim()}): skipped`);
      return;
    }
    try {
      const root = join(mnt, "repo");
      await packageSet(root);
      const wheel = join(dir.path, "tiny-1.0-py3-none-any.whl");
      const { buildWheel } = await import("../_fixtures/build.ts");
      await Deno.writeFile(
        wheel,
        buildWheel({
          name: "tiny",
          version: "1.0",
          license: "MIT",
          classifiers: ["License :: OSI Approved :: MIT License"],
          packages: ["tiny"],
        }),
      );
      // Fill the disk.
      const fill = await Deno.open(join(mnt, "filler"), {
        write: true,
        create: true,
      });
      try {
        const block = new Uint8Array(64 * 1024);
        for (;;) await fill.write(block);
      } catch {
        // full
      } finally {
        fill.close();
      }
      const before = await snapshot(root);
      const rm = await runTaskProcess("remove_package.ts", [
        "spandrel",
        "--yes",
        "--root",
        root,
      ]);
      assert.equal(rm.code, 1, rm.stderr);
      assertOneLine(
        rm.stderr,
        /No space left on device.*\(nothing was changed\)$/,
      );
      assert.deepEqual(await snapshot(root), before);
      const np = await runTaskProcess("new_package.ts", [
        wheel,
        "--yes",
        "--root",
        root,
      ], { env: { COMFYKIT_PYPI_URL: "http://127.0.0.1:9" } });
      assert.equal(np.code, 1, np.stderr);
      assertOneLine(
        np.stderr,
        /No space left on device.*\(nothing was changed\)$/,
      );
      assert.deepEqual(await snapshot(root), before);
      await using server = await startServer();
      const body = new Uint8Array(256 * 1024).fill(7);
      server.route("GET", /^\/dl\/x$/, () => new Response(body as BodyInit));
      const fs = await runTaskProcess("fetch_source.ts", [
        `${server.url}/dl/x`,
        "--name",
        "x",
        "--version",
        "1",
        "--insecure-http",
        "--file",
        "x-1.tar.gz",
        "--root",
        root,
      ], {
        env: { COMFYKIT_CACHE_DIR: join(mnt, "cache"), COMFYKIT_MIRRORS: "" },
      });
      assert.equal(fs.code, 1, fs.stderr);
      assertOneLine(
        fs.stderr,
        /^error: Cannot write \.flox\/sources\/x-1\.tar\.gz: No space left on device \(nothing was changed\)$/,
      );
      assert.deepEqual(await snapshot(root), before);
    } finally {
      await run("umount", [mnt]);
    }
  },
});

Deno.test({
  name:
    "remove-package on an immutable package file: one line, the tree as it was, no .tmp left",
  ignore: !IS_ROOT,
  async fn() {
    await using dir = await tmp();
    await packageSet(dir.path);
    const file = join(dir.path, ".flox/pkgs/spandrel.nix");
    const chattr = await run("chattr", ["+i", file]);
    if (chattr.code !== 0) {
      info(`notice: chattr +i failed (${chattr.stderr.trim()}): skipped`);
      return;
    }
    try {
      const before = await snapshot(dir.path);
      const r = await runTaskProcess("remove_package.ts", [
        "spandrel",
        "--yes",
        "--root",
        dir.path,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assertOneLine(
        r.stderr,
        /^error: Cannot write \.flox\/pkgs\/spandrel\.nix: permission denied \(nothing was changed\)$/,
      );
      assert.deepEqual(await snapshot(dir.path), before);
    } finally {
      await run("chattr", ["-i", file]);
    }
  },
});

Deno.test({
  name:
    "fetch-source with an immutable sources-manifest.json: one line, the downloaded file taken back",
  ignore: !IS_ROOT,
  async fn() {
    await using dir = await tmp();
    await using server = await startServer();
    const body = new TextEncoder().encode("an archive\n");
    server.route("GET", /^\/dl\/x$/, () => new Response(body as BodyInit));
    await packageSet(dir.path);
    const manifest = join(dir.path, "sources-manifest.json");
    const chattr = await run("chattr", ["+i", manifest]);
    if (chattr.code !== 0) {
      info(`notice: chattr +i failed (${chattr.stderr.trim()}): skipped`);
      return;
    }
    try {
      const before = await snapshot(dir.path);
      const r = await runTaskProcess("fetch_source.ts", [
        `${server.url}/dl/x`,
        "--name",
        "x",
        "--version",
        "1",
        "--insecure-http",
        "--file",
        "x-1.tar.gz",
        "--root",
        dir.path,
      ], {
        env: {
          COMFYKIT_CACHE_DIR: join(dir.path, "..", `${dir.path}-cache`),
          COMFYKIT_MIRRORS: "",
        },
      });
      assert.equal(r.code, 1, r.stderr);
      assertOneLine(
        r.stderr,
        /^error: Cannot write "sources-manifest\.json": permission denied \(nothing was changed\)$/,
      );
      assert.deepEqual(await snapshot(dir.path), before);
    } finally {
      await run("chattr", ["-i", manifest]);
      await Deno.remove(`${dir.path}-cache`, { recursive: true }).catch(
        () => {},
      );
    }
  },
});

Deno.test("the kit's temporary and saved copies in .flox/pkgs and .flox/sources are git-ignored", async () => {
  for (
    const path of [
      ".flox/pkgs/.comfyui.nix.0a1b2c3d.tmp",
      ".flox/sources/.sources-manifest.json.0a1b2c3d.tmp",
      ".flox/sources/.lock",
    ]
  ) {
    const r = await run("git", ["check-ignore", "-q", path], { cwd: ROOT });
    assert.equal(r.code, 0, `${path} is not ignored`);
  }
});

Deno.test({
  name: "on a full disk bump-comfyui fails with one line and leaves no lock",
  ignore: !IS_ROOT,
  async fn() {
    await using s = await setup();
    await withFrontendPackage(s);
    await using dir = await tmp();
    const mnt = join(dir.path, "disk");
    await Deno.mkdir(mnt);
    const mount = await run("mount", [
      "-t",
      "tmpfs",
      "-o",
      "size=2m",
      "tmpfs",
      mnt,
    ]);
    if (mount.code !== 0) {
      info(`notice: cannot mount a tmpfs (${mount.stderr.trim()}): skipped`);
      return;
    }
    try {
      const root = join(mnt, "repo");
      await copyTree(s.root, root);
      const fill = await Deno.open(join(mnt, "filler"), {
        write: true,
        create: true,
      });
      try {
        const block = new Uint8Array(64 * 1024);
        for (;;) await fill.write(block);
      } catch {
        // full
      } finally {
        fill.close();
      }
      const before = await snapshot(root);
      const r = await runTaskProcess("bump_comfyui.ts", [
        "0.3.76",
        "--yes",
        "--root",
        root,
      ], { env: s.env });
      assert.equal(r.code, 1, r.stderr);
      assertOneLine(
        r.stderr,
        /No space left on device.*\(nothing was changed\)$/,
      );
      assert.deepEqual(await snapshot(root), before);
    } finally {
      await run("umount", [mnt]);
    }
  },
});
