import assert from "node:assert/strict";
import {
  fromPipReport,
  parseUvOutput,
  type ResolvedPackage,
  resolverErrorText,
} from "../../lib/python/resolved.ts";
import {
  completeHashes,
  parseDistFileName,
  parseSimplePage,
  renderLockFile,
} from "../../lib/python/lock_file.ts";
import { parseRequirementsTxt } from "../../lib/python/requirements.ts";
import { parseRequirement } from "../../lib/python/pep508.ts";
import { combinedSpecifier, jsonPackage } from "../../lib/freeze/report.ts";
import {
  buildIndexFiles,
  HERMETIC_PIP_ENV,
  type IndexFile,
  mountSimpleIndex,
  writeFindLinks,
} from "../_fixtures/index.ts";
import { startServer } from "../_fixtures/server.ts";
import { haveTool, IN_CI, ROOT, runTaskProcess, tmp } from "../_helpers.ts";

const FILES: IndexFile[] = await buildIndexFiles();
const sha = (file: string) =>
  `sha256:${FILES.find((f) => f.file === file)!.sha256}`;

/** A stub repository: `left` is a custom package, `right` a vendored source, an offline index. */
async function stubRepo(root: string): Promise<string> {
  await Deno.mkdir(`${root}/.flox/pkgs`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/left.nix`,
    `{ python3 }:\npython3.pkgs.buildPythonPackage rec {\n  pname = "left";\n  version = "1.0";\n  format = "wheel";\n  src = ../sources/left-1.0-py3-none-any.whl;\n}\n`,
  );
  await Deno.writeTextFile(
    `${root}/sources-manifest.json`,
    JSON.stringify({
      version: 1,
      sources: [{
        name: "right",
        version: "1.0",
        kind: "pypi-wheel",
        file: "right-1.0-py3-none-any.whl",
        url:
          "https://files.pythonhosted.org/packages/py3/r/right/right-1.0-py3-none-any.whl",
        sha256: FILES.find((f) => f.file === "right-1.0-py3-none-any.whl")!
          .sha256,
      }],
    }),
  );
  const index = `${root}/nixpkgs-index.json`;
  await Deno.writeTextFile(
    index,
    JSON.stringify({
      description: "stub",
      nixpkgs: { rev: "0".repeat(40), date: null, channel: null },
      python3Packages: { base: "2.0", "typing-ext": "4.1.0" },
    }),
  );
  return index;
}

function pipAvailable(): boolean {
  if (!haveTool("python3")) return false;
  const r = new Deno.Command("python3", {
    args: ["-m", "pip", "--version"],
    stdout: "null",
    stderr: "null",
  }).outputSync();
  if (!r.success && IN_CI) {
    throw new Error("python3 -m pip is required when CI=true");
  }
  return r.success;
}

Deno.test("freeze-deps resolves a diamond, markers and an extra with real pip from a simple index", async () => {
  if (!pipAvailable()) return;
  await using dir = await tmp();
  await using server = await startServer();
  const indexUrl = mountSimpleIndex(server, FILES);
  const nixIndex = await stubRepo(dir.path);
  const r = await runTaskProcess("freeze_deps.ts", [
    "app",
    "typing_ext>=4.2",
    "--root",
    dir.path,
    "--nixpkgs-index",
    nixIndex,
    "--json",
  ], { env: { ...HERMETIC_PIP_ENV, PIP_INDEX_URL: indexUrl } });
  assert.equal(r.code, 0, r.stderr);
  // The resolver ran against the fixture index (PIP_INDEX_URL), with progress on stderr.
  assert.ok(server.log.includes("GET /simple/app/"), server.log.join("\n"));
  assert.match(r.stderr, /Collecting app/);
  assert.match(r.stderr, /resolved 8 packages with pip \d/);
  const j = JSON.parse(r.stdout);
  const by = Object.fromEntries(
    // deno-lint-ignore no-explicit-any
    j.packages.map((p: any) => [p.name.toLowerCase(), p]),
  );
  assert.deepEqual(Object.keys(by), [
    "app",
    "base",
    "extraful",
    "left",
    "linuxdep",
    "right",
    "speedup",
    "typing_ext",
  ]);
  // Diamond: base satisfies both left (<3) and right (>=2).
  assert.equal(by.base.version, "2.0");
  assert.deepEqual(by.base.requiredBy, [
    { by: "left", specifier: ">=1,<3" },
    { by: "right", specifier: ">=2" },
  ]);
  // Marker-conditional dependency shown with its marker; the win32 one is not in the tree.
  assert.deepEqual(by.linuxdep.requiredBy, [
    { by: "app", specifier: ">=1", marker: 'sys_platform == "linux"' },
  ]);
  // The extra pulled in speedup, not slowdep.
  assert.deepEqual(by.speedup.requiredBy, [
    { by: "extraful", specifier: ">=1", marker: 'extra == "fast"' },
  ]);
  assert.deepEqual(by.extraful.requiredBy, [
    { by: "app", specifier: "", extras: ["fast"] },
  ]);
  assert.equal(by.app.requested, true);
  assert.deepEqual(by.app.requiredBy, [{ by: "command line", specifier: "" }]);
  // Classification against the stub repository.
  assert.equal(by.base.status, "nixpkgs");
  assert.equal(by.base.satisfies, true);
  assert.equal(by.left.status, "custom");
  assert.equal(by.left.matches, true);
  assert.equal(by.right.status, "vendored");
  assert.equal(by.app.status, "missing");
  assert.equal(by.app.fix, "deno task new-package app==1.0");
  assert.equal(by.typing_ext.status, "nixpkgs");
  assert.equal(by.typing_ext.satisfies, false); // nixpkgs 4.1.0 < 4.2
  // `version` is the resolved pin; nixpkgs' own version is a field of its own.
  assert.notEqual(by.typing_ext.version, "4.1.0");
  assert.equal(by.typing_ext.nixpkgsVersion, "4.1.0");
  assert.equal(j.summary.packages, 8);
  // The lock file: every file of each release hashed (base 2.0 has a wheel and an sdist).
  assert.deepEqual(
    by.base.hashes,
    [
      sha("base-2.0-py3-none-any.whl"),
      sha("base-2.0.tar.gz"),
    ].sort(),
  );
  const lock = await Deno.readTextFile(`${dir.path}/requirements.lock.txt`);
  assert.equal(j.lockFile, `${dir.path}/requirements.lock.txt`);
  assert.match(
    lock,
    new RegExp(
      `^base==2\\.0 \\\\\n    --hash=sha256:[0-9a-f]{64} \\\\\n    --hash=sha256:[0-9a-f]{64}\n    # via left, right$`,
      "m",
    ),
  );
  assert.ok(!lock.includes("winonly") && !lock.includes("slowdep"));
  assert.match(lock, /^# Resolved by pip \S+ for Python 3\.\d+ on linux\//m);
});

