// bump-comfyui end to end, as subprocesses against a fake GitHub (and PyPI) on loopback, in a
// scratch copy of the repository's package files.
import assert from "node:assert/strict";
import { buildComfyArchive, fixtureNarHash } from "../_fixtures/comfyui.ts";
import {
  assertGolden,
  haveTool,
  IN_CI,
  ROOT,
  run,
  runTaskProcess,
  taskArgs,
  tmp,
  tmuxSession,
} from "../_helpers.ts";
import { readMainPackage } from "../../lib/repo/main_package.ts";
import { addInputEdit } from "../../lib/bump/actions.ts";
import {
  FE_NIX,
  FRONTEND_PKG,
  NEW_WHEEL,
  NIXPKGS_INDEX,
  OLD_WHEEL,
  setup,
  snapshot,
  withFrontendPackage,
} from "../_fixtures/bump.ts";

/** tests/golden/bump_comfyui/<name>, through the shared golden-file helper. */
function golden(name: string, actual: string): Promise<void> {
  return assertGolden(`bump_comfyui/${name}`, actual);
}

Deno.test("bump-comfyui --help prints usage and exits 0", async () => {
  const r = await runTaskProcess("bump_comfyui.ts", ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: deno task bump-comfyui \[VERSION\]/);
  const bad = await runTaskProcess("bump_comfyui.ts", ["--frobnicate"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: .*frobnicate/);
  const both = await runTaskProcess("bump_comfyui.ts", ["0.3.76", "--latest"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /error: Give either VERSION or --latest, not both/);
  const banana = await runTaskProcess("bump_comfyui.ts", ["banana"]);
  assert.equal(banana.code, 2);
  assert.match(
    banana.stderr,
    /^error: "banana" is not a version: give one like 0\.3\.76 or v0\.3\.76\n/,
  );
});

Deno.test("bump-comfyui --latest --dry-run picks the newest by version across tag pages and writes nothing", async () => {
  await using s = await setup({ pageSize: 7 });
  const before = [
    await s.read(".flox/pkgs/comfyui.nix"),
    await s.read(".flox/env/manifest.toml"),
  ];
  const r = await s.bump(["--latest", "--dry-run", "--no-actions"]);
  assert.equal(r.code, 0, r.stderr);
  // 112 tags at 7 a page: every page was read, then the newest stable release chosen.
  const pages = s.server.log.filter((l) =>
    l.startsWith("GET /api/repos/comfyanonymous/ComfyUI/tags")
  );
  assert.equal(pages.length, Math.ceil(112 / 7));
  assert.match(r.stderr, /comfyui 0\.3\.75 → 0\.3\.100 \(v0\.3\.100, sha256-/);
  assert.match(r.stdout, /^\+ {2}version = "0\.3\.100";$/m);
  // The Flox manifest does not install comfyui: nothing in it to repin.
  assert.doesNotMatch(r.stdout, /manifest\.toml/);
  assert.match(r.stderr, /dry run: nothing written/);
  assert.deepEqual(
    [
      await s.read(".flox/pkgs/comfyui.nix"),
      await s.read(".flox/env/manifest.toml"),
    ],
    before,
  );
});

Deno.test("bump-comfyui VERSION --dry-run prints the golden diffs and requirements diff", async () => {
  await using s = await setup();
  const r = await s.bump(["0.3.76", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  const hash = fixtureNarHash("0.3.76");
  await golden("dry_run_0.3.76.txt", r.stdout.replaceAll(hash, "<NAR-HASH>"));
  assert.ok(r.stdout.includes(`+    hash = "${hash}";`));
});

Deno.test("bump-comfyui writes comfyui.nix's pins only, with the NAR hash nix-hash computes", async () => {
  await using s = await setup();
  const manifestBefore = await s.read(".flox/env/manifest.toml");
  const pkgBefore = await s.read(".flox/pkgs/comfyui.nix");
  const r = await s.bump(["v0.3.76", "--no-actions"]);
  assert.equal(r.code, 0, r.stderr);
  const pkg = await s.read(".flox/pkgs/comfyui.nix");
  const main = readMainPackage(pkg);
  assert.equal(main.version, "0.3.76");
  assert.equal(main.revText, '"v${version}"');
  assert.equal(main.rev, "v0.3.76");
  // Only the version and hash lines changed.
  assert.equal(
    pkg,
    pkgBefore.replace('version = "0.3.75"', 'version = "0.3.76"')
      .replace(fixtureNarHash("0.3.75"), main.hash),
  );
  // The wrapper, the install phase and the install check are kept byte for byte (above);
  // the manifest, which does not install comfyui, is untouched.
  assert.equal(await s.read(".flox/env/manifest.toml"), manifestBefore);
  assert.match(r.stdout, /wrote \.flox\/pkgs\/comfyui\.nix\n/);
  const next = r.stdout.slice(r.stdout.indexOf("Next:\n") + 6).trimEnd()
    .split("\n").map((l) => l.trim());
  assert.deepEqual(next, [
    "flox build comfyui",
    "git add .flox/pkgs/comfyui.nix",
    'git commit -m "comfyui: 0.3.76"',
    "git tag v0.3.76",
    "deno task verify --release",
    "git push && git push origin v0.3.76",
    "flox publish -o <org> comfyui",
  ]);

  // The oracle: real Nix's NAR hash of the unpacked archive.
  if (!haveTool("nix-hash") || !haveTool("tar")) return;
  await using dir = await tmp();
  await Deno.writeFile(
    `${dir.path}/a.tar.gz`,
    await buildComfyArchive("0.3.76"),
  );
  const x = await run("tar", ["-xzf", `${dir.path}/a.tar.gz`, "-C", dir.path]);
  assert.equal(x.code, 0, x.stderr);
  const h = await run("nix-hash", [
    "--type",
    "sha256",
    "--base32",
    `${dir.path}/ComfyUI-0.3.76`,
  ]);
  assert.equal(h.code, 0, h.stderr);
  const sri = await run("nix", [
    "--extra-experimental-features",
    "nix-command",
    "hash",
    "to-sri",
    "--type",
    "sha256",
    h.stdout.trim(),
  ]);
  assert.equal(sri.code, 0, sri.stderr);
  assert.equal(main.hash, sri.stdout.trim());
});

Deno.test("bump-comfyui downloads each archive once, then works from the cache", async () => {
  await using s = await setup();
  const first = await s.bump(["0.3.76", "--dry-run", "--no-actions"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(s.gh.downloads("comfyanonymous", "ComfyUI", "v0.3.76"), 1);
  assert.equal(s.gh.downloads("comfyanonymous", "ComfyUI", "v0.3.75"), 1);
  const second = await s.bump(["0.3.76", "--dry-run", "--no-actions"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  assert.equal(s.gh.downloads("comfyanonymous", "ComfyUI", "v0.3.76"), 1);
  assert.equal(s.gh.downloads("comfyanonymous", "ComfyUI", "v0.3.75"), 1);
});

Deno.test("bump-comfyui refuses a downgrade unless --allow-downgrade", async () => {
  await using s = await setup();
  const up = await s.bump(["0.3.100", "--no-actions"]);
  assert.equal(up.code, 0, up.stderr);
  const pkg = await s.read(".flox/pkgs/comfyui.nix");
  const down = await s.bump(["0.3.76", "--no-actions"]);
  assert.equal(down.code, 1);
  assert.equal(
    down.stderr.trim().split("\n").pop(),
    "error: 0.3.76 is older than the current 0.3.100: refusing to downgrade (pass --allow-downgrade)",
  );
  assert.equal(await s.read(".flox/pkgs/comfyui.nix"), pkg);
  const allowed = await s.bump(["0.3.76", "--no-actions", "--allow-downgrade"]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(
    readMainPackage(await s.read(".flox/pkgs/comfyui.nix")).version,
    "0.3.76",
  );
});

Deno.test("bump-comfyui to the current version is a no-op", async () => {
  await using s = await setup();
  const pkg = await s.read(".flox/pkgs/comfyui.nix");
  const r = await s.bump(["v0.3.75"]);
  assert.equal(r.code, 0);
  assert.match(
    r.stderr,
    /comfyui is already at 0\.3\.75 \(\.flox\/pkgs\/comfyui\.nix\): nothing to do/,
  );
  assert.equal(await s.read(".flox/pkgs/comfyui.nix"), pkg);
  assert.equal(s.gh.downloads("comfyanonymous", "ComfyUI", "v0.3.75"), 0);
  const j = await s.bump(["0.3.75", "--json"]);
  assert.deepEqual(JSON.parse(j.stdout), {
    status: "up-to-date",
    version: "0.3.75",
  });
});

Deno.test("bump-comfyui with an unknown tag lists the nearest versions", async () => {
  await using s = await setup();
  const r = await s.bump(["0.3.77"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim().split("\n").pop(),
    'error: comfyanonymous/ComfyUI has no release "0.3.77": nearest are v0.3.100, v0.3.76, v0.3.75',
  );
});

Deno.test("bump-comfyui --json reports the bump", async () => {
  await using s = await setup();
  const r = await s.bump(["0.3.76", "--dry-run", "--json", "--no-actions"]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.status, "dry-run");
  assert.equal(j.from, "0.3.75");
  assert.equal(j.to, "0.3.76");
  assert.equal(j.hash, fixtureNarHash("0.3.76"));
  assert.deepEqual(j.files.map((f: { file: string }) => f.file), [
    ".flox/pkgs/comfyui.nix",
  ]);
  assert.ok(
    j.requirements.some((c: { change: string; name: string }) =>
      c.change === "changed" && c.name === "comfyui-frontend-package"
    ),
  );
});

/** Starts bump-comfyui ARGS in a detached tmux terminal; stdout and the exit code go to files. */
async function inTmux(s: Awaited<ReturnType<typeof setup>>, args: string[]) {
  const outFile = `${s.root}/../tmux-out.txt`;
  const cmd = [
    Deno.execPath(),
    "run",
    "-A",
    `${ROOT}/tasks/bump_comfyui.ts`,
    "--root",
    s.root,
    ...args,
  ].map((a) => `'${a}'`).join(" ");
  const t = await tmuxSession(
    "comfykit-bump",
    `${cmd} > '${outFile}'; echo "EXIT=$?" >> '${outFile}.code'; sleep 60`,
    {
      tmuxArgs: Object.entries(s.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    },
  );
  return Object.assign(t, {
    outFile,
    exit: async () => (await waitForFile(`${outFile}.code`)).trim(),
  });
}

Deno.test("bump-comfyui without VERSION asks in a terminal (tmux)", async () => {
  if (!haveTool("tmux")) return;
  await using s = await setup();
  await using t = await inTmux(s, ["--dry-run", "--no-actions"]);
  const screen = await t.waitFor(/ComfyUI release/);
  // Newest first by version; the default (highlighted) is the newest stable release.
  const lines = screen.split("\n");
  const i = lines.findIndex((l) => l.includes("v0.4.0rc1"));
  assert.ok(i >= 0, screen);
  assert.match(lines[i + 1]!, /v0\.3\.100/);
  assert.match(lines[i + 2]!, /v0\.3\.76/);
  assert.match(lines[i + 3]!, /v0\.3\.75 \(current\)/);
  // Down once from v0.3.100 → v0.3.76.
  await t.keys("Down");
  await t.keys("Enter");
  assert.equal(await t.exit(), "EXIT=0");
  const stdout = await Deno.readTextFile(t.outFile);
  assert.match(stdout, /^\+ {2}version = "0\.3\.76";$/m);
});

Deno.test("bump-comfyui Ctrl-C at the second action in a terminal writes nothing (tmux)", async () => {
  if (!haveTool("tmux")) return;
  await using s = await setup();
  await withFrontendPackage(s);
  const before = await snapshot(s.root);
  await using t = await inTmux(s, ["0.3.76"]);
  await t.waitFor(
    /\? comfyui-frontend-package 1\.30\.6 → 1\.32\.1:[\s\S]*\(Y\/n\)/,
  );
  await t.keys("Enter"); // yes (the default) to the first action
  await t.waitFor(/\? av >=99\.0\.0:[\s\S]*\(Y\/n\)/);
  await t.keys("C-c");
  assert.equal(await t.exit(), "EXIT=130");
  assert.deepEqual(await snapshot(s.root), before);
});

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    try {
      return await Deno.readTextFile(path);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`timed out waiting for ${path}`);
}

Deno.test("bump-comfyui outside a terminal without VERSION exits 2 naming the flags", async () => {
  await using s = await setup();
  const r = await s.bump(["--dry-run"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /VERSION or --latest/);
});

void IN_CI;

Deno.test("bump-comfyui --yes carries out the actions: new wheel for a custom package, new packages, inputs", async () => {
  await using s = await setup();
  await Deno.writeTextFile(
    `${s.root}/.flox/pkgs/comfyui-frontend-package.nix`,
    FRONTEND_PKG,
  );
  const mainPath = `${s.root}/.flox/pkgs/comfyui.nix`;
  await Deno.writeTextFile(
    mainPath,
    addInputEdit("comfyui-frontend-package", true, undefined)(
      await Deno.readTextFile(mainPath),
    ),
  );
  const r = await s.bump(["0.3.76", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /comfyui-frontend-package 1\.30\.6 → 1\.32\.1: fetch the new release, update \.flox\/pkgs\/comfyui-frontend-package\.nix version and src, drop comfyui_frontend_package-1\.30\.6-py3-none-any\.whl if nothing else uses it/,
  );
  // The custom package moved to the new wheel, vendored; the old one left the manifest.
  const fe = await s.read(".flox/pkgs/comfyui-frontend-package.nix");
  assert.equal(
    fe,
    FRONTEND_PKG.replace('"1.30.6"', '"1.32.1"').replace(
      "package-1.30.6-py3",
      "package-1.32.1-py3",
    ),
  );
  const manifest = JSON.parse(await s.read("sources-manifest.json"));
  const files = manifest.sources.map((e: { file: string }) => e.file);
  assert.ok(files.includes("comfyui_frontend_package-1.32.1-py3-none-any.whl"));
  assert.ok(
    !files.includes("comfyui_frontend_package-1.30.6-py3-none-any.whl"),
  );
  assert.ok(
    (await s.read(".flox/sources/SHA256SUMS.txt")).includes(
      "comfyui_frontend_package-1.32.1-py3-none-any.whl",
    ),
  );
  // new-package created the missing packages; comfyui.nix lists them (comfy-kitchen on Linux only).
  await Deno.stat(`${s.root}/.flox/pkgs/comfy-kitchen.nix`);
  await Deno.stat(`${s.root}/.flox/pkgs/av.nix`);
  const pkg = await s.read(".flox/pkgs/comfyui.nix");
  assert.match(pkg, /\n, comfy-kitchen\n/);
  assert.match(pkg, /\n, av\n/);
  assert.match(
    pkg,
    /lib\.optionals \(lib\.elem python3\.stdenv\.hostPlatform\.system \[ "aarch64-linux" "x86_64-linux" \]\) \[\n\s+comfy-kitchen\n\s+\];/,
  );
  assert.match(pkg, /^\s+blake3$/m);
  assert.equal(readMainPackage(pkg).version, "0.3.76");
});

Deno.test("bump-comfyui --dry-run with actions planned leaves every file of the repository as it was", async () => {
  await using s = await setup();
  const before = await snapshot(s.root);
  const r = await s.bump(["0.3.76", "--dry-run", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  // The actions were planned (their comfyui.nix edits are in the diff), none was carried out.
  assert.match(r.stdout, /^\+, comfy-kitchen$/m);
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("bump-comfyui --nixpkgs-index FILE classifies with that index only", async () => {
  await using s = await setup();
  const index = JSON.parse(NIXPKGS_INDEX);
  index.python3Packages.av = "99.1.0";
  const file = `${s.root}/../other-index.json`;
  await Deno.writeTextFile(file, JSON.stringify(index));
  const r = await s.bump(["0.3.76", "--dry-run", "--nixpkgs-index", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /~ av >=14\.2\.0 → >=99\.0\.0 {2}\[nixpkgs av 99\.1\.0\]/,
  );
  assert.match(r.stdout, /^ {2}av: nothing to do \(nixpkgs' av 99\.1\.0/m);
  assert.match(r.stderr, /nixpkgs: offline index .*other-index\.json/);
});

Deno.test("bump-comfyui rejects bad input with a one-line error and writes nothing", async () => {
  await using s = await setup();
  const before = await snapshot(s.root);
  const cases: [string[], number, RegExp][] = [
    [["--python", "3"], 2, /^error: --python "3" is not a Python version/],
    [["0.3.76", "a", "b"], 2, /^error: Expected at most one VERSION, got 3/],
    [
      ["0.3.76", "--nixpkgs-index", `${s.root}/nope.json`],
      1,
      /^error: nixpkgs index ".*nope\.json" not found/,
    ],
    [
      ["v0.3.7x"],
      1,
      /^error: comfyanonymous\/ComfyUI has no release "v0\.3\.7x": nearest are v0\.3\.7\d/,
    ],
    // resolveRoot(), as in every task; a root without the main package says so.
    [
      ["--root", `${s.root}/nowhere`, "0.3.76"],
      1,
      /^error: --root ".*nowhere" does not exist/,
    ],
    [["--root", `${s.root}/.flox`, "0.3.76"], 1, /^error: .*not found/],
  ];
  for (const [args, code, message] of cases) {
    const r = await s.bump(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, message, args.join(" "));
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  }
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("bump-comfyui under deno.json's own permissions updates a custom package outside /tmp", async () => {
  await using s = await setup();
  await withFrontendPackage(s);
  // Outside /tmp (which the task may write for its cache): only .flox/ and the manifest.
  const root = await Deno.makeTempDir({ dir: ROOT, prefix: ".scratch-" });
  try {
    const cp = await run("cp", ["-a", `${s.root}/.`, root]);
    assert.equal(cp.code, 0, cp.stderr);
    const home = Deno.env.get("HOME") ?? "/nonexistent";
    const r = await run(Deno.execPath(), [
      ...await taskArgs("bump-comfyui", home, s.env),
      "0.3.76",
      "--yes",
    ], { cwd: root, env: s.env });
    assert.equal(r.code, 0, r.stderr);
    const manifest = await Deno.readTextFile(`${root}/sources-manifest.json`);
    assert.ok(manifest.includes(NEW_WHEEL) && !manifest.includes(OLD_WHEEL));
    assert.match(
      await Deno.readTextFile(`${root}/${FE_NIX}`),
      /version = "1\.32\.1"/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
