// add-node, end to end the way users run it (`deno task add-node …` with deno.json's
// permissions, against a fake Comfy Registry and GitHub on loopback), plus its pure parts:
// the spec parser, the metadata reader, the hazard scan. The real packs of ../shared/real-nodes
// check the NAR hash against what Nix computed (README and nix-hash) and the generated files
// against the packs' own metadata; every generated file is evaluated with the stand-in nixpkgs
// for both systems, and ComfyUI's closure must then hold the pack and its requirements.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  haveTool,
  ROOT,
  run,
  taskArgs,
  tmp,
  tmuxSession,
} from "../_helpers.ts";
import { startServer } from "../_fixtures/server.ts";
import { buildTarGz } from "../_fixtures/build.ts";
import { pngWith } from "../_fixtures/png.ts";
import { mountPypi, wheelFile } from "../_fixtures/pypi.ts";
import { buildArchive, fakeCommit, mountGithub } from "../_fixtures/github.ts";
import {
  hazardousPack,
  mountRegistry,
  nodeZip,
  pyprojectPack,
} from "../_fixtures/registry.ts";
import {
  ANIMATEDIFF,
  CUSTOM_SCRIPTS,
  evaluateNodes,
  haveRealNodes,
  REAL_NODES,
  realNodeHashes,
  scratchRepo,
  VHS,
} from "../_fixtures/nodes.ts";
import { parseSpec } from "../../lib/add_node/spec.ts";
import { readPackMeta } from "../../lib/add_node/metadata.ts";
import { scanHazards } from "../../lib/add_node/hazards.ts";
import { readPackArchive, readPackDir } from "../../lib/add_node/pack.ts";

const NIX = haveTool("nix-instantiate") && haveTool("nix-hash");
const SYSTEMS = ["x86_64-linux", "aarch64-darwin"];

function files(specs: { path: string; content?: string | Uint8Array }[]) {
  return new Map(
    specs.map((f) => [
      f.path,
      typeof f.content === "string"
        ? new TextEncoder().encode(f.content)
        : f.content!,
    ]),
  );
}

/** The hex digest of an SRI sha256 hash (what nix-hash prints). */
function sriHex(sri: string): string {
  return [...atob(sri.slice("sha256-".length))].map((c) =>
    c.charCodeAt(0).toString(16).padStart(2, "0")
  ).join("");
}

/** Runs `deno task add-node ARGS` (deno.json's permissions) in `repo`. */
async function addNode(
  repo: string,
  args: string[],
  env: Record<string, string> = {},
) {
  await using home = await tmp();
  return await run(Deno.execPath(), [
    ...await taskArgs("add-node", home.path),
    ...args,
  ], {
    cwd: repo,
    env: { HOME: home.path, ...env },
  });
}

Deno.test("parseSpec() reads github:, registry: and local specs, and refuses bad ones", () => {
  assert.deepEqual(
    parseSpec("github:Kosinkadink/ComfyUI-VideoHelperSuite@1.7.9"),
    {
      kind: "github",
      owner: "Kosinkadink",
      repo: "ComfyUI-VideoHelperSuite",
      ref: "1.7.9",
    },
  );
  assert.deepEqual(parseSpec("registry:comfyui-videohelpersuite@1.7.9"), {
    kind: "registry",
    id: "comfyui-videohelpersuite",
    version: "1.7.9",
  });
  assert.deepEqual(parseSpec("registry:rgthree-comfy"), {
    kind: "registry",
    id: "rgthree-comfy",
  });
  assert.deepEqual(parseSpec("./pack.zip"), {
    kind: "local",
    path: "./pack.zip",
  });
  assert.throws(
    () => parseSpec("github:owner/repo"),
    /a tag or commit is required/,
  );
  assert.throws(
    () => parseSpec("github:own er/repo@v1"),
    /not a GitHub repository/,
  );
  assert.throws(
    () => parseSpec("registry:bad id"),
    /not a Comfy Registry node id/,
  );
  assert.throws(() => parseSpec("registry:x@1 2"), /not a version/);
});

Deno.test("readPackMeta() reads pyproject, requirements.txt with includes and reports unpinnable lines", () => {
  const meta = readPackMeta(files(hazardousPack()));
  assert.deepEqual(meta.requirements.map((r) => [r.text, r.where]), [
    ["numpy>=1.20", "requirements.txt:2"],
    ["imageio", "requirements.txt:3"],
    ['colorama; sys_platform == "win32"', "requirements.txt:4"],
    ["opencv-python-headless", "extra-requirements.txt:1"],
  ]);
  assert.deepEqual(meta.unpinnable.map((u) => u.where), [
    "requirements.txt:6",
    "requirements.txt:7",
  ]);
  assert.match(meta.unpinnable[0]!.why, /URL/);
  assert.match(meta.unpinnable[1]!.why, /local path/);
  const py = readPackMeta(
    files(pyprojectPack("my-pack", "1.2.0", ["opencv-python>=4"])),
  );
  assert.equal(py.name, "my-pack");
  assert.equal(py.version, "1.2.0");
  assert.equal(py.publisherId, "tester");
  assert.equal(py.displayName, "Test my-pack");
  assert.equal(py.requiresComfyui, ">=0.3.0");
  assert.equal(py.homepage, "https://github.com/test/my-pack");
  assert.deepEqual(py.requirements, [{
    text: "opencv-python>=4",
    where: "pyproject.toml [project] dependencies[0]",
  }]);
  assert.deepEqual(py.licenseFiles.map((l) => l.path), ["LICENSE"]);
  assert.throws(
    () =>
      readPackMeta(
        files([{ path: "requirements.txt", content: "-r missing.txt\n" }]),
      ),
    /includes "missing.txt", which the pack does not hold/,
  );
});

