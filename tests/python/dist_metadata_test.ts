import assert from "node:assert/strict";
import {
  distMetadataFromBytes,
  githubRepo,
  importNamesFromPaths,
  parseCoreMetadata,
  parseRequiresTxt,
  pickHomepage,
  readDistMetadata,
} from "../../lib/python/dist_metadata.ts";
import {
  linkedRepository,
  pickChangelog,
} from "../../lib/python/core_metadata.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { MAX_MEMBER_BYTES } from "../../lib/python/dist_archive.ts";
import { checkImportNames } from "../../lib/python/import_names.ts";
import { detectLicense } from "../../lib/python/license.ts";
import { parseRequirement } from "../../lib/python/pep508.ts";
import { REAL_SOURCES, realSourcesTest, tmp } from "../_helpers.ts";
import { zerosZip } from "../_fixtures/zeros.ts";
import {
  buildSdist,
  buildTarGz,
  buildWheel,
  buildZip,
  metadataText,
  sdistFileName,
  wheelFileName,
} from "../_fixtures/build.ts";

realSourcesTest(
  "readDistMetadata() reads the real wheels and sdist",
  async () => {
    const templates = await readDistMetadata(
      `${REAL_SOURCES}/comfyui_workflow_templates-0.7.20-py3-none-any.whl`,
    );
    assert.equal(templates.name, "comfyui_workflow_templates");
    assert.equal(templates.version, "0.7.20");
    assert.equal(templates.format, "wheel");
    assert.deepEqual(templates.importNames, ["comfyui_workflow_templates"]);
    assert.deepEqual(templates.providesExtra, [
      "api",
      "video",
      "image",
      "other",
      "all",
    ]);
    assert.equal(templates.requiresDist.length, 13);
    assert.ok(
      templates.requiresDist.includes(
        'comfyui-workflow-templates-media-api==0.3.14; extra == "api"',
      ),
    );
    for (const r of templates.requiresDist) parseRequirement(r);
    assert.deepEqual(templates.wheelTags, ["py3-none-any"]);
    assert.equal(templates.license, "MIT");

    const core = await readDistMetadata(
      `${REAL_SOURCES}/comfyui_workflow_templates_core-0.3.10-py3-none-any.whl`,
    );
    assert.equal(core.name, "comfyui-workflow-templates-core");
    assert.equal(core.licenseExpression, "MIT");
    assert.deepEqual(core.requiresDist, []);

    // Poetry wheel without top_level.txt: import names from RECORD; the real summary.
    const nunchaku = await readDistMetadata(
      `${REAL_SOURCES}/nunchaku-0.16.1-py3-none-any.whl`,
    );
    assert.deepEqual(nunchaku.importNames, ["nunchaku"]);
    assert.equal(
      nunchaku.summary,
      "Optimally partitioning data into piece-wise linear segments.",
    );
    assert.deepEqual(
      nunchaku.requiresDist.map((r) => parseRequirement(r).specifier),
      [
        ">=3.5.0,<4.0.0",
        ">=2.0.0,<3.0.0",
        ">=1.4",
        ">=1.10.1,<2.0.0",
        ">=4.65.0,<5.0.0",
      ],
    );
    assert.equal(nunchaku.homepage, "https://nunchaku.readthedocs.io");
    assert.equal(nunchaku.requiresPython, ">=3.9,<3.13");

    const controlnet = await readDistMetadata(
      `${REAL_SOURCES}/controlnet_aux-0.0.10-py3-none-any.whl`,
    );
    assert.equal(controlnet.license, "Apache");
    assert.deepEqual(detectLicense(controlnet), {
      kind: "found",
      attrs: ["asl20"],
      source: 'classifier "License :: OSI Approved :: Apache Software License"',
    });
    assert.deepEqual(githubRepo(controlnet.projectUrls), {
      owner: "patrickvonplaten",
      repo: "controlnet_aux",
    });
    assert.ok(controlnet.requiresDist.includes("opencv-python-headless"));

    const spandrel = await readDistMetadata(
      `${REAL_SOURCES}/spandrel-0.4.0.tar.gz`,
    );
    assert.equal(spandrel.kind, "sdist");
    assert.equal(spandrel.format, "pyproject");
    assert.deepEqual(spandrel.buildRequires, ["setuptools>=46.4.0"]);
    assert.equal(spandrel.buildBackend, "setuptools.build_meta");
    assert.deepEqual(spandrel.importNames, ["spandrel"]);
    // PKG-INFO names no URL; its description links the project's own repository.
    assert.equal(
      spandrel.homepage,
      "https://github.com/chaiNNer-org/spandrel",
    );
    assert.deepEqual(spandrel.requiresDist, [
      "torch",
      "torchvision",
      "safetensors",
      "numpy",
      "einops",
      "typing_extensions",
    ]);
  },
);

