import assert from "node:assert/strict";
import { KitError } from "../../lib/kit/errors.ts";
import { openNixpkgs } from "../../lib/nix/nixpkgs.ts";
import { KIT_ROOT, NIXPKGS_INDEX } from "../../lib/repo/paths.ts";

/** The kit\'s own offline index. */
const DEFAULT_INDEX_FILE = `${KIT_ROOT}/${NIXPKGS_INDEX}`;
import {
  nixAttrCandidates,
  pypiToNixAttr,
} from "../../lib/nix/nixpkgs_names.ts";
import { findNixpkgs, parseFloxSearch } from "../../lib/nix/nixpkgs_eval.ts";
import {
  indexLookup,
  parseNixEnvJson,
  parseNixpkgsIndex,
  readNixpkgsIndex,
  serializeNixpkgsIndex,
} from "../../lib/nix/nixpkgs_index.ts";
import { diffLines } from "../../lib/nixpkgs_index/run.ts";
import {
  captureOutput,
  haveTool,
  ROOT,
  run,
  runTaskProcess,
  tmp,
} from "../_helpers.ts";
import { nixpkgsNames, REQUIREMENTS_0_3_75 } from "../_fixtures/comfyui.ts";

Deno.test("pypiToNixAttr() maps PyPI names to nixpkgs attributes", () => {
  const cases: [string, string][] = [
    ["PyYAML", "pyyaml"],
    ["Pillow", "pillow"],
    ["typing_extensions", "typing-extensions"],
    ["huggingface_hub", "huggingface-hub"],
    ["importlib_metadata", "importlib-metadata"],
    ["scikit-image", "scikit-image"],
    ["torch", "torch"],
    ["SQLAlchemy", "sqlalchemy"],
    ["zope.interface", "zope-interface"],
    ["ruamel.yaml", "ruamel-yaml"],
    ["opencv-python", "opencv4"],
    ["opencv-python-headless", "opencv4"],
    ["opencv_contrib_python", "opencv4"],
    ["psycopg2-binary", "psycopg2"],
    ["PyGObject", "pygobject3"],
    ["  timm ", "timm"],
    ["constructor", "constructor"],
  ];
  for (const [pypi, attr] of cases) {
    assert.equal(pypiToNixAttr(pypi), attr, pypi);
  }
});

Deno.test("nixAttrCandidates() prefers a meta-package of the same name, then the mapped attribute", () => {
  assert.deepEqual(nixAttrCandidates("opencv-python-headless"), [
    "opencv-python-headless",
    "opencv4",
  ]);
  assert.deepEqual(nixAttrCandidates("Typing_Extensions"), [
    "typing-extensions",
  ]);
});

const SMALL = {
  description: "test index",
  nixpkgs: {
    rev: "0123456789abcdef0123456789abcdef01234567",
    date: "2025-06-30",
    channel: "nixos-25.05",
  },
  python3Packages: { torch: "2.7.1", pyyaml: "6.0.2", opencv4: "4.11.0" },
};

Deno.test("parseNixpkgsIndex() validates and names the bad field", () => {
  const ok = parseNixpkgsIndex(JSON.stringify(SMALL), "i.json");
  assert.equal(ok.python3Packages.torch, "2.7.1");
  const bad = { ...SMALL, nixpkgs: { ...SMALL.nixpkgs, rev: "main" } };
  assert.throws(
    () => parseNixpkgsIndex(JSON.stringify(bad), "i.json"),
    (e) =>
      e instanceof KitError && /^i\.json: nixpkgs\.rev: expected a 40-hex/
        .test(e.message),
  );
  assert.throws(
    () => parseNixpkgsIndex("{", "i.json"),
    /i\.json: not valid JSON/,
  );
});