Deno.test("scanHazards() finds install scripts, pip from code, import-time downloads and writes into the pack", () => {
  const found = scanHazards(files(hazardousPack())).map((h) =>
    `${h.file}:${h.line} ${h.kind}`
  );
  assert.deepEqual(found, [
    "__init__.py:11 pip",
    "__init__.py:14 download",
    "__init__.py:17 writes-pack",
    "__init__.py:18 writes-pack",
    "install.py:1 install-script",
    "install.py:2 pip",
  ]);
  // Advice printed to the user, a download inside a function, a write elsewhere: not findings.
  assert.deepEqual(
    scanHazards(files([{
      path: "a.py",
      content: `print("run pip install x")
def f():
    urllib.request.urlretrieve(u, "/tmp/x")
    open("/tmp/out.txt", "w")
"""
subprocess.run(["pip", "install", "x"])
"""
`,
    }])),
    [],
  );
  assert.deepEqual(scanHazards(files(pyprojectPack("clean", "1.0.0", []))), []);
  // Scopes: a function's own binding ends with it, a parameter hides an outer name, a
  // module-level binding reaches into functions, an attribute of the same name is not it.
  const scoped = scanHazards(files([{
    path: "s.py",
    content: `import os
BASE = os.path.dirname(__file__)
def load():
    here = os.path.dirname(__file__)
    return open(os.path.join(here, "x.json")).read()
def save(here, data, BASE=None):
    open(os.path.join(here, "out.txt"), "w")
    open(os.path.join(BASE, "out.txt"), "w")
def cache():
    self.BASE = "/tmp"
    open(self.BASE + "/c", "w")
    os.makedirs(os.path.join(BASE, "cache"))
`,
  }]));
  assert.deepEqual(scoped.map((h) => `${h.line} ${h.kind}`), [
    "12 writes-pack",
  ]);
});

Deno.test({
  name:
    "the kit's NAR hash of each real pack equals Nix's (README and nix-hash)",
  ignore: !haveRealNodes() || !NIX,
  fn: async () => {
    const want = await realNodeHashes();
    assert.equal(want.size, 3);
    for (const [file, sri] of want) {
      const pack = await readPackArchive(join(REAL_NODES, file));
      assert.equal(pack.hash, sri, file);
      await using dir = await tmp();
      assert.equal(
        (await run("tar", ["xzf", join(REAL_NODES, file), "-C", dir.path]))
          .code,
        0,
      );
      const top = [...Deno.readDirSync(dir.path)][0]!.name;
      const r = await run("nix-hash", [
        "--type",
        "sha256",
        join(dir.path, top),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), sriHex(sri), `nix-hash ${file}`);
      // The unpacked folder, as a local SPEC, pins the same hash.
      assert.equal(
        (await readPackDir(join(dir.path, top))).hash,
        sri,
        `folder of ${file}`,
      );
    }
  },
});