Deno.test("parseCoreMetadata() handles multi-line fields and the description body", () => {
  const core = parseCoreMetadata(
    [
      "Metadata-Version: 2.1",
      "Name: x",
      "License: Line one",
      "        |line two",
      "Description: first",
      "        |  indented",
      "Classifier: A",
      "Classifier: B",
      "",
      "# Body",
      "",
      "text",
    ].join("\r\n"),
    "x",
  );
  assert.deepEqual(core.fields.get("license"), ["Line one\nline two"]);
  assert.deepEqual(core.fields.get("description"), ["first\n  indented"]);
  assert.deepEqual(core.fields.get("classifier"), ["A", "B"]);
  assert.equal(core.body, "# Body\n\ntext");
  assert.throws(
    () => parseCoreMetadata("Name: x\nthis is not a field\n", "f/METADATA"),
    /Malformed metadata in f\/METADATA: line 2 is not "Field: value"/,
  );
  assert.throws(
    () => parseCoreMetadata("  continued\n", "f"),
    /line 1 continues no field/,
  );
});

Deno.test("readDistMetadata() takes import names from RECORD without tests, and from top_level.txt", async () => {
  const spec = {
    name: "Hatch-Thing",
    version: "1.2.0",
    packages: ["hatch_thing", "tests"],
    requiresDist: ["numpy>=1.24", 'pytest; extra == "test"'],
    projectUrls: { Source: "https://github.com/acme/hatch-thing" },
  };
  const noTop = await distMetadataFromBytes(
    buildWheel(spec),
    wheelFileName(spec),
  );
  assert.deepEqual(noTop.importNames, ["hatch_thing"]);
  assert.equal(noTop.homepage, "https://github.com/acme/hatch-thing");
  const withTop = await distMetadataFromBytes(
    buildWheel({ ...spec, topLevel: true }),
    wheelFileName(spec),
  );
  assert.deepEqual(withTop.importNames, ["hatch_thing"]);
});