Deno.test("serializeNixpkgsIndex() is deterministic and sorted", () => {
  const a = serializeNixpkgsIndex(
    parseNixpkgsIndex(JSON.stringify(SMALL), "x"),
  );
  const shuffled = {
    ...SMALL,
    python3Packages: { pyyaml: "6.0.2", torch: "2.7.1", opencv4: "4.11.0" },
  };
  assert.equal(
    serializeNixpkgsIndex(parseNixpkgsIndex(JSON.stringify(shuffled), "x")),
    a,
  );
  assert.ok(a.indexOf('"opencv4"') < a.indexOf('"pyyaml"'));
  assert.ok(a.endsWith("}\n"));
});

Deno.test("indexLookup() finds packages by PyPI name and by attribute", async () => {
  const l = indexLookup(parseNixpkgsIndex(JSON.stringify(SMALL), "x"), "x");
  assert.equal(l.source, "index");
  assert.deepEqual(await l.lookup("PyYAML"), {
    attr: "pyyaml",
    version: "6.0.2",
  });
  // SMALL has only the opencv4 binding (older nixpkgs): the fallback is used.
  assert.deepEqual(await l.lookup("opencv-python-headless"), {
    attr: "opencv4",
    version: "4.11.0",
  });
  const withMeta = indexLookup(
    parseNixpkgsIndex(
      JSON.stringify({
        ...SMALL,
        python3Packages: {
          ...SMALL.python3Packages,
          "opencv-python-headless": "4.11.0",
        },
      }),
      "x",
    ),
    "x",
  );
  assert.deepEqual(await withMeta.lookup("opencv-python-headless"), {
    attr: "opencv-python-headless",
    version: "4.11.0",
  });
  assert.equal(await l.lookup("nunchaku"), undefined);
  assert.equal(await l.lookup("constructor"), undefined); // no prototype leaks
  assert.deepEqual(await l.lookupAttr("torch"), {
    attr: "torch",
    version: "2.7.1",
  });
  const many = await l.lookupMany(["torch", "nope"]);
  assert.equal(many.get("torch")?.version, "2.7.1");
  assert.ok(many.has("nope") && many.get("nope") === undefined);
});

Deno.test("the shipped nixpkgs-index.json covers ComfyUI's and the package set's dependencies", async () => {
  const index = await readNixpkgsIndex(DEFAULT_INDEX_FILE);
  assert.match(index.description, /read by hand from a stored copy/);
  const l = indexLookup(index, DEFAULT_INDEX_FILE);
  // ComfyUI 0.3.75 requirements.txt (the nixpkgs part) and the vendored set's Requires-Dist.
  const names = [
    ...nixpkgsNames(REQUIREMENTS_0_3_75),
    "opencv-python-headless",
    "huggingface_hub",
    "typing_extensions",
    "importlib_metadata",
    "scikit-image",
    "timm",
    "filelock",
    "matplotlib",
    "pandas",
    "setuptools",
    "wheel",
    "poetry-core",
    "hatchling",
    "setuptools-scm",
  ]; // deno-fmt-ignore
  // flit-core is left out of the index: no stored nixpkgs version of it could be read cleanly.
  for (const n of names) assert.ok(await l.lookup(n), `${n} missing`);
  // Every attribute in comfyui.nix's dependency list is in the index.
  const nix = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);
  const list = nix.match(
    /propagatedBuildInputs = with python3\.pkgs; \[([^\]]*)\]/,
  );
  // Custom packages (.flox/pkgs/<attr>.nix) are comfyui.nix's arguments, not nixpkgs'.
  const custom = new Set(
    [...Deno.readDirSync(`${ROOT}/.flox/pkgs`)].map((e) =>
      e.name.replace(/\.nix$/, "")
    ),
  );
  if (list) {
    for (const attr of list[1]!.replace(/#.*$/gm, "").split(/\s+/)) {
      if (attr && !attr.startsWith("comfyui") && !custom.has(attr)) {
        assert.ok(await l.lookupAttr(attr), `${attr} (comfyui.nix) missing`);
      }
    }
  }
});

