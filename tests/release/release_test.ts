// release with real git: a temporary repository holding the package set, a bare repository as
// its remote over a file path, and flox replaced by a recording stand-in on PATH
// (tests/release/release_helpers.ts). The real flox steps are not run here. The promises of issue 22
// (what is committed, pushed, published, and when) are in tests/release/release_promises_test.ts.
import assert from "node:assert/strict";
import { captureOutput, run, runTaskProcess, taskArgs } from "../_helpers.ts";
import { setup } from "./release_helpers.ts";
import { ScriptedFrontend } from "../../lib/kit/prompt.ts";
import { release } from "../../lib/release/run.ts";

Deno.test("release --yes builds, verifies, commits the lock, tags, pushes and publishes", async () => {
  await using s = await setup();
  const first = await s.git("rev-parse", "HEAD");
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  // comfyui-cuda, the CUDA build, is released with it on Linux.
  assert.deepEqual(await s.floxCalls(), [
    "build comfyui",
    "build comfyui-cuda",
    "publish -o acme comfyui",
    "publish -o acme comfyui-cuda",
  ]);
  const headNow = await s.git("rev-parse", "HEAD");
  assert.notEqual(headNow, first);
  assert.equal(await s.git("log", "-1", "--format=%s"), "comfyui: 0.3.75");
  assert.equal(
    await s.git("show", "--name-only", "--format=", "HEAD"),
    ".flox/env/manifest.lock",
  );
  assert.equal(await s.git("rev-parse", "v0.3.75^{commit}"), headNow);
  assert.equal(
    await s.git("cat-file", "-t", "v0.3.75"),
    "tag",
    "an annotated tag",
  );
  assert.equal(await s.remoteRef("refs/heads/main"), headNow);
  assert.equal(await s.remoteRef("refs/tags/v0.3.75^{commit}"), headNow);
  assert.match(
    r.stdout,
    /^released v0\.3\.75: staged \.flox and sources-manifest\.json; built comfyui; built comfyui-cuda; .*; committed [0-9a-f]{12}; tagged v0\.3\.75; pushed main and v0\.3\.75 to origin; published comfyui to acme; published comfyui-cuda to acme$/m,
  );
  assert.match(r.stderr, /^\$ git tag -a v0\.3\.75 -m 'comfyui 0\.3\.75'$/m);

  // A second run finds everything done: no commit, the tag at HEAD, publish remembered.
  const again = await s.task(["--org", "acme", "--yes", "--json"]);
  assert.equal(again.code, 0, again.stderr);
  const j = JSON.parse(again.stdout);
  const outcome = (id: string) =>
    j.steps.find((x: { id: string }) => x.id === id).outcome;
  assert.equal(outcome("commit"), "nothing staged");
  assert.equal(outcome("tag"), "v0.3.75 already points at HEAD");
  assert.equal(
    outcome("publish:comfyui"),
    "comfyui was published by an earlier run",
  );
  assert.equal(await s.git("rev-parse", "HEAD"), headNow);
});

Deno.test("release stops at a failing step naming it and what is done; a rerun continues", async () => {
  await using s = await setup();
  const fail = { FLOX_FAIL: "publish -o acme controlnet-aux" };
  const r = await s.task(["--org", "acme", "--yes", "--with-deps"], fail);
  assert.equal(r.code, 1);
  const err = r.stderr.trim().split("\n").at(-1)!;
  assert.match(
    err,
    /^error: Release stopped at step \d+ \(flox publish -o acme controlnet-aux\): flox publish -o acme controlnet-aux exited with 3: stand-in told to fail: publish -o acme controlnet-aux; done: add \(staged .*\), build:comfyui \(built comfyui\), build:comfyui-cuda \(built comfyui-cuda\), verify \(.*\), commit \(committed [0-9a-f]{12}\), tag \(tagged v0\.3\.75\), push \(pushed main and v0\.3\.75 to origin\), publish:comfyui \(published comfyui to acme\), .*publish:comfyui-workflow-templates-media-video \(published comfyui-workflow-templates-media-video to acme\); run the release again to continue$/,
  );
  const tagged = await s.git("rev-parse", "v0.3.75^{commit}");
  const before = (await s.floxCalls()).length;

  const rerun = await s.task(["--org", "acme", "--yes", "--with-deps"]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const calls = (await s.floxCalls()).slice(before);
  assert.deepEqual(calls, [
    "build comfyui",
    "build comfyui-cuda",
    "publish -o acme controlnet-aux",
    "publish -o acme spandrel",
  ]);
  assert.equal(
    await s.git("rev-parse", "v0.3.75^{commit}"),
    tagged,
    "the tag did not move",
  );
  assert.equal(
    await s.git("rev-list", "--count", "HEAD"),
    "2",
    "no second commit",
  );
});

Deno.test("release refuses a tag that points elsewhere before any step, and never moves it", async () => {
  await using s = await setup();
  const old = await s.git("rev-parse", "HEAD");
  await s.git("tag", "v0.3.75");
  await Deno.writeTextFile(`${s.repo}/NOTES`, "later\n");
  await s.git("add", "NOTES");
  await s.git("commit", "-q", "-m", "later");
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: Tag v0\.3\.75 already points at [0-9a-f]{12}, not HEAD [0-9a-f]{12}: a release never moves a tag/m,
  );
  assert.deepEqual(await s.floxCalls(), []);
  assert.equal(await s.git("rev-parse", "v0.3.75^{commit}"), old);
  assert.equal(
    await s.remoteRef("refs/heads/main"),
    undefined,
    "nothing pushed",
  );
});

