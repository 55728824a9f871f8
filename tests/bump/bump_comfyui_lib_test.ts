// Pure stages of bump-comfyui: version tags, nearest versions, actions, TOML edits, unified diffs.
import assert from "node:assert/strict";
import {
  actionFor,
  bumpKind,
  describeAction,
  findTag,
  nearestTags,
  pinnedVersion,
  type ReqChange,
  type Source,
} from "../../lib/bump/plan.ts";
import {
  isPrerelease,
  latestTag,
  sortVersionTags,
  tagVersion,
} from "../../lib/python/versions.ts";
import { scanTomlValues } from "../../lib/nix/toml_edit.ts";
import { splitLines, unifiedDiff } from "../../lib/kit/diff.ts";
import {
  mainInputsAttr,
  readMainPackage,
  rewriteMainPackage,
} from "../../lib/repo/main_package.ts";
import {
  addInputEdit,
  mainInputs,
  planFromSources,
  removeInputEdit,
  systemsOf,
} from "../../lib/bump/actions.ts";
import { rewriteCustomPackage } from "../../lib/bump/custom.ts";
import { haveTool, ROOT, run, tmp } from "../_helpers.ts";
import { tagNames } from "../_fixtures/comfyui.ts";

Deno.test("tagVersion() reads version tags and ignores the rest", () => {
  const cases: [string, string | undefined][] = [
    ["v0.3.75", "0.3.75"],
    ["0.3.75", "0.3.75"],
    ["V1.2", "1.2"],
    ["v0.4.0rc1", "0.4.0rc1"],
    ["v1.0.0.post1", "1.0.0.post1"],
    ["latest", undefined],
    ["nightly", undefined],
    ["release-1.0", undefined],
    ["v", undefined],
    ["vv1.0", undefined],
    ["1.0 beta", undefined],
  ];
  for (const [tag, want] of cases) assert.equal(tagVersion(tag), want, tag);
});

Deno.test("sortVersionTags() orders by version, not by string, newest first", () => {
  const sorted = sortVersionTags(
    [
      "v0.3.9",
      "v0.3.100",
      "latest",
      "v0.3.76",
      "v0.4.0rc1",
      "0.3.76",
      "v0.3.10",
    ].map((name) => ({
      name,
    })),
  );
  assert.deepEqual(sorted.map((t) => t.tag), [
    "v0.4.0rc1",
    "v0.3.100",
    "v0.3.76",
    "v0.3.10",
    "v0.3.9",
  ]);
  assert.equal(sorted[0]!.prerelease, true);
  assert.equal(latestTag(sorted)!.tag, "v0.3.100");
});

Deno.test("isPrerelease() is true for rc and dev versions only", () => {
  assert.equal(isPrerelease("0.4.0rc1"), true);
  assert.equal(isPrerelease("1.0.dev3"), true);
  assert.equal(isPrerelease("1.0.post1"), false);
  assert.equal(isPrerelease("0.3.75"), false);
});

Deno.test("bumpKind() detects upgrades, downgrades and the same version", () => {
  assert.equal(bumpKind("0.3.75", "0.3.76"), "upgrade");
  assert.equal(bumpKind("0.3.75", "0.3.100"), "upgrade");
  assert.equal(bumpKind("0.3.100", "0.3.75"), "downgrade");
  assert.equal(bumpKind("0.3.75", "0.3.75.0"), "same");
  assert.equal(bumpKind("0.4.0", "0.4.0rc1"), "downgrade");
});

Deno.test("findTag() accepts a version with or without v, or the tag name", () => {
  const sorted = sortVersionTags(tagNames().map((name) => ({ name })));
  assert.equal(findTag(sorted, "0.3.76")?.tag, "v0.3.76");
  assert.equal(findTag(sorted, "v0.3.76")?.tag, "v0.3.76");
  assert.equal(findTag(sorted, "0.3.76.0")?.tag, "v0.3.76");
  assert.equal(findTag(sorted, "0.3.77"), undefined);
  assert.equal(findTag(sorted, "nightly"), undefined);
});