Deno.test("the shipped nixpkgs-index.json records where every version was read", async () => {
  const index = await readNixpkgsIndex(DEFAULT_INDEX_FILE);
  // Versions read from files at several commits: no single revision is claimed.
  assert.equal(index.nixpkgs.rev, null);
  const provenance = index.provenance ?? {};
  for (const attr of Object.keys(index.python3Packages)) {
    const p = provenance[attr];
    assert.ok(p && typeof p === "object", `${attr}: no {path, commit}`);
    assert.match(p.path, /^pkgs\/.+\.nix$/, attr);
    assert.match(p.commit, /^[0-9a-f]{40}$/, attr);
  }
  assert.deepEqual(
    Object.keys(provenance).sort(),
    Object.keys(index.python3Packages).sort(),
  );
  assert.match(
    indexLookup(index, "i.json").describe,
    /^offline index i\.json \(nixpkgs per-attribute commits\)$/,
  );
});

Deno.test("parseNixpkgsIndex() accepts per-attribute provenance and a null revision", () => {
  const perAttr = {
    ...SMALL,
    nixpkgs: { rev: null, date: null, channel: null },
    provenance: {
      torch: {
        path: "pkgs/development/python-modules/torch/source/default.nix",
        commit: "00d0ced332d7b0d37844ace4493b577dd0930f88",
      },
      pyyaml: "read by hand",
      opencv4: {
        path: "pkgs/development/libraries/opencv/4.x.nix",
        commit: "01fb069ed21e61f09d3205e3f4949d8e65fbf4c4",
        note: "C++ library version",
      },
    },
  };
  const ok = parseNixpkgsIndex(JSON.stringify(perAttr), "i.json");
  assert.equal(ok.nixpkgs.rev, null);
  assert.deepEqual(ok.provenance?.torch, perAttr.provenance.torch);
  const text = serializeNixpkgsIndex(ok);
  assert.equal(serializeNixpkgsIndex(parseNixpkgsIndex(text, "i.json")), text);
  assert.ok(text.indexOf('"opencv4"') < text.indexOf('"torch"'));
  const badCommit = {
    ...perAttr,
    provenance: { torch: { path: "x.nix", commit: "main" } },
  };
  assert.throws(
    () => parseNixpkgsIndex(JSON.stringify(badCommit), "i.json"),
    (e) =>
      e instanceof KitError && /i\.json: provenance\.torch/.test(e.message),
  );
  const extraKey = {
    ...perAttr,
    provenance: { torch: { path: "x.nix", commit: "0".repeat(40), rev: "x" } },
  };
  assert.throws(
    () => parseNixpkgsIndex(JSON.stringify(extraKey), "i.json"),
    KitError,
  );
});

Deno.test("parseFloxSearch() picks python3Packages.<attr> from flox's JSON", () => {
  const json = JSON.stringify([
    { pkg_path: "python312Packages.torch", version: "2.6.0" },
    { pkg_path: "python3Packages.torch", version: "2.7.1" },
    { pkg_path: "python3Packages.torchvision", version: "0.22.1" },
    { pkg_path: "torch-bin", version: "2.7.1" },
  ]);
  assert.deepEqual(parseFloxSearch(json, "torch"), {
    attr: "torch",
    version: "2.7.1",
  });
  assert.deepEqual(
    parseFloxSearch(
      JSON.stringify([{
        attr_path: "python311Packages.av",
        version: "14.4.0",
      }]),
      "av",
    ),
    { attr: "av", version: "14.4.0" },
  );
  assert.equal(parseFloxSearch("[]", "torch"), undefined);
  assert.equal(parseFloxSearch("not json", "torch"), undefined);
});

