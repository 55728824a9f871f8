// The repository's own package set (issue 9): every .flox/pkgs/*.nix parses with Nix; each
// package file, evaluated against stub arguments, says what its distribution's metadata says
// (read from the real files with lib/python/dist_metadata.ts; only the six files that cannot be
// downloaded here are described by hard-coded facts), with a buildPythonPackage stub that
// enforces what nixpkgs' mk-python-derivation.nix enforces; comfyui.nix takes ten of them (not
// nunchaku: see docs/new-package.md); and new-package regenerates every file byte for byte.
// Also new-package's --from-manifest mode, where every answer comes from flags.
import assert from "node:assert/strict";
import { join } from "node:path";
import { haveTool, ROOT, run, runTaskProcess, tmp } from "../_helpers.ts";
import { BUILD_PYTHON_PACKAGE_STUB } from "../new_package/new_package_helpers.ts";
import { captureOutput } from "../_helpers.ts";
import { main as newPackageMain } from "../../tasks/new_package.ts";
import { readDistMetadata } from "../../lib/python/dist_metadata.ts";
import { KNOWN_LICENSE_ATTRS } from "../../lib/python/license.ts";
import { readManifest } from "../../lib/repo/manifest.ts";
import { normalizeName } from "../../lib/python/names.ts";
import { KIT_ROOT, NIXPKGS_INDEX } from "../../lib/repo/paths.ts";

/** The kit\'s own offline index. */
const DEFAULT_INDEX_FILE = `${KIT_ROOT}/${NIXPKGS_INDEX}`;
import { readNixpkgsIndex } from "../../lib/nix/nixpkgs_index.ts";
import { MAIN_VARIANTS } from "../../lib/repo/paths.ts";
import { parseRequirement } from "../../lib/python/pep508.ts";
import { evaluateMarker, markerEnvironment } from "../../lib/python/markers.ts";
import { splitRequirements } from "../../lib/python/pep508.ts";

const PKGS = join(ROOT, ".flox", "pkgs");
const SOURCES = join(ROOT, ".flox", "sources");
const MAIN = "comfyui.nix";

/** The five real distributions in .flox/sources/ (their package files come from these). */
const REAL_FILES = [
  "comfyui_workflow_templates_core-0.3.10-py3-none-any.whl",
  "comfyui_workflow_templates-0.7.20-py3-none-any.whl",
  "controlnet_aux-0.0.10-py3-none-any.whl",
  "nunchaku-0.16.1-py3-none-any.whl",
  "spandrel-0.4.0.tar.gz",
];

/**
 * The six that cannot be downloaded here: facts from their upstream build files (no runtime
 * dependencies, py3-none-any wheels, these import names and licences), and the answers given
 * to new-package for them (summary and homepage are ours, from the upstream repositories).
 */
const FLAGS_ONLY = [
  {
    name: "comfyui_frontend_package",
    version: "1.30.6",
    license: "gpl3Only",
    summary: "Compiled web frontend (UI assets) of ComfyUI",
    homepage: "https://github.com/Comfy-Org/ComfyUI_frontend",
    note:
      "the wheel declares no licence; its repository Comfy-Org/ComfyUI_frontend is GPL-3.0",
  },
  {
    name: "comfyui_embedded_docs",
    version: "0.3.1",
    license: "GPL-3.0",
    summary: "Embedded documentation for ComfyUI's core nodes",
    homepage: "https://github.com/Comfy-Org/embedded-docs",
  },
  ...[
    ["api", "0.3.14", "API-driven"],
    ["image", "0.3.15", "image"],
    ["other", "0.3.9", "audio/3D/misc"],
    ["video", "0.3.12", "video"],
  ].map(([kind, version, what]) => ({
    name: `comfyui_workflow_templates_media_${kind}`,
    version: version!,
    license: "MIT",
    summary: `Media bundle containing ${what} workflow assets`,
    homepage: "https://github.com/Comfy-Org/workflow_templates",
  })),
] as const;

/**
 * Extra answers for the real files: comfyui-workflow-templates' METADATA says MIT while its wheel
 * ships the GPL-3 text (the choice and why are in the file); nunchaku's Requires-Python
 * (<3.13) excludes nixpkgs' python3 3.13 and it is not wired into comfyui.nix.
 */