Deno.test({
  name:
    "deno task add-node PACK.tar.gz --source github:… writes what the real packs' metadata says",
  ignore: !haveRealNodes() || !NIX,
  fn: async () => {
    // The offline index lacks imageio-ffmpeg (nixpkgs has it): this repository stands in.
    await using repo = await scratchRepo({ "imageio-ffmpeg": "0.6.0" });
    const rev = "993082e4f2473bf4acaf06f51e33877a7eb38960";
    const r = await addNode(repo.path, [
      join(REAL_NODES, VHS),
      "--source",
      `github:Kosinkadink/ComfyUI-VideoHelperSuite@${rev}`,
      "--nixpkgs-index",
      repo.index,
      "--yes",
      "--accept-hazards",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui-node-comfyui-videohelpersuite.nix"),
    );
    // [project] name, version, description, Repository URL; the GPL-3.0 LICENSE text.
    assert.match(text, /pname = "comfyui-node-comfyui-videohelpersuite";/);
    assert.match(text, /version = "1\.7\.9";/);
    assert.match(text, /description = "Nodes related to video workflows";/);
    assert.match(
      text,
      /homepage = "https:\/\/github\.com\/Kosinkadink\/ComfyUI-VideoHelperSuite";/,
    );
    assert.match(text, /license = licenses\.gpl3/);
    assert.match(text, new RegExp(`rev = "${rev}";`));
    assert.match(
      text,
      /hash = "sha256-oII4aAK8O44MBaxOATG7tAXmF1ESRm7nacNmj1E3pE8=";/,
    );
    assert.match(text, /comfyuiNodeName = "ComfyUI-VideoHelperSuite";/);
    // Both requirement sources, merged; opencv-python is nixpkgs' opencv-python-headless? No:
    // whatever attribute the index gives it, and imageio-ffmpeg from the index.
    assert.match(text, /python3\.pkgs\.imageio-ffmpeg/);
    assert.match(text, /python3\.pkgs\.opencv/);
    assert.match(
      text,
      /opencv-python \(pyproject\.toml \[project\] dependencies\[0\], requirements\.txt:1\)/,
    );
    for (const system of SYSTEMS) {
      const main = await evaluateNodes(
        join(repo.path, ".flox/pkgs"),
        repo.index,
        system,
      );
      const vhs = main.customNodes.find((n) =>
        n.name === "ComfyUI-VideoHelperSuite"
      )!;
      assert.equal(vhs.drvName, "comfyui-node-comfyui-videohelpersuite-1.7.9");
      assert.ok(vhs.pythonDependencies.includes("imageio-ffmpeg"));
      for (const d of vhs.pythonDependencies) {
        assert.ok(
          main.pythonEnvModules.includes(d),
          `${d} in ComfyUI's environment (${system})`,
        );
      }
    }
    // The default index lacks imageio-ffmpeg: --missing list (the default) stops, nothing written.
    await using bare = await scratchRepo();
    const before = await Deno.readTextFile(
      join(bare.path, ".flox/pkgs/comfyui.nix"),
    );
    const missing = await addNode(bare.path, [
      join(REAL_NODES, VHS),
      "--source",
      `github:Kosinkadink/ComfyUI-VideoHelperSuite@${rev}`,
      "--nixpkgs-index",
      bare.index,
      "--yes",
      "--accept-hazards",
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /deno task new-package imageio-ffmpeg/);
    assert.equal(
      await Deno.readTextFile(join(bare.path, ".flox/pkgs/comfyui.nix")),
      before,
    );
  },
});

Deno.test({
  name:
    "deno task add-node registry:ID fetches node.zip (no top directory: stripRoot = false) and evaluates",
  ignore: !NIX,
  fn: async () => {
    await using server = await startServer();
    const flat = nodeZip(
      pyprojectPack("flat-pack", "1.0.0", ["torch", "pyyaml>=5", "imageio>=2"]),
    );
    const nested = nodeZip(
      pyprojectPack("nested-pack", "2.0.0", []),
      "nested-pack",
    );
    const registry = mountRegistry(server, {
      "flat-pack": [{ version: "1.1.0", zip: flat }, {
        version: "1.0.0",
        zip: flat,
      }],
      "nested-pack": [{ version: "2.0.0", zip: nested, deprecated: true }],
    });
    await using repo = await scratchRepo();
    const env = { COMFYKIT_REGISTRY_URL: registry };
    const r = await addNode(repo.path, [
      "registry:flat-pack@1.0.0",
      "--nixpkgs-index",
      repo.index,
      "--yes",
    ], env);
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui-node-flat-pack.nix"),
    );
    assert.match(
      text,
      /fetchzip \{\n {4}url = "[^"]+\/registry\/cdn\/flat-pack\/1\.0\.0\/node\.zip";/,
    );
    assert.match(text, /stripRoot = false;/);
    assert.match(text, /version = "1\.0\.0";/);
    assert.match(
      text,
      /torch \(pyproject\.toml \[project\] dependencies\[0\]\): ComfyUI's own torch/,
    );
    assert.match(
      text,
      /pythonDependencies = \[\n {4}python3\.pkgs\.imageio\n {2}\];/,
      text,
    );
    assert.match(r.stderr, /torch .*satisfied by ComfyUI's own torch/);
    assert.match(r.stderr, /pyyaml>=5 .*satisfied by ComfyUI's own pyyaml/);
    // The pin is the NAR hash of the unpacked zip, as nix-hash computes it.
    await using unpacked = await tmp();
    await Deno.writeFile(join(unpacked.path, "node.zip"), flat);
    const out = join(unpacked.path, "out");
    assert.equal(
      (await run("python3", [
        "-m",
        "zipfile",
        "-e",
        join(unpacked.path, "node.zip"),
        out,
      ])).code,
      0,
    );
    const nar = await run("nix-hash", ["--type", "sha256", out]);
    assert.equal(nar.code, 0, nar.stderr);
    assert.equal(
      sriHex(text.match(/hash = "([^"]+)"/)![1]!),
      nar.stdout.trim(),
    );
    // The latest version without @VERSION; a single top directory keeps fetchzip's stripRoot.
    const n = await addNode(repo.path, [
      "registry:nested-pack",
      "--nixpkgs-index",
      repo.index,
      "--yes",
    ], env);
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stderr, /deprecated/);
    const nestedText = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui-node-nested-pack.nix"),
    );
    assert.doesNotMatch(nestedText, /stripRoot/);
    const main = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui.nix"),
    );
    assert.match(
      main,
      /\n, comfyui-node-flat-pack\n, comfyui-node-nested-pack\n\}:/,
    );
    assert.match(
      main,
      / {4}comfyui-node-flat-pack\n {4}comfyui-node-nested-pack\n {2}\];/,
    );
    for (const system of SYSTEMS) {
      const ev = await evaluateNodes(
        join(repo.path, ".flox/pkgs"),
        repo.index,
        system,
      );
      assert.deepEqual(
        ev.customNodes.map((c) => c.name).filter((c) => c.endsWith("-pack")),
        ["flat-pack", "nested-pack"],
      );
      assert.ok(ev.pythonEnvModules.includes("imageio"));
      assert.equal(
        ev.pythonEnvModules.filter((m) => m === "torch").length,
        1,
        "one torch",
      );
    }
    // Again: unchanged; a missing node is one line.
    const again = await addNode(repo.path, [
      "registry:flat-pack@1.0.0",
      "--nixpkgs-index",
      repo.index,
      "--yes",
    ], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged/);
    // A pack for a newer ComfyUI or another Python: added, warned about, noted in its file.
    const future = pyprojectPack("future-pack", "1.0.0", []).map((f) =>
      f.path === "pyproject.toml"
        ? {
          ...f,
          content: (f.content as string)
            .replace(
              'requires-comfyui = ">=0.3.0"',
              'requires-comfyui = ">=0.4.0"',
            )
            .replace(
              "[project.urls]",
              'requires-python = "<3.10"\n\n[project.urls]',
            ),
        }
        : f
    );
    server.route(
      "GET",
      /^\/registry\/nodes\/future-pack\/install$/,
      () =>
        new Response(JSON.stringify({
          id: "future-pack",
          version: "1.0.0",
          downloadUrl: `${server.url}/future.zip`,
        })),
    );
    server.route(
      "GET",
      /^\/future\.zip$/,
      () => new Response(nodeZip(future) as BodyInit),
    );
    const fut = await addNode(repo.path, [
      "registry:future-pack",
      "--nixpkgs-index",
      repo.index,
      "--yes",
    ], {
      COMFYKIT_REGISTRY_URL: `${server.url}/registry`,
    });
    assert.equal(fut.code, 0, fut.stderr);
    assert.match(
      fut.stderr,
      /requires-comfyui ">=0\.4\.0" excludes the pinned ComfyUI 0\.3\.75/,
    );
    assert.match(
      fut.stderr,
      /requires-python "<3\.10" excludes nixpkgs' python3 3\.\d+/,
    );
    assert.match(
      await Deno.readTextFile(
        join(repo.path, ".flox/pkgs/comfyui-node-future-pack.nix"),
      ),
      /^# WARNING: \[tool\.comfy\] requires-comfyui ">=0\.4\.0" excludes the pinned ComfyUI 0\.3\.75$/m,
    );
    const none = await addNode(repo.path, ["registry:nope", "--yes"], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: The Comfy Registry has no node "nope"/m);
  },
});