Deno.test("findNixpkgs() skips Nix without a nixpkgs, honours COMFYKIT_NIXPKGS and NIX_PATH", async () => {
  await using dir = await tmp();
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  const path = Deno.env.get("PATH") ?? "";
  // Debian's nix-bin: nix-instantiate present, no NIX_PATH, no channels.
  assert.equal(findNixpkgs(env({ PATH: path, HOME: dir.path })), undefined);
  assert.equal(
    findNixpkgs(env({ PATH: path, HOME: dir.path, NIX_PATH: "foo=/x" })),
    undefined,
  );
  assert.equal(findNixpkgs(env({ COMFYKIT_NIXPKGS: dir.path })), dir.path);
  assert.throws(
    () => findNixpkgs(env({ COMFYKIT_NIXPKGS: `${dir.path}/nope` })),
    /COMFYKIT_NIXPKGS ".*nope" does not exist/,
  );
  if (haveTool("nix-instantiate")) {
    assert.equal(
      findNixpkgs(env({ PATH: path, NIX_PATH: "nixpkgs=/somewhere" })),
      "<nixpkgs>",
    );
    await Deno.mkdir(`${dir.path}/.nix-defexpr/channels/nixpkgs`, {
      recursive: true,
    });
    assert.equal(findNixpkgs(env({ PATH: path, HOME: dir.path })), "<nixpkgs>");
  }
});

Deno.test("openNixpkgs() falls back to the offline index when there is no Nix nor flox", async () => {
  await using dir = await tmp();
  const file = `${dir.path}/index.json`;
  await Deno.writeTextFile(file, JSON.stringify(SMALL));
  const l = await openNixpkgs({
    indexFile: file,
    env: (n) =>
      ({ PATH: "/nonexistent", HOME: dir.path } as Record<string, string>)[n],
  });
  assert.equal(l.source, "index");
  assert.match(
    l.describe,
    /offline index .*index\.json \(nixpkgs 0123456789ab, 2025-06-30\)/,
  );
  assert.equal((await l.lookup("torch"))?.version, "2.7.1");
  await assert.rejects(
    openNixpkgs({
      indexFile: `${dir.path}/missing.json`,
      useNix: false,
      useFlox: false,
    }),
    /update-nixpkgs-index/,
  );
});

Deno.test("openNixpkgs() uses flox search when flox is on PATH", async () => {
  await using dir = await tmp();
  // A stand-in for flox that answers like `flox search --json` and logs its arguments.
  await Deno.writeTextFile(
    `${dir.path}/flox`,
    `#!/bin/sh\necho "$@" >> "${dir.path}/calls"\n` +
      `case "$4" in *torch) echo '[{"pkg_path":"python3Packages.torch","version":"2.7.1"}]';; *) echo '[]';; esac\n`,
  );
  await Deno.chmod(`${dir.path}/flox`, 0o755);
  const l = await openNixpkgs({
    indexFile: DEFAULT_INDEX_FILE,
    useNix: false,
    env: (n) => ({ PATH: dir.path } as Record<string, string>)[n],
  });
  assert.equal(l.source, "flox");
  // The lookup runs the real process, found through the real PATH: put the stub first.
  const oldPath = Deno.env.get("PATH")!;
  Deno.env.set("PATH", `${dir.path}:${oldPath}`);
  try {
    assert.deepEqual(await l.lookup("torch"), {
      attr: "torch",
      version: "2.7.1",
    });
    assert.equal(await l.lookup("nunchaku"), undefined);
  } finally {
    Deno.env.set("PATH", oldPath);
  }
  const calls = await Deno.readTextFile(`${dir.path}/calls`);
  assert.match(calls, /^search --json -a python3Packages\.torch$/m);
});

