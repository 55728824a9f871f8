// What release promises about what it commits, pushes and publishes (issue 22), with real git
// and the recording flox stand-in of tests/release/release_helpers.ts.
import assert from "node:assert/strict";
import {
  type ConfirmQuestion,
  ScriptedFrontend,
} from "../../lib/kit/prompt.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { release } from "../../lib/release/run.ts";
import { LOCK_REF } from "../../lib/release/lock.ts";
import { captureOutput, run } from "../_helpers.ts";
import { setup } from "./release_helpers.ts";

const SPANDREL = ".flox/pkgs/spandrel.nix";

/** Waits (30 s at most) for `path` to exist: the stand-in's sign that its build has started. */
async function untilExists(path: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await Deno.stat(path).then(() => true, () => false))) {
    assert.ok(Date.now() < deadline, `${path} never appeared`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Answers like ScriptedFrontend, running `before(key)` first: a person acting between prompts. */
class ActingFrontend extends ScriptedFrontend {
  constructor(
    answers: Record<string, boolean>,
    private before: (key: string) => Promise<void>,
  ) {
    super(answers);
  }
  override async confirm(q: ConfirmQuestion): Promise<boolean> {
    await this.before(q.key);
    return await super.confirm(q);
  }
}

Deno.test("release --step commits nothing changed after verify passed, --include-changes or not", async () => {
  for (const includeChanges of [false, true]) {
    await using s = await setup();
    const before = await s.git("rev-parse", "HEAD");
    const fe = new ActingFrontend(
      {
        "step:add": true,
        "step:verify": true,
        "step:commit": true,
        "step:tag": true,
        "step:push": true,
      },
      async (key) => {
        if (key !== "step:commit") return;
        const f = `${s.repo}/${SPANDREL}`;
        await Deno.writeTextFile(f, (await Deno.readTextFile(f)) + "# later\n");
      },
    );
    const out = await captureOutput(async () => {
      await assert.rejects(
        release({
          root: s.repo,
          remote: "origin",
          push: true,
          gitOnly: true,
          withDeps: false,
          includeChanges,
          dryRun: false,
          step: true,
          json: false,
          fe,
        }),
        (e: Error) =>
          e instanceof KitError &&
          /^Release stopped at step 3 \(git commit .*\): Changed since verify passed: \.flox\/pkgs\/spandrel\.nix: the release commits only what was built and verified; run the release again; done: add .*, verify .*$/
            .test(e.message),
      );
      return 0;
    });
    assert.equal(out.code, 0);
    assert.equal(await s.git("rev-parse", "HEAD"), before, "nothing committed");
    assert.equal((await run("git", ["tag"], { cwd: s.repo })).stdout, "");
    assert.equal(await s.remoteRef("refs/heads/main"), undefined);
    assert.match(await s.git("status", "--porcelain"), /spandrel\.nix/);
  }
});

Deno.test("release commits nothing edited while flox build ran", async () => {
  await using s = await setup();
  const head = await s.git("rev-parse", "HEAD");
  const wait = `${s.dir}/go`;
  const child = await s.spawn(["--org", "acme", "--yes", "--include-changes"], {
    FLOX_BUILD_WAIT: wait,
  });
  await untilExists(`${wait}.started`);
  const f = `${s.repo}/${SPANDREL}`;
  await Deno.writeTextFile(f, (await Deno.readTextFile(f)) + "# meanwhile\n");
  await Deno.writeTextFile(wait, "");
  const done = await child.output();
  const stderr = new TextDecoder().decode(done.stderr);
  assert.equal(done.code, 1, stderr);
  assert.match(
    stderr,
    /^error: Release stopped at step 4 \(verify .*\): Changed since the build started: \.flox\/pkgs\/spandrel\.nix: /m,
  );
  assert.equal(await s.git("rev-parse", "HEAD"), head, "nothing committed");
  assert.deepEqual(await s.floxCalls(), [
    "build comfyui",
    "build comfyui-cuda",
  ]);
});

Deno.test("release --step tags and pushes nothing committed after its own commit", async () => {
  await using s = await setup();
  const fe = new ActingFrontend(
    {
      "step:add": true,
      "step:verify": true,
      "step:commit": true,
      "step:tag": true,
      "step:push": true,
    },
    async (key) => {
      if (key !== "step:tag") return;
      await Deno.writeTextFile(`${s.repo}/NOTES`, "unverified\n");
      await s.git("add", "NOTES");
      await s.git("commit", "-q", "-m", "a commit between prompts");
    },
  );
  await captureOutput(async () => {
    await assert.rejects(
      release({
        root: s.repo,
        remote: "origin",
        push: true,
        gitOnly: true,
        withDeps: false,
        includeChanges: false,
        dryRun: false,
        step: true,
        json: false,
        fe,
      }),
      (e: Error) =>
        e instanceof KitError &&
        /^Release stopped at step 4 \(git tag .*\): HEAD moved since the release commit [0-9a-f]{12} \(now [0-9a-f]{12}\): /
          .test(e.message),
    );
    return 0;
  });
  assert.equal((await run("git", ["tag"], { cwd: s.repo })).stdout, "");
  assert.equal(await s.remoteRef("refs/heads/main"), undefined);
});

Deno.test("release pushes its branch and the one tag it made, atomically", async () => {
  await using s = await setup();
  await s.git("tag", "private-note");
  await s.git("tag", "-a", "v0.0.1-draft", "-m", "not for publishing");
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await s.remoteRef("refs/tags/private-note"), undefined);
  assert.equal(await s.remoteRef("refs/tags/v0.0.1-draft"), undefined);
  assert.equal(
    await s.remoteRef("refs/tags/v0.3.75^{commit}"),
    await s.git("rev-parse", "HEAD"),
  );
  assert.match(
    r.stderr,
    /^\$ git push --atomic origin refs\/heads\/main refs\/tags\/v0\.3\.75$/m,
  );
});

Deno.test("release refuses, before any step, a v<version> the remote already has elsewhere", async () => {
  await using s = await setup();
  // Someone else published v0.3.75 at another commit.
  const other = `${s.dir}/other`;
  assert.equal((await run("git", ["clone", "-q", s.repo, other])).code, 0);
  for (
    const args of [
      [
        "-c",
        "user.name=O",
        "-c",
        "user.email=o@x",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "other",
      ],
      ["tag", "v0.3.75"],
      ["push", "-q", s.remote, "HEAD:refs/heads/elsewhere", "v0.3.75"],
    ]
  ) {
    const r = await run("git", args, { cwd: other });
    assert.equal(r.code, 0, r.stderr);
  }
  const head = await s.git("rev-parse", "HEAD");
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: Tag v0\.3\.75 already exists on origin at [0-9a-f]{12}, not as the local tag: a release never moves a tag; .*\(nothing was done\)$/m,
  );
  assert.deepEqual(await s.floxCalls(), []);
  assert.equal(await s.git("rev-parse", "HEAD"), head, "nothing committed");
  assert.equal(await s.remoteRef("refs/heads/main"), undefined);
});

