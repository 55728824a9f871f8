// Every .flox/pkgs/*.nix evaluated with real `nix-instantiate --eval --strict`, the way Flox
// calls it (one overlay over nixpkgs, each file callPackage'd, all visible by file name), for
// x86_64-linux, aarch64-linux and aarch64-darwin, against tests/_fixtures/stub_nixpkgs.nix: a stand-in nixpkgs
// that enforces what nixpkgs enforces at evaluation (mk-python-derivation.nix's format rules,
// fetchFromGitHub's rev/tag rule, check-meta, callPackage's required arguments). Each rule of
// the stub is proved by a seeded defect. Then comfyui.nix's runtime: its launcher run by bash
// against Python's real argparse, and its install check's pip command run by real pip.
import assert from "node:assert/strict";
import { join } from "node:path";
import { haveTool, ROOT, run, tmp } from "../_helpers.ts";
import {
  evaluate as evaluateStub,
  type Evaluated,
} from "../_fixtures/stub_eval.ts";
import { MAIN_VARIANTS } from "../../lib/repo/paths.ts";

/**
 * Every package file uses `pyproject = true` (source builds), `format = "wheel"` or
 * `pyproject = false` (the regeneration of issue 12): a deprecated `format` (`"pyproject"`,
 * `"setuptools"`, `"other"`, `"egg"`) is an error, not a warning.
 */
const DEPRECATED_FORMATS_ARE_ERRORS = true;

/** evaluate() with this file's strictness by default. */
function evaluate(
  pkgsDir: string,
  system: string,
  strictFormats = DEPRECATED_FORMATS_ARE_ERRORS,
) {
  return evaluateStub(pkgsDir, system, strictFormats);
}
const PKGS = join(ROOT, ".flox", "pkgs");
const SYSTEMS = ["x86_64-linux", "aarch64-linux", "aarch64-darwin"] as const;
const CUDA_SYSTEMS = ["x86_64-linux", "aarch64-linux"];
const NIX = haveTool("nix-instantiate");

/** Writes `files` (name → text) as a package directory and evaluates it. */
async function evalFiles(
  files: Record<string, string>,
  system = "x86_64-linux",
  strictFormats = false,
) {
  await using dir = await tmp();
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir.path, `${name}.nix`), text);
  }
  return await evaluate(dir.path, system, strictFormats);
}

/** A package file; `body` is spliced into the buildPythonPackage attribute set. */
function pkg(pname: string, body: string, formals = "lib, python3"): string {
  return `{ ${formals} }:
python3.pkgs.buildPythonPackage {
  pname = "${pname}";
  version = "1.0";
${body}
  meta = { description = "Stub package"; license = lib.licenses.mit; };
}
`;
}
const WHEEL = `  src = ./x-1.0-py3-none-any.whl;`;
const SDIST = `  src = ./x-1.0.tar.gz;`;

async function mustFail(
  files: Record<string, string>,
  message: RegExp,
  system = "x86_64-linux",
  strict = false,
) {
  const r = await evalFiles(files, system, strict);
  assert.equal(r.ok, false, `expected an evaluation error matching ${message}`);
  if (!r.ok) assert.match(r.error, message);
}