Deno.test("readDistMetadata() reads sdist formats: pyproject, setup.py only, src layout", async () => {
  const base = { name: "sdisty", version: "0.1.0", packages: ["sdisty"] };
  const pyproject = await distMetadataFromBytes(
    await buildSdist({ ...base, buildSystem: ["hatchling>=1.0"] }),
    sdistFileName(base),
  );
  assert.equal(pyproject.format, "pyproject");
  assert.deepEqual(pyproject.buildRequires, ["hatchling>=1.0"]);
  assert.deepEqual(pyproject.importNames, ["sdisty"]);

  const setupPy = await distMetadataFromBytes(
    await buildSdist(base),
    sdistFileName(base),
  );
  assert.equal(setupPy.format, "setuptools");
  assert.deepEqual(setupPy.buildRequires, ["setuptools"]);

  const src = await distMetadataFromBytes(
    await buildTarGz([
      {
        path: "srcy-2.0/PKG-INFO",
        content: metadataText({ name: "srcy", version: "2.0" }),
      },
      { path: "srcy-2.0/setup.py", content: "" },
      { path: "srcy-2.0/src/srcy/__init__.py", content: "" },
      { path: "srcy-2.0/src/srcy/core.py", content: "" },
      { path: "srcy-2.0/tests/__init__.py", content: "" },
      { path: "srcy-2.0/docs/conf.py", content: "" },
    ]),
    "srcy-2.0.tar.gz",
  );
  assert.deepEqual(src.importNames, ["srcy"]);

  // A zip sdist whose old PKG-INFO has no Requires-Dist: egg-info requires.txt fills it.
  const old = await distMetadataFromBytes(
    buildZip([
      {
        path: "oldy-1.0/PKG-INFO",
        content:
          "Metadata-Version: 1.1\nName: oldy\nVersion: 1.0\nLicense: BSD\n",
      },
      { path: "oldy-1.0/setup.py", content: "" },
      { path: "oldy-1.0/oldy.py", content: "" },
      { path: "oldy-1.0/oldy.egg-info/PKG-INFO", content: "" },
      { path: "oldy-1.0/oldy.egg-info/top_level.txt", content: "oldy\n" },
      {
        path: "oldy-1.0/oldy.egg-info/requires.txt",
        content:
          'six\n\n[:sys_platform == "win32"]\npywin32\n\n[docs]\nsphinx\n',
      },
    ]),
    "oldy-1.0.zip",
  );
  assert.deepEqual(old.requiresDist, [
    "six",
    'pywin32; (sys_platform == "win32")',
    'sphinx; extra == "docs"',
  ]);
  assert.deepEqual(old.importNames, ["oldy"]);
});

Deno.test("readDistMetadata() falls back to a static [project] table without PKG-INFO", async () => {
  const meta = await distMetadataFromBytes(
    await buildTarGz([
      {
        path: "proj-3.1/pyproject.toml",
        content:
          `[build-system]\nrequires = ["flit_core>=3.2"]\nbuild-backend = "flit_core.buildapi"\n\n` +
          `[project]\nname = "proj"\nversion = "3.1"\ndescription = "P"\nlicense = "MIT"\n` +
          `dependencies = ["attrs"]\n[project.optional-dependencies]\ncli = ["click; python_version >= '3.8'"]\n` +
          `[project.urls]\nRepository = "https://github.com/o/proj"\n`,
      },
      { path: "proj-3.1/proj/__init__.py", content: "" },
    ]),
    "proj-3.1.tar.gz",
  );
  assert.equal(meta.summary, "P");
  assert.equal(meta.licenseExpression, "MIT");
  assert.deepEqual(meta.requiresDist, [
    "attrs",
    `click; (python_version >= '3.8') and extra == "cli"`,
  ]);
  for (const r of meta.requiresDist) parseRequirement(r);
  assert.deepEqual(meta.buildRequires, ["flit_core>=3.2"]);
  assert.equal(meta.homepage, "https://github.com/o/proj");
});