Deno.test("release: a tag the remote refuses at push time leaves main unpushed too (both or neither)", async () => {
  await using s = await setup();
  // The remote turns tags away as it receives them (an update hook, run per ref).
  await Deno.writeTextFile(
    `${s.remote}/hooks/update`,
    '#!/bin/sh\ncase "$1" in refs/tags/*) echo "tags are protected" >&2; exit 1 ;; esac\n',
    { mode: 0o755 },
  );
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 1);
  assert.equal(
    await s.remoteRef("refs/heads/main"),
    undefined,
    "main not pushed",
  );
  assert.match(
    r.stderr,
    /^error: Release stopped at step 7 \(git push --atomic /m,
  );
  assert.equal(await s.remoteRef("refs/tags/v0.3.75"), undefined);
  assert.deepEqual(await s.floxCalls(), [
    "build comfyui",
    "build comfyui-cuda",
  ]);
});

Deno.test("release --include-changes stages a newly vendored source before flox build (Flox sees only tracked files)", async () => {
  await using s = await setup();
  // As bump-comfyui or fetch-source leave it: a vendored file on disk that git does not track.
  const wheel = ".flox/sources/spandrel-0.4.0.tar.gz";
  await s.git("rm", "-q", "--cached", wheel);
  await s.git("commit", "-q", "-m", "untrack");
  const refused = await s.task(["--org", "acme", "--yes"]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^error: Uncommitted changes: \.flox\/sources\/spandrel-0\.4\.0\.tar\.gz: commit them first, or pass --include-changes .*\(nothing was done\)$/m,
  );
  assert.deepEqual(await s.floxCalls(), []);

  const r = await s.task(["--org", "acme", "--yes", "--include-changes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await s.floxCalls(), [
    "build comfyui",
    "build comfyui-cuda",
    "publish -o acme comfyui",
    "publish -o acme comfyui-cuda",
  ]);
  const files = (await s.git("show", "--name-only", "--format=", "HEAD"))
    .split("\n").sort();
  assert.deepEqual(files, [".flox/env/manifest.lock", wheel]);
});