for (const system of SYSTEMS) {
  Deno.test({
    name:
      `every .flox/pkgs/*.nix evaluates as Flox calls it, for ${system} (nix-instantiate --eval --strict)`,
    ignore: !NIX,
    fn: async () => {
      const r = await evaluate(PKGS, system);
      assert.ok(r.ok, r.ok ? "" : r.error);
      const all = [...Deno.readDirSync(PKGS)]
        .filter((e) => e.isFile && e.name.endsWith(".nix"))
        .map((e) => e.name.slice(0, -4)).sort();
      assert.deepEqual(Object.keys(r.pkgs).sort(), all);
      // Node packs (add-node) are folders of files, not Python packages: comfyui.nix holds them
      // in customNodes, with their requirements in its closed environment.
      const nodes = all.filter((f) => f.startsWith("comfyui-node-"));
      const files = all.filter((f) =>
        !MAIN_VARIANTS.includes(f) && !nodes.includes(f)
      );
      const main0 = r.pkgs["comfyui"]!;
      assert.deepEqual(
        main0.customNodes!.map((n) => n.drvName).sort(),
        nodes.map((n) => r.pkgs[n]!.drvName).sort(),
      );
      const nodeDeps = main0.customNodes!.flatMap((n) => n.pythonDependencies);
      for (const n of nodes) assert.equal(r.pkgs[n]!.python, false, n);
      for (const p of files.map((f) => r.pkgs[f]!).filter((p) => p.python)) {
        assert.ok(
          ["pyproject", "wheel", "other", "setuptools"].includes(
            p.format ?? "",
          ),
          p.name,
        );
        assert.ok(p.platforms.includes(system), p.name);
      }
      const main = r.pkgs["comfyui"]!;
      assert.equal(main.application, true);
      assert.equal(main.format, "other");
      assert.deepEqual(main.warnings, []);
      // Every other package file is a dependency of comfyui.nix, by file name (the overlay),
      // but nunchaku, kept unwired on purpose (its Requires-Python excludes nixpkgs' python3;
      // tests/package_set/package_set_test.ts), and the launcher's closed environment holds exactly
      // comfyui.nix's dependencies.
      const unwired = ["nunchaku"];
      // (Node packs are wired through customNodes, not the dependency list.)
      const pythonFiles = files.filter((f) => r.pkgs[f]!.python);
      for (const name of pythonFiles.filter((f) => f !== "comfyui")) {
        assert.equal(
          main.dependencyNames.includes(name),
          !unwired.includes(name),
          `comfyui ${unwired.includes(name) ? "wires" : "lacks"} ${name}`,
        );
      }
      assert.deepEqual(
        main.pythonEnvModules!.slice(0, main.dependencyNames.length),
        main.dependencyNames,
      );
      for (const d of nodeDeps) {
        assert.ok(
          main.pythonEnvModules!.includes(d),
          `comfyui's environment lacks ${d}`,
        );
      }
      assert.match(
        main.env.installPhase!,
        /makeWrapper \/nix\/store\/\S+-comfyui-launcher \$out\/bin\/comfyui/,
      );
      assert.equal(main.env.doInstallCheck, "1");
      assert.equal(main.env.dontWrapPythonPrograms, "1");
      assert.match(main.env.installCheckPhase!, /--dry-run --no-index/);
      // The install check starts ComfyUI as users do (no --cpu) and, on Linux, where no
      // build machine has a GPU, expects the fallback's line.
      assert.match(main.env.installCheckPhase!, /comfyui --quick-test-for-ci/);
      assert.doesNotMatch(main.env.installCheckPhase!, /--cpu/);
      assert.equal(
        /grep -q "running on the CPU"/.test(main.env.installCheckPhase!),
        system.endsWith("-linux"),
      );
      assert.ok(Deno.statSync(main.env.patches!).isFile, main.env.patches);
      assert.doesNotMatch(main.env.installPhase!, /PYTHONPATH/);
      // One torch in comfyui's closure, nixpkgs' default (CPU under NEF).
      assert.deepEqual(main.torches.map((t) => t.cuda), [false]);
      const cuda = r.pkgs["comfyui-cuda"]!;
      if (!CUDA_SYSTEMS.includes(system)) {
        // Not offered: nixpkgs' check-meta refuses it, nothing obscure on the way.
        assert.equal(cuda.available, false);
        assert.deepEqual(cuda.platforms, CUDA_SYSTEMS);
        return;
      }
      assert.equal(cuda.available, true);
      assert.equal(cuda.drvName, `comfyui-cuda-${main.version}`);
      assert.deepEqual(cuda.platforms, CUDA_SYSTEMS);
      // The same packages, the same launcher and install check (comfyui.nix called again)...
      assert.deepEqual(cuda.dependencyNames, main.dependencyNames);
      assert.deepEqual(cuda.pythonEnvModules, main.pythonEnvModules);
      const paths = (s: string) =>
        s.replace(/\/nix\/store\/\w+-/g, "/nix/store/…-");
      assert.equal(
        paths(cuda.env.installCheckPhase!),
        paths(main.env.installCheckPhase!),
      );
      assert.notEqual(cuda.env.installCheckPhase, main.env.installCheckPhase);
      // ...with one torch, a CUDA one, and every package of the closure built against it.
      assert.equal(cuda.torches.length, 1, JSON.stringify(cuda.torches));
      assert.equal(cuda.torches[0]!.cuda, true);
      for (const c of cuda.closure) {
        assert.ok(c.torches.every((t) => t), `${c.name} has a CPU torch`);
      }
      const pathOf = (e: Evaluated, pname: string) =>
        e.closure.find((c) => c.pname === pname)?.path;
      // Our torch users are other store paths in the CUDA build; the rest are shared.
      for (const pname of ["spandrel", "controlnet-aux", "torchvision"]) {
        assert.ok(pathOf(cuda, pname), pname);
        assert.notEqual(pathOf(cuda, pname), pathOf(main, pname), pname);
      }
      assert.equal(
        pathOf(cuda, "comfyui-frontend-package"),
        pathOf(main, "comfyui-frontend-package"),
      );
    },
  });
}

