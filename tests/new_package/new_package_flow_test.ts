// new-package's workflow in-process, through the scripted frontend and its answer table (no
// subprocess, no terminal): the main package is never written, a cancelled chain writes
// nothing, --force drops an old source, licence and Requires-Python evidence are asked about.
// Two subprocess runs check what only the task prints (one-line usage errors).
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runTaskProcess, tmp } from "../_helpers.ts";
import {
  buildWheel,
  type DistSpec,
  wheelFileName,
} from "../_fixtures/build.ts";
import { startServer } from "../_fixtures/server.ts";
import { mountPypi, wheelFile } from "../_fixtures/pypi.ts";
import {
  newPackage,
  type NewPackageOptions,
} from "../../lib/new_package/run.ts";
import {
  type Answer,
  type ConfirmQuestion,
  ScriptedFrontend,
} from "../../lib/kit/prompt.ts";
import { CancelledError, KitError, UsageError } from "../../lib/kit/errors.ts";
import { readManifest } from "../../lib/repo/manifest.ts";
import { captureOutput } from "../_helpers.ts";

const INDEX = {
  description: "flow test index",
  nixpkgs: { rev: null, date: null, channel: null },
  python: "3.13",
  python3Packages: { numpy: "2.3.1", setuptools: "80.9.0" },
};

const GPL3 =
  "                    GNU GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007\n\n Copyright (C) 2007 Free Software Foundation, Inc.\n";

/** A scratch repository: comfyui.nix, an empty manifest, the index. */
async function repo(dir: string): Promise<string> {
  const root = join(dir, "repo");
  await Deno.mkdir(join(root, ".flox", "pkgs"), { recursive: true });
  await Deno.mkdir(join(root, ".flox", "sources"), { recursive: true });
  await Deno.copyFile(
    join(ROOT, ".flox", "pkgs", "comfyui.nix"),
    join(root, ".flox", "pkgs", "comfyui.nix"),
  );
  await Deno.writeTextFile(
    join(root, "sources-manifest.json"),
    '{\n  "version": 1,\n  "sources": []\n}\n',
  );
  await Deno.writeTextFile(
    join(root, ".flox", "sources", "SHA256SUMS.txt"),
    "",
  );
  await Deno.writeTextFile(join(dir, "index.json"), JSON.stringify(INDEX));
  return root;
}

async function wheel(dir: string, spec: DistSpec): Promise<string> {
  const path = join(dir, wheelFileName(spec));
  await Deno.writeFile(path, buildWheel(spec));
  return path;
}

function options(
  root: string,
  target: string,
  more: Partial<NewPackageOptions> = {},
): NewPackageOptions {
  return {
    target,
    root,
    python: "3.12",
    main: join(root, ".flox", "pkgs", "comfyui.nix"),
    nixpkgsIndex: join(root, "..", "index.json"),
    force: false,
    dryRun: false,
    json: true,
    ...more,
  };
}

/** Every file under `root` with its text. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(root, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else out[p] = await Deno.readTextFile(join(root, p)).catch(() => "?");
    }
  };
  await walk("");
  return out;
}

/** Runs newPackage quietly (its progress lines go to the captured console). */
async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  let error: unknown;
  await captureOutput(async () => {
    try {
      result = await fn();
    } catch (e) {
      error = e;
    }
    return 0;
  });
  if (error !== undefined) throw error;
  return result!;
}

const yes = (answers: Record<string, Answer> = {}) =>
  new ScriptedFrontend(answers, { useDefaults: true });

Deno.test("newPackage() never writes the main package, and never suggests --force for it", async () => {
  await using dir = await tmp();
  const root = await repo(dir.path);
  const before = await snapshot(root);
  const path = await wheel(dir.path, {
    name: "comfyui",
    version: "9.9.9",
    license: "MIT",
    packages: ["comfyui"],
  });
  for (const force of [false, true]) {
    await assert.rejects(
      () => quiet(() => newPackage(options(root, path, { force }), yes())),
      (e: unknown) =>
        e instanceof KitError &&
        /^\.flox\/pkgs\/comfyui\.nix is the main package: new-package never writes it; change its version with "deno task bump-comfyui VERSION"$/
          .test(e.message) &&
        !e.message.includes("--force"),
    );
  }
  assert.deepEqual(await snapshot(root), before);
});

