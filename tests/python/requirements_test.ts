import assert from "node:assert/strict";
import { KitError } from "../../lib/kit/errors.ts";
import { markerToString } from "../../lib/python/pep508.ts";
import {
  diffRequirements,
  parseRequirementsFile,
  parseRequirementsTxt,
  readRequirementsFile,
} from "../../lib/python/requirements.ts";
import { tmp } from "../_helpers.ts";
import { REQUIREMENTS_0_3_75 } from "../_fixtures/comfyui.ts";

// The shape of ComfyUI's requirements.txt (0.3.7x): pins, bare names, a comment block.
const COMFY = REQUIREMENTS_0_3_75;

Deno.test("parseRequirementsTxt() reads ComfyUI's requirements.txt", () => {
  const reqs = parseRequirementsTxt(COMFY, "requirements.txt");
  assert.equal(reqs.length, 27);
  assert.deepEqual(
    reqs.slice(0, 2).map((r) => [r.name, r.specifier, r.line]),
    [["comfyui-frontend-package", "==1.30.6", 1], [
      "comfyui-workflow-templates",
      "==0.7.20",
      2,
    ]],
  );
  const kornia = reqs.find((r) => r.name === "kornia")!;
  assert.equal(kornia.specifier, ">=0.7.1");
  assert.equal(kornia.line, 26);
  assert.equal(kornia.file, "requirements.txt");
  assert.equal(reqs.find((r) => r.name === "pydantic")!.specifier, "~=2.0");
});

Deno.test("parseRequirementsTxt() handles comments, continuations, markers, extras and hashes", () => {
  const text = [
    "# a comment",
    "",
    "  requests[socks,security] >= 2.31 ; python_version < '3.13'  # trailing comment",
    "numpy>=1.25,\\",
    "  <3",
    'pywin32==306; sys_platform == "win32"',
    "foo==1.0 \\",
    "    --hash=sha256:0123abcd \\",
    "    --hash=sha256:4567ef01",
    "bar @ https://example.org/bar-1.0.tar.gz#egg=bar",
  ].join("\n");
  const reqs = parseRequirementsTxt(text, "r.txt");
  assert.deepEqual(reqs.map((r) => r.name), [
    "requests",
    "numpy",
    "pywin32",
    "foo",
    "bar",
  ]);
  assert.deepEqual(reqs[0]!.extras, ["socks", "security"]);
  assert.equal(reqs[0]!.line, 3);
  assert.equal(markerToString(reqs[0]!.marker!), 'python_version < "3.13"');
  assert.equal(reqs[1]!.specifier, ">=1.25,<3");
  assert.equal(reqs[1]!.line, 4);
  assert.equal(markerToString(reqs[2]!.marker!), 'sys_platform == "win32"');
  assert.deepEqual(reqs[3]!.hashes, ["sha256:0123abcd", "sha256:4567ef01"]);
  assert.equal(reqs[3]!.line, 7);
  assert.equal(reqs[4]!.url, "https://example.org/bar-1.0.tar.gz#egg=bar");
});

Deno.test("parseRequirementsFile() reports options and includes", () => {
  const f = parseRequirementsFile(
    [
      "-r base.txt",
      "--requirement=more.txt",
      "-c constraints.txt",
      "-i http://127.0.0.1:1/simple",
      "--extra-index-url http://mirror/simple",
      "-f ./wheels",
      "--no-index",
      "--prefer-binary",
      "einops",
    ].join("\n"),
    "req.txt",
  );
  assert.deepEqual(f.includes, [
    { kind: "requirement", path: "base.txt", line: 1 },
    { kind: "requirement", path: "more.txt", line: 2 },
    { kind: "constraint", path: "constraints.txt", line: 3 },
  ]);
  assert.equal(f.indexUrl, "http://127.0.0.1:1/simple");
  assert.deepEqual(f.extraIndexUrls, ["http://mirror/simple"]);
  assert.deepEqual(f.findLinks, ["./wheels"]);
  assert.equal(f.noIndex, true);
  assert.deepEqual(f.ignored, [{ option: "--prefer-binary", line: 8 }]);
  assert.deepEqual(f.requirements.map((r) => r.name), ["einops"]);
});

