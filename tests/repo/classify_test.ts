import assert from "node:assert/strict";
import {
  classify,
  isProblem,
  specifierHolds,
} from "../../lib/repo/classify.ts";
import { indexLookup, parseNixpkgsIndex } from "../../lib/nix/nixpkgs_index.ts";
import { tmp } from "../_helpers.ts";

const INDEX = parseNixpkgsIndex(
  JSON.stringify({
    description: "stub index for tests",
    nixpkgs: {
      rev: "0123456789abcdef0123456789abcdef01234567",
      date: null,
      channel: null,
    },
    python3Packages: {
      numpy: "2.3.1",
      pyyaml: "6.0.2",
      opencv4: "4.11.0",
      "typing-extensions": "4.14.1",
      // Also in nixpkgs, but the repository's own file must win.
      "comfyui-workflow-templates": "0.1.0",
    },
  }),
  "stub-index.json",
);

const CUSTOM = `{ lib, python3, fetchurl }:

python3.pkgs.buildPythonPackage rec {
  pname = "comfyui-workflow-templates";
  version = "0.7.20";
  format = "wheel";
  src = ../sources/comfyui_workflow_templates-0.7.20-py3-none-any.whl;
  doCheck = false;
  meta.license = lib.licenses.mit;
}
`;

/** A stub repository: one custom package, one vendored source without a package file. */
async function stubRepo(root: string): Promise<void> {
  await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui-workflow-templates.nix`,
    CUSTOM,
  );
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/broken-pkg.nix`,
    "{ lib }: {{{ nonsense",
  );
  await Deno.writeTextFile(
    `${root}/sources-manifest.json`,
    JSON.stringify({
      version: 1,
      sources: [{
        name: "nunchaku",
        version: "0.16.1",
        kind: "pypi-wheel",
        file: "nunchaku-0.16.1-py3-none-any.whl",
        url:
          "https://files.pythonhosted.org/packages/py3/n/nunchaku/nunchaku-0.16.1-py3-none-any.whl",
        sha256: "0".repeat(64),
      }],
    }),
  );
}

Deno.test("classify() sorts packages into custom, vendored, nixpkgs and missing", async () => {
  await using dir = await tmp();
  await stubRepo(dir.path);
  const result = await classify([
    { name: "comfyui_workflow_templates", version: "0.7.20" },
    { name: "nunchaku", version: "0.16.1" },
    { name: "numpy", version: "2.3.1", specifier: ">=1.25.0" },
    { name: "PyYAML", version: "6.0.3" },
    { name: "opencv-python-headless", version: "4.12.0.88" },
    { name: "typing_extensions", version: "4.15.0", specifier: ">=4.15" },
    { name: "spandrel", version: "0.4.0" },
  ], { root: dir.path, nixpkgs: indexLookup(INDEX, "stub") });

  const [custom, vendored, numpy, pyyaml, opencv, te, spandrel] = result;
  assert.deepEqual(
    { ...custom, source: undefined },
    {
      name: "comfyui_workflow_templates",
      pin: "0.7.20",
      status: "custom",
      attr: "comfyui-workflow-templates",
      file: ".flox/pkgs/comfyui-workflow-templates.nix",
      version: "0.7.20",
      matches: true,
      source: undefined,
    },
  );
  assert.equal(vendored!.status, "vendored");
  assert.match(vendored!.problem!, /no \.flox\/pkgs\/ file uses it/);
  assert.equal(vendored!.fix, "deno task new-package nunchaku==0.16.1");

  assert.equal(numpy!.status, "nixpkgs");
  assert.deepEqual(numpy, {
    name: "numpy",
    pin: "2.3.1",
    specifier: ">=1.25.0",
    status: "nixpkgs",
    attr: "numpy",
    version: "2.3.1",
    satisfies: true,
  });
  // No specifier: any nixpkgs version is fine, even if it differs from the resolver's pin.
  assert.equal(pyyaml!.status, "nixpkgs");
  assert.equal(pyyaml!.status === "nixpkgs" && pyyaml!.satisfies, true);
  assert.equal(opencv!.status === "nixpkgs" && opencv!.attr, "opencv4");
  // A specifier nixpkgs does not meet is flagged.
  assert.equal(te!.status === "nixpkgs" && te!.satisfies, false);
  assert.match(
    te!.problem!,
    /nixpkgs has typing-extensions 4\.14\.1, which does not satisfy ">=4\.15"/,
  );
  assert.deepEqual(spandrel, {
    name: "spandrel",
    pin: "0.4.0",
    status: "missing",
    fix: "deno task new-package spandrel==0.4.0",
  });
  assert.deepEqual(result.map(isProblem), [
    false,
    true,
    false,
    false,
    false,
    true,
    true,
  ]);
});

Deno.test("classify() flags a custom package whose version differs, or cannot be read", async () => {
  await using dir = await tmp();
  await stubRepo(dir.path);
  const [c, broken] = await classify([
    { name: "comfyui-workflow-templates", version: "0.7.21" },
    { name: "broken-pkg", version: "1.0" },
  ], { root: dir.path, nixpkgs: indexLookup(INDEX, "stub") });
  assert.equal(c!.status === "custom" && c!.matches, false);
  assert.equal(
    c!.problem,
    ".flox/pkgs/comfyui-workflow-templates.nix has 0.7.20, the tree pins 0.7.21",
  );
  assert.equal(broken!.status, "custom");
  assert.match(
    broken!.problem!,
    /^cannot read the version of \.flox\/pkgs\/broken-pkg\.nix: /,
  );
});

Deno.test("classify() with a vendored source whose version differs from the pin", async () => {
  await using dir = await tmp();
  await stubRepo(dir.path);
  const [v] = await classify([{ name: "Nunchaku", version: "0.17" }], {
    root: dir.path,
    nixpkgs: indexLookup(INDEX, "stub"),
  });
  assert.equal(v!.status === "vendored" && v!.matches, false);
  assert.match(v!.problem!, /is 0\.16\.1, the tree pins 0\.17/);
});

Deno.test("specifierHolds() applies PEP 440", () => {
  assert.equal(specifierHolds("2.0.1", "~=2.0"), true);
  assert.equal(specifierHolds("3.0", "~=2.0"), false);
  assert.equal(specifierHolds("1.26.4", ">=1.25.0,<2"), true);
  assert.equal(specifierHolds("unstable-2024-01-01", ">=1"), false);
});