const REAL_ARGS: Record<string, string[]> = {
  "comfyui_workflow_templates-0.7.20-py3-none-any.whl": [
    "--license",
    "gpl3Only",
    "--license-note",
    "the GPL-3 text the wheel ships is the licence actually granted (and the stricter of the two); METADATA's MIT is not backed by any file",
  ],
  "nunchaku-0.16.1-py3-none-any.whl": ["--ignore-requires-python", "--no-wire"],
};

/** Custom packages comfyui.nix does not take. */
const UNWIRED = ["nunchaku"];

/** The licence attribute each package chosen by flags must end up with. */
const FLAGS_ONLY_LICENSE: Record<string, string> = {
  "comfyui-workflow-templates": "gpl3Only",
  "comfyui-frontend-package": "gpl3Only",
  "comfyui-embedded-docs": "gpl3Only",
  "comfyui-workflow-templates-media-api": "mit",
  "comfyui-workflow-templates-media-image": "mit",
  "comfyui-workflow-templates-media-other": "mit",
  "comfyui-workflow-templates-media-video": "mit",
};

/** new-package's arguments for a flags-only package. */
function flagsArgs(p: typeof FLAGS_ONLY[number]): string[] {
  return [
    `${p.name}==${p.version}`,
    "--from-manifest",
    "--source",
    "vendored",
    "--yes",
    "--format",
    "wheel",
    "--summary",
    p.summary,
    "--homepage",
    p.homepage,
    "--license",
    p.license,
    ...("note" in p ? ["--license-note", p.note] : []),
    "--import",
    p.name,
    "--no-deps",
  ];
}

interface Expected {
  pname: string;
  version: string;
  format: string;
  /** Sorted; custom packages as "custom:<attr>". */
  deps: string[];
  build: string[];
  imports: string[];
  file: string;
}

/** The eleven custom packages: the manifest's PyPI entries. */
async function customNames(): Promise<string[]> {
  const m = await readManifest(join(ROOT, "sources-manifest.json"));
  return m.sources.filter((e) => e.kind.startsWith("pypi-")).map((e) =>
    normalizeName(e.name)
  ).sort();
}

/** What a package file must say, from the real distribution's own metadata. */
async function expectedFromFile(
  file: string,
  custom: readonly string[],
): Promise<Expected> {
  const meta = await readDistMetadata(join(SOURCES, file));
  const env = markerEnvironment("3.12", "x86_64-linux");
  const attr = (name: string) => {
    const n = normalizeName(name);
    return custom.includes(n) ? `custom:${n}` : n;
  };
  const deps = meta.requiresDist.map(parseRequirement)
    .filter((r) => !r.marker || evaluateMarker(r.marker, env))
    .filter((r) => normalizeName(r.name) !== normalizeName(meta.name))
    .map((r) => attr(r.name));
  return {
    pname: normalizeName(meta.name),
    version: meta.version,
    format: meta.format === "wheel" ? "wheel" : "pyproject",
    deps: [...new Set(deps)].sort(),
    build: meta.buildRequires.map((r) => attr(parseRequirement(r).name))
      .sort(),
    imports: [...meta.importNames].sort(),
    file,
  };
}

function expectedFlagsOnly(p: typeof FLAGS_ONLY[number]): Expected {
  return {
    pname: normalizeName(p.name),
    version: p.version,
    format: "wheel",
    deps: [],
    build: [],
    imports: [p.name],
    file: `${p.name}-${p.version}-py3-none-any.whl`,
  };
}

interface Evaluated {
  pname: string;
  version: string;
  format: string;
  dependencies: string[];
  buildSystem: string[];
  pythonImportsCheck: string[];
  src: string;
  description: string;
  homepage: string;
  license: string;
  platforms: string[] | null;
  args: string[];
}

/**
 * One `nix-instantiate --eval --strict` over all the given files: each applied to stub
 * arguments — `python3.pkgs` holding the offline index's attributes as strings plus a
 * `buildPythonPackage` / `buildPythonApplication` returning its attribute set, a stub `lib`
 * (licenses, platforms, optionals, elem), and every custom package as "custom:<name>".
 */
