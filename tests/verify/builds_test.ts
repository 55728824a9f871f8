// comfyui and comfyui-cuda stay in step: verify's "Builds are in step" check (lib/verify/builds.ts)
// on the repository and on seeded defects, each defect also evaluated against the stand-in
// nixpkgs to show the second torch it would bring; and new-package / remove-package on a fresh
// clone putting a package into, and taking it out of, both builds' closures.
import assert from "node:assert/strict";
import {
  copyTree,
  haveTool,
  REAL_SOURCES,
  realSourcesTest,
  ROOT,
  run,
  runTaskProcess,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import { evaluate, type Evaluated } from "../_fixtures/stub_eval.ts";
import { checkBuilds } from "../../lib/verify/builds.ts";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import { byDerivation, loadPackages } from "../../lib/fix_build/locate.ts";
import type { Add, Finding, RunCommand } from "../../lib/verify/types.ts";
import { KNOWN_LICENSE_ATTRS } from "../../lib/python/license.ts";

const NIX = haveTool("nix-instantiate");
const CUDA = ".flox/pkgs/comfyui-cuda.nix";

/** Collects findings in order. */
function collector(): { add: Add; sorted(): Finding[] } {
  const out: Finding[] = [];
  return {
    add: (section, level, message, where, fix) =>
      out.push({ section, level, message, where, fix }),
    sorted: () => out,
  };
}

/** The findings of the check on `root`. */
async function findings(root: string): Promise<Finding[]> {
  const c = collector();
  await checkBuilds(root, c.add);
  return c.sorted();
}

/** A scratch copy of .flox/ with `edit` applied to the file `rel`. */
async function seeded(rel: string, edit: (text: string) => string) {
  const dir = await tmp();
  await copyTree(`${ROOT}/.flox`, `${dir.path}/.flox`);
  const path = `${dir.path}/${rel}`;
  const before = await Deno.readTextFile(path);
  const after = edit(before);
  assert.notEqual(after, before, `the seeded edit of ${rel} changed nothing`);
  await Deno.writeTextFile(path, after);
  return dir;
}

/** Evaluates a scratch copy for x86_64-linux; the summaries by attribute. */
async function evalCopy(root: string): Promise<Record<string, Evaluated>> {
  const r = await evaluate(`${root}/.flox/pkgs`, "x86_64-linux", true);
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r.pkgs;
}

/** The line of `text` holding `needle`, 1-based. */
function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return text.slice(0, i).split("\n").length;
}

Deno.test("verify: the repository's comfyui and comfyui-cuda are in step; comfyui-cuda pins nothing of its own", async () => {
  // bump-comfyui edits comfyui.nix alone: the variant has no version, source or hash.
  const cuda = readPackage(
    parseNix(await Deno.readTextFile(`${ROOT}/${CUDA}`), CUDA),
  );
  assert.equal(cuda.version, undefined);
  assert.equal(cuda.src, undefined);
  assert.doesNotMatch(
    await Deno.readTextFile(`${ROOT}/${CUDA}`),
    /sha256|hash =/,
  );
  const f = await findings(ROOT);
  assert.deepEqual(f.filter((x) => x.level !== "ok"), []);
  assert.match(
    f[0]!.message,
    /^comfyui, comfyui-cuda: the same \d+ package files/,
  );
});

Deno.test({
  name:
    "verify names, with file:line and the fix, a comfyui-cuda whose closure would hold a second (CPU) torch",
  ignore: !NIX,
  fn: async () => {
    // A hand edit: the overlay's spandrel (built with the CPU python3) passed into the scope.
    await using dir = await seeded(
      CUDA,
      (t) =>
        t.replace("{ lib\n, stdenv\n", "{ lib\n, spandrel\n, stdenv\n")
          .replace(
            "      packages));\nin",
            "      packages) // { inherit spandrel; });\nin",
          ),
    );
    const f = await findings(dir.path);
    const text = await Deno.readTextFile(`${dir.path}/${CUDA}`);
    const bad = f.filter((x) => x.level === "error");
    assert.equal(bad.length, 1, JSON.stringify(f));
    assert.equal(bad[0]!.where, `${CUDA}:${lineOf(text, ", spandrel")}`);
    assert.match(
      bad[0]!.message,
      /comfyui-cuda takes spandrel from Flox's overlay, .* a second \(CPU\) torch/,
    );
    assert.match(bad[0]!.fix!, /drop the argument/);
    // What the stand-in nixpkgs shows: two torches, one of them CPU.
    const pkgs = await evalCopy(dir.path);
    assert.deepEqual(
      pkgs["comfyui-cuda"]!.torches.map((t) => t.cuda).sort(),
      [false, true],
    );
    assert.equal(pkgs["comfyui"]!.torches.length, 1);
  },
});