Deno.test("openNixpkgs(): a failing or hanging flox search falls back to the offline index (issue 22 #8)", async () => {
  await using dir = await tmp();
  const file = `${dir.path}/index.json`;
  await Deno.writeTextFile(file, JSON.stringify(SMALL));
  const oldPath = Deno.env.get("PATH")!;
  for (
    const [body, why] of [
      [
        "echo 'error: could not reach catalog' >&2; exit 1",
        /could not reach catalog/,
      ],
      ["exec sleep 30", /no answer within 0\.3 s/],
    ] as const
  ) {
    await Deno.writeTextFile(`${dir.path}/flox`, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(`${dir.path}/flox`, 0o755);
    const l = await openNixpkgs({
      useNix: false,
      indexFile: file,
      floxTimeoutMs: 300,
      env: (n) => ({ PATH: dir.path } as Record<string, string>)[n],
    });
    Deno.env.set("PATH", `${dir.path}:${oldPath}`);
    const t = performance.now();
    try {
      const r = await captureOutput(async () => {
        assert.equal((await l.lookup("torch"))?.version, "2.7.1");
        assert.equal((await l.lookupAttr("torch"))?.version, "2.7.1");
        return 0;
      });
      assert.match(r.stderr, /warning: flox search failed \(/);
      assert.match(r.stderr, why);
      // Said once; every later lookup asks the index without running flox again.
      assert.equal(r.stderr.match(/warning:/g)?.length, 1, r.stderr);
      assert.equal(r.stderr.match(/\$ flox search/g)?.length, 1, r.stderr);
      assert.match(l.describe, /offline index .*\(flox search failed\)/);
    } finally {
      Deno.env.set("PATH", oldPath);
    }
    assert.ok(performance.now() - t < 10_000, "the hanging flox is killed");
  }
});

/** A tiny stand-in for nixpkgs: `python3Packages` with a few derivation-like attrs. */
async function fakeNixpkgs(dir: string): Promise<string> {
  const root = `${dir}/nixpkgs`;
  await Deno.mkdir(root);
  await Deno.writeTextFile(
    `${root}/default.nix`,
    `{ config ? { }, overlays ? [ ], ... }:
let
  mk = pname: version: {
    type = "derivation"; name = "python3.12-\${pname}-\${version}"; inherit pname version;
    system = "x86_64-linux"; outputName = "out";
    outPath = "/nix/store/00000000000000000000000000000000-\${pname}";
    drvPath = "/nix/store/00000000000000000000000000000000-\${pname}.drv";
  };
in {
  python3 = { version = "3.13.1"; };
  lib.licenses = { mit = { spdxId = "MIT"; }; gpl3 = { deprecated = true; }; };
  python3Packages = {
    torch = mk "torch" "2.5.1";
    pyyaml = mk "pyyaml" "6.0.1";
    opencv4 = mk "opencv" "4.10.0";
    typing-extensions = mk "typing-extensions" "4.12.2";
    broken = throw "broken";
    noversion = { pname = "x"; };
  };
}
`,
  );
  await Deno.writeTextFile(
    `${root}/.git-revision`,
    "fedcba9876543210fedcba9876543210fedcba98",
  );
  return root;
}

Deno.test("openNixpkgs() evaluates a nixpkgs with nix-instantiate (COMFYKIT_NIXPKGS)", async () => {
  if (!haveTool("nix-instantiate")) return;
  await using dir = await tmp();
  const nixpkgs = await fakeNixpkgs(dir.path);
  const l = await openNixpkgs({
    indexFile: DEFAULT_INDEX_FILE,
    env: (n) => n === "COMFYKIT_NIXPKGS" ? nixpkgs : Deno.env.get(n),
  });
  assert.equal(l.source, "nix");
  const got = await l.lookupMany([
    "torch",
    "PyYAML",
    "opencv-python",
    "typing_extensions",
    "broken",
    "noversion",
    "nunchaku",
  ]);
  assert.deepEqual(Object.fromEntries(got), {
    torch: { attr: "torch", version: "2.5.1" },
    PyYAML: { attr: "pyyaml", version: "6.0.1" },
    "opencv-python": { attr: "opencv4", version: "4.10.0" },
    typing_extensions: { attr: "typing-extensions", version: "4.12.2" },
    broken: undefined,
    noversion: undefined,
    nunchaku: undefined,
  });
  assert.deepEqual(await l.lookupAttr("torch"), {
    attr: "torch",
    version: "2.5.1",
  });
});

Deno.test("update-nixpkgs-index checks both files before Nix runs and writes neither when one cannot be written (issue 22 #13)", async () => {
  await using dir = await tmp();
  const file = `${dir.path}/index.json`;
  const licences = `${dir.path}/nixpkgs-licenses.json`;
  await Deno.writeTextFile(licences, "{}\n");
  // A folder in the index's place (the same refusal as a read-only or immutable file for a
  // user who is not root; see below for chattr +i).
  await Deno.mkdir(file);
  await Deno.writeTextFile(`${file}/keep`, "");
  const args = ["--nixpkgs", `${dir.path}/no-nixpkgs`, "--index", file];
  const r = await runTaskProcess("update_nixpkgs_index.ts", args, {
    cwd: dir.path,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: Cannot write "index\.json": .*\(nothing was changed\)$/m,
  );
  assert.doesNotMatch(r.stderr, /no-nixpkgs/, "refused before Nix is asked");
  assert.equal(await Deno.readTextFile(licences), "{}\n");
  await Deno.remove(file, { recursive: true });
  // An immutable index (root only: chattr +i).
  await Deno.writeTextFile(file, JSON.stringify(SMALL));
  if ((await run("chattr", ["+i", file])).code !== 0) return;
  try {
    const ro = await runTaskProcess("update_nixpkgs_index.ts", args, {
      cwd: dir.path,
    });
    assert.equal(ro.code, 1, ro.stderr);
    assert.match(
      ro.stderr,
      /^error: Cannot write "index\.json": .*\(nothing was changed\)$/m,
    );
    assert.equal(await Deno.readTextFile(licences), "{}\n");
  } finally {
    await run("chattr", ["-i", file]);
  }
});

Deno.test("update-nixpkgs-index regenerates the index from a nixpkgs with real Nix", async () => {
  if (!haveTool("nix-instantiate") || !haveTool("nix-env")) return;
  await using dir = await tmp();
  const nixpkgs = await fakeNixpkgs(dir.path);
  const file = `${dir.path}/index.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      ...SMALL,
      python3Packages: { torch: "1.0", gone: "1.0" },
    }),
  );
  const r = await runTaskProcess("update_nixpkgs_index.ts", [
    "--nixpkgs",
    nixpkgs,
    "--index",
    file,
    "--add",
    "pyyaml",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /~ torch 1\.0 -> 2\.5\.1/);
  assert.match(r.stderr, /- gone 1\.0/);
  assert.match(r.stderr, /not in this nixpkgs \(or broken\), left out: gone/);
  const index = parseNixpkgsIndex(await Deno.readTextFile(file), file);
  assert.deepEqual(index.python3Packages, { pyyaml: "6.0.1", torch: "2.5.1" });
  assert.equal(index.nixpkgs.rev, "fedcba9876543210fedcba9876543210fedcba98");
  assert.match(index.description, /update-nixpkgs-index/);
  // python3's version and the licence list come from the same nixpkgs.
  assert.equal(index.python, "3.13.1");
  const licences = JSON.parse(
    await Deno.readTextFile(`${dir.path}/nixpkgs-licenses.json`),
  );
  assert.deepEqual(licences.licenses, ["gpl3", "mit"]);
  assert.deepEqual(licences.deprecated, ["gpl3"]);
  assert.equal(
    licences.source.commit,
    "fedcba9876543210fedcba9876543210fedcba98",
  );
  assert.match(r.stderr, /python3 3\.13\.1/);

  // --all lists the whole set through nix-env; --dry-run writes nothing.
  const before = await Deno.readTextFile(file);
  const all = await runTaskProcess("update_nixpkgs_index.ts", [
    "--nixpkgs",
    nixpkgs,
    "--index",
    file,
    "--all",
    "--dry-run",
    "--json",
  ]); // deno-fmt-ignore
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout).python3Packages, {
    opencv4: "4.10.0",
    pyyaml: "6.0.1",
    torch: "2.5.1",
    "typing-extensions": "4.12.2",
  });
  assert.equal(await Deno.readTextFile(file), before);
});

Deno.test("update-nixpkgs-index refuses clearly when there is no nixpkgs", async () => {
  await using dir = await tmp();
  const r = await runTaskProcess("update_nixpkgs_index.ts", [
    "--index",
    `${dir.path}/i.json`,
  ], {
    env: {
      NIX_PATH: "",
      COMFYKIT_NIXPKGS: "",
      HOME: dir.path,
      USER: "comfykit-nobody",
    },
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: (No nixpkgs to evaluate: pass --nixpkgs PATH or set COMFYKIT_NIXPKGS|nix-instantiate not found)/m,
  );
  assert.equal(r.stderr.includes("    at "), false);
  const u = await runTaskProcess("update_nixpkgs_index.ts", ["--rev", "main"]);
  assert.equal(u.code, 2);
});

Deno.test("update-nixpkgs-index refuses an --index outside its --allow-write in one line", async () => {
  await using dir = await tmp();
  await Deno.mkdir(`${dir.path}/repo`);
  await Deno.mkdir(`${dir.path}/elsewhere`);
  // The task's own permissions (deno.json): writes only inside the folder it runs in.
  const r = await run(Deno.execPath(), [
    "run",
    "--allow-read",
    `--allow-write=${dir.path}/repo`,
    "--allow-env",
    "--allow-run=nix-instantiate,nix-env,git",
    `${ROOT}/tasks/update_nixpkgs_index.ts`,
    "--nixpkgs",
    dir.path,
    "--index",
    `${dir.path}/elsewhere/i.json`,
    "--add",
    "torch",
  ], { env: { NO_COLOR: "1" } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: No write access to ".*\/elsewhere\/i\.json": the task may write only inside the repository/m,
  );
  assert.equal(r.stderr.includes("    at "), false, r.stderr);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/elsewhere`)], []);
});