async function evalFiles(
  files: Record<string, string>,
  custom: readonly string[],
  system = "x86_64-linux",
): Promise<Record<string, Evaluated>> {
  const index = await readNixpkgsIndex(DEFAULT_INDEX_FILE);
  // Node packs (add-node) are comfyui.nix arguments too; here they stand in as strings.
  const nodes = (await nixFiles(PKGS, true)).map((f) => f.slice(0, -4));
  const list = (xs: readonly string[]) =>
    `[ ${xs.map((x) => JSON.stringify(x)).join(" ")} ]`;
  const expr = `
let
  strings = prefix: ns: builtins.listToAttrs (map (n: { name = n; value = prefix + n; }) ns);
  lib = {
    optionals = c: l: if c then l else [ ];
    elem = builtins.elem;
    licenses = strings "" ${list(KNOWN_LICENSE_ATTRS)};
    platforms = {
      linux = [ "aarch64-linux" "x86_64-linux" ];
      darwin = [ "aarch64-darwin" "x86_64-darwin" ];
    };
  };
  ${BUILD_PYTHON_PACKAGE_STUB}
  python3 = {
    pkgs = strings "" ${list(Object.keys(index.python3Packages))} // {
      inherit buildPythonPackage;
      buildPythonApplication = a: a // {
        dependencies = a.dependencies or a.propagatedBuildInputs or [ ];
        buildSystem = [ ];
      };
    };
    interpreter = "/stub/bin/python3";
    stdenv.hostPlatform.system = ${JSON.stringify(system)};
  };
  given = { inherit lib python3; stdenv = { hostPlatform = { isLinux = true; }; }; fetchFromGitHub = a: a; makeWrapper = "makeWrapper"; writeShellScript = n: t: "/stub/" + n; writeText = n: t: "/stub/" + n; linkFarm = n: e: "/stub/" + n; }
    // strings "custom:" ${list(custom)} // strings "node:" ${list(nodes)};
  evalFile = file:
    let
      f = import file;
      r = f (builtins.intersectAttrs (builtins.functionArgs f) given);
    in {
      inherit (r) pname version dependencies buildSystem pythonImportsCheck;
      format = r.format or null;
      src = if builtins.isAttrs r.src then "fetched" else toString r.src;
      inherit (r.meta) description homepage license;
      platforms = r.meta.platforms or null;
      args = builtins.attrNames (builtins.functionArgs f);
    };
in builtins.mapAttrs (_: evalFile) {
  ${
    Object.entries(files).map(([k, v]) =>
      `${JSON.stringify(k)} = ${JSON.stringify(v)};`
    ).join("\n  ")
  }
}`;
  const res = await run("nix-instantiate", [
    "--eval",
    "--strict",
    "--json",
    "-E",
    expr,
  ]);
  assert.equal(res.code, 0, `nix-instantiate --eval: ${res.stderr}`);
  return JSON.parse(res.stdout) as Record<string, Evaluated>;
}

/** The .nix files of `dir`: Python packages and comfyui.nix, or (`nodes`) the node packs. */
async function nixFiles(dir: string, nodes = false): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (
      e.isFile && e.name.endsWith(".nix") &&
      e.name.startsWith("comfyui-node-") === nodes
    ) names.push(e.name);
  }
  return names.sort();
}

Deno.test("`.flox/pkgs` holds comfyui.nix, its variant builds and one file per manifest source", async () => {
  const custom = await customNames();
  assert.equal(custom.length, 11);
  assert.deepEqual(
    await nixFiles(PKGS),
    [
      ...custom.map((n) => `${n}.nix`),
      MAIN,
      ...MAIN_VARIANTS.map((v) => `${v}.nix`),
    ].sort(),
  );
});

Deno.test({
  name: "`nix-instantiate --parse` accepts every .nix under .flox/pkgs",
  ignore: !haveTool("nix-instantiate"),
  fn: async () => {
    const files = [...await nixFiles(PKGS), ...await nixFiles(PKGS, true)];
    const res = await run(
      "nix-instantiate",
      ["--parse", ...files.map((f) => join(PKGS, f))],
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim().split("\n").length, files.length);
  },
});