Deno.test("nearestTags() lists the neighbours of an unknown version", () => {
  const sorted = sortVersionTags(tagNames().map((name) => ({ name })));
  assert.deepEqual(nearestTags(sorted, "0.3.77").map((t) => t.tag), [
    "v0.3.100",
    "v0.3.76",
    "v0.3.75",
  ]);
  assert.deepEqual(nearestTags(sorted, "9.0").map((t) => t.tag), [
    "v0.4.0rc1",
    "v0.3.100",
    "v0.3.76",
  ]);
  assert.deepEqual(nearestTags(sorted, "0.0.1", 2).map((t) => t.tag), [
    "v0.2.1",
    "v0.2.0",
  ]);
  assert.equal(nearestTags(sorted, "vO.3.100", 1)[0]!.tag, "v0.3.100");
});

Deno.test("pinnedVersion() reads only exact pins", () => {
  assert.equal(pinnedVersion("==1.32.1"), "1.32.1");
  assert.equal(pinnedVersion("===1.0"), "1.0");
  assert.equal(pinnedVersion(">=1.0"), undefined);
  assert.equal(pinnedVersion("==1.*"), undefined);
  assert.equal(pinnedVersion("==1.0,<2"), undefined);
});

Deno.test("actionFor() maps each classification to what must be done", () => {
  const fe = {
    change: "changed" as const,
    name: "comfyui-frontend-package",
    old: { name: "comfyui-frontend-package", specifier: "==1.30.6" },
    new: { name: "comfyui-frontend-package", specifier: "==1.32.1" },
  };
  const upd = actionFor(fe, {
    status: "custom",
    file: ".flox/pkgs/comfyui-frontend-package.nix",
    attr: "comfyui-frontend-package",
    version: "1.30.6",
    matches: false,
  });
  assert.equal(upd.kind, "update-custom");
  assert.match(
    describeAction(
      {
        ...upd,
        oldFiles: ["comfyui_frontend_package-1.30.6-py3-none-any.whl"],
      } as typeof upd,
    ),
    /^comfyui-frontend-package 1\.30\.6 → 1\.32\.1: fetch the new release, update \.flox\/pkgs\/comfyui-frontend-package\.nix version and src, drop comfyui_frontend_package-1\.30\.6-py3-none-any\.whl if nothing else uses it$/,
  );
  const added = {
    change: "added" as const,
    name: "blake3",
    new: { name: "blake3", specifier: "" },
  };
  assert.deepEqual(
    actionFor(added, {
      status: "nixpkgs",
      attr: "blake3",
      version: "1.0.4",
      satisfies: true,
    }),
    { kind: "add-input", name: "blake3", attr: "blake3", custom: false },
  );
  const marker = {
    change: "added" as const,
    name: "comfy-kitchen",
    new: {
      name: "comfy-kitchen",
      specifier: ">=0.1.0",
      marker: 'sys_platform == "linux"',
    },
  };
  assert.deepEqual(actionFor(marker, { status: "missing" }), {
    kind: "new-package",
    name: "comfy-kitchen",
    specifier: ">=0.1.0",
    addInput: true,
    marker: 'sys_platform == "linux"',
    reason: "not in nixpkgs nor in the repository",
  });
  const av = {
    change: "changed" as const,
    name: "av",
    old: { name: "av", specifier: ">=14.2.0" },
    new: { name: "av", specifier: ">=99.0.0" },
  };
  assert.equal(
    actionFor(av, {
      status: "nixpkgs",
      attr: "av",
      version: "14.4.0",
      satisfies: false,
    }).kind,
    "new-package",
  );
  assert.equal(
    actionFor(av, {
      status: "nixpkgs",
      attr: "av",
      version: "99.1.0",
      satisfies: true,
    }).kind,
    "none",
  );
  assert.deepEqual(
    actionFor({
      change: "removed",
      name: "spandrel",
      old: { name: "spandrel", specifier: "" },
    }, {
      status: "nixpkgs",
      attr: "spandrel",
      version: "0.4.1",
      satisfies: true,
    }),
    { kind: "remove-input", name: "spandrel", attr: "spandrel", custom: false },
  );
});

const FLOX = `# Flox environment
version = 1

[install]
# pinned
comfyui.pkg-path = "comfyui"   # trailing comment
comfyui.version = "0.3.75"
other = { pkg-path = "org/comfyui", version = '^0.3.75' }
hello.pkg-path = "hello"

[vars]
X = """multi
"line" \\" end"""
W = """a""""
Y = [ "a", # c
  { z = 1 } ]
`;