Deno.test("release in a subfolder of a larger git repository commits its own .flox changes", async () => {
  await using s = await setup({ sub: "packaging/comfy" });
  const f = `${s.repo}/${SPANDREL}`;
  await Deno.writeTextFile(f, (await Deno.readTextFile(f)) + "# edited\n");
  const r = await s.task(["--org", "acme", "--yes", "--include-changes"]);
  assert.equal(r.code, 0, r.stderr);
  const files = (await s.git("show", "--name-only", "--format=", "HEAD"))
    .split("\n").sort();
  assert.deepEqual(files, [
    "packaging/comfy/.flox/env/manifest.lock",
    "packaging/comfy/.flox/pkgs/spandrel.nix",
  ]);
  assert.deepEqual(await s.floxCalls(), [
    "build comfyui",
    "build comfyui-cuda",
    "publish -o acme comfyui",
    "publish -o acme comfyui-cuda",
  ]);

  // A file of the larger repository is still outside the release, named from the root.
  await Deno.writeTextFile(`${s.repo}/../../README`, "changed\n");
  const other = await s.task(["--org", "acme", "--yes"]);
  assert.equal(other.code, 1);
  assert.match(
    other.stderr,
    /^error: Modified tracked files outside the release: \.\.\/\.\.\/README: /m,
  );
});

Deno.test("two releases at once: the second is refused while the first holds the lock", async () => {
  await using s = await setup();
  const wait = `${s.dir}/go`;
  const first = await s.spawn(["--org", "acme", "--yes"], {
    FLOX_BUILD_WAIT: wait,
  });
  await untilExists(`${wait}.started`);
  const second = await s.task(["--org", "acme", "--yes"]);
  await Deno.writeTextFile(wait, "");
  const done = await first.output();
  const dec = new TextDecoder();
  assert.equal(done.code, 0, dec.decode(done.stderr));
  assert.equal(second.code, 1);
  assert.match(
    second.stderr,
    /^error: Another release is running in this repository \(release by pid \d+ since .*\): wait for it to end/m,
  );
  assert.deepEqual(await s.floxCalls(), [
    "build comfyui",
    "build comfyui-cuda",
    "publish -o acme comfyui",
    "publish -o acme comfyui-cuda",
  ]);
  const lock = await run("git", ["rev-parse", "-q", "--verify", LOCK_REF], {
    cwd: s.repo,
  });
  assert.notEqual(lock.code, 0, "the lock is gone after the release");
  // And the next release may run.
  const again = await s.task(["--org", "acme", "--yes"]);
  assert.equal(again.code, 0, again.stderr);
});

Deno.test("release --with-deps publishes only the packages comfyui needs, not unwired nunchaku", async () => {
  await using s = await setup();
  const r = await s.task(["--org", "acme", "--yes", "--with-deps"]);
  assert.equal(r.code, 0, r.stderr);
  const published = (await s.floxCalls())
    .filter((c) => c.startsWith("publish "))
    .map((c) => c.split(" ").at(-1));
  assert.deepEqual(published, [
    "comfyui",
    "comfyui-cuda",
    "comfyui-embedded-docs",
    "comfyui-frontend-package",
    // the node packs comfyui.nix takes (add-node)
    "comfyui-node-comfyui-animatediff-evolved",
    "comfyui-node-comfyui-custom-scripts",
    "comfyui-workflow-templates",
    "comfyui-workflow-templates-core",
    "comfyui-workflow-templates-media-api",
    "comfyui-workflow-templates-media-image",
    "comfyui-workflow-templates-media-other",
    "comfyui-workflow-templates-media-video",
    "controlnet-aux",
    "spandrel",
  ]);
});

