// deno task sbom: a CycloneDX 1.6 document valid against the official schema (ajv), the same
// bytes on every run, every package with its purl, licence and vendored hash, nixpkgs parts with
// the lock's revision, node packs and locked models, the dependency graph, --deny-license.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  captureOutput,
  copyTree,
  ROOT,
  run,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import { cyclonedxErrors } from "../_fixtures/cyclonedx.ts";
import { main } from "../../tasks/sbom.ts";
import { isDenied, licenseAttrs, licenseOf } from "../../lib/sbom/licenses.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

const REV = "0123456789abcdef0123456789abcdef01234567";
const MODEL_SHA = "a".repeat(64);

/** A copy of this repository's package set with a lock, a node pack and a workflow lock. */
async function fixtureRepo(dir: string): Promise<void> {
  await copyTree(join(ROOT, ".flox/pkgs"), join(dir, ".flox/pkgs"));
  await Deno.mkdir(join(dir, ".flox/sources"), { recursive: true });
  await Deno.mkdir(join(dir, ".flox/env"), { recursive: true });
  await Deno.mkdir(join(dir, "workflows"));
  for (
    const f of [
      "sources-manifest.json",
      "nixpkgs-index.json",
      ".flox/sources/SHA256SUMS.txt",
    ]
  ) {
    await Deno.copyFile(join(ROOT, f), join(dir, f));
  }
  await Deno.writeTextFile(
    join(dir, ".flox/env/manifest.lock"),
    JSON.stringify({
      "lockfile-version": 1,
      packages: [{
        install_id: "deno",
        group: "toplevel",
        locked_url: `https://github.com/flox/nixpkgs?rev=${REV}`,
        rev: REV,
        system: "x86_64-linux",
      }],
    }),
  );
  // As add-node writes them (nodes branch, lib/add_node/render.ts), and as lock-workflow writes
  // its locks (docs/lock-workflow.md, lockVersion 1).
  await Deno.writeTextFile(
    join(dir, ".flox/pkgs/comfyui-node-comfyui-example.nix"),
    `{ lib
, stdenv
, python3
, fetchFromGitHub
, spandrel
}:

stdenv.mkDerivation {
  pname = "comfyui-node-comfyui-example";
  version = "1.2.0";

  src = fetchFromGitHub {
    owner = "someone";
    repo = "ComfyUI-Example";
    rev = "f2838ed5e59de4d73cde5c98354b87a8d3200190";
    hash = "sha256-0DgPrOFXOjQ4K1RKxLQdtGfJHbopP8iovoJqna8d+Gg=";
  };

  passthru = {
    comfyuiNodeName = "ComfyUI-Example";
    pythonDependencies = [
      python3.pkgs.opencv4
      spandrel
    ];
  };

  meta = with lib; {
    homepage = "https://github.com/someone/ComfyUI-Example";
    license = licenses.unfree;
    platforms = platforms.all;
  };
}
`,
  );
  await Deno.writeTextFile(
    join(dir, "workflows/flux.lock.json"),
    JSON.stringify(
      {
        lockVersion: 1,
        workflow: "flux.json",
        comfyui: {
          savedWith: "0.3.65",
          versions: ["0.3.65"],
          package: "0.3.75",
        },
        nodePacks: [
          { id: "comfyui-example", source: "registry", versions: ["1.2.0"] },
          {
            id: "comfyui-kjnodes",
            source: "registry",
            versions: ["1.1.0"],
            install: ["deno task add-node registry:comfyui-kjnodes@1.1.0"],
          },
        ],
        models: [{
          name: "flux1-dev.safetensors",
          directory: "diffusion_models",
          url:
            "https://huggingface.co/x/y/resolve/0123abc/flux1-dev.safetensors",
          sourceUrl:
            "https://huggingface.co/x/y/resolve/main/flux1-dev.safetensors",
          immutable: true,
          size: 12,
          sha256: MODEL_SHA,
          hashFrom: "lfs",
          huggingface: {
            repo: "x/y",
            kind: "models",
            path: "flux1-dev.safetensors",
            revision: "main",
            commit: "0123abc",
            gated: true,
            license: "apache-2.0",
          },
        }],
        unpinned: [{
          name: "clip_l.safetensors",
          directory: "text_encoders",
          reason: "named only in widgets_values",
        }],
      },
      null,
      2,
    ) + "\n",
  );
}