Deno.test("parseRequirementsTxt() rejects bad lines with file:line", () => {
  const cases: [string, RegExp][] = [
    ["ok\nnumpy>=>1", /^r\.txt:2: Invalid PEP 508 requirement/],
    ["--frobnicate", /^r\.txt:1: unknown option "--frobnicate"/],
    ["-r", /^r\.txt:1: option "--requirement" needs a value/],
    ["-e ./src", /^r\.txt:1: editable requirement "\.\/src" cannot be pinned/],
    ["./pkg.whl", /^r\.txt:1: "\.\/pkg\.whl" is a path or URL/],
    [
      "foo --pre",
      /^r\.txt:1: option "--pre" is not allowed after a requirement/,
    ],
    ["foo --hash=md5:00", /^r\.txt:1: bad hash "md5:00"/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseRequirementsTxt(text, "r.txt"),
      (e) => e instanceof KitError && re.test(e.message),
      text,
    );
  }
});

Deno.test("readRequirementsFile() follows -r and -c relative to the including file", async () => {
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/sub`);
  await Deno.writeTextFile(
    `${dir.path}/main.txt`,
    "-r sub/base.txt\n-c constraints.txt\n-f wheels\nkornia>=0.7.1\n",
  );
  await Deno.writeTextFile(`${dir.path}/sub/base.txt`, "torch\n-r extra.txt\n");
  await Deno.writeTextFile(`${dir.path}/sub/extra.txt`, "numpy>=1.25\n");
  await Deno.writeTextFile(`${dir.path}/constraints.txt`, "numpy<2\n");
  const r = await readRequirementsFile(`${dir.path}/main.txt`);
  assert.deepEqual(r.requirements.map((x) => x.name), [
    "kornia",
    "torch",
    "numpy",
  ]);
  assert.deepEqual(r.constraints.map((x) => x.specifier), ["<2"]);
  assert.deepEqual(r.options.findLinks, [`${dir.path}/wheels`]);

  await Deno.writeTextFile(`${dir.path}/sub/extra.txt`, "-r base.txt\n");
  await assert.rejects(
    readRequirementsFile(`${dir.path}/main.txt`),
    /Requirements files include each other: .*base\.txt -> .*extra\.txt -> .*base\.txt/,
  );
  await assert.rejects(
    readRequirementsFile(`${dir.path}/none.txt`),
    /Requirements file ".*none\.txt" not found/,
  );
});

Deno.test("diffRequirements() reports added, removed and changed by normalised name", () => {
  const older = parseRequirementsTxt(COMFY, "old");
  const newer = parseRequirementsTxt(
    COMFY.replace("transformers>=4.50.3", "transformers>=4.52")
      .replace("Pillow", "pillow")
      .replace("yarl>=1.18.0\n", "")
      .replace("spandrel", "spandrel[extra]")
      .replace("av>=14.2.0", 'av>=14.2.0; sys_platform != "win32"') +
      "requests\n",
    "new",
  );
  const d = diffRequirements(older, newer);
  assert.deepEqual(d.added.map((r) => r.name), ["requests"]);
  assert.deepEqual(d.removed.map((r) => r.name), ["yarl"]);
  assert.deepEqual(
    d.changed.map((c) => [c.name, c.changes]),
    [
      ["transformers", ['specifier ">=4.50.3" -> ">=4.52"']],
      ["pillow", ['spelling "Pillow" -> "pillow"']],
      ["av", ['marker "" -> "sys_platform != \\"win32\\""']],
      ["spandrel", ["extras [] -> [extra]"]],
    ],
  );
  assert.equal(d.unchanged.length, 22);
  assert.deepEqual(diffRequirements(older, older).changed, []);
});

Deno.test("diffRequirements() matches a project listed under several markers marker by marker", () => {
  const a = parseRequirementsTxt(
    'torch==2.1; sys_platform == "darwin"\ntorch==2.2; sys_platform == "linux"\n',
    "a",
  );
  const b = parseRequirementsTxt(
    'torch==2.3; sys_platform == "linux"\ntorch==2.1; sys_platform == "darwin"\ntorch; sys_platform == "win32"\n',
    "b",
  );
  const d = diffRequirements(a, b);
  assert.deepEqual(d.changed.map((c) => c.changes), [[
    'specifier "==2.2" -> "==2.3"',
  ]]);
  assert.equal(d.unchanged.length, 1);
  assert.deepEqual(d.added.map((r) => r.specifier), [""]);
  assert.deepEqual(d.removed, []);
});
