// bump-comfyui's workflow in-process (lib/bump/run.ts), answered by the scripted frontend and
// its answer table, against a fake GitHub and PyPI on loopback: cancelling, the custom package
// update, dry-run diffs, failed actions, retries, the dropped-requirement hook.
// deno-lint-ignore-file no-console
import assert from "node:assert/strict";
import { bumpComfyui, type BumpOutcome } from "../../lib/bump/run.ts";
import {
  type Answer,
  type ConfirmQuestion,
  ScriptedFrontend,
} from "../../lib/kit/prompt.ts";
import { CancelledError } from "../../lib/kit/errors.ts";
import { addInputEdit } from "../../lib/bump/actions.ts";
import {
  FE_NIX,
  NEW_WHEEL,
  OLD_WHEEL,
  setup,
  snapshot,
  withFrontendPackage,
} from "../_fixtures/bump.ts";
import { json } from "../_fixtures/server.ts";
import { mountComfyGithub } from "../_fixtures/comfyui.ts";

type Scratch = Awaited<ReturnType<typeof setup>>;

/** A scripted user who answers from `answers` and presses Ctrl-C at the question `key`. */
class CancelAt extends ScriptedFrontend {
  constructor(answers: Record<string, Answer>, private readonly key: string) {
    super(answers);
  }
  override confirm(q: ConfirmQuestion): Promise<boolean> {
    if (q.key === this.key) return Promise.reject(new CancelledError());
    return super.confirm(q);
  }
}

/** Runs the workflow with the scratch's endpoints in the environment, capturing its output. */
async function bump(
  s: Scratch,
  frontend: ScriptedFrontend,
  opts: { dryRun?: boolean; wanted?: string } = {},
): Promise<
  { result?: BumpOutcome; error?: unknown; stdout: string; stderr: string }