Deno.test("freeze-deps --check with --find-links exits 1 and lists the fixes", async () => {
  if (!pipAvailable()) return;
  await using dir = await tmp();
  const nixIndex = await stubRepo(dir.path);
  await writeFindLinks(`${dir.path}/wheels`, FILES);
  await Deno.writeTextFile(`${dir.path}/req.txt`, "# test\napp\n");
  const check = (args: string[]) =>
    runTaskProcess("freeze_deps.ts", [
      ...args,
      "--no-index",
      "--find-links",
      `${dir.path}/wheels`,
      "--root",
      dir.path,
      "--nixpkgs-index",
      nixIndex,
      "--check",
    ], { env: HERMETIC_PIP_ENV });
  const r = await check([
    "-r",
    `${dir.path}/req.txt`,
    "-o",
    `${dir.path}/out.lock`,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /check failed: 5 package\(s\) missing or mis-pinned/);
  const lines = r.stdout.split("\n");
  assert.match(lines[0]!, /^ {2}package +version +status +from +required by$/);
  assert.ok(
    lines.some((l) =>
      /^! app +1\.0 +missing +deno task new-package app==1\.0 +.*req\.txt$/
        .test(l)
    ),
    r.stdout,
  );
  assert.ok(
    lines.some((l) =>
      /^ {2}base +2\.0 +nixpkgs +base 2\.0 +left \(>=1,<3\), right \(>=2\)$/
        .test(l)
    ),
    r.stdout,
  );
  assert.ok(
    lines.some((l) =>
      /^ {2}left +1\.0 +custom +\.flox\/pkgs\/left\.nix \(1\.0\)/.test(l)
    ),
  );
  assert.ok(
    lines.some((l) =>
      /^! right +1\.0 +vendored +right-1\.0-py3-none-any\.whl/.test(l)
    ),
  );
  assert.ok(
    lines.some((l) =>
      /linuxdep.*app \(>=1; sys_platform == "linux"\)$/.test(l)
    ),
  );
  assert.match(
    r.stdout,
    /^7 packages: 1 from nixpkgs, 1 custom, 1 vendored only, 4 missing; 5 to fix$/m,
  );
  assert.match(r.stdout, /^ {2}\$ deno task new-package speedup==1\.5$/m);
  // Hashes of the find-links files were computed locally: base has wheel + sdist.
  const lock = await Deno.readTextFile(`${dir.path}/out.lock`);
  assert.ok(lock.includes(`--hash=${sha("base-2.0.tar.gz")}`));
  assert.ok(lock.includes(`--hash=${sha("base-2.0-py3-none-any.whl")}`));
  // --check without -o does not write the default lock file.
  assert.equal(
    await Deno.stat(`${dir.path}/requirements.lock.txt`).catch(() => null),
    null,
  );
  // Real pip takes the lock file in hash-checking mode: every file it picks matches a hash.
  const pip = await new Deno.Command("python3", {
    args: [
      "-m",
      "pip",
      "download",
      "--no-deps",
      "--require-hashes",
      "-r",
      `${dir.path}/out.lock`,
      "--no-index",
      "--find-links",
      `${dir.path}/wheels`,
      "-d",
      `${dir.path}/downloaded`,
    ], // deno-fmt-ignore
    env: HERMETIC_PIP_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(pip.success, new TextDecoder().decode(pip.stderr));
  // Nothing to fix: --check exits 0.
  const ok = await check(["base==2.0"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^1 packages: 1 from nixpkgs, .*; 0 to fix$/m);
});

Deno.test("freeze-deps shows pip's own error text on a version conflict (exit 1)", async () => {
  if (!pipAvailable()) return;
  await using dir = await tmp();
  const nixIndex = await stubRepo(dir.path);
  await writeFindLinks(`${dir.path}/wheels`, FILES);
  const r = await runTaskProcess("freeze_deps.ts", [
    "app",
    "clash",
    "--no-index",
    "--find-links",
    `${dir.path}/wheels`,
    "--root",
    dir.path,
    "--nixpkgs-index",
    nixIndex,
  ], { env: HERMETIC_PIP_ENV });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Resolution failed \(pip exited with 1\):$/m);
  assert.match(r.stderr, /ResolutionImpossible|conflicting dependencies/);
  assert.match(r.stderr, /base/);
  assert.equal(r.stderr.includes("    at "), false);
  assert.equal(r.stdout, "");
  // The temporary venv is gone (names from the command echoed on stderr).
  const venv = r.stderr.match(/--without-pip (\S+)\/venv/)?.[1];
  assert.ok(venv, r.stderr);
  assert.equal(await Deno.stat(venv).catch(() => null), null);
});

Deno.test("freeze-deps rejects bad arguments with exit 2", async () => {
  const bad = await runTaskProcess("freeze_deps.ts", ["numpy>=>1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: Invalid PEP 508 requirement/m);
  const pyv = await runTaskProcess("freeze_deps.ts", [
    "x",
    "--python-version",
    "3",
  ]);
  assert.equal(pyv.code, 2);
  const help = await runTaskProcess("freeze_deps.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task freeze-deps/);
});

Deno.test("freeze-deps -o into a missing folder fails in one line before resolving", async () => {
  await using dir = await tmp();
  await using server = await startServer();
  const indexUrl = mountSimpleIndex(server, FILES);
  for (
    const [output, message] of [
      [
        `${dir.path}/missing/dir/lock.txt`,
        /folder ".*missing\/dir" does not exist: create it or pass another -o FILE$/,
      ],
      [`${dir.path}`, /it is a folder: pass a file name with -o FILE$/],
    ] as const
  ) {
    const r = await runTaskProcess("freeze_deps.ts", [
      "app",
      "--root",
      dir.path,
      "-o",
      output,
    ], { env: { ...HERMETIC_PIP_ENV, PIP_INDEX_URL: indexUrl } });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: Cannot write the lock file /);
    assert.match(lines[0]!, message);
  }
  // Nothing was resolved: the index was never asked.
  assert.deepEqual(server.log, []);
});

// ------------------------------------------------------------------ pure parts

Deno.test("jsonPackage() reports the resolved version, and nixpkgs' version in its own field", () => {
  const p: ResolvedPackage = {
    name: "numpy",
    version: "2.0.0",
    requested: false,
    requiredBy: [{ by: "comfyui", specifier: ">=1.25" }],
    hashes: ["sha256:" + "a".repeat(64)],
  };
  const j = jsonPackage(p, {
    status: "nixpkgs",
    name: "numpy",
    attr: "numpy",
    version: "2.3.3",
    satisfies: true,
  });
  assert.equal(j.version, "2.0.0");
  assert.equal((j as Record<string, unknown>).nixpkgsVersion, "2.3.3");
  const c = jsonPackage(p, {
    status: "custom",
    name: "numpy",
    attr: "numpy",
    file: ".flox/pkgs/numpy.nix",
    version: "1.9",
  });
  assert.equal(c.version, "2.0.0");
  assert.equal((c as Record<string, unknown>).customVersion, "1.9");
});

const REPORT = {
  version: "1",
  pip_version: "23.2.1",
  environment: {
    python_version: "3.11",
    python_full_version: "3.11.7",
    sys_platform: "linux",
    platform_machine: "x86_64",
    platform_system: "Linux",
    os_name: "posix",
    implementation_name: "cpython",
  },
  install: [
    {
      download_info: {
        url: "https://x/a-1.0-py3-none-any.whl",
        archive_info: { hashes: { sha256: "a".repeat(64) } },
      },
      requested: true,
      requested_extras: ["gpu"],
      metadata: {
        name: "A",
        version: "1.0",
        requires_dist: [
          "b>=1",
          'c; extra == "gpu"',
          'd; python_version < "3.8"',
          "not a requirement ((",
        ],
      },
    },
    {
      download_info: { archive_info: { hash: "sha256=" + "b".repeat(64) } },
      metadata: { name: "b", version: "2.0" },
    },
    { metadata: { name: "c", version: "3.0" } },
  ],
};

Deno.test("fromPipReport() builds requiredBy from requires_dist, extras and markers", () => {
  const pkgs = fromPipReport(
    REPORT,
    [parseRequirement("A[gpu]>=1")],
    "req.txt",
  );
  assert.deepEqual(pkgs.map((p) => [p.name, p.version, p.hashes]), [
    ["A", "1.0", [`sha256:${"a".repeat(64)}`]],
    ["b", "2.0", [`sha256:${"b".repeat(64)}`]],
    ["c", "3.0", []],
  ]);
  assert.deepEqual(pkgs[0]!.requiredBy, [{
    by: "req.txt",
    specifier: ">=1",
    extras: ["gpu"],
  }]);
  assert.deepEqual(pkgs[1]!.requiredBy, [{ by: "A", specifier: ">=1" }]);
  assert.deepEqual(pkgs[2]!.requiredBy, [{
    by: "A",
    specifier: "",
    marker: 'extra == "gpu"',
  }]);
});

Deno.test("renderLockFile() is deterministic pip hash-checking format", () => {
  const pkgs = (): ResolvedPackage[] => [
    {
      name: "Zeta_Pkg",
      version: "1.0",
      requested: true,
      requiredBy: [{ by: "requirements", specifier: "" }],
      hashes: ["sha256:" + "2".repeat(64), "sha256:" + "1".repeat(64)],
    },
    {
      name: "alpha",
      version: "2.0",
      requested: false,
      requiredBy: [{ by: "Zeta_Pkg", specifier: ">=2" }, {
        by: "beta",
        specifier: "",
      }],
      hashes: ["sha256:" + "3".repeat(64)],
    },
  ]; // deno-fmt-ignore
  // Given in any order, the packages, hashes and `via` names come out sorted.
  const text = renderLockFile(pkgs(), ["generated", ""]);
  assert.equal(renderLockFile(pkgs().reverse(), ["generated", ""]), text);
  assert.equal(
    text,
    `# generated
#
alpha==2.0 \\
    --hash=sha256:${"3".repeat(64)}
    # via Zeta_Pkg, beta
zeta-pkg==1.0 \\
    --hash=sha256:${"1".repeat(64)} \\
    --hash=sha256:${"2".repeat(64)}
    # via requirements
`,
  );
  // pip's own requirements parser reads it back (our parser, which follows pip's rules).
  const back = parseRequirementsTxt(text, "lock");
  assert.deepEqual(back.map((r) => [r.name, r.specifier, r.hashes.length]), [
    ["alpha", "==2.0", 1],
    ["zeta-pkg", "==1.0", 2],
  ]);
});

Deno.test("parseUvOutput() reads uv pip compile's hashes and via annotations", () => {
  const text = `anyio==4.4.0 \\
    --hash=sha256:${"1".repeat(64)} \\
    --hash=sha256:${"2".repeat(64)}
    # via httpx
httpx==0.27.0 \\
    --hash=sha256:${"3".repeat(64)}
    # via -r /tmp/x/requirements.in
sniffio==1.3.1 \\
    --hash=sha256:${"4".repeat(64)}
    # via
    #   anyio
    #   httpx
`;
  const pkgs = parseUvOutput(text, "/tmp/x/requirements.in");
  assert.deepEqual(
    pkgs.map((
      p,
    ) => [p.name, p.version, p.hashes.length, p.requiredBy.map((r) => r.by)]),
    [["anyio", "4.4.0", 2, ["httpx"]], ["httpx", "0.27.0", 1, ["-r"]], [
      "sniffio",
      "1.3.1",
      1,
      ["anyio", "httpx"],
    ]],
  ); // deno-fmt-ignore
});

Deno.test("parseSimplePage() and parseDistFileName() read PEP 503 pages and file names", () => {
  const page = `<a href="../../files/base-2.0.tar.gz#sha256=${
    "A".repeat(64)
  }">x</a>
<a href='https://h/p/Base-2.0-py3-none-any.whl?x=1#sha256=${
    "b".repeat(64)
  }' data-requires-python="&gt;=3">y</a>
<a href="nohash-1.0.tar.gz">z</a>`;
  assert.deepEqual(parseSimplePage(page), [
    { file: "base-2.0.tar.gz", sha256: "a".repeat(64) },
    { file: "Base-2.0-py3-none-any.whl", sha256: "b".repeat(64) },
  ]);
  assert.deepEqual(
    parseDistFileName("torch-2.7.1-cp312-cp312-manylinux_2_28_x86_64.whl"),
    { name: "torch", version: "2.7.1", kind: "wheel" },
  );
  assert.deepEqual(parseDistFileName("foo-bar-1.0.tar.gz"), {
    name: "foo-bar",
    version: "1.0",
    kind: "sdist",
  });
  assert.equal(parseDistFileName("README.md"), undefined);
}); // deno-fmt-ignore

Deno.test("completeHashes() adds the other files of a release from find-links and an index", async () => {
  await using dir = await tmp();
  await writeFindLinks(dir.path, FILES);
  const pkgs: ResolvedPackage[] = [
    { name: "Base", version: "2", requested: true, requiredBy: [], hashes: [] },
  ];
  await completeHashes(pkgs, { findLinks: [dir.path] });
  assert.deepEqual(pkgs[0]!.hashes, [sha("base-2.0-py3-none-any.whl"), sha("base-2.0.tar.gz")].sort());

  await using server = await startServer();
  const url = mountSimpleIndex(server, FILES);
  const viaIndex: ResolvedPackage[] = [
    { name: "speedup", version: "1.5", requested: true, requiredBy: [], hashes: [] },
  ];
  const warnings: string[] = [];
  await completeHashes(viaIndex, { indexUrls: [url, "http://127.0.0.1:1/simple"], onWarning: (m) => warnings.push(m) });
  assert.deepEqual(viaIndex[0]!.hashes, [sha("speedup-1.5-py3-none-any.whl")]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot read the simple index "http:\/\/127\.0\.0\.1:1\/simple"/);
}); // deno-fmt-ignore

Deno.test("resolverErrorText() keeps the resolver's error lines", () => {
  const stderr = "Collecting a\n  Using cached a.whl\nERROR: Cannot install a because these package versions have conflicting dependencies.\n\nThe conflict is caused by:\n    a 1.0 depends on b<2\n";
  assert.equal(
    resolverErrorText(stderr),
    "ERROR: Cannot install a because these package versions have conflicting dependencies.\n\nThe conflict is caused by:\n    a 1.0 depends on b<2",
  );
  assert.equal(combinedSpecifier([{ by: "a", specifier: ">=1" }, { by: "b", specifier: "" }, { by: "c", specifier: "<3" }]), ">=1,<3");
});

/** A stub repository whose comfyui.nix pins an archive served by the fixture server. */
async function pinnedComfy(root: string, requirementsTxt: string) {
  const { buildTarGz } = await import("../_fixtures/build.ts");
  const { narHashArchive } = await import("../../lib/archive/nar_archive.ts");
  const { toSri } = await import("../../lib/hash/sha256.ts");
  const archive = await buildTarGz([
    { path: "ComfyUI-0.3.75/main.py", content: "print('hi')\n" },
    { path: "ComfyUI-0.3.75/requirements.txt", content: requirementsTxt },
  ]);
  await Deno.writeFile(`${root}/a.tar.gz`, archive);
  const sri = toSri(await narHashArchive(`${root}/a.tar.gz`));
  const real = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  await Deno.writeTextFile(
    `${root}/.flox/pkgs/comfyui.nix`,
    real.replace(/hash = "sha256-[^"]+";/, `hash = "${sri}";`),
  );
  return archive;
}

Deno.test("freeze-deps without arguments resolves ComfyUI's requirements.txt from the pinned archive", async () => {
  if (!pipAvailable()) return;
  await using dir = await tmp();
  const nixIndex = await stubRepo(dir.path);
  await writeFindLinks(`${dir.path}/wheels`, FILES);
  const archive = await pinnedComfy(dir.path, "# comfy\nleft\nbase<3\n");
  await using server = await startServer();
  server.route(
    "GET",
    /^\/Comfy-Org\/ComfyUI\/archive\/v0\.3\.75\.tar\.gz$/,
    () => new Response(archive as BodyInit),
  );
  const env = {
    ...HERMETIC_PIP_ENV,
    COMFYKIT_GITHUB_URL: server.url,
    COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
  };
  const args = [
    "--no-index",
    "--find-links",
    `${dir.path}/wheels`,
    "--root",
    dir.path,
    "--nixpkgs-index",
    nixIndex,
    "--check",
  ];
  const r = await runTaskProcess("freeze_deps.ts", args, { env });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(
    r.stderr,
    /requirements: 2 from ComfyUI@v0\.3\.75\/requirements\.txt \(pinned in \.flox\/pkgs\/comfyui\.nix\)/,
  );
  assert.match(
    r.stdout,
    /^ {2}base +2\.0 +nixpkgs +base 2\.0 +comfyui \(<3\), left \(>=1,<3\)$/m,
  );
  assert.match(
    r.stdout,
    /^2 packages: 1 from nixpkgs, 1 custom, 0 vendored only, 0 missing; 0 to fix$/m,
  );
  assert.deepEqual(server.log, [
    "GET /Comfy-Org/ComfyUI/archive/v0.3.75.tar.gz",
  ]);

  // A node pack's requirements (its add-node header) join ComfyUI's.
  await Deno.writeTextFile(
    `${dir.path}/.flox/pkgs/comfyui-node-pack.nix`,
    "# ComfyUI node pack pack 1.0\n#\n# Requirements:\n#   left>=1 (requirements.txt:1): python3.pkgs.left\n{ lib }: { }\n",
  );
  const withPack = await runTaskProcess("freeze_deps.ts", args, { env });
  assert.equal(withPack.code, 0, withPack.stderr + withPack.stdout);
  assert.match(
    withPack.stderr,
    /requirements: 1 more from the node packs comfyui-node-pack/,
  );
  assert.match(
    withPack.stdout,
    /^ {2}left +\S+ .*comfyui-node-pack|left \(>=1\)/m,
  );
  await Deno.remove(`${dir.path}/.flox/pkgs/comfyui-node-pack.nix`);

  // A tampered archive (other bytes, same URL, empty cache) is refused before resolving.
  const other = await (await import("../_fixtures/build.ts")).buildTarGz([
    { path: "ComfyUI-0.3.75/requirements.txt", content: "clash\n" },
  ]);
  server.route(
    "GET",
    /^\/Comfy-Org\/ComfyUI\/archive\/v0\.3\.75\.tar\.gz$/,
    () => new Response(other as BodyInit),
  );
  const bad = await runTaskProcess("freeze_deps.ts", args, {
    env: { ...env, COMFYKIT_CACHE_DIR: `${dir.path}/cache2` },
  });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^error: The archive of Comfy-Org\/ComfyUI@v0\.3\.75 has NAR hash sha256-\S+, not the sha256-\S+ pinned in \.flox\/pkgs\/comfyui\.nix/m,
  );
}); // deno-fmt-ignore

Deno.test("freeze-deps interrupted while pip runs exits 130 and removes its temporary venv", async () => {
  if (!pipAvailable()) return;
  await using server = await startServer();
  const { promise: asked, resolve: onAsk } = Promise.withResolvers<void>();
  server.route("GET", /^\/simple\//, async () => {
    onAsk();
    await new Promise((r) => setTimeout(r, 3000)); // a slow index
    return new Response("not found", { status: 404 });
  });
  // A private TMPDIR: other runs on the machine make comfykit-resolve-* folders of their own.
  await using tmpDir = await tmp();
  const tmpRoot = tmpDir.path;
  const resolveDirs = () =>
    [...Deno.readDirSync(tmpRoot)].filter((e) => e.name.startsWith("comfykit-resolve-")).map((e) => e.name);
  const before = new Set(resolveDirs());
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/freeze_deps.ts`, "app", "--index-url", `${server.url}/simple`, "--root", tmpRoot, "--no-lock"],
    env: { ...HERMETIC_PIP_ENV, TMPDIR: tmpRoot }, stdout: "piped", stderr: "piped",
  }).spawn();
  await asked; // pip is running inside the venv
  const mine = resolveDirs().filter((d) => !before.has(d));
  assert.equal(mine.length, 1);
  child.kill("SIGINT");
  const st = await child.output();
  assert.equal(st.code, 130);
  assert.deepEqual(resolveDirs().filter((d) => !before.has(d)), []);
});