Deno.test("release refuses a version that makes no valid tag name before any step", async () => {
  await using s = await setup();
  const main = `${s.repo}/.flox/pkgs/comfyui.nix`;
  const text = await Deno.readTextFile(main);
  // Pinned by commit, so verify has nothing against the version: only the tag name is bad.
  await Deno.writeTextFile(
    main,
    text.replace('version = "0.3.75";', 'version = "0.3.75..1";').replace(
      'rev = "v${version}";',
      `rev = "${"ab".repeat(20)}";`,
    ),
  );
  await s.git("commit", "-q", "-am", "odd version");
  const head = await s.git("rev-parse", "HEAD");
  for (const args of [["--yes"], ["--dry-run"]]) {
    const r = await s.task(["--org", "acme", ...args]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: \.flox\/pkgs\/comfyui\.nix: version "0\.3\.75\.\.1" makes "v0\.3\.75\.\.1", which git does not accept as a tag name \(git check-ref-format\)/m,
    );
  }
  assert.deepEqual(await s.floxCalls(), []);
  assert.equal(await s.git("rev-parse", "HEAD"), head, "nothing committed");
});

Deno.test("release --with-deps finds symlinked and NAME/default.nix packages, as Flox does", async () => {
  await using s = await setup();
  const pkgs = `${s.repo}/.flox/pkgs`;
  // spandrel.nix becomes a symlink to a file kept elsewhere in the repository; controlnet-aux a
  // folder with default.nix (its relative source path one level deeper).
  await Deno.mkdir(`${s.repo}/.flox/shared`);
  await Deno.rename(
    `${pkgs}/spandrel.nix`,
    `${s.repo}/.flox/shared/spandrel.nix`,
  );
  await Deno.symlink("../shared/spandrel.nix", `${pkgs}/spandrel.nix`);
  const cn = await Deno.readTextFile(`${pkgs}/controlnet-aux.nix`);
  await Deno.remove(`${pkgs}/controlnet-aux.nix`);
  await Deno.mkdir(`${pkgs}/controlnet-aux`);
  await Deno.writeTextFile(
    `${pkgs}/controlnet-aux/default.nix`,
    cn.replace("../../.flox/sources/", "../../../.flox/sources/"),
  );
  await s.git("add", "-A");
  await s.git("commit", "-q", "-m", "layout");
  const r = await s.task(["--org", "acme", "--yes", "--with-deps"]);
  assert.equal(r.code, 0, r.stderr);
  const calls = await s.floxCalls();
  assert.ok(calls.includes("publish -o acme spandrel"), calls.join("\n"));
  assert.ok(calls.includes("publish -o acme controlnet-aux"), calls.join("\n"));
});

Deno.test("release takes over a lock its holder stopped renewing a minute ago, not a fresh one", async () => {
  await using s = await setup();
  const lockAt = async (secondsAgo: number) => {
    const when = `${Math.floor(Date.now() / 1000) - secondsAgo} +0000`;
    const c = await run(
      "git",
      ["commit-tree", "HEAD^{tree}", "-m", "release by pid 1 since then"],
      { cwd: s.repo, env: { GIT_COMMITTER_DATE: when } },
    );
    assert.equal(c.code, 0, c.stderr);
    await s.git("update-ref", LOCK_REF, c.stdout.trim());
  };
  await lockAt(5);
  const fresh = await s.task(["--git-only", "--no-push", "--yes"], {}, false);
  assert.equal(fresh.code, 1);
  assert.match(
    fresh.stderr,
    /^error: Another release is running in this repository \(release by pid 1 since then\)/m,
  );
  await lockAt(120);
  const stale = await s.task(["--git-only", "--no-push", "--yes"], {}, false);
  assert.equal(stale.code, 0, stale.stderr);
  const gone = await run("git", ["rev-parse", "-q", "--verify", LOCK_REF], {
    cwd: s.repo,
  });
  assert.notEqual(gone.code, 0);
});