async function sbomIn(
  dir: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  await using home = await tmp();
  return await run(Deno.execPath(), [
    ...await taskArgs("sbom", home.path),
    ...args,
  ], {
    cwd: dir,
  });
}

Deno.test("sbom: this repository's document is valid CycloneDX 1.6 and byte-identical on re-run", async () => {
  const a = await sbomIn(ROOT);
  assert.equal(a.code, 0, a.stderr);
  const b = await sbomIn(ROOT);
  assert.equal(b.stdout, a.stdout);
  const doc: Doc = JSON.parse(a.stdout);
  assert.deepEqual(await cyclonedxErrors(doc), []);
  assert.equal(doc.specVersion, "1.6");
  assert.equal(doc.metadata.timestamp, undefined);
  assert.match(doc.serialNumber, /^urn:uuid:[0-9a-f-]{36}$/);
  const root = doc.metadata.component;
  assert.equal(root.name, "comfyui");
  assert.equal(root.purl, "pkg:github/comfy-org/comfyui@v0.3.75");
  const prop = (c: Doc, n: string) =>
    c.properties?.find((p: Doc) => p.name === n)?.value;
  assert.match(prop(root, "comfykit:nar-hash"), /^sha256-/);
  assert.deepEqual(root.licenses, [{ license: { id: "GPL-3.0-only" } }]);
  // Every custom package: purl, licence, the vendored file's hash from the manifest.
  const manifest = JSON.parse(
    await Deno.readTextFile(join(ROOT, "sources-manifest.json")),
  );
  const spandrel = doc.components.find((c: Doc) =>
    c["bom-ref"] === "flox:spandrel"
  );
  assert.equal(spandrel.purl, "pkg:pypi/spandrel@0.4.0");
  assert.deepEqual(spandrel.licenses, [{ license: { id: "MIT" } }]);
  assert.equal(
    spandrel.hashes[0].content,
    manifest.sources.find((s: Doc) => s.name === "spandrel").sha256,
  );
  const pkgs = [...Deno.readDirSync(join(ROOT, ".flox/pkgs"))].filter((e) =>
    e.name.endsWith(".nix") && e.name !== "comfyui.nix"
  );
  for (const e of pkgs) {
    const name = e.name.slice(0, -4);
    const ref = name.startsWith("comfyui-node-")
      ? `node:${name}`
      : `flox:${name}`;
    assert.ok(doc.components.some((c: Doc) => c["bom-ref"] === ref), ref);
  }
  // The graph: ComfyUI → spandrel → torch; build tools are scope "excluded".
  const deps = new Map(doc.dependencies.map((d: Doc) => [d.ref, d.dependsOn]));
  assert.ok((deps.get("comfyui") as string[]).includes("flox:spandrel"));
  // Node packs hang off ComfyUI through customNodes.
  for (const e of pkgs.filter((e) => e.name.startsWith("comfyui-node-"))) {
    const ref = `node:${e.name.slice(0, -4)}`;
    assert.ok((deps.get("comfyui") as string[]).includes(ref), ref);
  }
  assert.ok(
    (deps.get("flox:spandrel") as string[]).includes(
      "nixpkgs:python3Packages.torch",
    ),
  );
  const setuptools = doc.components.find((c: Doc) =>
    c["bom-ref"] === "nixpkgs:python3Packages.setuptools"
  );
  assert.equal(setuptools.scope, "excluded");
  const torch = doc.components.find((c: Doc) =>
    c["bom-ref"] === "nixpkgs:python3Packages.torch"
  );
  assert.equal(torch.scope, undefined);
  assert.ok(torch.version);
  // Every dependsOn names a component.
  const refs = new Set([
    root["bom-ref"],
    ...doc.components.map((c: Doc) => c["bom-ref"]),
  ]);
  for (const d of doc.dependencies) {
    for (const r of d.dependsOn) assert.ok(refs.has(r), r);
  }
});

