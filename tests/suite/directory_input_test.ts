// A directory where a file is expected (sources-manifest.json, nixpkgs-index.json) is one
// `error:` line naming it, exit 1, no IsADirectory stack trace, in every task (issue 22 #22).
import assert from "node:assert/strict";
import { captureOutput, copyTree, ROOT, tmp } from "../_helpers.ts";
import { main as verify } from "../../tasks/verify.ts";
import { main as removePackage } from "../../tasks/remove_package.ts";
import { main as fetchSource } from "../../tasks/fetch_source.ts";
import { main as outdated } from "../../tasks/outdated.ts";

async function repoWithDirectory(dir: string, name: string): Promise<void> {
  await copyTree(`${ROOT}/.flox`, `${dir}/.flox`);
  for (const f of ["sources-manifest.json", "nixpkgs-index.json"]) {
    await Deno.copyFile(`${ROOT}/${f}`, `${dir}/${f}`);
  }
  await Deno.remove(`${dir}/${name}`);
  await Deno.mkdir(`${dir}/${name}`);
}

Deno.test("a directory named sources-manifest.json is one error line in every task", async () => {
  await using d = await tmp();
  await repoWithDirectory(d.path, "sources-manifest.json");
  const runs: [string, () => Promise<number>][] = [
    ["verify", () => verify(["--root", d.path])],
    [
      "remove-package",
      () => removePackage(["spandrel", "--dry-run", "--root", d.path]),
    ],
    ["fetch-source", () => fetchSource(["--all", "--root", d.path])],
    ["outdated", () => outdated(["--offline", "--root", d.path])],
  ];
  for (const [name, f] of runs) {
    const r = await captureOutput(f);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.deepEqual(errors, [
      `error: "${d.path}/sources-manifest.json" is a directory where a file is expected: move it away or replace it with the file`,
    ], name);
  }
});

Deno.test("a directory given as the nixpkgs index is one error line", async () => {
  await using d = await tmp();
  await repoWithDirectory(d.path, "nixpkgs-index.json");
  const r = await captureOutput(() =>
    outdated([
      "--offline",
      "--root",
      d.path,
      "--nixpkgs-index",
      `${d.path}/nixpkgs-index.json`,
    ])
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error: .*nixpkgs-index\.json" is a directory/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

Deno.test("a folder in place of a vendored source is one error line naming it (#22)", async () => {
  await using d = await tmp();
  await copyTree(`${ROOT}/.flox`, `${d.path}/.flox`);
  for (const f of ["sources-manifest.json", "nixpkgs-index.json"]) {
    await Deno.copyFile(`${ROOT}/${f}`, `${d.path}/${f}`);
  }
  const name = [...Deno.readDirSync(`${d.path}/.flox/sources`)]
    .map((e) => e.name).find((n) => n.endsWith(".whl"))!;
  const path = `${d.path}/.flox/sources/${name}`;
  await Deno.remove(path);
  await Deno.mkdir(path);
  const runs: [string, () => Promise<number>][] = [
    ["verify", () => verify(["--root", d.path])],
    ["fetch-source", () => fetchSource(["--all", "--root", d.path])],
    ["outdated", () => outdated(["--offline", "--root", d.path])],
  ];
  for (const [task, f] of runs) {
    const r = await captureOutput(f);
    assert.equal(r.code, 1, `${task}: ${r.stderr}`);
    assert.deepEqual(
      r.stderr.split("\n").filter((l) => l.startsWith("error:")),
      [
        `error: "${path}" is a directory where a file is expected: move it away or replace it with the file`,
      ],
      task,
    );
  }
});