Deno.test({
  name:
    "verify names a package wired into comfyui but left out of comfyui-cuda (its variants list), and the stub sees the CPU build come in",
  ignore: !NIX,
  fn: async () => {
    await using dir = await seeded(CUDA, (t) =>
      t.replace(
        'variants = [ "comfyui-cuda" ];',
        'variants = [ "comfyui-cuda" "spandrel" ];',
      ));
    const f = await findings(dir.path);
    const text = await Deno.readTextFile(`${dir.path}/${CUDA}`);
    const bad = f.filter((x) => x.level === "error");
    assert.equal(bad.length, 1, JSON.stringify(f));
    assert.equal(bad[0]!.where, `${CUDA}:${lineOf(text, "variants = [")}`);
    assert.match(
      bad[0]!.message,
      /^spandrel is wired into comfyui but comfyui-cuda does not build it/,
    );
    assert.match(bad[0]!.fix!, /remove "spandrel" from that list/);
    const pkgs = await evalCopy(dir.path);
    assert.equal(pkgs["comfyui-cuda"]!.torches.length, 2);
  },
});

Deno.test("verify names every package wired into comfyui but not into a comfyui-cuda that does not call the set again", async () => {
  await using dir = await seeded(CUDA, () =>
    `{ lib, python3, comfyui }:
comfyui.overridePythonAttrs (old: { pname = "comfyui-cuda"; })
`);
  const f = await findings(dir.path);
  const main = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  const wired = f.filter((x) =>
    /is wired into comfyui but not into/.test(x.message)
  );
  assert.deepEqual(
    wired.map((x) => x.message.split(" ")[0]).sort(),
    [
      "comfyui-embedded-docs",
      "comfyui-frontend-package",
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
    ],
  );
  const sp = wired.find((x) => x.message.startsWith("spandrel "))!;
  assert.equal(
    sp.where,
    `.flox/pkgs/comfyui.nix:${lineOf(main, ", spandrel")}`,
  );
  assert.match(sp.fix!, /calls every \.flox\/pkgs file/);
  assert.ok(f.some((x) => /takes comfyui from Flox's overlay/.test(x.message)));
  assert.ok(f.some((x) => /keeps nixpkgs' torch/.test(x.message)));
});

Deno.test({
  name:
    "verify names a package that pins one torch for every build, and one that reaches past python3",
  ignore: !NIX,
  fn: async () => {
    const SP = ".flox/pkgs/spandrel.nix";
    await using dir = await seeded(
      SP,
      (t) =>
        t.replace(
          "    torch\n    torchvision\n",
          "    torchWithCuda\n    torchvision\n",
        ),
    );
    const text = await Deno.readTextFile(`${dir.path}/${SP}`);
    const bad = (await findings(dir.path)).filter((x) => x.level === "error");
    assert.equal(bad.length, 1, JSON.stringify(bad));
    assert.equal(bad[0]!.where, `${SP}:${lineOf(text, "torchWithCuda")}`);
    assert.match(bad[0]!.fix!, /^write torch: each build picks its torch/);
    // The CPU build now holds nixpkgs' torch and the CUDA one (comfyui-cuda, where torch is
    // torch-bin, would not even evaluate: torch-bin takes no cudaSupport).
    await Deno.remove(`${dir.path}/${CUDA}`);
    const pkgs = await evalCopy(dir.path);
    assert.deepEqual(
      pkgs["comfyui"]!.torches.map((t) => t.cuda).sort(),
      [false, true],
    );

    await using dir2 = await seeded(
      SP,
      (t) =>
        t.replace(
          "{ lib\n, python3\n}",
          "{ lib\n, python3\n, python312Packages\n}",
        ),
    );
    const t2 = await Deno.readTextFile(`${dir2.path}/${SP}`);
    const bad2 = (await findings(dir2.path)).filter((x) => x.level === "error");
    assert.equal(bad2.length, 1, JSON.stringify(bad2));
    assert.equal(bad2[0]!.where, `${SP}:${lineOf(t2, "python312Packages")}`);
    assert.match(bad2[0]!.message, /CPU torch, a second torch/);
  },
});

/** Where `pname` sits in a build's closure: its store path and its torches' CUDA settings. */
function inClosure(e: Evaluated, pname: string) {
  return e.closure.find((c) => c.pname === pname);
}

realSourcesTest(
  "new-package on a fresh clone puts a package into both builds' closures, each with its own torch; remove-package takes it out of both",
  async () => {
    if (!NIX) return;
    await using dir = await tmp();
    const root = `${dir.path}/repo`;
    const clone = await run("git", ["clone", "-q", ROOT, root]);
    assert.equal(clone.code, 0, clone.stderr);
    const env = {
      PATH: `${dir.path}/empty-bin`,
      HOME: dir.path,
      COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
      COMFYKIT_PYPI_URL: "http://127.0.0.1:9",
    };
    // Out of both.
    const rm = await runTaskProcess("remove_package.ts", [
      "spandrel",
      "--yes",
      "--root",
      root,
    ], { env });
    assert.equal(rm.code, 0, rm.stderr);
    let pkgs = await evalCopy(root);
    for (const build of ["comfyui", "comfyui-cuda"]) {
      assert.equal(inClosure(pkgs[build]!, "spandrel"), undefined, build);
      assert.equal(pkgs[build]!.torches.length, 1, build);
    }
    // Into both: new-package from the real sdist.
    const add = await runTaskProcess("new_package.ts", [
      `${REAL_SOURCES}/spandrel-0.4.0.tar.gz`,
      "--yes",
      "--root",
      root,
    ], { env });
    assert.equal(add.code, 0, add.stderr);
    pkgs = await evalCopy(root);
    const cpu = inClosure(pkgs["comfyui"]!, "spandrel");
    const gpu = inClosure(pkgs["comfyui-cuda"]!, "spandrel");
    assert.ok(cpu && gpu, "spandrel is in both closures");
    assert.deepEqual(cpu.torches, [false]);
    assert.deepEqual(gpu.torches, [true]);
    assert.notEqual(cpu.path, gpu.path);
    assert.deepEqual(pkgs["comfyui-cuda"]!.torches.map((t) => t.cuda), [true]);
    assert.deepEqual(
      (await findings(root)).filter((x) => x.level !== "ok"),
      [],
    );
    // comfyui-cuda.nix itself was not touched by either task.
    const diff = await run("git", ["status", "--porcelain", "--", CUDA], {
      cwd: root,
    });
    assert.equal(diff.stdout, "");
  },
);

Deno.test("fix-build reads a failure of comfyui-cuda as one of comfyui.nix, and never edits the variant file", async () => {
  const pkgs = await loadPackages(ROOT);
  assert.ok(!pkgs.some((p) => p.file === CUDA));
  assert.equal(
    byDerivation(pkgs, "comfyui-cuda-0.3.75")?.file,
    ".flox/pkgs/comfyui.nix",
  );
  assert.equal(
    byDerivation(pkgs, "python3.13-spandrel-0.4.0")?.file,
    ".flox/pkgs/spandrel.nix",
  );
});

/**
 * A nixpkgs for COMFYKIT_NIXPKGS: a folder whose default.nix is nixpkgs' entry
 * (`{ system, config, overlays }:`) over the stand-in.
 */
async function stubNixpkgs(dir: string): Promise<string> {
  const index = JSON.parse(
    await Deno.readTextFile(`${ROOT}/nixpkgs-index.json`),
  );
  const folder = `${dir}/nixpkgs`;
  await Deno.mkdir(folder);
  await Deno.writeTextFile(
    `${folder}/index.json`,
    JSON.stringify(index.python3Packages),
  );
  await Deno.writeTextFile(
    `${folder}/default.nix`,
    `{ system, config ? { }, overlays ? [ ] }:
import ${ROOT}/tests/_fixtures/stub_nixpkgs.nix {
  inherit system overlays;
  pythonVersion = ${JSON.stringify(index.python ?? "3.13")};
  pythonPackages = builtins.fromJSON (builtins.readFile ./index.json);
  licenseNames = builtins.fromJSON ${
      JSON.stringify(JSON.stringify(KNOWN_LICENSE_ATTRS))
    };
}
`,
  );
  return folder;
}

/** The check with Nix: a real nix-instantiate over the stand-in nixpkgs. */
async function evalFindings(root: string, nixpkgs: string) {
  const c = collector();
  const runCmd: RunCommand = async (cmd, args, cwd) => {
    const r = await run(cmd, args, { cwd });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  await checkBuilds(root, c.add, { run: runCmd, nixpkgs });
  return c.sorted();
}

Deno.test({
  name:
    "verify with Nix and a nixpkgs evaluates every build for each system and counts its torches",
  ignore: !NIX,
  fn: async () => {
    await using dir = await tmp();
    const nixpkgs = await stubNixpkgs(dir.path);
    const f = await evalFindings(ROOT, nixpkgs);
    const lines = f.map((x) => `${x.level} ${x.message}`);
    for (const system of ["x86_64-linux", "aarch64-linux"]) {
      assert.ok(
        lines.some((l) =>
          new RegExp(`^ok comfyui-cuda on ${system}: one torch, .* \\(CUDA\\)$`)
            .test(l)
        ),
        lines.join("\n"),
      );
    }
    assert.ok(
      lines.includes("ok comfyui-cuda is not offered for aarch64-darwin"),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) =>
        /^ok comfyui on aarch64-darwin: one torch, .* \(CPU\)$/.test(l)
      ),
    );
    assert.deepEqual(f.filter((x) => x.level !== "ok"), []);

    // The seeded second torch: the evaluation names the build and both torches.
    await using bad = await seeded(
      CUDA,
      (t) =>
        t.replace("{ lib\n, stdenv\n", "{ lib\n, spandrel\n, stdenv\n")
          .replace(
            "      packages));\nin",
            "      packages) // { inherit spandrel; });\nin",
          ),
    );
    const g = await evalFindings(bad.path, nixpkgs);
    const two = g.filter((x) =>
      x.message.startsWith(
        "comfyui-cuda on x86_64-linux: 2 torches in one Python environment: ",
      ) && x.message.includes("(CPU)") && x.message.includes("(CUDA)")
    );
    assert.equal(two.length, 1, JSON.stringify(g));
    assert.equal(two[0]!.level, "error");
    assert.equal(two[0]!.where, CUDA);
  },
});

Deno.test({
  name:
    "a node pack wired into comfyui.nix's customNodes is in both builds, its requirements built against each build's torch",
  ignore: !NIX,
  fn: async () => {
    // A node pack as the customNodes contract has it (comfyui.nix): comfyuiNodeName and
    // pythonDependencies taken from the python3 it is called with.
    await using dir = await seeded(
      ".flox/pkgs/comfyui.nix",
      (t) =>
        t.replace("{ lib\n", "{ lib\n, comfyui-node-demo\n")
          .replace(
            "  customNodes = [\n  ];",
            "  customNodes = [\n    comfyui-node-demo\n  ];",
          ),
    );
    await Deno.writeTextFile(
      `${dir.path}/.flox/pkgs/comfyui-node-demo.nix`,
      `{ python3, linkFarm }:
(linkFarm "comfyui-node-demo" [ ]) // {
  comfyuiNodeName = "demo";
  pythonDependencies = with python3.pkgs; [ kornia ];
}
`,
    );
    const pkgs = await evalCopy(dir.path);
    assert.deepEqual(pkgs["comfyui-node-demo"]!.torches.map((t) => t.cuda), [
      false,
    ]);
    for (
      const [build, cuda] of [["comfyui", false], [
        "comfyui-cuda",
        true,
      ]] as const
    ) {
      const e = pkgs[build]!;
      assert.ok(e.pythonEnvModules!.includes("kornia"), build);
      assert.deepEqual(e.torches.map((t) => t.cuda), [cuda], build);
      assert.deepEqual(inClosure(e, "kornia")!.torches, [cuda], build);
    }
    assert.deepEqual(
      (await findings(dir.path)).filter((x) => x.level !== "ok"),
      [],
    );
  },
});

Deno.test("remove-package refuses comfyui-cuda in one line: a build, not a package of the set", async () => {
  const r = await runTaskProcess("remove_package.ts", [
    "comfyui-cuda",
    "--dry-run",
    "--root",
    ROOT,
  ]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `error: comfyui-cuda is a build of the main package (${CUDA}), not a package of the set: nothing to unwire; git rm the file to drop that build\n`,
  );
});

Deno.test({
  name:
    "deno task verify, with deno.json's permissions and COMFYKIT_NIXPKGS, evaluates the builds",
  ignore: !NIX,
  fn: async () => {
    await using dir = await tmp();
    const nixpkgs = await stubNixpkgs(dir.path);
    const r = await run(Deno.execPath(), [
      ...await taskArgs("verify", dir.path),
      "--json",
    ], {
      cwd: ROOT,
      env: { COMFYKIT_NIXPKGS: nixpkgs, HOME: dir.path },
    });
    const out = JSON.parse(r.stdout) as { findings: Finding[] };
    const mine = out.findings.filter((f) => f.section === "Builds are in step");
    assert.ok(
      mine.some((f) =>
        /^comfyui-cuda on x86_64-linux: one torch, .* \(CUDA\)$/.test(f.message)
      ),
      JSON.stringify(mine) + r.stderr,
    );
    assert.deepEqual(mine.filter((f) => f.level !== "ok"), []);
  },
});