Deno.test("newPackage() cancelled at the second package of --missing create writes nothing", async () => {
  await using dir = await tmp();
  const root = await repo(dir.path);
  await using server = await startServer();
  mountPypi(server, [{
    name: "beta-dep",
    version: "1.0",
    files: [wheelFile({
      name: "beta-dep",
      version: "1.0",
      license: "MIT",
      packages: ["beta_dep"],
    })],
  }]);
  const path = await wheel(dir.path, {
    name: "alpha-pkg",
    version: "1.0",
    license: "MIT",
    packages: ["alpha_pkg"],
    requiresDist: ["numpy", "beta-dep"],
  });
  const before = await snapshot(root);
  // Answers the first package's questions, then Ctrl-C at the second's "Write …?".
  class CancelSecond extends ScriptedFrontend {
    writes = 0;
    override confirm(q: ConfirmQuestion): Promise<boolean> {
      if (q.key === "write" && ++this.writes === 2) {
        return Promise.reject(new CancelledError());
      }
      return super.confirm(q);
    }
  }
  const env = {
    COMFYKIT_PYPI_URL: server.url,
    COMFYKIT_CACHE_DIR: join(dir.path, "cache"),
    COMFYKIT_MIRRORS: "",
  };
  const saved = Object.keys(env).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    const fe = new CancelSecond({}, { useDefaults: true });
    await assert.rejects(
      () =>
        quiet(() => newPackage(options(root, path, { missing: "create" }), fe)),
      CancelledError,
    );
    assert.equal(fe.writes, 2);
    assert.deepEqual(await snapshot(root), before);
    // The same run answered to the end writes both packages, vendored and wired.
    const done = await quiet(() =>
      newPackage(options(root, path, { missing: "create" }), yes())
    );
    assert.deepEqual(done.map((r) => [r.name, r.action]), [
      ["alpha-pkg", "written"],
      ["beta-dep", "written"],
    ]);
    const after = await snapshot(root);
    assert.ok(after[".flox/pkgs/alpha-pkg.nix"]);
    assert.ok(after[".flox/pkgs/beta-dep.nix"]);
    assert.match(after[".flox/pkgs/comfyui.nix"]!, /, alpha-pkg\n/);
    assert.deepEqual(
      (await readManifest(join(root, "sources-manifest.json"))).sources.map((
        e,
      ) => e.file).sort(),
      ["alpha_pkg-1.0-py3-none-any.whl", "beta_dep-1.0-py3-none-any.whl"],
    );
    assert.match(after[".flox/sources/SHA256SUMS.txt"]!, /beta_dep-1\.0/);
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
});

Deno.test("newPackage() --force upgrading a package drops the old source nothing else uses", async () => {
  await using dir = await tmp();
  const root = await repo(dir.path);
  const spec = {
    name: "upgraded",
    version: "1.0",
    license: "MIT",
    packages: ["upgraded"],
    summary: "An upgraded thing. It has two sentences.",
    homePage: "https://upgraded.example.org",
    projectUrls: {
      Source: "https://github.com/acme/upgraded",
      Changelog: "https://github.com/acme/upgraded/releases",
    },
  };
  const v1 = await wheel(dir.path, spec);
  await quiet(() => newPackage(options(root, v1), yes()));
  const old = ".flox/sources/upgraded-1.0-py3-none-any.whl";
  const first = await snapshot(root);
  assert.ok(first[old]);
  // meta as nixpkgs wants it: Source before Home-page, the changelog, one sentence, no article.
  assert.match(
    first[".flox/pkgs/upgraded.nix"]!,
    / {4}description = "Upgraded thing";\n {4}homepage = "https:\/\/github\.com\/acme\/upgraded";\n {4}changelog = "https:\/\/github\.com\/acme\/upgraded\/releases";\n {4}license = licenses\.mit;\n {2}\};/,
  );
  const v2 = await wheel(dir.path, { ...spec, version: "2.0" });
  await assert.rejects(
    () => quiet(() => newPackage(options(root, v2), yes())),
    /exists and differs: not overwriting it; rerun with --force/,
  );
  const [r] = await quiet(() =>
    newPackage(options(root, v2, { force: true }), yes())
  );
  assert.equal(r!.droppedSource, "upgraded-1.0-py3-none-any.whl");
  const after = await snapshot(root);
  assert.equal(after[old], undefined);
  assert.ok(after[".flox/sources/upgraded-2.0-py3-none-any.whl"]);
  assert.deepEqual(
    (await readManifest(join(root, "sources-manifest.json"))).sources.map((e) =>
      e.file
    ),
    ["upgraded-2.0-py3-none-any.whl"],
  );
  assert.doesNotMatch(after[".flox/sources/SHA256SUMS.txt"]!, /upgraded-1\.0/);
});