Deno.test("readDistMetadata() rejects malformed distributions with one-line errors", async () => {
  await using dir = await tmp();
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "x-1.0-py3-none-any.whl",
      buildZip([{ path: "x/__init__.py", content: "" }]),
      /no \*\.dist-info\/METADATA/,
    ],
    [
      "x-1.0-py3-none-any.whl",
      buildZip([{ path: "x-1.0.dist-info/METADATA", content: "Name: x\n\n" }]),
      /Malformed metadata in .*: no Version/,
    ],
    [
      "x-1.0-py3-none-any.whl",
      new TextEncoder().encode("not a zip"),
      /^Cannot read x-1\.0-py3-none-any\.whl/,
    ],
    [
      "y-2.0-py3-none-any.whl",
      buildWheel({ name: "x", version: "1.0" }),
      /says it is x 1\.0: the file name does not match/,
    ],
    [
      "z-1.0.tar.gz",
      await buildTarGz([{
        path: "z-1.0/PKG-INFO",
        content: metadataText({ name: "z", version: "1.0" }),
      }]),
      /neither pyproject\.toml nor setup\.py/,
    ],
    [
      "z-1.0.tar.gz",
      await buildTarGz([
        {
          path: "z-1.0/PKG-INFO",
          content: metadataText({ name: "z", version: "1.0" }),
        },
        { path: "z-1.0/pyproject.toml", content: "[build-system\n" },
      ]),
      /Malformed pyproject\.toml in z-1\.0\.tar\.gz/,
    ],
    ["notes.txt", new Uint8Array(), /Not a wheel or sdist: "notes\.txt"/],
  ];
  for (const [name, bytes, re] of cases) {
    const path = `${dir.path}/${name}`;
    await Deno.writeFile(path, bytes);
    await assert.rejects(readDistMetadata(path), (e: unknown) => {
      assert.ok(e instanceof KitError, name);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  await assert.rejects(
    readDistMetadata(`${dir.path}/missing.whl`),
    /No such file/,
  );
});

Deno.test("importNamesFromPaths() finds packages, namespace packages and lone modules", () => {
  assert.deepEqual(
    importNamesFromPaths([
      "a/__init__.py",
      "a/b.py",
      "tests/__init__.py",
      "c.py",
    ]),
    ["a"],
  );
  assert.deepEqual(
    importNamesFromPaths(["ns/pkg/__init__.py", "ns/pkg/x.py"]),
    ["ns.pkg"],
  );
  assert.deepEqual(
    importNamesFromPaths(["six.py", "setup.py", "conftest.py"]),
    ["six"],
  );
  assert.deepEqual(
    importNamesFromPaths(["data/file.json", "bad-name/__init__.py"]),
    [],
  );
});

Deno.test("parseRequiresTxt() turns sections into markers", () => {
  assert.deepEqual(parseRequiresTxt("a\n[x:python_version<'3']\nb\n"), [
    "a",
    `b; (python_version<'3') and extra == "x"`,
  ]);
});

Deno.test("pickHomepage() and githubRepo() choose among project URLs", () => {
  const urls = {
    Documentation: "https://docs.example.org",
    Repository: "https://github.com/Owner/Repo.git",
    Homepage: "https://example.org",
  };
  assert.equal(pickHomepage(urls), "https://example.org");
  assert.deepEqual(githubRepo(urls), { owner: "Owner", repo: "Repo" });
  assert.equal(
    githubRepo({ Funding: "https://github.com/sponsors/x" }),
    undefined,
  );
  assert.equal(pickHomepage({}), undefined);
  // Homepage, then Source, then Repository, then the Home-page field; never the docs alone.
  const cases: [Record<string, string>, string | undefined][] = [
    [
      { "Home-page": "https://a.org", Source: "https://b.org" },
      "https://b.org",
    ],
    [{ Repository: "https://r.org", Source: "https://s.org" }, "https://s.org"],
    [
      { "Home-page": "https://a.org", Documentation: "https://d" },
      "https://a.org",
    ],
    [{ Documentation: "https://d.org", "Bug Tracker": "https://t" }, undefined],
    [
      { homepage: "ftp://x.org", "Home-page": "https://a.org" },
      "https://a.org",
    ],
  ];
  for (const [u, want] of cases) {
    assert.equal(pickHomepage(u), want, JSON.stringify(u));
  }
  assert.equal(
    pickChangelog({ Homepage: "https://h", "Release Notes": "https://r" }),
    "https://r",
  );
  assert.equal(pickChangelog({ Homepage: "https://h" }), undefined);
  assert.equal(
    linkedRepository(
      "see [x](https://github.com/o/other) and https://github.com/Own/My_Pkg.git",
      "my-pkg",
    ),
    "https://github.com/Own/My_Pkg",
  );
  assert.equal(
    linkedRepository("https://github.com/o/other", "my-pkg"),
    undefined,
  );
});

realSourcesTest(
  "readDistMetadata() reads the licence files a distribution ships",
  async () => {
    const templates = await readDistMetadata(
      `${REAL_SOURCES}/comfyui_workflow_templates-0.7.20-py3-none-any.whl`,
    );
    assert.deepEqual(templates.licenseFiles.map((f) => f.path), [
      "comfyui_workflow_templates-0.7.20.dist-info/licenses/LICENSE",
    ]);
    assert.match(templates.licenseFiles[0]!.text, /GNU GENERAL PUBLIC LICENSE/);
    const spandrel = await readDistMetadata(
      `${REAL_SOURCES}/spandrel-0.4.0.tar.gz`,
    );
    assert.deepEqual(spandrel.licenseFiles, []);
    const nunchaku = await readDistMetadata(
      `${REAL_SOURCES}/nunchaku-0.16.1-py3-none-any.whl`,
    );
    assert.deepEqual(nunchaku.licenseFiles, []);
  },
);

Deno.test("openArchive() refuses a METADATA too large to read, in one line", async () => {
  const { zipSync } = await import("fflate");
  const huge = new Uint8Array(MAX_MEMBER_BYTES + 1).fill(65);
  const bytes = zipSync({ "big-1.0.dist-info/METADATA": huge }, { level: 1 });
  await assert.rejects(
    () => distMetadataFromBytes(bytes, "big-1.0-py3-none-any.whl"),
    (e: unknown) =>
      e instanceof KitError &&
      /^big-1\.0-py3-none-any\.whl: big-1\.0\.dist-info\/METADATA is too large to read \(16777217 bytes/
        .test(e.message),
  );
});

Deno.test("checkImportNames() keeps names the wheel holds and drops the rest", () => {
  const paths = [
    "pkg/__init__.py",
    "ns/sub/mod.py",
    "single.py",
    "fast.cpython-312-x86_64-linux-gnu.so",
    "ghostdir/README.md",
    "x-1.0.dist-info/METADATA",
  ];
  assert.deepEqual(
    checkImportNames(
      ["pkg", "ns.sub", "single", "fast", "ghostdir", "missing", "pkg.nope"],
      paths,
    ),
    {
      kept: ["pkg", "ns.sub", "single", "fast"],
      dropped: ["ghostdir", "missing", "pkg.nope"],
    },
  );
});

Deno.test("readDistMetadata() drops a top_level.txt name the wheel does not hold", async () => {
  const spec = {
    name: "leftover",
    version: "1.0",
    packages: ["leftover"],
    topLevel: true,
  };
  const wheel = buildWheel({
    ...spec,
    extraFiles: [],
  });
  // top_level.txt naming a package that is not in the wheel, as real ones do.
  const { unzipSync, zipSync } = await import("fflate");
  const files = unzipSync(wheel);
  files["leftover-1.0.dist-info/top_level.txt"] = new TextEncoder().encode(
    "leftover\nbuild_helpers\n",
  );
  const meta = await distMetadataFromBytes(
    zipSync(files),
    wheelFileName(spec),
  );
  assert.deepEqual(meta.importNames, ["leftover"]);
  assert.deepEqual(meta.droppedImports, ["build_helpers"]);
});

Deno.test("readDistMetadata() refuses a wheel whose METADATA inflates to 1 GiB, in one line and bounded memory", async () => {
  await using dir = await tmp();
  const whl = `${dir.path}/bomb-1.0-py3-none-any.whl`;
  await zerosZip(whl, 1024, "bomb-1.0.dist-info/METADATA");
  const before = Deno.memoryUsage().rss;
  await assert.rejects(readDistMetadata(whl), (e: Error) => {
    assert.ok(e instanceof KitError, String(e));
    assert.equal(
      e.message,
      "bomb-1.0-py3-none-any.whl: bomb-1.0.dist-info/METADATA is too large to read (1073741824 bytes, the limit is 16777216): it is not a plausible distribution",
    );
    return true;
  });
  assert.ok(Deno.memoryUsage().rss - before < 256 * 2 ** 20, "not inflated");
});