Deno.test("parseNixEnvJson() and diffLines() of update-nixpkgs-index", () => {
  assert.deepEqual(
    parseNixEnvJson(JSON.stringify({
      "python3Packages.torch": { version: "2.7.1" },
      "python3Packages.foo.bar": { version: "1" },
      "python3Packages.empty": { version: "" },
    })),
    { torch: "2.7.1" },
  );
  assert.deepEqual(diffLines({ a: "1", b: "1" }, { b: "2", c: "3" }), [
    "- a 1",
    "~ b 1 -> 2",
    "+ c 3",
  ]);
});

Deno.test("update-nixpkgs-index refuses a result that drops most attributes unless --force, saying how many", async () => {
  if (!haveTool("nix-instantiate")) return;
  await using dir = await tmp();
  const nixpkgs = await fakeNixpkgs(dir.path);
  const file = `${dir.path}/index.json`;
  const old = JSON.stringify({
    ...SMALL,
    python3Packages: { torch: "1.0", a: "1", b: "1", c: "1", d: "1", e: "1" },
  });
  await Deno.writeTextFile(file, old);
  const args = ["--nixpkgs", nixpkgs, "--index", file];
  const r = await runTaskProcess("update_nixpkgs_index.ts", args);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: .*index\.json: the new index drops 5 of 6 attributes \(keeps 1\): was the right nixpkgs evaluated\? Rerun with --force/,
  );
  assert.equal(await Deno.readTextFile(file), old, "nothing written");
  const forced = await runTaskProcess("update_nixpkgs_index.ts", [
    ...args,
    "--force",
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(
    parseNixpkgsIndex(await Deno.readTextFile(file), file).python3Packages,
    { torch: "2.5.1" },
  );
});

Deno.test("update-nixpkgs-index --dry-run prints the changes and its result on stdout", async () => {
  if (!haveTool("nix-instantiate")) return;
  await using dir = await tmp();
  const nixpkgs = await fakeNixpkgs(dir.path);
  const file = `${dir.path}/index.json`;
  const old = JSON.stringify({ ...SMALL, python3Packages: { torch: "1.0" } });
  await Deno.writeTextFile(file, old);
  const r = await runTaskProcess("update_nixpkgs_index.ts", [
    "--nixpkgs",
    nixpkgs,
    "--index",
    file,
    "--add",
    "pyyaml",
    "--dry-run",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\+ pyyaml 6\.0\.1$/m);
  assert.match(r.stdout, /^~ torch 1\.0 -> 2\.5\.1$/m);
  assert.match(
    r.stdout,
    /^dry run: would write .*index\.json with 2 attributes from nixpkgs fedcba987654 \(nothing written\)$/m,
  );
  assert.equal(await Deno.readTextFile(file), old);
});

Deno.test("update-nixpkgs-index reports a .git-revision with bad content as bad, not missing", async () => {
  if (!haveTool("nix-instantiate")) return;
  await using dir = await tmp();
  const nixpkgs = await fakeNixpkgs(dir.path);
  await Deno.writeTextFile(`${nixpkgs}/.git-revision`, "not-a-commit\n");
  const r = await runTaskProcess("update_nixpkgs_index.ts", [
    "--nixpkgs",
    nixpkgs,
    "--index",
    `${dir.path}/index.json`,
    "--add",
    "torch",
  ]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim().split("\n").at(-1),
    `error: "${nixpkgs}/.git-revision" holds "not-a-commit", not a 40-hex commit: fix it, or pass --rev COMMIT`,
  );
});

Deno.test("readNixpkgsIndex() reads a plain attribute → version map and nix-env's JSON, and the lookup says which", async () => {
  await using dir = await tmp();
  const plain = `${dir.path}/plain.json`;
  await Deno.writeTextFile(
    plain,
    JSON.stringify({ torch: "2.7.1", pyyaml: "6.0.2" }),
  );
  const p = await readNixpkgsIndex(plain);
  assert.deepEqual(p.python3Packages, { torch: "2.7.1", pyyaml: "6.0.2" });
  const pl = indexLookup(p, plain);
  assert.deepEqual(await pl.lookup("PyYAML"), {
    attr: "pyyaml",
    version: "6.0.2",
  });
  assert.match(
    pl.describe,
    /read as a plain JSON map of attribute → version: 2 attributes, no nixpkgs revision recorded/,
  );
  const env = `${dir.path}/env.json`;
  await Deno.writeTextFile(
    env,
    JSON.stringify({
      "python3Packages.torch": {
        name: "python3.12-torch-2.5.1",
        pname: "torch",
        version: "2.5.1",
      },
      "python3Packages.pkgs.x": { version: "1" },
      "python3Packages.noversion": { pname: "noversion" },
    }),
  );
  const e = await readNixpkgsIndex(env);
  assert.deepEqual(e.python3Packages, { torch: "2.5.1" });
  assert.match(
    indexLookup(e, env).describe,
    /read as nix-env -qaP --json output/,
  );
  // The kit's own format is still validated field by field; anything else is named.
  await Deno.writeTextFile(plain, JSON.stringify({ torch: 1 }));
  await assert.rejects(
    readNixpkgsIndex(plain),
    /plain\.json: not a nixpkgs index: expected the kit's format .*, a JSON map of attribute → version, or the output of "nix-env -qaP --json -A python3Packages"/,
  );
  await Deno.writeTextFile(plain, JSON.stringify({ "bad name": "1" }));
  await assert.rejects(
    readNixpkgsIndex(plain),
    /"bad name": not a python3Packages attribute name/,
  );
});