Deno.test({
  name:
    "deno task add-node refuses hazards with --yes (nothing written), records them with --accept-hazards",
  ignore: !NIX,
  fn: async () => {
    await using server = await startServer();
    const registry = mountRegistry(server, {
      "risky": [{ version: "0.1.0", zip: nodeZip(hazardousPack()) }],
    });
    await using repo = await scratchRepo();
    const env = { COMFYKIT_REGISTRY_URL: registry };
    const file = join(repo.path, ".flox/pkgs/comfyui-node-risky.nix");
    const refused = await addNode(repo.path, [
      "registry:risky",
      "--nixpkgs-index",
      repo.index,
      "--yes",
    ], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /install\.py:1: install-script/);
    assert.match(refused.stderr, /__init__\.py:11: pip/);
    assert.match(refused.stderr, /error: Refused: 6 hazard finding\(s\)/);
    await assert.rejects(Deno.stat(file));
    const ok = await addNode(repo.path, [
      "registry:risky",
      "--nixpkgs-index",
      repo.index,
      "--yes",
      "--accept-hazards",
      "--json",
    ], env);
    assert.equal(ok.code, 0, ok.stderr);
    const result = JSON.parse(ok.stdout);
    assert.equal(result.action, "written");
    assert.equal(result.hazards.length, 6);
    assert.deepEqual(result.unpinnable.map((u: { where: string }) => u.where), [
      "requirements.txt:6",
      "requirements.txt:7",
    ]);
    const text = await Deno.readTextFile(file);
    assert.match(
      text,
      /# Hazards \(static scan\): 6 found\n# {3}__init__\.py:11: pip: /,
    );
    assert.match(text, /# Decision: accepted with --accept-hazards/);
    assert.match(
      text,
      /# {3}requirements\.txt:6: git\+https:\/\/github\.com\/example\/thing\.git: a URL/,
    );
    // numpy is ComfyUI's; colorama only on Windows; imageio and the -r include's opencv added.
    assert.match(
      text,
      /pythonDependencies = \[\n {4}python3\.pkgs\.imageio\n {4}python3\.pkgs\.opencv-python-headless\n {2}\];/,
    );
    for (const system of SYSTEMS) {
      const ev = await evaluateNodes(
        join(repo.path, ".flox/pkgs"),
        repo.index,
        system,
      );
      assert.deepEqual(
        ev.customNodes.find((c) => c.name === "risky")!.pythonDependencies,
        ["imageio", "opencv-python-headless"],
      );
    }
    // remove-node takes it out again, file and wiring (deno.json's permissions).
    await using home = await tmp();
    const rm = await run(Deno.execPath(), [
      ...await taskArgs("remove-node", home.path),
      "risky",
      "--yes",
    ], { cwd: repo.path });
    assert.equal(rm.code, 0, rm.stderr);
    await assert.rejects(Deno.stat(file));
    assert.doesNotMatch(
      await Deno.readTextFile(join(repo.path, ".flox/pkgs/comfyui.nix")),
      /comfyui-node-risky/,
    );
  },
});

Deno.test({
  name:
    "deno task add-node github:OWNER/REPO@REF pins a tag as tag =, a branch as its commit",
  ignore: !NIX,
  fn: async () => {
    await using server = await startServer();
    const pack = pyprojectPack("gh-pack", "3.0.0", []);
    const head = fakeCommit("gh-pack main");
    const gh = mountGithub(server, [{
      owner: "tester",
      repo: "GH-Pack",
      tags: [{ name: "v3.0.0", commit: fakeCommit("gh-pack v3") }],
      branches: [{ name: "main", commit: head }],
      archives: {
        "v3.0.0": await buildArchive("GH-Pack", "v3.0.0", pack),
        [head]: await buildArchive("GH-Pack", head, pack),
      },
    }]);
    const env = {
      COMFYKIT_GITHUB_URL: gh.url,
      COMFYKIT_GITHUB_API_URL: gh.apiUrl,
    };
    await using repo = await scratchRepo();
    const r = await addNode(repo.path, [
      "github:tester/GH-Pack@v3.0.0",
      "--yes",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(r.code, 0, r.stderr);
    const file = join(repo.path, ".flox/pkgs/comfyui-node-gh-pack.nix");
    let text = await Deno.readTextFile(file);
    assert.match(text, /tag = "v3\.0\.0";/);
    assert.match(text, /version = "3\.0\.0";/);
    assert.match(text, /comfyuiNodeName = "GH-Pack";/);
    const again = await addNode(repo.path, [
      "github:tester/GH-Pack@main",
      "--yes",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists: run with --force/);
    const forced = await addNode(repo.path, [
      "github:tester/GH-Pack@main",
      "--yes",
      "--force",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /main is a branch .* pinned as its commit/);
    text = await Deno.readTextFile(file);
    assert.match(text, new RegExp(`rev = "${head}";`));
    // A local copy of the same archive with --source needs no network and pins the same hash.
    await using local = await scratchRepo();
    const tgz = join(local.path, "pack.tar.gz");
    await Deno.writeFile(
      tgz,
      await buildTarGz(
        pack.map((f) => ({ ...f, path: `GH-Pack-x/${f.path}` })),
      ),
    );
    const offline = await addNode(local.path, [
      tgz,
      "--source",
      `github:tester/GH-Pack@${head}`,
      "--yes",
      "--nixpkgs-index",
      local.index,
    ]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(
      (await Deno.readTextFile(
        join(local.path, ".flox/pkgs/comfyui-node-gh-pack.nix"),
      )).match(/hash = "[^"]+"/)![0],
      text.match(/hash = "[^"]+"/)![0],
    );
    // The same repository under another id would load a second copy into the folder GH-Pack.
    const clash = await addNode(local.path, [
      tgz,
      "--source",
      `github:tester/GH-Pack@${head}`,
      "--id",
      "other",
      "--yes",
      "--nixpkgs-index",
      local.index,
    ]);
    assert.equal(clash.code, 1);
    assert.match(
      clash.stderr,
      /comfyui-node-gh-pack\.nix already loads a pack into the folder "GH-Pack"/,
    );
    // Bad input: one line, exit 1 or 2.
    const noSource = await addNode(local.path, [tgz, "--yes"]);
    assert.equal(noSource.code, 1);
    assert.match(noSource.stderr, /^error: A local pack needs --source/m);
    const usage = await addNode(local.path, ["--yes"]);
    assert.equal(usage.code, 2);
  },
});

Deno.test(
  "the repository's node packs are the ones add-node writes from ../shared/real-nodes",
  {
    ignore: !haveRealNodes(),
  },
  async () => {
    // Regenerate each pack's file from its real archive in a scratch copy: byte for byte.
    const packs: [string, string, string[]][] = [
      [CUSTOM_SCRIPTS, "comfyui-custom-scripts", ["--accept-hazards"]],
      [ANIMATEDIFF, "comfyui-animatediff-evolved", []],
    ];
    for (const [file, id, extra] of packs) {
      await using repo = await scratchRepo();
      const path = `.flox/pkgs/comfyui-node-${id}.nix`;
      const committed = await Deno.readTextFile(join(ROOT, path));
      await Deno.remove(join(repo.path, path));
      const source = committed.match(/--source (github:\S+?)`/)![1]!;
      const r = await addNode(repo.path, [
        join(REAL_NODES, file),
        "--source",
        source,
        "--yes",
        ...extra,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        await Deno.readTextFile(join(repo.path, path)),
        committed,
        path,
      );
    }
  },
);

Deno.test({
  name:
    "deno task add-node in a real terminal: hazards shown, asked, declined then accepted",
  ignore: !haveTool("tmux"),
  fn: async () => {
    await using repo = await scratchRepo();
    // A private tmux server: the shared one carries other sessions' environment (INIT_CWD) and
    // may be restarted by them.
    await using sockets = await tmp();
    // Kept open so the server does not exit (and race a new session) between the two runs.
    await using _anchor = await tmuxSession("addnode-anchor", "sleep 300", {
      socketDir: sockets.path,
    });
    const zip = join(repo.path, "risky.zip");
    await Deno.writeFile(zip, nodeZip(hazardousPack()));
    const file = join(repo.path, ".flox/pkgs/comfyui-node-risky.nix");
    // deno.json's own command line for the task (its permissions), run in the scratch
    // repository: `deno task --config` would run it in the kit's folder instead.
    await using home = await tmp();
    const argv = [Deno.execPath(), ...await taskArgs("add-node", home.path)]
      .map((a) => `'${a}'`).join(" ");
    const command = (n: number) =>
      `cd ${repo.path} && export INIT_CWD=${repo.path} NO_COLOR=1 && ${argv} risky.zip --source registry:risky@0.1.0 --url https://example.com/risky.zip --nixpkgs-index ${repo.index}; echo "RC${n}=$?"; sleep 60`;
    await assert.rejects(Deno.stat(file));
    for (const [n, answer, rc] of [[1, "n", 1], [2, "y", 0]] as const) {
      await using t = await tmuxSession("addnode", command(n), {
        height: 50,
        socketDir: sockets.path,
      });
      const screen = await t.waitFor(/Add the pack anyway/);
      assert.match(screen, /install\.py:1: install-script/);
      assert.match(screen, /__init__\.py:14: download/);
      await t.keys(answer, "Enter");
      const end = await t.waitFor(new RegExp(`RC${n}=\\d`));
      assert.match(end, new RegExp(`RC${n}=${rc}`), end);
      if (n === 1) await assert.rejects(Deno.stat(file)); // declined: nothing written
    }
    const text = await Deno.readTextFile(file);
    assert.match(
      text,
      /# Decision: accepted interactively \(6 finding\(s\) above\)/,
    );
    assert.match(text, /url = "https:\/\/example\.com\/risky\.zip";/);
    // Written in the scratch repository only, never in the kit's own.
    await assert.rejects(
      Deno.stat(join(ROOT, ".flox/pkgs/comfyui-node-risky.nix")),
    );
  },
});

Deno.test({
  name:
    "deno task add-node --from-workflow adds the packs a workflow (JSON or PNG) uses",
  ignore: !NIX,
  fn: async () => {
    await using server = await startServer();
    const commit = fakeCommit("git-pack main");
    const ghPack = pyprojectPack("git-pack", "0.9.0", []);
    const gh = mountGithub(server, [{
      owner: "tester",
      repo: "Git-Pack",
      archives: { [commit]: await buildArchive("Git-Pack", commit, ghPack) },
    }]);
    const registry = mountRegistry(server, {
      "flat-pack": [{
        version: "1.0.0",
        zip: nodeZip(pyprojectPack("flat-pack", "1.0.0", [])),
      }],
    }, { "git-pack": "https://github.com/tester/Git-Pack" });
    const env = {
      COMFYKIT_REGISTRY_URL: registry,
      COMFYKIT_GITHUB_URL: gh.url,
      COMFYKIT_GITHUB_API_URL: gh.apiUrl,
    };
    const node = (
      id: number,
      type: string,
      properties: Record<string, unknown>,
    ) => ({
      id,
      type,
      properties,
      widgets_values: [],
    });
    const workflow = {
      version: 0.4,
      nodes: [
        node(1, "KSampler", { cnr_id: "comfy-core", ver: "0.3.75" }),
        node(2, "FlatNode", { cnr_id: "flat-pack", ver: "1.0.0" }),
        node(3, "sub-1", {}),
      ],
      definitions: {
        subgraphs: [{
          id: "sub-1",
          name: "inner",
          nodes: [
            node(4, "GitNode", { cnr_id: "git-pack", ver: commit }),
            node(5, "AuxNode", { aux_id: "nobody/Unversioned" }),
          ],
        }],
      },
    };
    await using repo = await scratchRepo();
    const wf = join(repo.path, "wf.json");
    await Deno.writeTextFile(wf, JSON.stringify(workflow));
    const dry = await addNode(repo.path, [
      "--from-workflow",
      "wf.json",
      "--dry-run",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(dry.code, 1, dry.stderr); // one pack cannot be pinned
    assert.match(
      dry.stderr,
      /flat-pack \(FlatNode\): add registry:flat-pack@1\.0\.0/,
    );
    assert.match(
      dry.stderr,
      new RegExp(
        `git-pack \\(GitNode\\): add github:tester/Git-Pack@${commit} \\(saved from a git checkout`,
      ),
    );
    assert.match(
      dry.stderr,
      /nobody\/Unversioned \(AuxNode\): cannot be pinned/,
    );
    await assert.rejects(
      Deno.stat(join(repo.path, ".flox/pkgs/comfyui-node-flat-pack.nix")),
    );
    // A PNG ComfyUI saved, with the same workflow in its text chunk.
    const png = join(repo.path, "wf.png");
    await Deno.writeFile(
      png,
      pngWith([{
        kind: "tEXt",
        keyword: "workflow",
        text: JSON.stringify(workflow),
      }]),
    );
    const r = await addNode(repo.path, [
      "--from-workflow",
      "wf.png",
      "--yes",
      "--json",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(r.code, 1, r.stderr); // the unversioned pack
    const result = JSON.parse(r.stdout);
    assert.deepEqual(
      result.packs.map((
        p: { pack: string; result?: { action: string } },
      ) => [p.pack, p.result?.action]),
      [["nobody/Unversioned", undefined], ["flat-pack", "written"], [
        "git-pack",
        "written",
      ]],
      r.stdout,
    );
    const git = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui-node-git-pack.nix"),
    );
    assert.match(git, new RegExp(`rev = "${commit}";`));
    // Run again: both are present now, nothing is downloaded or asked.
    const again = await addNode(repo.path, [
      "--from-workflow",
      "wf.json",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.match(
      again.stderr,
      /flat-pack \(FlatNode\): already in \.flox\/pkgs\/comfyui-node-flat-pack\.nix/,
    );
    assert.match(
      again.stderr,
      /git-pack \(GitNode\): already in \.flox\/pkgs\/comfyui-node-git-pack\.nix/,
    );
  },
});

Deno.test({
  name:
    "deno task add-node --dry-run writes nothing, --vendor builds from .flox/sources, --missing create packages a requirement",
  ignore: !NIX,
  fn: async () => {
    await using server = await startServer();
    mountPypi(server, [{
      name: "tiny-lib",
      version: "1.0",
      files: [
        wheelFile({
          name: "tiny-lib",
          version: "1.0",
          license: "MIT",
          packages: ["tiny_lib"],
        }),
      ],
    }]);
    const registry = mountRegistry(server, {
      "needs-tiny": [{
        version: "1.0.0",
        zip: nodeZip(pyprojectPack("needs-tiny", "1.0.0", ["tiny-lib>=1"])),
      }],
    });
    const env = {
      COMFYKIT_REGISTRY_URL: registry,
      COMFYKIT_PYPI_URL: server.url,
    };
    await using repo = await scratchRepo();
    const mainBefore = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui.nix"),
    );
    const file = join(repo.path, ".flox/pkgs/comfyui-node-needs-tiny.nix");
    // --dry-run: the diff, nothing on disk (tiny-lib is missing: create shows it too).
    const dry = await addNode(repo.path, [
      "registry:needs-tiny",
      "--yes",
      "--dry-run",
      "--missing",
      "create",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\+\+\+ .*comfyui-node-needs-tiny\.nix/);
    assert.match(
      dry.stdout,
      /would write \.flox\/pkgs\/comfyui-node-needs-tiny\.nix/,
    );
    await assert.rejects(Deno.stat(file));
    await assert.rejects(Deno.stat(join(repo.path, ".flox/pkgs/tiny-lib.nix")));
    assert.equal(
      await Deno.readTextFile(join(repo.path, ".flox/pkgs/comfyui.nix")),
      mainBefore,
    );
    // --missing create: new-package writes tiny-lib (unwired from comfyui.nix), the pack takes it.
    const r = await addNode(repo.path, [
      "registry:needs-tiny",
      "--yes",
      "--missing",
      "create",
      "--nixpkgs-index",
      repo.index,
    ], env);
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(file);
    assert.match(text, /^, tiny-lib$/m);
    assert.match(text, /pythonDependencies = \[\n {4}tiny-lib\n {2}\];/);
    const tiny = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/tiny-lib.nix"),
    );
    assert.match(tiny, /pname = "tiny-lib";/);
    assert.doesNotMatch(
      await Deno.readTextFile(join(repo.path, ".flox/pkgs/comfyui.nix")),
      /^, tiny-lib$/m,
    );
    for (const system of SYSTEMS) {
      const ev = await evaluateNodes(
        join(repo.path, ".flox/pkgs"),
        repo.index,
        system,
      );
      assert.deepEqual(
        ev.customNodes.find((c) => c.name === "needs-tiny")!.pythonDependencies,
        ["tiny-lib"],
      );
      assert.ok(ev.pythonEnvModules.includes("tiny-lib"));
    }
    // --vendor: a local GitHub archive copied into .flox/sources, recorded, built from there.
    const pack = pyprojectPack("vend-pack", "2.0.0", []);
    const commit = fakeCommit("vend-pack");
    const tgz = join(repo.path, "vend.tar.gz");
    await Deno.writeFile(tgz, await buildArchive("Vend-Pack", commit, pack));
    const v = await addNode(repo.path, [
      tgz,
      "--source",
      `github:tester/Vend-Pack@${commit}`,
      "--vendor",
      "--yes",
      "--nixpkgs-index",
      repo.index,
    ]);
    assert.equal(v.code, 0, v.stderr);
    const vendFile = `Vend-Pack-${commit}.tar.gz`;
    const vend = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui-node-vend-pack.nix"),
    );
    assert.match(
      vend,
      new RegExp(`src = \\.\\./\\.\\./\\.flox/sources/${vendFile};`),
    );
    assert.deepEqual(
      await Deno.readFile(join(repo.path, ".flox/sources", vendFile)),
      await Deno.readFile(tgz),
    );
    const manifest = JSON.parse(
      await Deno.readTextFile(join(repo.path, "sources-manifest.json")),
    );
    const entry = manifest.sources.find((e: { file: string }) =>
      e.file === vendFile
    );
    assert.equal(entry.kind, "github");
    assert.equal(entry.rev, commit);
    assert.match(entry.nar, /^sha256-/);
    assert.match(
      await Deno.readTextFile(join(repo.path, ".flox/sources/SHA256SUMS.txt")),
      new RegExp(`^${entry.sha256}  ${vendFile}$`, "m"),
    );
    // A vendored Registry zip without a top folder: unzip, and a folder made to unpack into.
    const zipPath = join(repo.path, "flat.zip");
    await Deno.writeFile(
      zipPath,
      nodeZip(pyprojectPack("zip-pack", "1.0.0", [])),
    );
    const z = await addNode(repo.path, [
      zipPath,
      "--source",
      "registry:zip-pack@1.0.0",
      "--vendor",
      "--yes",
      "--nixpkgs-index",
      repo.index,
    ]);
    assert.equal(z.code, 0, z.stderr);
    const zipText = await Deno.readTextFile(
      join(repo.path, ".flox/pkgs/comfyui-node-zip-pack.nix"),
    );
    assert.match(
      zipText,
      /src = \.\.\/\.\.\/\.flox\/sources\/zip-pack-1\.0\.0\.zip;/,
    );
    assert.match(
      zipText,
      /nativeBuildInputs = \[ unzip \];\n {2}unpackCmd = "mkdir source && unzip -q \$curSrc -d source";/,
    );
    assert.match(zipText, /^, unzip$/m);
    const zipEntry = JSON.parse(
      await Deno.readTextFile(join(repo.path, "sources-manifest.json")),
    )
      .sources.find((e: { file: string }) => e.file === "zip-pack-1.0.0.zip");
    assert.equal(zipEntry.kind, "url");
    assert.equal(
      zipEntry.url,
      "https://cdn.comfy.org/tester/zip-pack/1.0.0/node.zip",
    );
    for (const system of SYSTEMS) {
      const ev = await evaluateNodes(
        join(repo.path, ".flox/pkgs"),
        repo.index,
        system,
      );
      assert.ok(ev.customNodes.some((c) => c.name === "Vend-Pack"));
      assert.ok(ev.customNodes.some((c) => c.name === "zip-pack"));
    }
  },
});

Deno.test({
  name:
    "deno task add-node --from-workflow in a real terminal: the packs listed, then added on confirmation",
  ignore: !haveTool("tmux"),
  fn: async () => {
    await using server = await startServer();
    const registry = mountRegistry(server, {
      "flat-pack": [{
        version: "1.0.0",
        zip: nodeZip(pyprojectPack("flat-pack", "1.0.0", [])),
      }],
    });
    await using repo = await scratchRepo();
    await Deno.writeTextFile(
      join(repo.path, "wf.json"),
      JSON.stringify({
        nodes: [{
          id: 1,
          type: "FlatNode",
          properties: { cnr_id: "flat-pack", ver: "1.0.0" },
        }],
      }),
    );
    await using sockets = await tmp();
    await using home = await tmp();
    const argv = [Deno.execPath(), ...await taskArgs("add-node", home.path)]
      .map((a) => `'${a}'`).join(" ");
    await using t = await tmuxSession(
      "addnode-wf",
      `cd ${repo.path} && export INIT_CWD=${repo.path} NO_COLOR=1 HOME=${home.path} COMFYKIT_REGISTRY_URL=${registry} && ${argv} --from-workflow wf.json --nixpkgs-index ${repo.index}; echo "RC=$?"; sleep 60`,
      { socketDir: sockets.path },
    );
    const screen = await t.waitFor(/Add 1 node pack\(s\)\?/);
    assert.match(
      screen,
      /flat-pack \(FlatNode\): add registry:flat-pack@1\.0\.0/,
    );
    await t.keys("y", "Enter");
    await t.waitFor(/RC=0/);
    assert.match(
      await Deno.readTextFile(
        join(repo.path, ".flox/pkgs/comfyui-node-flat-pack.nix"),
      ),
      /stripRoot = false;/,
    );
  },
});
