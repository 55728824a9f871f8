// What every task shares: --help lists exit codes and --root's real default, a usage error is
// the error and one line pointing at --help, Deno never prompts for a permission (deno.json runs
// every task with --no-prompt) and a refused permission is one `error:` line, a --root outside
// the project is refused in one line before any question (issue 16 #5, #29, #28).
import assert from "node:assert/strict";
import { join } from "node:path";
import { helpPointer, permissionMessage, runTask } from "../../lib/kit/cli.ts";
import { ROOT_HELP } from "../../lib/repo/paths.ts";
import { captureOutput, ROOT, run, taskArgs, tmp } from "../_helpers.ts";
import { main as checksum } from "../../tasks/checksum.ts";
import { main as fetchSource } from "../../tasks/fetch_source.ts";
import { main as verify } from "../../tasks/verify.ts";
import { main as fixHash } from "../../tasks/fix_hash.ts";
import { main as newPackage } from "../../tasks/new_package.ts";
import { main as updateIndex } from "../../tasks/update_nixpkgs_index.ts";
import { main as freezeDeps } from "../../tasks/freeze_deps.ts";
import { main as bumpComfyui } from "../../tasks/bump_comfyui.ts";
import { main as outdated } from "../../tasks/outdated.ts";
import { main as removePackage } from "../../tasks/remove_package.ts";
import { main as release } from "../../tasks/release.ts";
import { main as sbom } from "../../tasks/sbom.ts";

const TASKS: [string, (args: string[]) => Promise<number>, boolean][] = [
  // [deno task name, main, has --root]
  ["checksum", checksum, false],
  ["fetch-source", fetchSource, true],
  ["verify", verify, true],
  ["fix-hash", fixHash, true],
  ["new-package", newPackage, true],
  ["update-nixpkgs-index", updateIndex, true],
  ["freeze-deps", freezeDeps, true],
  ["bump-comfyui", (a) => bumpComfyui(a), true],
  ["outdated", outdated, true],
  ["remove-package", removePackage, true],
  ["release", release, true],
  ["sbom", sbom, true],
];

Deno.test("every task's --help lists its exit codes and --root's real default", async () => {
  for (const [name, main, hasRoot] of TASKS) {
    const r = await captureOutput(() => main(["--help"]));
    assert.equal(r.code, 0, name);
    assert.match(r.stdout, /\nExit (status|codes): 0 [^\n]+/, name);
    assert.match(r.stdout, /\b2 usage/, name);
    if (hasRoot) {
      assert.match(r.stdout, /\n {2}--root DIR +(.+)\n/, name);
      assert.ok(r.stdout.includes(ROOT_HELP), `${name}: --root's help`);
      assert.match(ROOT_HELP, /COMFYKIT_ROOT.*project root under deno task/);
    }
  }
});

Deno.test("every task's usage error is the error and one line pointing at --help, exit 2", async () => {
  for (const [name, main] of TASKS) {
    const r = await captureOutput(() => main(["--frobnicate"]));
    assert.equal(r.code, 2, name);
    assert.equal(r.stdout, "", name);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, `${name}: ${r.stderr}`);
    assert.match(lines[0]!, /^error: Unknown option '--frobnicate'/, name);
    assert.equal(lines[1], `Run "deno task ${name} --help" for the options`);
  }
});

Deno.test("helpPointer() names the task from its usage text", () => {
  assert.equal(
    helpPointer("Usage:\n  deno task checksum [--type flat|nar]"),
    'Run "deno task checksum --help" for the options',
  );
  assert.equal(helpPointer("no task here"), "Run with --help for the options");
});