Deno.test({
  name:
    "each package file evaluates to what its distribution's metadata says (stub arguments)",
  ignore: !haveTool("nix-instantiate"),
  fn: async () => {
    const custom = await customNames();
    const expected: Expected[] = [
      ...await Promise.all(REAL_FILES.map((f) => expectedFromFile(f, custom))),
      ...FLAGS_ONLY.map(expectedFlagsOnly),
    ];
    assert.deepEqual(expected.map((e) => e.pname).sort(), custom);
    const got = await evalFiles(
      Object.fromEntries(
        expected.map((e) => [e.pname, join(PKGS, `${e.pname}.nix`)]),
      ),
      custom,
    );
    for (const e of expected) {
      const r = got[e.pname]!;
      const where = `.flox/pkgs/${e.pname}.nix`;
      assert.equal(r.pname, e.pname, where);
      assert.equal(r.version, e.version, where);
      assert.equal(r.format, e.format, where);
      assert.deepEqual([...r.dependencies].sort(), e.deps, where);
      assert.deepEqual([...r.buildSystem].sort(), e.build, where);
      // Pure-Python packages take the interpreter's platforms.
      assert.equal(r.platforms, null, where);
      // nixpkgs' meta rules: no trailing period, no leading article, one line.
      assert.doesNotMatch(r.description, /\.$|^(A|An|The) |\n/, where);
      assert.deepEqual(r.pythonImportsCheck, e.imports, where);
      assert.equal(r.src, join(SOURCES, e.file), where);
      // Custom dependencies are arguments; nothing else is.
      assert.deepEqual(
        r.args.filter((a) => a !== "lib" && a !== "python3").sort(),
        e.deps.filter((d) => d.startsWith("custom:")).map((d) => d.slice(7)),
        where,
      );
      const license = FLAGS_ONLY_LICENSE[e.pname];
      if (license) assert.equal(r.license, license, where);
      assert.ok(r.description.length > 0, where);
    }
    // The facts the issue names, stated once more against the evaluated files.
    assert.deepEqual(
      got["comfyui-workflow-templates"]!.args.filter((a) =>
        a.startsWith("comfyui")
      ),
      [
        "comfyui-workflow-templates-core",
        "comfyui-workflow-templates-media-api",
        "comfyui-workflow-templates-media-image",
        "comfyui-workflow-templates-media-other",
        "comfyui-workflow-templates-media-video",
      ],
    );
    assert.equal(
      got["nunchaku"]!.description,
      "Optimally partitioning data into piece-wise linear segments",
    );
    assert.equal(
      got["spandrel"]!.homepage,
      "https://github.com/chaiNNer-org/spandrel",
    );
    const templates = await Deno.readTextFile(
      join(PKGS, "comfyui-workflow-templates.nix"),
    );
    assert.match(
      templates,
      /# licence evidence: License "MIT"; comfyui_workflow_templates-0\.7\.20\.dist-info\/licenses\/LICENSE is the GNU GPL v3 text\n.*# chosen: gpl3Only \(--license\)\n.*license = licenses\.gpl3Only; # the GPL-3 text the wheel ships/,
    );
    assert.ok(
      got["controlnet-aux"]!.dependencies.includes(
        "opencv-python-headless",
      ),
    );
    const frontend = await Deno.readTextFile(
      join(PKGS, "comfyui-frontend-package.nix"),
    );
    assert.match(
      frontend,
      /license = licenses\.gpl3Only; # .*Comfy-Org\/ComfyUI_frontend is GPL-3\.0\n/,
    );
  },
});

Deno.test({
  name:
    "every package file evaluates for x86_64-linux and aarch64-darwin (mk-python-derivation's rules)",
  ignore: !haveTool("nix-instantiate"),
  fn: async () => {
    const custom = await customNames();
    const files = Object.fromEntries(
      [...custom, "comfyui"].map((n) => [n, join(PKGS, `${n}.nix`)]),
    );
    for (const system of ["x86_64-linux", "aarch64-darwin"]) {
      const got = await evalFiles(files, custom, system);
      assert.deepEqual(Object.keys(got).sort(), [...custom, "comfyui"].sort());
      for (const n of custom) {
        assert.ok(
          ["wheel", "pyproject"].includes(got[n]!.format),
          `${n} on ${system}: ${got[n]!.format}`,
        );
      }
    }
  },
});