Deno.test("scanTomlValues() finds the spans of dotted, inline and multi-line values", () => {
  const spans = scanTomlValues(FLOX);
  const at = (p: string) => {
    const s = spans.find((s) => s.path.join(".") === p);
    return s && FLOX.slice(s.start, s.end);
  };
  assert.equal(at("version"), "1");
  assert.equal(at("install.comfyui.version"), '"0.3.75"');
  assert.equal(at("install.other.version"), "'^0.3.75'");
  assert.equal(at("vars.X"), '"""multi\n"line" \\" end"""');
  assert.equal(at("vars.W"), '"""a""""');
  assert.equal(at("vars.Y.1.z"), "1");
});

Deno.test("splitLines() keeps newlines and a missing final newline", () => {
  assert.deepEqual(splitLines("a\nb\n"), ["a\n", "b\n"]);
  assert.deepEqual(splitLines("a\nb"), ["a\n", "b"]);
  assert.deepEqual(splitLines(""), []);
});

const DIFF_CASES: [string, string][] = [
  ["a\nb\nc\n", "a\nB\nc\n"],
  ["", "x\ny\n"],
  ["x\ny\n", ""],
  [
    "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n",
    "a\nb\nX\nd\ne\nf\ng\nh\ni\nj\nk\nY\nm",
  ],
  ["1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\n5\n6\n7\n8\n9"],
  [
    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n",
    "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
  ],
  ["a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nX\ne\nf\ng\nh\nY\n"],
];

