import assert from "node:assert/strict";
import {
  DEFAULT_TEMPLATE,
  type PackageSpec,
  renderDeps,
  renderPackage,
  renderTemplate,
} from "../../lib/new_package/render.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { nixDescription } from "../../lib/new_package/package_plan.ts";
import { tmp } from "../_helpers.ts";
import { assertGolden, evalPackage, haveNix } from "./new_package_helpers.ts";

const template = await Deno.readTextFile(DEFAULT_TEMPLATE);

const SRI = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

const SPECS: Record<string, PackageSpec> = {
  // A pure wheel vendored into .flox/sources, no dependencies.
  "render-wheel-vendored.nix": {
    pname: "comfyui-workflow-templates-core",
    version: "0.3.10",
    format: "wheel",
    src: {
      kind: "vendored",
      file: "comfyui_workflow_templates_core-0.3.10-py3-none-any.whl",
    },
    dependencies: [],
    buildDependencies: [],
    customArgs: [],
    importNames: ["comfyui_workflow_templates_core"],
    description: "Core helpers for ComfyUI workflow templates",
    homepage: "https://pypi.org/project/comfyui-workflow-templates-core/",
    license: ["mit"],
  },
  // Custom package arguments, platform conditionals, a licence list with a note.
  "render-wheel-conditionals.nix": {
    pname: "fancy-kit",
    version: "2.0.1",
    format: "wheel",
    src: { kind: "vendored", file: "fancy_kit-2.0.1-py3-none-any.whl" },
    dependencies: [
      { attr: "torch" },
      { attr: "numpy" },
      { attr: "fancy-core" },
      { attr: "triton", systems: ["x86_64-linux", "aarch64-linux"] },
      { attr: "pyobjc-core", systems: ["aarch64-darwin", "x86_64-darwin"] },
      { attr: "nvidia-ml-py", systems: ["x86_64-linux"] },
      { attr: "numpy", systems: ["x86_64-linux"] },
    ],
    buildDependencies: [],
    customArgs: ["fancy-core"],
    importNames: ["fancy_kit", "fancy_kit.cli"],
    description: 'Fancy "kit"\nwith ${dollar} in it',
    homepage: "https://github.com/acme/fancy-kit",
    license: ["asl20", "mit"],
    licenseNote: "from the repository's LICENSE files; the metadata has none",
  },
  // An sdist with pyproject.toml through fetchPypi: pyproject = true with its build-system.
  "render-sdist-pypi.nix": {
    pname: "spandrel",
    version: "0.4.0",
    format: "pyproject",
    src: { kind: "pypi", file: "spandrel-0.4.0.tar.gz", sri: SRI },
    dependencies: [{ attr: "torch" }, { attr: "typing-extensions" }],
    buildDependencies: [{ attr: "setuptools" }],
    customArgs: [],
    importNames: ["spandrel"],
    description:
      "Give your project support for a variety of PyTorch model architectures",
    homepage: "https://github.com/chaiNNer-org/spandrel",
    changelog: "https://github.com/chaiNNer-org/spandrel/releases",
    license: ["mit"],
  },
  // A wheel through fetchPypi whose file name differs from pname, platform-limited.
  "render-wheel-pypi.nix": {
    pname: "some-ext",
    version: "1.0",
    format: "wheel",
    src: {
      kind: "pypi",
      file: "some_ext-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
      sri: SRI,
    },
    dependencies: [],
    buildDependencies: [],
    customArgs: [],
    importNames: [],
    description: "",
    homepage: "https://pypi.org/project/some-ext/",
    license: ["bsd3"],
    notes: ["Requires-Python >=3.12 excludes nixpkgs' python3 3.11"],
    platforms: ["x86_64-linux"],
  },
  // setup.py-only source from GitHub with a v-prefixed tag.
  "render-setuptools-github.nix": {
    pname: "oldlib",
    version: "1.4.2",
    format: "setuptools",
    src: {
      kind: "github",
      owner: "acme",
      repo: "oldlib",
      rev: "v1.4.2",
      sri: SRI,
    },
    dependencies: [{ attr: "six" }],
    buildDependencies: [{ attr: "setuptools" }, { attr: "wheel" }],
    customArgs: [],
    importNames: ["oldlib"],
    description: "An old library",
    homepage: "https://github.com/acme/oldlib",
    license: ["gpl3Plus"],
    licenseEvidence: [
      'METADATA says License "MIT"; oldlib-1.4.2/LICENSE is the GNU GPL v3 text',
      "chosen: gpl3Plus (the shipped text; --license)",
    ],
  },
  // A GitHub source pinned to a commit: `rev`, not `tag`.
  "render-github-commit.nix": {
    pname: "pinned",
    version: "0.1.0",
    format: "pyproject",
    src: {
      kind: "github",
      owner: "acme",
      repo: "pinned",
      rev: "0123456789abcdef0123456789abcdef01234567",
      sri: SRI,
    },
    dependencies: [],
    buildDependencies: [{ attr: "hatchling" }],
    customArgs: [],
    importNames: ["pinned"],
    description: "Pinned to a commit",
    homepage: "https://github.com/acme/pinned",
    license: ["mit"],
  },
};