Deno.test("sbom: node packs, the lock's nixpkgs revision and workflow models", async () => {
  await using dir = await tmp();
  await fixtureRepo(dir.path);
  const r = await captureOutput(() =>
    main(["--root", dir.path, "--output", join(dir.path, "bom.json")])
  );
  assert.equal(r.code, 0, r.stderr);
  const doc: Doc = JSON.parse(
    await Deno.readTextFile(join(dir.path, "bom.json")),
  );
  assert.deepEqual(await cyclonedxErrors(doc), []);
  const byRef = new Map(doc.components.map((c: Doc) => [c["bom-ref"], c]));
  const prop = (c: Doc, n: string) =>
    c.properties?.find((p: Doc) => p.name === n)?.value;
  assert.equal(prop(doc.metadata, "nixpkgs:rev"), REV);
  assert.equal(
    prop(byRef.get("nixpkgs:python3Packages.torch"), "nixpkgs:rev"),
    REV,
  );
  const node: Doc = byRef.get("node:comfyui-node-comfyui-example");
  assert.equal(
    node.purl,
    "pkg:github/someone/comfyui-example@f2838ed5e59de4d73cde5c98354b87a8d3200190",
  );
  assert.equal(node.version, "1.2.0");
  assert.deepEqual(node.licenses, [{ license: { name: "nixpkgs:unfree" } }]);
  assert.equal(
    prop(node, "comfykit:nar-hash"),
    "sha256-0DgPrOFXOjQ4K1RKxLQdtGfJHbopP8iovoJqna8d+Gg=",
  );
  const model: Doc = byRef.get(`model:${MODEL_SHA}`);
  assert.equal(model.type, "machine-learning-model");
  assert.deepEqual(model.hashes, [{ alg: "SHA-256", content: MODEL_SHA }]);
  assert.deepEqual(model.licenses, [{ license: { id: "Apache-2.0" } }]);
  assert.equal(prop(model, "comfyui:directory"), "diffusion_models");
  assert.equal(prop(model, "huggingface:commit"), "0123abc");
  assert.equal(prop(model, "huggingface:gated"), "true");
  const deps = new Map(doc.dependencies.map((d: Doc) => [d.ref, d.dependsOn]));
  const wf = deps.get("workflow:workflows/flux.lock.json") as string[];
  assert.deepEqual(wf, [
    "comfyui",
    `model:${MODEL_SHA}`,
    "node:comfyui-node-comfyui-example",
    "nodepack:comfyui-kjnodes@1.1.0",
  ]);
  // passthru.pythonDependencies: a nixpkgs package and a custom one.
  assert.deepEqual(deps.get("node:comfyui-node-comfyui-example"), [
    "flox:spandrel",
    "nixpkgs:python3Packages.opencv4",
  ]);
  const wfPart: Doc = byRef.get("workflow:workflows/flux.lock.json");
  assert.equal(
    prop(wfPart, "comfykit:unpinned-model:text_encoders/clip_l.safetensors"),
    "named only in widgets_values",
  );
  assert.equal(prop(wfPart, "comfyui:saved-with"), "0.3.65");
  assert.equal(
    prop(byRef.get("nodepack:comfyui-kjnodes@1.1.0"), "comfykit:install"),
    "deno task add-node registry:comfyui-kjnodes@1.1.0",
  );
});