Deno.test({
  name:
    "comfyui.nix takes every custom package but nunchaku as arguments and dependencies",
  ignore: !haveTool("nix-instantiate"),
  fn: async () => {
    const custom = await customNames();
    const got = (await evalFiles({ main: join(PKGS, MAIN) }, custom)).main!;
    for (const n of UNWIRED) {
      assert.ok(!got.args.includes(n), `comfyui.nix takes ${n}`);
      assert.ok(!got.dependencies.includes(`custom:${n}`));
    }
    for (const n of custom.filter((c) => !UNWIRED.includes(c))) {
      assert.ok(got.args.includes(n), `comfyui.nix does not take ${n}`);
      assert.ok(
        got.dependencies.includes(`custom:${n}`),
        `comfyui.nix does not depend on the custom ${n}`,
      );
    }
    // Each custom package replaces nixpkgs' attribute of that name (spandrel): none is left.
    assert.ok(!got.dependencies.includes("spandrel"));
    assert.equal(got.version, "0.3.75");
  },
});

/** A copy of the repository's package set (what new-package reads and writes). */
async function copyRepo(to: string): Promise<void> {
  for (const dir of [".flox/pkgs", ".flox/sources", "templates"]) {
    await Deno.mkdir(join(to, dir), { recursive: true });
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      if (e.isFile) {
        await Deno.copyFile(join(ROOT, dir, e.name), join(to, dir, e.name));
      }
    }
  }
  await Deno.copyFile(
    join(ROOT, "sources-manifest.json"),
    join(to, "sources-manifest.json"),
  );
}