Deno.test({
  name: "the stub enforces mk-python-derivation.nix's format rules",
  ignore: !NIX,
  fn: async () => {
    // Today's valid forms: a source build with pyproject = true, build-system and
    // dependencies; a wheel with format = "wheel"; an application with pyproject = false.
    const ok = await evalFiles({
      a: pkg(
        "a",
        `${SDIST}\n  pyproject = true;\n  build-system = with python3.pkgs; [ setuptools ];\n  dependencies = with python3.pkgs; [ numpy ];`,
      ),
      b: pkg(
        "b",
        `${WHEEL}\n  format = "wheel";\n  dependencies = [ a ];`,
        "lib, python3, a",
      ),
    });
    assert.ok(ok.ok, ok.ok ? "" : ok.error);
    assert.equal(ok.pkgs.a!.format, "pyproject");
    assert.deepEqual(ok.pkgs.a!.buildSystemNames, ["setuptools"]);
    assert.deepEqual(ok.pkgs.b!.dependencyNames, ["a"]);
    assert.deepEqual([ok.pkgs.a!.warnings, ok.pkgs.b!.warnings], [[], []]);

    await mustFail(
      {
        a: pkg("a", `${SDIST}\n  pyproject = true;\n  format = "setuptools";`),
      },
      /a-1\.0: pyproject and format are mutually exclusive/,
    );
    await mustFail(
      { a: pkg("a", SDIST) },
      /a-1\.0 does not configure a `format`/,
    );
    await mustFail(
      { a: pkg("a", `${SDIST}\n  format = "flit";`) },
      /format must be one of/,
    );
    await mustFail(
      { a: pkg("a", `${SDIST}\n  pyproject = "yes";`) },
      /pyproject must be true or false/,
    );
    await mustFail(
      { a: pkg("a", `${WHEEL}\n  pyproject = true;`) },
      /src is a wheel but the format is "pyproject"/,
    );
    await mustFail(
      { a: pkg("a", `${SDIST}\n  format = "wheel";`) },
      /format = "wheel" but src \(x-1\.0\.tar\.gz\) is not a \.whl/,
    );
    // A deprecated format: a warning, an error under the strict setting.
    const old = { a: pkg("a", `${SDIST}\n  format = "pyproject";`) };
    const warned = await evalFiles(old);
    assert.ok(warned.ok);
    assert.deepEqual(warned.pkgs.a!.warnings, [
      'a-1.0: format = "pyproject" is deprecated: write pyproject = true instead',
    ]);
    await mustFail(
      old,
      /format = "pyproject" is deprecated/,
      "x86_64-linux",
      true,
    );
  },
});