Deno.test("unifiedDiff() output equals GNU diff -u and applies with patch", async () => {
  if (!haveTool("diff") || !haveTool("patch")) return;
  await using dir = await tmp();
  const comfy = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  const cases: [string, string][] = [
    ...DIFF_CASES,
    [
      comfy,
      comfy.replace("0.3.75", "0.3.76").replace(
        "    kornia\n",
        "    kornia\n    blake3\n",
      ),
    ],
  ];
  // Random edits of a larger text: applying the diff must give back the new text.
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let c = 0; c < 20; c++) {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i % 9}`);
    const next = [...lines];
    for (let e = 0; e < 6; e++) {
      const at = rnd(next.length);
      const op = rnd(3);
      if (op === 0) next.splice(at, 1);
      else if (op === 1) next.splice(at, 0, `new ${c}.${e}`);
      else next[at] = `changed ${e}`;
    }
    cases.push([
      lines.join("\n") + "\n",
      next.join("\n") + (c % 2 ? "\n" : ""),
    ]);
  }
  for (const [i, [a, b]] of cases.entries()) {
    const fa = `${dir.path}/a${i}`, fb = `${dir.path}/b${i}`;
    await Deno.writeTextFile(fa, a);
    await Deno.writeTextFile(fb, b);
    const ours = unifiedDiff(a, b, "a", "b");
    if (i < DIFF_CASES.length + 1) {
      const gnu = await run("diff", [
        "-u",
        "--label",
        "a",
        "--label",
        "b",
        fa,
        fb,
      ]);
      assert.equal(ours, gnu.stdout, `case ${i}`);
    }
    await Deno.writeTextFile(`${dir.path}/p${i}`, ours);
    const r = await run("patch", [
      "-s",
      "-o",
      `${dir.path}/out${i}`,
      fa,
      `${dir.path}/p${i}`,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(
      await Deno.readTextFile(`${dir.path}/out${i}`),
      b,
      `patched case ${i}`,
    );
  }
  assert.equal(unifiedDiff("same\n", "same\n", "a", "b"), "");
});

Deno.test("readMainPackage() reads the pins of the repository's comfyui.nix", async () => {
  const text = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  assert.deepEqual(readMainPackage(text), {
    pname: "comfyui",
    version: "0.3.75",
    owner: "Comfy-Org",
    repo: "ComfyUI",
    revAttr: "tag",
    revText: '"v${version}"',
    rev: "v0.3.75",
    hash: "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=",
    hashAttr: "hash",
  });
  assert.throws(
    () =>
      readMainPackage(text.replace("fetchFromGitHub {", "fetchurl {"), "x.nix"),
    /x\.nix: src is not a fetchFromGitHub call/,
  );
});

Deno.test("rewriteMainPackage() changes version, hash and a literal rev only", async () => {
  const text = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  const main = readMainPackage(text);
  const hash = "sha256-" + "A".repeat(43) + "=";
  const next = rewriteMainPackage(text, main, {
    version: "0.3.76",
    tag: "v0.3.76",
    hash,
  });
  assert.equal(
    next,
    text.replace('version = "0.3.75"', 'version = "0.3.76"').replace(
      main.hash,
      hash,
    ),
  );
  // A tag that the template does not produce is written literally.
  const lit = rewriteMainPackage(text, main, {
    version: "0.3.76",
    tag: "0.3.76",
    hash,
  });
  assert.match(lit, /tag = "0\.3\.76";/);
  // An older file pinning `rev` keeps `rev`.
  const old = text.replace('tag = "v${version}"', 'rev = "v0.3.75"');
  const t2 = rewriteMainPackage(old, readMainPackage(old), {
    version: "0.3.76",
    tag: "v0.3.76",
    hash,
  });
  assert.match(t2, /rev = "v0\.3\.76";/);
});

Deno.test("addInputEdit() adds a marker-conditional input in a platform block", async () => {
  const text = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  const next = addInputEdit("comfy-kitchen", true, 'sys_platform == "linux"')(
    text,
  );
  assert.match(
    next,
    /lib\.optionals \(lib\.elem .*"aarch64-linux" "x86_64-linux"|x86_64-linux.*aarch64-linux/s,
  );
  assert.match(next, /\n, comfy-kitchen\n}:/);
  assert.equal(systemsOf(undefined), undefined);
  assert.equal(systemsOf('python_version >= "3.8"'), undefined);
  assert.deepEqual(systemsOf('sys_platform == "darwin"'), [
    "aarch64-darwin",
    "x86_64-darwin",
  ]);
  const removed = removeInputEdit("kornia", false)(text);
  assert.equal(removed, text.replace("    kornia\n", ""));
  // The repository's comfyui.nix has today's name, `dependencies`; an older file with
  // `propagatedBuildInputs` gets the edit there.
  assert.equal(mainInputsAttr(text), "dependencies");
  const legacy = text.replaceAll("dependencies", "propagatedBuildInputs");
  const added = addInputEdit("blake3", false, undefined)(legacy);
  assert.equal(added.replace("    blake3\n", ""), legacy);
  assert.ok(mainInputs(added).has("blake3"));
  assert.equal(mainInputsAttr(added), "propagatedBuildInputs");
});

Deno.test("rewriteCustomPackage() moves a wheel package to a new release", () => {
  const path = ".flox/pkgs/foo.nix";
  const pathSrc = `{ lib, python3 }:
python3.pkgs.buildPythonPackage rec {
  pname = "foo";
  version = "1.0";
  format = "wheel";
  src = ../sources/foo-1.0-py3-none-any.whl;
}
`;
  const rel = {
    version: "1.1",
    file: "foo-1.1-py3-none-any.whl",
    sha256: "ab".repeat(32),
    url:
      "https://files.pythonhosted.org/packages/py3/f/foo/foo-1.1-py3-none-any.whl",
  };
  assert.equal(
    rewriteCustomPackage(pathSrc, path, rel),
    pathSrc.replace('"1.0"', '"1.1"').replace("foo-1.0-py3", "foo-1.1-py3"),
  );
  const fetched = pathSrc.replace(
    "src = ../sources/foo-1.0-py3-none-any.whl;",
    `src = fetchurl {
    url = "https://files.pythonhosted.org/packages/py3/f/foo/foo-1.0-py3-none-any.whl";
    hash = "sha256-${"A".repeat(43)}=";
  };`,
  );
  const next = rewriteCustomPackage(fetched, path, rel);
  assert.match(
    next,
    /url = "https:\/\/files\.pythonhosted\.org\/packages\/py3\/f\/foo\/foo-1\.1-py3-none-any\.whl";/,
  );
  assert.match(
    next,
    /hash = "sha256-q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";/,
  );
});

Deno.test("planFromSources() evaluates markers for the Python it is given (default 3.12)", async () => {
  const pkgText = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  const change: ReqChange = {
    change: "added",
    name: "tomli",
    new: { name: "tomli", specifier: "", marker: 'python_version < "3.12"' },
  };
  const sources = new Map<string, Source>([["tomli", {
    status: "nixpkgs",
    attr: "tomli",
    version: "2.2.1",
    satisfies: true,
  }]]);
  const kinds = (python?: string) =>
    planFromSources([change], sources, pkgText, {}, python).map((p) =>
      p.action.kind
    );
  assert.deepEqual(kinds(), ["none"]);
  assert.deepEqual(kinds("3.12"), ["none"]);
  assert.deepEqual(kinds("3.11"), ["add-input"]);
  const [planned] = planFromSources([change], sources, pkgText, {}, "3.11");
  assert.match(planned!.editMain!(pkgText), /^\s+tomli$/m);
});