/** Every file under `dir` with its bytes as text, for before/after comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else files[p] = await Deno.readTextFile(join(dir, p)).catch(() => "?");
    }
  };
  await walk("");
  return files;
}

Deno.test("`new-package` regenerates every package file byte for byte", async () => {
  const runs = [
    ...REAL_FILES.map((f) => ({
      pname: "",
      args: [`.flox/sources/${f}`, "--yes", ...(REAL_ARGS[f] ?? [])],
      file: f,
    })),
    ...FLAGS_ONLY.map((p) => ({
      pname: normalizeName(p.name),
      args: flagsArgs(p),
      file: "",
    })),
  ];
  for (const r of runs.filter((r) => r.file)) {
    r.pname = normalizeName(
      (await readDistMetadata(join(SOURCES, r.file))).name,
    );
  }
  // One scratch copy per package, so the runs are independent; in-process, one at a time
  // (the console is captured process-wide).
  for (const r of runs) {
    await using dir = await tmp();
    await copyRepo(dir.path);
    const target = `.flox/pkgs/${r.pname}.nix`;
    await Deno.remove(join(dir.path, target));
    const before = await snapshot(dir.path);
    // A file argument names the scratch copy's file (as a run from inside it would).
    const args = r.args.map((a) =>
      a.startsWith(".flox/sources/") ? join(dir.path, a) : a
    );
    const res = await captureOutput(() =>
      newPackageMain([...args, "--root", dir.path])
    );
    assert.equal(res.code, 0, `${r.args.join(" ")}: ${res.stderr}`);
    const after = await snapshot(dir.path);
    assert.equal(
      after[target],
      await Deno.readTextFile(join(ROOT, target)),
      `${target} is not what new-package generates`,
    );
    // Nothing else changed: comfyui.nix already has it, the manifest already records it.
    delete after[target];
    assert.deepEqual(after, before, `${r.pname}: other files changed`);
    if (!UNWIRED.includes(r.pname)) {
      assert.match(res.stderr, /\.flox\/pkgs\/comfyui\.nix already has /);
    }
  }
});

// --from-manifest in a scratch repository: the main package, a template and a manifest entry
// whose file is absent.
const TINY = {
  name: "tiny-assets",
  version: "1.2.0",
  kind: "pypi-wheel",
  file: "tiny_assets-1.2.0-py3-none-any.whl",
  url:
    "https://files.pythonhosted.org/packages/py3/t/tiny_assets/tiny_assets-1.2.0-py3-none-any.whl",
  sha256: "ab".repeat(32),
};
const TINY_FLAGS = [
  "tiny_assets==1.2.0",
  "--from-manifest",
  "--yes",
  "--summary",
  "Tiny assets",
  "--homepage",
  "https://example.org/tiny",
  "--license",
  "MIT",
  "--import",
  "tiny_assets",
];

async function scratchRepo(
  dir: string,
  entries: unknown[] = [TINY],
): Promise<void> {
  await Deno.mkdir(join(dir, ".flox", "pkgs"), { recursive: true });
  await Deno.mkdir(join(dir, ".flox", "sources"), { recursive: true });
  await Deno.mkdir(join(dir, "templates"));
  await Deno.copyFile(join(PKGS, MAIN), join(dir, ".flox", "pkgs", MAIN));
  await Deno.copyFile(
    join(ROOT, "templates", "package.nix"),
    join(dir, "templates", "package.nix"),
  );
  await Deno.writeTextFile(
    join(dir, "sources-manifest.json"),
    JSON.stringify({ version: 1, sources: entries }, null, 2) + "\n",
  );
}

Deno.test("`new-package --from-manifest` writes a package from flags alone, without the file", async () => {
  await using dir = await tmp();
  await scratchRepo(dir.path);
  const manifest = await Deno.readTextFile(
    join(dir.path, "sources-manifest.json"),
  );
  const res = await runTaskProcess("new_package.ts", [
    ...TINY_FLAGS,
    "--requires",
    "numpy>=1.25,<3, Pillow",
    "--requires",
    "triton; sys_platform == 'linux'",
    "--license-note",
    "from the upstream repository",
    "--root",
    dir.path,
  ]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(
    res.stderr,
    /tiny_assets-1\.2\.0-py3-none-any\.whl is not on disk/,
  );
  const text = await Deno.readTextFile(
    join(dir.path, ".flox", "pkgs", "tiny-assets.nix"),
  );
  assert.match(
    text,
    /src = \.\.\/\.\.\/\.flox\/sources\/tiny_assets-1\.2\.0-py3-none-any\.whl;/,
  );
  assert.match(text, /format = "wheel";/);
  assert.match(text, /description = "Tiny assets";/);
  assert.match(text, /homepage = "https:\/\/example\.org\/tiny";/);
  assert.match(text, /license = licenses\.mit; # from the upstream repository/);
  assert.match(text, /pythonImportsCheck = \[ "tiny_assets" \];/);
  assert.match(
    text,
    /\[\n {4}numpy\n {4}pillow\n {2}\] \+\+ lib\.optionals \(lib\.elem python3\.stdenv\.hostPlatform\.system \[ "aarch64-linux" "x86_64-linux" \]\) \[\n {4}triton\n {2}\];/,
  );
  assert.match(
    await Deno.readTextFile(join(dir.path, ".flox", "pkgs", MAIN)),
    /, tiny-assets\n/,
  );
  // The manifest already records the file: nothing vendored, nothing rewritten.
  assert.equal(
    await Deno.readTextFile(join(dir.path, "sources-manifest.json")),
    manifest,
  );
  assert.deepEqual(
    [...Deno.readDirSync(join(dir.path, ".flox", "sources"))],
    [],
  );
  if (haveTool("nix-instantiate")) {
    const parsed = await run("nix-instantiate", [
      "--parse",
      join(dir.path, ".flox", "pkgs", "tiny-assets.nix"),
    ]);
    assert.equal(parsed.code, 0, parsed.stderr);
  }
});

Deno.test("`new-package --from-manifest` exits 2 naming the flag of a missing answer, writing nothing", async () => {
  await using dir = await tmp();
  await scratchRepo(dir.path);
  const before = await snapshot(dir.path);
  const without = (flag: string) => {
    const i = TINY_FLAGS.indexOf(flag);
    return [...TINY_FLAGS.slice(0, i), ...TINY_FLAGS.slice(i + 2)];
  };
  const cases: [string[], RegExp][] = [
    [[...without("--summary"), "--no-deps"], /pass --summary$/m],
    [[...without("--import"), "--no-deps"], /pass --import$/m],
    [[...without("--license"), "--no-deps"], /pass --license$/m],
    [TINY_FLAGS, /pass --requires or --no-deps$/m],
    // Bad values: usage errors before anything is read or written.
    [
      [...TINY_FLAGS, "--no-deps", "--format", "pyproject"],
      /--format pyproject does not fit tiny_assets-1\.2\.0-py3-none-any\.whl/,
    ],
    [
      [...TINY_FLAGS, "--no-deps", "--homepage", "example.org"],
      /--homepage "example\.org" is not an http\(s\) URL/,
    ],
    [[...TINY_FLAGS, "--requires", "numpy>=>1"], /--requires "numpy>=>1": /],
    [
      [...TINY_FLAGS, "--requires", "numpy", "--no-deps"],
      /Choose one of --requires and --no-deps/,
    ],
    [
      [...TINY_FLAGS, "--no-deps", "--source", "github"],
      /--from-manifest packages a recorded wheel or sdist/,
    ],
    [
      [...TINY_FLAGS, "--no-deps", "--build-requires", "setuptools"],
      /--build-requires is for an sdist/,
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) =>
      runTaskProcess("new_package.ts", [...args, "--root", dir.path])
    ),
  );
  results.forEach((res, i) => {
    const [args, message] = cases[i]!;
    assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
    assert.match(res.stderr, message);
  });
  assert.deepEqual(await snapshot(dir.path), before);
});

Deno.test("`new-package --from-manifest` exits 1 when the manifest lacks the release or the file differs", async () => {
  await using dir = await tmp();
  await scratchRepo(dir.path);
  await Deno.writeTextFile(
    join(dir.path, ".flox", "sources", TINY.file),
    "not the recorded bytes",
  );
  const before = await snapshot(dir.path);
  const cases: [string[], RegExp][] = [
    [
      ["other-pkg", "--from-manifest", "--yes"],
      /records no wheel or sdist of "other-pkg": vendor it first: deno task fetch-source pypi:other-pkg$/m,
    ],
    [
      ["tiny-assets==9.9", "--from-manifest", "--yes"],
      /records tiny-assets 1\.2\.0, not 9\.9: vendor it first: deno task fetch-source pypi:tiny-assets==9\.9$/m,
    ],
    [
      [...TINY_FLAGS, "--no-deps"],
      /\.flox\/sources\/tiny_assets-1\.2\.0-py3-none-any\.whl does not match sources-manifest\.json/,
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) =>
      runTaskProcess("new_package.ts", [...args, "--root", dir.path])
    ),
  );
  results.forEach((res, i) => {
    const [args, message] = cases[i]!;
    assert.equal(res.code, 1, `${args.join(" ")}: ${res.stderr}`);
    assert.match(res.stderr, message);
  });
  assert.deepEqual(await snapshot(dir.path), before);
});

Deno.test("`new-package --from-manifest` reads the recorded file when it is there; flags replace its metadata", async () => {
  await using dir = await tmp();
  const core = REAL_FILES[0]!;
  const m = await readManifest(join(ROOT, "sources-manifest.json"));
  await scratchRepo(dir.path, m.sources.filter((e) => e.file === core));
  await Deno.copyFile(
    join(SOURCES, core),
    join(dir.path, ".flox", "sources", core),
  );
  const same = await runTaskProcess("new_package.ts", [
    "comfyui-workflow-templates-core==0.3.10",
    "--from-manifest",
    "--yes",
    "--no-wire",
    "--root",
    dir.path,
  ]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(
    same.stderr,
    /as recorded \(sha256 matches\); reading its metadata/,
  );
  const target = ".flox/pkgs/comfyui-workflow-templates-core.nix";
  assert.equal(
    await Deno.readTextFile(join(dir.path, target)),
    await Deno.readTextFile(join(ROOT, target)),
  );
  const replaced = await runTaskProcess("new_package.ts", [
    "comfyui-workflow-templates-core",
    "--from-manifest",
    "--yes",
    "--no-wire",
    "--dry-run",
    "--force",
    "--summary",
    "Helpers",
    "--root",
    dir.path,
  ]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(
    replaced.stderr,
    /--summary replaces what comfyui_workflow_templates_core-0\.3\.10-py3-none-any\.whl says \("Core helpers for ComfyUI workflow templates"\)/,
  );
  assert.match(replaced.stdout, /^\+ {4}description = "Helpers";$/m);
});

Deno.test("`splitRequirements()` splits on commas that start a new requirement", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["numpy", ["numpy"]],
    ["numpy>=1.25,<3, Pillow", ["numpy>=1.25,<3", "Pillow"]],
    ["a >= 1 , != 1.5 ,b", ["a >= 1,!= 1.5", "b"]],
    [
      "triton; platform_machine in 'x86_64,aarch64', torch",
      ["triton; platform_machine in 'x86_64,aarch64'", "torch"],
    ],
    ["foo[x,y]>=1,bar", ["foo[x,y]>=1", "bar"]],
    ["matplotlib (>=3.5.0,<4.0.0), tqdm", [
      "matplotlib (>=3.5.0,<4.0.0)",
      "tqdm",
    ]],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(splitRequirements(text), want, text);
  }
});