Deno.test({
  name:
    "the stub calls files like Flox's overlay and enforces what nixpkgs checks at evaluation",
  ignore: !NIX,
  fn: async () => {
    const good = `${WHEEL}\n  format = "wheel";`;
    // Package files see each other by file name, ahead of nixpkgs' attribute of that name.
    const shadow = await evalFiles({
      spandrel: pkg(
        "spandrel",
        `${good}\n  dependencies = [ python3.pkgs.numpy ];`,
      ),
      user: pkg(
        "user",
        `${good}\n  dependencies = [ spandrel ];`,
        "lib, python3, spandrel",
      ),
    });
    assert.ok(shadow.ok, shadow.ok ? "" : shadow.error);
    assert.deepEqual(shadow.pkgs.user!.dependencyNames, ["spandrel"]);
    await mustFail(
      { a: pkg("a", good, "lib, python3, nowhere") },
      /Function called without required argument "nowhere"/,
    );
    await mustFail(
      { a: pkg("a", `${good}\n  dependencies = [ "numpy" ];`) },
      /dependencies holds a string, not a package/,
    );
    // A package not available on the system: summarised as such, and an error once built.
    const linuxOnly = pkg("a", good).replace(
      "license = lib.licenses.mit;",
      "license = lib.licenses.mit; platforms = lib.platforms.linux;",
    );
    const off = await evalFiles({ a: linuxOnly }, "aarch64-darwin");
    assert.ok(off.ok, off.ok ? "" : off.error);
    assert.equal(off.pkgs.a!.available, false);
    await mustFail(
      {
        a: linuxOnly,
        // building b needs a's store path
        b: pkg("b", `${good}\n  dependencies = [ a ];`, "lib, python3, a"),
      },
      /is not available on the requested hostPlatform aarch64-darwin/,
      "aarch64-darwin",
    );
    await mustFail(
      { a: pkg("a", `${good}\n  disabled = true;`) },
      /a-1\.0 not supported for interpreter/,
    );
    await mustFail(
      {
        a: pkg("a", good).replace(
          "license = lib.licenses.mit",
          'license = "MIT"',
        ),
      },
      /meta\.license must be a lib\.licenses value/,
    );
    await mustFail(
      {
        a: pkg("a", good).replace("lib.licenses.mit", "lib.licenses.nonesuch"),
      },
      /attribute 'nonesuch' missing/,
    );
    await mustFail(
      { a: pkg("a", `${good}\n  postInstall = { x = 1; };`) },
      /cannot coerce the set in `postInstall` to a string/,
    );
    const gh = (rev: string) =>
      pkg(
        "a",
        `  src = fetchFromGitHub { owner = "o"; repo = "r"; ${rev} hash = "sha256-AAAA"; };\n  pyproject = true;`,
        "lib, python3, fetchFromGitHub",
      );
    assert.ok((await evalFiles({ a: gh('tag = "v1";') })).ok);
    await mustFail(
      { a: gh('tag = "v1"; rev = "abc";') },
      /either `rev` or `tag`/,
    );
    await mustFail(
      { a: gh('tag = "v1";').replace(' hash = "sha256-AAAA";', "") },
      /no hash/,
    );
    await mustFail(
      {
        app:
          `{ python3 }:\npython3.pkgs.buildPythonApplication rec {\n  pname = "app"; version = "1"; pyproject = false;\n  passthru.env = python3.withPackages (_: [ python3 ]);\n  installPhase = "\${passthru.env}";\n}\n`,
      },
      /python3-[\d.]+ is not a Python module of this interpreter/,
    );
  },
});

/** The launcher of comfyui.nix, with its interpreter replaced by `python`. */
async function launcherWith(python: string): Promise<string> {
  const r = await evaluate(PKGS, "x86_64-linux");
  assert.ok(r.ok, r.ok ? "" : r.error);
  const text = r.pkgs["comfyui"]!.launcher!;
  const stubPython = /\/nix\/store\/\S+-env\/bin\/python3/;
  assert.match(text, stubPython);
  return text.replace(stubPython, python);
}