Deno.test("renderPackage() output matches the golden files", async () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    await assertGolden(name, renderPackage(spec, template));
  }
});

Deno.test("renderPackage() is deterministic and ignores dependency order", () => {
  const spec = SPECS["render-wheel-conditionals.nix"]!;
  const a = renderPackage(spec, template);
  const b = renderPackage({
    ...spec,
    dependencies: [...spec.dependencies].reverse(),
    importNames: [...spec.importNames].reverse(),
  }, template);
  assert.equal(a, b);
});

Deno.test("renderPackage() output parses and evaluates with real Nix against stubs", async () => {
  if (!haveNix()) return;
  await using dir = await tmp();
  const names = [
    "torch",
    "numpy",
    "fancy-core",
    "triton",
    "pyobjc-core",
    "nvidia-ml-py",
    "typing-extensions",
    "setuptools",
    "wheel",
    "six",
    "hatchling",
  ];
  await Deno.mkdir(`${dir.path}/.flox/pkgs`, { recursive: true });
  const results: Record<string, Awaited<ReturnType<typeof evalPackage>>> = {};
  for (const [name, spec] of Object.entries(SPECS)) {
    const path = `${dir.path}/.flox/pkgs/${name}`;
    await Deno.writeTextFile(path, renderPackage(spec, template));
    const r = await evalPackage(path, names);
    assert.equal(r.pname, spec.pname, name);
    assert.equal(r.version, spec.version, name);
    assert.equal(
      r.format,
      spec.format === "wheel" ? "wheel" : "pyproject",
      name,
    );
    // Pure-Python packages take the interpreter's platforms.
    assert.equal(r.platforms === null, spec.platforms === undefined, name);
    results[name] = r;
  }
  const cond = results["render-wheel-conditionals.nix"]!;
  assert.deepEqual(cond.dependencies, [
    "fancy-core",
    "numpy",
    "torch",
    "triton",
    "nvidia-ml-py",
  ]);
  assert.deepEqual(cond.args, ["fancy-core", "lib", "python3"]);
  assert.deepEqual(cond.license, ["asl20", "mit"]);
  assert.equal(cond.description, 'Fancy "kit" with ${dollar} in it');
  assert.deepEqual(cond.pythonImportsCheck, ["fancy_kit", "fancy_kit.cli"]);
  const darwin = await evalPackage(
    `${dir.path}/.flox/pkgs/render-wheel-conditionals.nix`,
    names,
    "aarch64-darwin",
  );
  assert.deepEqual(darwin.dependencies, [
    "fancy-core",
    "numpy",
    "torch",
    "pyobjc-core",
  ]);
  const vendored = results["render-wheel-vendored.nix"]!;
  assert.equal(
    vendored.src,
    `${dir.path}/.flox/sources/comfyui_workflow_templates_core-0.3.10-py3-none-any.whl`,
  );
  assert.deepEqual(results["render-sdist-pypi.nix"]!.src, {
    fetcher: "fetchPypi",
    pname: "spandrel",
    version: "0.4.0",
    hash: SRI,
  });
  assert.deepEqual(results["render-sdist-pypi.nix"]!.buildSystem, [
    "setuptools",
  ]);
  assert.deepEqual(results["render-wheel-pypi.nix"]!.src, {
    fetcher: "fetchPypi",
    pname: "some_ext",
    version: "1.0",
    format: "wheel",
    dist: "cp312",
    python: "cp312",
    abi: "cp312",
    platform: "manylinux_2_17_x86_64",
    hash: SRI,
  });
  assert.deepEqual(results["render-wheel-pypi.nix"]!.platforms, [
    "x86_64-linux",
  ]);
  assert.deepEqual(results["render-setuptools-github.nix"]!.src, {
    fetcher: "fetchFromGitHub",
    owner: "acme",
    repo: "oldlib",
    tag: "v1.4.2",
    hash: SRI,
  });
  assert.deepEqual(results["render-setuptools-github.nix"]!.buildSystem, [
    "setuptools",
    "wheel",
  ]);
  assert.deepEqual(results["render-wheel-vendored.nix"]!.buildSystem, []);
  assert.deepEqual(results["render-github-commit.nix"]!.src, {
    fetcher: "fetchFromGitHub",
    owner: "acme",
    repo: "pinned",
    rev: "0123456789abcdef0123456789abcdef01234567",
    hash: SRI,
  });
});