Deno.test("sbom: --deny-license names the denied components and writes nothing", async () => {
  await using dir = await tmp();
  await fixtureRepo(dir.path);
  const r = await sbomIn(dir.path, [
    "--deny-license",
    "unfree,MIT",
    "--output",
    "bom.json",
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /denied licence: comfyui-node-comfyui-example 1\.2\.0 \(node:comfyui-node-comfyui-example\): nixpkgs:unfree/,
  );
  assert.match(
    r.stderr,
    /denied licence: spandrel 0\.4\.0 \(flox:spandrel\): MIT/,
  );
  assert.doesNotMatch(r.stderr, /\(comfyui\)/);
  await assert.rejects(Deno.stat(join(dir.path, "bom.json")));
  const ok = await sbomIn(dir.path, ["--deny-license", "AGPL-3.0-only"]);
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test("sbom: --timestamp adds one, the serial number stays; usage errors exit 2", async () => {
  await using dir = await tmp();
  await fixtureRepo(dir.path);
  const plain = await captureOutput(() =>
    main(["--root", dir.path, "--output", join(dir.path, "a.json")])
  );
  assert.equal(plain.code, 0);
  const stamped = await captureOutput(() =>
    main([
      "--root",
      dir.path,
      "--timestamp",
      "--output",
      join(dir.path, "b.json"),
    ])
  );
  assert.equal(stamped.code, 0);
  const a: Doc = JSON.parse(await Deno.readTextFile(join(dir.path, "a.json")));
  const b: Doc = JSON.parse(await Deno.readTextFile(join(dir.path, "b.json")));
  assert.match(b.metadata.timestamp, /^\d{4}-\d\d-\d\dT/);
  assert.equal(a.serialNumber, b.serialNumber);
  assert.deepEqual(await cyclonedxErrors(b), []);
  for (const args of [["extra"], ["--deny-license", ","], ["--nope"]]) {
    const r = await captureOutput(() => main(args));
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /^error: /);
  }
  const help = await captureOutput(() => main(["--help"]));
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--deny-license/);
});

Deno.test("sbom: a broken workflow lock is one error naming the file", async () => {
  await using dir = await tmp();
  await fixtureRepo(dir.path);
  await Deno.writeTextFile(
    join(dir.path, "workflows/bad.lock.json"),
    '{"models": 3}',
  );
  const r = await captureOutput(() => main(["--root", dir.path]));
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: workflows\/bad\.lock\.json: "models" must be a list/,
  );
  await Deno.writeTextFile(
    join(dir.path, "workflows/bad.lock.json"),
    '{"lockVersion": 2}',
  );
  const v = await captureOutput(() => main(["--root", dir.path]));
  assert.equal(v.code, 1);
  assert.match(v.stderr, /lockVersion 2 is not one this kit reads \(1\)/);
});

Deno.test("sbom: the schema validator rejects what CycloneDX 1.6 forbids", async () => {
  const base = { bomFormat: "CycloneDX", specVersion: "1.6", version: 1 };
  assert.deepEqual(await cyclonedxErrors({ ...base, components: [] }), []);
  assert.notDeepEqual(
    await cyclonedxErrors({
      ...base,
      components: [{
        type: "library",
        name: "x",
        licenses: [{ license: { id: "NOT-SPDX" } }],
      }],
    }),
    [],
  );
  assert.notDeepEqual(await cyclonedxErrors({ ...base, extra: 1 }), []);
});

Deno.test("sbom: nixpkgs licence names map to SPDX ids", () => {
  assert.deepEqual(licenseAttrs("licenses.mit"), ["mit"]);
  assert.deepEqual(licenseAttrs("lib.licenses.asl20"), ["asl20"]);
  assert.deepEqual(licenseAttrs("with licenses; [ mit bsd3 ]"), [
    "mit",
    "bsd3",
  ]);
  assert.deepEqual(licenseAttrs("[ licenses.gpl3Plus licenses.unfree ]"), [
    "gpl3Plus",
    "unfree",
  ]);
  assert.deepEqual(licenseOf("gpl3Plus"), { id: "GPL-3.0-or-later" });
  assert.deepEqual(licenseOf("psfl"), { id: "Python-2.0" });
  assert.deepEqual(licenseOf("asl20-llvm"), {
    expression: "Apache-2.0 WITH LLVM-exception",
  });
  assert.deepEqual(licenseOf("unfreeRedistributable"), {
    name: "nixpkgs:unfreeRedistributable",
  });
  assert.ok(isDenied({ id: "MIT" }, ["mit"]));
  assert.ok(isDenied({ name: "nixpkgs:unfree" }, ["unfree"]));
  assert.ok(!isDenied({ id: "MIT-0" }, ["MIT"]));
});