Deno.test({
  name:
    "comfyui's launcher gives ComfyUI a writable base directory, ComfyUI's own flags win, the environment is closed",
  ignore: !NIX || !haveTool("bash") || !haveTool("python3"),
  fn: async () => {
    await using dir = await tmp();
    // A python3 that parses the two flags as ComfyUI 0.3.75's argparse declares them
    // (type=str, the last occurrence wins) and reports what ComfyUI would use.
    const python = join(dir.path, "python3");
    await Deno.writeTextFile(
      python,
      `#!/bin/sh
shift 2  # -s MAIN
exec python3 -c '
import argparse, json, os, sys
p = argparse.ArgumentParser()
p.add_argument("--base-directory", type=str, default=None)
p.add_argument("--extra-model-paths-config", type=str, default=None, nargs="+", action="append")
p.add_argument("--bf16-unet", action="store_true")
p.add_argument("--bf16-vae", action="store_true")
p.add_argument("--database-url", type=str, default=None)
p.add_argument("--cpu", action="store_true")
a = p.parse_args(sys.argv[1:])
print(json.dumps({"base": a.base_directory, "db": a.database_url,
  "extra": a.extra_model_paths_config,
  "env": [k for k in ("PYTHONPATH", "NIX_PYTHONPATH") if k in os.environ]}))
' "$@"
`,
    );
    await Deno.chmod(python, 0o755);
    const script = join(dir.path, "launcher");
    const text = await launcherWith(python);
    await Deno.writeTextFile(script, text);
    assert.equal((await run("bash", ["-n", script])).code, 0);
    // The node packs' configuration (add-node), passed first when comfyui.nix wires some.
    const packs = [
      ...text.matchAll(/\/nix\/store\/\S+-comfyui-custom-nodes\.yaml/g),
    ].map((m) => [m[0]]);
    const home = join(dir.path, "home");
    await Deno.mkdir(home);
    const launch = async (args: string[], env: Record<string, string> = {}) => {
      const r = await run("env", [
        "-i",
        `HOME=${home}`,
        `PATH=${Deno.env.get("PATH")}`,
        "PYTHONPATH=/leak",
        "NIX_PYTHONPATH=/leak",
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        "bash",
        script,
        "/store/comfyui/main.py",
        ...args,
      ], { cwd: dir.path });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as {
        base: string;
        db: string;
        extra: string[][] | null;
        env: string[];
      };
    };
    const local = join(home, ".local/share/comfyui");
    assert.deepEqual(await launch(["--cpu"]), {
      base: local,
      db: `sqlite:///${local}/user/comfyui.db`,
      extra: packs.length ? packs : null,
      env: [],
    });
    for (const sub of ["user", "custom_nodes"]) {
      assert.ok(Deno.statSync(join(local, sub)).isDirectory, sub);
    }
    const xdg = join(dir.path, "xdg");
    assert.equal(
      (await launch([], { XDG_DATA_HOME: xdg })).base,
      `${xdg}/comfyui`,
    );
    const own = join(dir.path, "own");
    const byEnv = await launch([], {
      COMFYUI_BASE_DIR: own,
      XDG_DATA_HOME: xdg,
    });
    assert.deepEqual([byEnv.base, byEnv.db], [
      own,
      `sqlite:///${own}/user/comfyui.db`,
    ]);
    // ComfyUI's own flags come after ours and win; the database follows --base-directory.
    const flag = await launch(["--base-directory", "rel/dir"]);
    assert.equal(flag.base, "rel/dir");
    assert.equal(flag.db, `sqlite:///${dir.path}/rel/dir/user/comfyui.db`);
    assert.ok(Deno.statSync(join(dir.path, "rel/dir/user")).isDirectory);
    const eq = await launch([
      `--base-directory=${own}2`,
      "--database-url",
      "sqlite:///:memory:",
    ]);
    assert.deepEqual([eq.base, eq.db], [`${own}2`, "sqlite:///:memory:"]);
    // argparse takes any unambiguous prefix of --base-directory (down to --ba: --b is also
    // --bf16-*); the database follows each.
    for (
      const args of [["--base-dir", "abbr1"], ["--ba=abbr2"], [
        "--base",
        "abbr3",
      ]]
    ) {
      const want = args.length === 2 ? args[1]! : args[0]!.split("=")[1]!;
      const got = await launch(args);
      assert.equal(got.base, want, args.join(" "));
      assert.equal(got.db, `sqlite:///${dir.path}/${want}/user/comfyui.db`);
    }
    // Not a prefix of it: left alone.
    assert.equal((await launch(["--bf16-vae"])).base, local);
    // The user's extra_model_paths.yaml is passed, ahead of the user's own flags.
    await Deno.writeTextFile(join(own, "extra_model_paths.yaml"), "a: {}\n");
    const extra = await launch(
      ["--extra-model-paths-config", "/mine.yaml"],
      { COMFYUI_BASE_DIR: own },
    );
    assert.deepEqual(extra.extra, [
      ...packs,
      [join(own, "extra_model_paths.yaml")],
      ["/mine.yaml"],
    ]);
    assert.deepEqual(
      (await launch([], { COMFYUI_BASE_DIR: `${own}2` })).extra,
      packs.length ? packs : null,
    );
    // No HOME, no XDG_DATA_HOME, no COMFYUI_BASE_DIR: a one-line error, nothing run.
    const r = await run("env", ["-i", "bash", script, "/m.py"], {
      cwd: dir.path,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /set COMFYUI_BASE_DIR, XDG_DATA_HOME or HOME/);
  },
});

Deno.test({
  name:
    "comfyui's install check fails the build when an installed version misses requirements.txt (real pip)",
  ignore: !NIX || !haveTool("bash") || !haveTool("python3"),
  fn: async () => {
    const r = await evaluate(PKGS, "x86_64-linux");
    assert.ok(r.ok, r.ok ? "" : r.error);
    const phase = r.pkgs["comfyui"]!.env.installCheckPhase!;
    // The pip command of the phase, continuation lines joined.
    const cmd = phase.replace(/\s*\\\n\s*/g, " ").split("\n")
      .find((l) => l.includes("pip install"))!.trim();
    await using dir = await tmp();
    const site = join(dir.path, "site-packages");
    const dist = (name: string, version: string) => {
      const d = join(site, `${name}-${version}.dist-info`);
      Deno.mkdirSync(d, { recursive: true });
      Deno.writeTextFileSync(
        join(d, "METADATA"),
        `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
      );
    };
    dist("av", "14.4.0");
    dist("pydantic", "2.11.0");
    const pip = join(dir.path, "pip");
    Deno.writeTextFileSync(pip, `#!/bin/sh\nexec python3 -m pip "$@"\n`);
    Deno.chmodSync(pip, 0o755);
    const local = cmd
      .replace(/PYTHONPATH=\S+/, `PYTHONPATH=${site}`)
      .replace(/\S+\/bin\/pip /, `${pip} `);
    assert.match(local, /--dry-run --no-index -r requirements\.txt$/, local);
    const check = async (requirements: string) => {
      Deno.writeTextFileSync(join(dir.path, "requirements.txt"), requirements);
      return (await run("bash", ["-c", local], {
        cwd: dir.path,
        env: { PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONNOUSERSITE: "1" },
      })).code;
    };
    assert.equal(await check("av>=14.2.0\npydantic~=2.0\n"), 0);
    assert.notEqual(await check("av>=99.0.0\npydantic~=2.0\n"), 0);
    assert.notEqual(await check("av>=14.2.0\nmissing-package\n"), 0);
  },
});

Deno.test({
  name:
    "comfyui's launcher gives ComfyUI a database URL it can use under a base directory with a space, #, ? or %",
  ignore: !NIX || !haveTool("bash") || !haveTool("python3"),
  fn: async () => {
    await using dir = await tmp();
    // A python3 that does with --database-url what ComfyUI 0.3.75 does (app/database/db.py:
    // the path is the text after "///"; SQLAlchemy's URL ends the path at "?", alembic's
    // config reads "%" as interpolation) and opens the database with sqlite3.
    const python = join(dir.path, "python3");
    await Deno.writeTextFile(
      python,
      `#!/bin/sh
shift 2  # -s MAIN
exec python3 -c '
import argparse, json, os, sqlite3, sys
p = argparse.ArgumentParser()
p.add_argument("--base-directory")
p.add_argument("--database-url")
p.add_argument("--extra-model-paths-config", nargs="+", action="append")
a = p.parse_args(sys.argv[1:])
url = a.database_url
path = url.split("///")[1]
bad = [c for c in "?%" if c in url]
sqlite3.connect(path).execute("create table if not exists t (x)")
print(json.dumps({"url": url, "bad": bad, "dir": os.path.realpath(os.path.dirname(path))}))
' "$@"
`,
    );
    await Deno.chmod(python, 0o755);
    const script = join(dir.path, "launcher");
    await Deno.writeTextFile(script, await launcherWith(python));
    const state = join(dir.path, "state");
    for (const name of ["plain", "with space", "hash#tag", "what?", "100%"]) {
      const base = join(dir.path, name);
      const r = await run("env", [
        "-i",
        `HOME=${dir.path}`,
        `XDG_STATE_HOME=${state}`,
        `PATH=${Deno.env.get("PATH")}`,
        `COMFYUI_BASE_DIR=${base}`,
        "bash",
        script,
        "/store/comfyui/main.py",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.deepEqual(got.bad, [], `${name}: ${got.url}`);
      assert.equal(got.dir, join(base, "user"), name);
      assert.ok(Deno.statSync(join(base, "user", "comfyui.db")).isFile, name);
      if (name === "plain") {
        assert.equal(got.url, `sqlite:///${base}/user/comfyui.db`);
      } else {
        assert.match(
          got.url,
          /^sqlite:\/\/\/[A-Za-z0-9/._+,@:=~-]+\/comfyui\.db$/,
        );
        assert.ok(got.url.startsWith(`sqlite:///${state}/comfyui/databases/`));
      }
    }
  },
});