Deno.test("runTask() turns a permission Deno or the OS refuses into one error line, exit 1", async () => {
  const capable = await captureOutput(() =>
    runTask("Usage: deno task x", () => {
      throw new Deno.errors.NotCapable(
        'Requires write access to "/elsewhere/x", run again with the --allow-write flag',
      );
    })
  );
  assert.equal(capable.code, 1);
  assert.equal(
    capable.stderr,
    'error: Not permitted: requires write access to "/elsewhere/x" (this task\'s permissions in deno.json do not cover it)\n',
  );
  const denied = await captureOutput(() =>
    runTask("Usage: deno task x", () => {
      throw new Deno.errors.PermissionDenied(
        "Permission denied (os error 13): open '/ro/x'",
      );
    })
  );
  assert.equal(denied.code, 1);
  assert.equal(
    denied.stderr,
    "error: Permission denied (os error 13): open '/ro/x'\n",
  );
  assert.equal(permissionMessage(new Error("other")), undefined);
  // Anything else is a bug and keeps its stack.
  await assert.rejects(() =>
    runTask("", () => {
      throw new TypeError("bug");
    }), TypeError);
});

Deno.test("every deno.json task runs with --no-prompt, so Deno's permission prompt never shows", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  for (const [name, t] of Object.entries(config.tasks)) {
    const command = (t as { command: string }).command;
    for (const m of command.matchAll(/\bdeno (run|test)\b[^&]*/g)) {
      assert.match(m[0], /--no-prompt/, `${name}: ${m[0]}`);
    }
  }
});

Deno.test("every task that fills the download cache may write it, wherever the environment puts it, and /tmp", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  for (
    const name of ["fetch-source", "new-package", "bump-comfyui", "add-node"]
  ) {
    const command = config.tasks[name].command as string;
    const grant = /--allow-write=(\S+)/.exec(command)?.[1]?.split(",") ?? [];
    // "$cache": COMFYKIT_CACHE_DIR, else XDG_CACHE_HOME/comfykit, else ~/.cache/comfykit (#26).
    assert.ok(grant.includes('"$cache"'), `${name}: ${grant}`);
    assert.ok(grant.includes("/tmp"), `${name}: ${grant}`);
  }
  assert.match(config.tasks["freeze-deps"].command, /--allow-write /);
});

Deno.test("new-package and bump-comfyui with deno.json's permissions refuse a --root under /tmp in one line, before any question", async () => {
  await using dir = await tmp();
  // A repository under /tmp: the task line may write /tmp (scratch space), not this one.
  const other = join(dir.path, "other");
  await Deno.mkdir(join(other, ".flox", "pkgs"), { recursive: true });
  const seed = await Deno.readTextFile(
    `${ROOT}/tests/_fixtures/comfyui_seed.nix`,
  );
  await Deno.writeTextFile(join(other, ".flox/pkgs/comfyui.nix"), seed);
  const env = { HOME: dir.path, PATH: join(dir.path, "empty-bin") };
  for (
    const [name, args] of [
      ["new-package", ["demo-pkg==1.0", "--yes"]],
      ["bump-comfyui", ["0.3.76", "--yes"]],
    ] as const
  ) {
    const r = await run(
      Deno.execPath(),
      [...await taskArgs(name, dir.path), ...args, "--root", other],
      { env },
    );
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: No write access to "${other}/\\.flox": the task may write only the current repository's [^\\n]+\\n$`,
      ),
      name,
    );
    assert.deepEqual(
      [...Deno.readDirSync(join(other, ".flox"))].map((e) => e.name),
      ["pkgs"],
    );
    assert.equal(
      await Deno.readTextFile(join(other, ".flox/pkgs/comfyui.nix")),
      seed,
    );
  }
});

Deno.test("README's environment table lists every variable the code reads", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const table = readme.slice(readme.indexOf("## Environment variables"));
  const read = new Set<string>(["GITHUB_TOKEN", "XDG_CACHE_HOME"]);
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (p.endsWith(".ts")) {
        for (
          const m of Deno.readTextFileSync(p).matchAll(/"(COMFYKIT_[A-Z_]+)"/g)
        ) {
          read.add(m[1]!);
        }
      }
    }
  };
  walk(`${ROOT}/lib`);
  walk(`${ROOT}/tasks`);
  assert.ok(read.has("COMFYKIT_ROOT") && read.has("COMFYKIT_NIXPKGS"));
  for (const v of read) assert.ok(table.includes(`| \`${v}\``), v);
});