Deno.test("release --git-only with the tag already at HEAD skips it and pushes", async () => {
  await using s = await setup();
  await s.git("tag", "-a", "v0.3.75", "-m", "by hand");
  const r = await s.task(["--git-only", "--yes", "--json"], {}, false);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.steps.map((x: { id: string }) => x.id), [
    "add",
    "verify",
    "commit",
    "tag",
    "push",
  ]);
  assert.equal(j.steps[3].outcome, "v0.3.75 already points at HEAD");
  assert.equal(
    await s.remoteRef("refs/tags/v0.3.75^{commit}"),
    await s.git("rev-parse", "HEAD"),
  );
});

Deno.test("release refuses a dirty tree before any step; --include-changes commits it", async () => {
  await using s = await setup();
  const nix = `${s.repo}/.flox/pkgs/spandrel.nix`;
  await Deno.writeTextFile(nix, (await Deno.readTextFile(nix)) + "# edited\n");
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: Uncommitted changes: \.flox\/pkgs\/spandrel\.nix: commit them first, or pass --include-changes .* \(nothing was done\)$/m,
  );
  assert.deepEqual(await s.floxCalls(), []);
  assert.equal(
    await s.git("rev-list", "--count", "HEAD"),
    "1",
    "nothing committed",
  );
  assert.equal(
    (await run("git", ["tag"], { cwd: s.repo })).stdout,
    "",
    "nothing tagged",
  );

  const ok = await s.task(["--org", "acme", "--yes", "--include-changes"]);
  assert.equal(ok.code, 0, ok.stderr);
  const files = (await s.git("show", "--name-only", "--format=", "HEAD")).split(
    "\n",
  );
  assert.deepEqual(files.sort(), [
    ".flox/env/manifest.lock",
    ".flox/pkgs/spandrel.nix",
  ]);
});

Deno.test("release without flox stops before the first step; --dry-run runs nothing", async () => {
  await using s = await setup();
  const head = await s.git("rev-parse", "HEAD");
  const r = await s.task(["--org", "acme", "--yes"], {}, false);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: flox is not installed: step 2 \(flox build comfyui\) needs it; install flox, or pass --git-only .*\(nothing was done\)$/m,
  );
  const dry = await s.task(["--org", "acme", "--dry-run", "--with-deps"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^ {2}2\. flox build comfyui$/m);
  assert.match(dry.stdout, /^ {2}3\. flox build comfyui-cuda$/m);
  assert.match(dry.stdout, /^ {2}8\. flox publish -o acme comfyui$/m);
  assert.match(dry.stdout, /^ {2}9\. flox publish -o acme comfyui-cuda$/m);
  assert.match(dry.stdout, /flox publish -o acme spandrel$/m);
  assert.deepEqual(await s.floxCalls(), []);
  assert.equal(await s.git("rev-parse", "HEAD"), head);
  assert.equal(await s.remoteRef("refs/heads/main"), undefined);
});

Deno.test("release usage: --org is required to publish, --help lists exit codes", async () => {
  await using s = await setup();
  const r = await s.task(["--yes"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: --org is required to publish/m);
  const remote = await s.task([
    "--org",
    "acme",
    "--yes",
    "--remote",
    "upstream",
  ]);
  assert.equal(remote.code, 1);
  assert.match(remote.stderr, /^error: git has no remote "upstream"/m);
  const help = await runTaskProcess("release.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit status: 0/);
});

Deno.test("release() with --step asks before each step and stops at a no", async () => {
  await using s = await setup();
  const fe = new ScriptedFrontend({
    "step:add": true,
    "step:verify": true,
    "step:commit": true,
    "step:tag": false,
  });
  await Deno.writeTextFile(`${s.repo}/.flox/env/manifest.lock`, "{}\n");
  const r = await captureOutput(async () => {
    const res = await release({
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
    });
    assert.equal(res.status, "cancelled");
    assert.deepEqual(res.steps.map((x) => x.id), ["add", "verify", "commit"]);
    return 0;
  });
  assert.match(
    r.stderr,
    /Release stopped at step 4 \(git tag .*\): stopped at your answer; done: add .*, verify .*, commit \(committed [0-9a-f]{12}\)/,
  );
  assert.deepEqual(fe.asked.map((a) => a.key), [
    "step:add",
    "step:verify",
    "step:commit",
    "step:tag",
  ]);
  assert.equal(await s.git("log", "-1", "--format=%s"), "comfyui: 0.3.75");
  assert.equal((await run("git", ["tag"], { cwd: s.repo })).stdout, "");
});

Deno.test("release refuses modified tracked files outside the release before publishing anything", async () => {
  await using s = await setup();
  await Deno.writeTextFile(`${s.repo}/NOTES`, "one\n");
  await s.git("add", "NOTES");
  await s.git("commit", "-q", "-m", "notes");
  await Deno.writeTextFile(`${s.repo}/NOTES`, "two\n");
  const r = await s.task(["--org", "acme", "--yes"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: Modified tracked files outside the release: NOTES: flox publish needs a clean tree; commit or stash them \(nothing was done\)$/m,
  );
  assert.deepEqual(await s.floxCalls(), []);
  const git = await s.task(["--git-only", "--yes"]);
  assert.equal(git.code, 0, git.stderr);
});

Deno.test("release --dry-run with deno.json's permissions prints the plan", async () => {
  await using s = await setup();
  const r = await run(Deno.execPath(), [
    ...await taskArgs("release", s.repo),
    "--org",
    "acme",
    "--dry-run",
    "--root",
    s.repo,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Release comfyui 0\.3\.75 \(v0\.3\.75\):$/m);
});