Deno.test("the buildPythonPackage stub refuses what mk-python-derivation.nix refuses", async () => {
  if (!haveNix()) return;
  await using dir = await tmp();
  const base = renderPackage(SPECS["render-wheel-vendored.nix"]!, template);
  const cases: [string, RegExp][] = [
    [
      base.replace('format = "wheel";', 'format = "wheel"; pyproject = true;'),
      /mutually exclusive/,
    ],
    [base.replace('format = "wheel";', ""), /set pyproject = true/],
  ];
  for (const [text, message] of cases) {
    const path = `${dir.path}/p.nix`;
    await Deno.writeTextFile(path, text);
    await assert.rejects(() => evalPackage(path, []), message);
  }
});

Deno.test("renderTemplate() throws on unknown, unfilled and malformed placeholders", () => {
  const known = ["a", "b"];
  assert.equal(
    renderTemplate("x = {{a}};\n  y = {{ b }};", { a: "1", b: "[\n  2\n]" }, {
      known,
    }),
    "x = 1;\n  y = [\n    2\n  ];",
  );
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "{{c}}",
      { a: "1" },
      /^t:1: unknown placeholder \{\{c\}\} \(known: a, b\)$/,
    ],
    ["\n{{b}}", { a: "1" }, /^t:2: placeholder \{\{b\}\} has no value$/],
    ["{{a}}\n{{ a-b }}", { a: "1" }, /^t:2: malformed placeholder/],
  ];
  for (const [tpl, values, re] of cases) {
    assert.throws(
      () => renderTemplate(tpl, values, { known, templateName: "t" }),
      (e: unknown) => e instanceof KitError && re.test(e.message),
    );
  }
  // An empty placeholder alone on its line takes the line with it; inline it leaves nothing.
  assert.equal(
    renderTemplate("x;\n  {{a}}\n  y; {{b}}\n", { a: "", b: "" }, { known }),
    "x;\n  y; \n",
  );
  assert.equal(
    renderTemplate("x;\n  {{a}}\ny;\n", { a: "p;\nq;" }, { known }),
    "x;\n  p;\n  q;\ny;\n",
  );
  // "}}" closes nested Nix attribute sets and is not a placeholder.
  assert.equal(
    renderTemplate("{ a = { b = 1; }}", {}, { known }),
    "{ a = { b = 1; }}",
  );
});

Deno.test("renderDeps() groups conditionals by system list", () => {
  assert.equal(renderDeps([]), "[ ]");
  assert.equal(
    renderDeps([{ attr: "b", systems: ["x86_64-linux"] }, {
      attr: "a",
      systems: ["x86_64-linux"],
    }]),
    'with python3.pkgs; [ ] ++ lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ "x86_64-linux" ]) [\n  a\n  b\n]',
  );
  assert.throws(
    () => renderDeps([{ attr: "1bad" }]),
    /Not a Nix attribute name: "1bad"/,
  );
});

Deno.test("nixDescription() follows nixpkgs' meta rules", () => {
  const cases: [string, string][] = [
    [
      "Optimally partitioning data into piece-wise linear segments.",
      "Optimally partitioning data into piece-wise linear segments",
    ],
    [
      "Give your project support for a variety of PyTorch model architectures, including auto-detecting model architecture from just .pth files. spandrel gives you arch support.",
      "Give your project support for a variety of PyTorch model architectures, including auto-detecting model architecture from just .pth files",
    ],
    ["The most powerful diffusion GUI", "Most powerful diffusion GUI"],
    ["an  easy\nlibrary", "Easy library"],
    ["Tools, e.g. a parser. More.", "Tools, e.g. a parser"],
    ["Annotated things", "Annotated things"],
    [
      "ComfyUI workflow templates package",
      "ComfyUI workflow templates package",
    ],
  ];
  for (const [summary, want] of cases) {
    assert.equal(nixDescription(summary), want, summary);
  }
});