Deno.test("newPackage() asks when the metadata's licence and the shipped text disagree", async () => {
  await using dir = await tmp();
  const root = await repo(dir.path);
  const spec: DistSpec = {
    name: "mislabelled",
    version: "0.7.20",
    license: "MIT",
    packages: ["mislabelled"],
    extraFiles: [{
      path: "mislabelled-0.7.20.dist-info/licenses/LICENSE",
      content: GPL3,
    }],
  };
  const path = await wheel(dir.path, spec);
  const before = await snapshot(root);
  await assert.rejects(
    () => quiet(() => newPackage(options(root, path), yes())),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message.includes('License "MIT"') &&
      e.message.includes(
        "mislabelled-0.7.20.dist-info/licenses/LICENSE (GNU GPL v3 text)",
      ) && /pass --license$/.test(e.message),
  );
  assert.deepEqual(await snapshot(root), before);
  // The answer (the shipped text here) and the evidence are recorded in the file.
  await quiet(() =>
    newPackage(options(root, path), yes({ license: "gpl3Only" }))
  );
  const text = await Deno.readTextFile(
    join(root, ".flox", "pkgs", "mislabelled.nix"),
  );
  assert.match(
    text,
    / {4}# licence evidence: License "MIT"; mislabelled-0\.7\.20\.dist-info\/licenses\/LICENSE is the GNU GPL v3 text\n {4}# chosen: gpl3Only \(--license\)\n {4}license = licenses\.gpl3Only;\n/,
  );
});

Deno.test("newPackage() asks before writing a package whose Requires-Python excludes nixpkgs' python3", async () => {
  await using dir = await tmp();
  const root = await repo(dir.path);
  const path = await wheel(dir.path, {
    name: "oldpy",
    version: "0.16.1",
    license: "MIT",
    requiresPython: ">=3.9,<3.13",
    packages: ["oldpy"],
  });
  const before = await snapshot(root);
  await assert.rejects(
    () => quiet(() => newPackage(options(root, path), yes())),
    (e: unknown) =>
      e instanceof UsageError &&
      /^Write \.flox\/pkgs\/oldpy\.nix for Python 3\.13 anyway: --yes takes defaults, and this question has none; pass --ignore-requires-python$/
        .test(e.message),
  );
  assert.deepEqual(
    await quiet(() =>
      newPackage(options(root, path), yes({ "requires-python": false }))
    ),
    [],
  );
  assert.deepEqual(await snapshot(root), before);
  const [r] = await quiet(() =>
    newPackage(options(root, path, { ignoreRequiresPython: true }), yes())
  );
  assert.equal(r!.action, "written");
  assert.match(
    await Deno.readTextFile(join(root, ".flox", "pkgs", "oldpy.nix")),
    /rec \{\n {2}# Requires-Python >=3\.9,<3\.13 excludes nixpkgs' python3 3\.13: this package does not build against it\n {2}pname = "oldpy";/,
  );
});

Deno.test("new-package prints one error line for a missing answer and for a direct reference", async () => {
  await using dir = await tmp();
  const root = await repo(dir.path);
  const path = await wheel(dir.path, {
    name: "nolicence",
    version: "1.0",
    packages: ["nolicence"],
  });
  const idx = join(dir.path, "index.json");
  const [missing, direct] = await Promise.all([
    runTaskProcess("new_package.ts", [
      path,
      "--yes",
      "--root",
      root,
      "--nixpkgs-index",
      idx,
    ]),
    runTaskProcess("new_package.ts", [
      "demo-pkg @ https://example.org/demo_pkg-1.0-py3-none-any.whl",
      "--root",
      root,
    ]),
  ]);
  assert.equal(missing.code, 2, missing.stderr);
  const errors = missing.stderr.split("\n").filter((l) =>
    l.startsWith("error:")
  );
  assert.deepEqual(errors.length, 1);
  assert.match(errors[0]!, /pass --license$/);
  assert.doesNotMatch(missing.stderr, /Usage:/);
  assert.equal(direct.code, 2);
  assert.match(
    direct.stderr,
    /^error: "demo-pkg @ https:\/\/example\.org\/demo_pkg-1\.0-py3-none-any\.whl" is a direct reference \(NAME @ URL\), which new-package does not fetch: download https:\/\/example\.org\/demo_pkg-1\.0-py3-none-any\.whl and pass the file's path, or pass demo-pkg==VERSION to take it from PyPI$/m,
  );
  assert.doesNotMatch(direct.stderr, /No such file/);
});