> {
  const saved = Object.keys(s.env).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(s.env)) Deno.env.set(k, v);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => stdout.push(a.join(" "));
  console.error = (...a: unknown[]) => stderr.push(a.join(" "));
  try {
    const result = await bumpComfyui({
      root: s.root,
      wanted: opts.wanted ?? "0.3.76",
      latest: false,
      dryRun: opts.dryRun ?? false,
      noActions: false,
      allowDowngrade: false,
      python: "3.12",
      json: false,
      frontend,
    });
    return { result, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  } catch (e) {
    return { error: e, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    for (const [k, v] of saved) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

const YES = () => new ScriptedFrontend({}, { useDefaults: true });

Deno.test("bumpComfyui() cancelled at its second action leaves every file as it was", async () => {
  await using s = await setup();
  await withFrontendPackage(s);
  const before = await snapshot(s.root);
  const fe = new CancelAt(
    { "action:comfyui-frontend-package": true },
    "action:av",
  );
  const r = await bump(s, fe);
  assert.ok(r.error instanceof CancelledError, String(r.error));
  // The first action was accepted before the second question: nothing of it was written.
  assert.deepEqual(fe.asked.map((a) => a.key), [
    "action:comfyui-frontend-package",
  ]);
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("bumpComfyui() updating the frontend package drops the old wheel and entry and rewrites the header", async () => {
  await using s = await setup();
  await withFrontendPackage(s);
  const r = await bump(s, YES());
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /still uses it/);
  assert.match(r.stderr, new RegExp(`dropping ${OLD_WHEEL}: nothing else`));
  const pkg = await s.read(FE_NIX);
  assert.match(
    pkg,
    /^# comfyui-frontend-package 1\.32\.1: Compiled web frontend/,
  );
  assert.match(
    pkg,
    new RegExp(`Source: vendored \\.flox/sources/${NEW_WHEEL}`),
  );
  assert.ok(!pkg.includes("1.30.6"), pkg);
  const manifest = JSON.parse(await s.read("sources-manifest.json"));
  const files = manifest.sources.map((e: { file: string }) => e.file);
  assert.ok(files.includes(NEW_WHEEL));
  assert.ok(!files.includes(OLD_WHEEL));
  const sums = await s.read(".flox/sources/SHA256SUMS.txt");
  assert.ok(sums.includes(NEW_WHEEL) && !sums.includes(OLD_WHEEL));
  await assert.rejects(Deno.stat(`${s.root}/.flox/sources/${OLD_WHEEL}`));
  await Deno.stat(`${s.root}/.flox/sources/${NEW_WHEEL}`);
  assert.ok(r.result?.status === "bumped");
  assert.ok(r.result.wrote.includes(FE_NIX));
  assert.match(r.result.next.join("\n"), /git add .*comfyui-frontend-package/);
});

Deno.test("bumpComfyui() keeps the old wheel while another package file uses it", async () => {
  await using s = await setup();
  await withFrontendPackage(s);
  await Deno.writeTextFile(
    `${s.root}/.flox/pkgs/other.nix`,
    `{ python3 }:\npython3.pkgs.buildPythonPackage {\n  pname = "other";\n  version = "1";\n  src = ../../.flox/sources/${OLD_WHEEL};\n}\n`,
  );
  const r = await bump(s, YES());
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.match(
    r.stderr,
    new RegExp(`keeping ${OLD_WHEEL}: \\.flox/pkgs/other\\.nix still uses it`),
  );
  await Deno.stat(`${s.root}/.flox/sources/${OLD_WHEEL}`);
  const files = JSON.parse(await s.read("sources-manifest.json")).sources
    .map((e: { file: string }) => e.file);
  assert.ok(files.includes(OLD_WHEEL) && files.includes(NEW_WHEEL));
});

Deno.test("bumpComfyui() keeps the old wheel another package uses through a ${version} path, not one a comment names", async () => {
  await using s = await setup();
  await withFrontendPackage(s);
  await Deno.writeTextFile(
    `${s.root}/.flox/pkgs/other.nix`,
    `{ python3 }:\npython3.pkgs.buildPythonPackage rec {\n  pname = "other";\n  version = "1.30.6";\n  src = ../../.flox/sources/comfyui_frontend_package-\${version}-py3-none-any.whl;\n}\n`,
  );
  const r = await bump(s, YES());
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.match(
    r.stderr,
    new RegExp(`keeping ${OLD_WHEEL}: \\.flox/pkgs/other\\.nix still uses it`),
  );
  await Deno.stat(`${s.root}/.flox/sources/${OLD_WHEEL}`);

  // A comment naming the old wheel keeps nothing.
  await using t = await setup();
  await withFrontendPackage(t);
  await Deno.writeTextFile(
    `${t.root}/.flox/pkgs/other.nix`,
    `# once built from ${OLD_WHEEL}\n{ python3 }:\npython3.pkgs.buildPythonPackage {\n  pname = "other";\n  version = "1";\n  src = ./.;\n}\n`,
  );
  const r2 = await bump(t, YES());
  assert.equal(r2.error, undefined, `${r2.error}\n${r2.stderr}`);
  assert.match(
    r2.stderr,
    new RegExp(`dropping ${OLD_WHEEL}: nothing else uses it`),
  );
  assert.equal(
    await Deno.stat(`${t.root}/.flox/sources/${OLD_WHEEL}`).then(
      () => true,
      () => false,
    ),
    false,
  );
});

Deno.test("bumpComfyui() dry run shows the diff of every file the actions would change", async () => {
  await using s = await setup();
  await withFrontendPackage(s);
  const before = await snapshot(s.root);
  const r = await bump(s, new ScriptedFrontend(), { dryRun: true });
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.ok(r.result?.status === "dry-run");
  const diff = r.result.diff;
  for (
    const header of [
      "+++ b/.flox/pkgs/comfyui.nix",
      `+++ b/${FE_NIX}`,
      "+++ b/sources-manifest.json",
      "+++ b/.flox/sources/SHA256SUMS.txt",
      `new file .flox/sources/${NEW_WHEEL}`,
      `deleted file .flox/sources/${OLD_WHEEL}`,
    ]
  ) assert.ok(diff.includes(header), `${header} in:\n${diff}`);
  assert.match(diff, /^\+ {2}version = "1\.32\.1";$/m);
  // The Flox manifest does not install comfyui: no pin to follow.
  assert.ok(!diff.includes("manifest.toml"), diff);
  // The packages new-package would create are shown whole.
  assert.match(r.stdout, /^# \.flox\/pkgs\/av\.nix \(would be written\)$/m);
  assert.match(r.stdout, /^# \.flox\/pkgs\/comfy-kitchen\.nix \(would be/m);
  assert.deepEqual(await snapshot(s.root), before);
});

Deno.test("bumpComfyui() with a failed action prints no next steps and writes the rest", async () => {
  await using s = await setup();
  // av's release disappears from PyPI: its new-package action fails.
  s.server.route("GET", /^\/pypi\/av\//, () => json({ message: "gone" }, 404));
  const r = await bump(s, YES());
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.ok(r.result?.status === "bumped");
  assert.deepEqual(r.result.failed, ["av"]);
  assert.deepEqual(r.result.next, []);
  const pkg = await s.read(".flox/pkgs/comfyui.nix");
  assert.match(pkg, /version = "0\.3\.76"/);
  assert.doesNotMatch(pkg, /\n, av\n/);
  await assert.rejects(Deno.stat(`${s.root}/.flox/pkgs/av.nix`));
});

Deno.test("bumpComfyui() says what it waits for while the tags API is retried", async () => {
  await using s = await setup();
  let calls = 0;
  s.server.route(
    "GET",
    /^\/api\/repos\/comfyanonymous\/ComfyUI\/tags$/,
    async () => {
      calls++;
      // Once: the fake GitHub mounted again (later routes win) answers the retry.
      await mountComfyGithub(s.server);
      return new Response("busy", { status: 503 });
    },
  );
  const r = await bump(s, YES(), { dryRun: true });
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.equal(calls, 1);
  assert.match(
    r.stderr,
    /waiting for GitHub's tags of comfyanonymous\/ComfyUI: .*503.*retrying in/,
  );
});

Deno.test("bumpComfyui() offers remove-package for a dropped requirement whose package is ours", async () => {
  await using s = await setup();
  await Deno.writeTextFile(
    `${s.root}/.flox/pkgs/spandrel.nix`,
    `{ python3 }:\npython3.pkgs.buildPythonPackage {\n  pname = "spandrel";\n  version = "0.4.0";\n  src = ../../.flox/sources/spandrel-0.4.0.tar.gz;\n}\n`,
  );
  const main = `${s.root}/.flox/pkgs/comfyui.nix`;
  await Deno.writeTextFile(
    main,
    addInputEdit("spandrel", true, undefined)(await Deno.readTextFile(main)),
  );
  const r = await bump(s, YES());
  assert.equal(r.error, undefined, `${r.error}\n${r.stderr}`);
  assert.match(
    r.stdout,
    /spandrel: remove spandrel from comfyui\.nix's dependencies \(its package file stays: deno task remove-package spandrel drops it\)/,
  );
  assert.ok(r.result?.status === "bumped");
  assert.equal(r.result.next[0], "deno task remove-package spandrel");
  assert.doesNotMatch(await s.read(".flox/pkgs/comfyui.nix"), /spandrel/);
});
