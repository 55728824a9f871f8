// Ctrl-C during the multi-file flows (remove-package, new-package, bump-comfyui, fix-build): a
// real SIGINT to a real task process, sent before the writes (while it waits for the sources
// lock another run holds, or as it starts), between two writes and after the last one. The
// tree must then be byte-identical to before the run or to the tree an uninterrupted run
// leaves, never in between: no half-applied change, no `.tmp` copy, no lock, no temp folder.
// The points between writes come from Changeset.apply's test hook
// (COMFYKIT_TEST_APPLY_PAUSE_MS: it announces each write on stderr and waits after it).
import assert from "node:assert/strict";
import { join } from "node:path";
import { childEnv, copyTree, ROOT, run, taskArgs, tmp } from "../_helpers.ts";
import { buildWheel } from "../_fixtures/build.ts";
import { setup, withFrontendPackage } from "../_fixtures/bump.ts";

/**
 * Every file under `dir` (relative) with its bytes (text as text, else hex; loopback ports,
 * which differ between fixture servers, as PORT); folders as "dir".
 */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) {
        out[p] = "dir";
        await walk(p);
        continue;
      }
      const bytes = await Deno.readFile(join(dir, p));
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        text = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
          .join("");
      }
      out[p] = text.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT");
    }
  };
  await walk("");
  return out;
}

/** What differs between two snapshots (for a readable failure). */
function delta(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

interface Flow {
  name: string;
  /** Prepares a fresh repository; returns how to run the flow in it. */
  prepare(dir: string): Promise<{
    root: string;
    args: string[];
    cwd: string;
    env: Record<string, string>;
    /** Extra folders the run may write (its temp dir), which must be left empty. */
    tmpDir: string;
    dispose?: () => Promise<void>;
  }>;
  /** Whether the flow takes the sources lock before it writes. */
  locks: boolean;
  /** How many writes the flow applies (at least). */
  writes: number;
}

/** Runs `args` (deno run …) and sends SIGINT once stderr matches `when` (never when undefined). */
async function runAndInterrupt(
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
  when: RegExp | undefined,
): Promise<{ code: number; stderr: string; sent: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: opts.cwd,
    env: childEnv(opts.cwd, opts.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const drained = child.stdout.pipeTo(new WritableStream());
  let stderr = "";
  let sent = false;
  const dec = new TextDecoder();
  for await (const chunk of child.stderr) {
    stderr += dec.decode(chunk, { stream: true });
    if (!sent && when?.test(stderr)) {
      child.kill("SIGINT");
      sent = true;
    }
  }
  await drained;
  const status = await child.status;
  return { code: status.code, stderr, sent };
}

const PAUSE_MS = "700";

/** A fresh copy of the repository (its .git left out), for running tasks as users do. */
async function repoCopy(to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(ROOT)) {
    // bench/ holds bench/data (git-ignored; up to 1 GiB after `deno task bench`), which
    // bench_test.ts writes while the suite runs in parallel: not part of a clone; nor is the
    // download cache cache_dir_test.ts keeps in .cache-test-* meanwhile.
    if (
      e.name === ".git" || e.name.startsWith(".scratch-") ||
      e.name.startsWith(".cache-test-") || e.name === "bench"
    ) continue;
    const from = join(ROOT, e.name);
    if (e.isDirectory) await copyTree(from, join(to, e.name));
    else if (e.isFile) await Deno.copyFile(from, join(to, e.name));
  }
}

const FLOWS: Flow[] = [
  {
    name: "remove-package",
    locks: true,
    writes: 5,
    async prepare(dir) {
      const root = join(dir, "repo");
      await repoCopy(root);
      const tmpDir = join(dir, "tmp");
      await Deno.mkdir(tmpDir);
      return {
        root,
        cwd: root,
        env: { TMPDIR: tmpDir },
        tmpDir,
        // Exactly as `deno task remove-package spandrel --yes` runs it, in the copy.
        args: [...await taskArgs("remove-package", dir), "spandrel", "--yes"],
      };
    },
  },
  {
    name: "new-package",
    locks: true,
    writes: 4,
    async prepare(dir) {
      const root = join(dir, "repo");
      await repoCopy(root);
      const tmpDir = join(dir, "tmp");
      await Deno.mkdir(tmpDir);
      const wheel = join(dir, "tiny-1.0-py3-none-any.whl");
      await Deno.writeFile(
        wheel,
        buildWheel({
          name: "tiny",
          version: "1.0",
          license: "MIT",
          classifiers: ["License :: OSI Approved :: MIT License"],
          packages: ["tiny"],
        }),
      );
      return {
        root,
        cwd: root,
        env: { TMPDIR: tmpDir, COMFYKIT_PYPI_URL: "http://127.0.0.1:9" },
        tmpDir,
        args: [
          "run",
          "-A",
          `${ROOT}/tasks/new_package.ts`,
          wheel,
          "--yes",
          "--root",
          root,
        ],
      };
    },
  },
  {
    name: "bump-comfyui",
    locks: true,
    writes: 4,
    async prepare(dir) {
      const s = await setup();
      await withFrontendPackage(s);
      const tmpDir = join(dir, "tmp");
      await Deno.mkdir(tmpDir, { recursive: true });
      return {
        root: s.root,
        cwd: s.root,
        env: { ...s.env, TMPDIR: tmpDir },
        tmpDir,
        args: [
          "run",
          "-A",
          `${ROOT}/tasks/bump_comfyui.ts`,
          "0.3.76",
          "--yes",
          "--root",
          s.root,
        ],
        dispose: () => s[Symbol.asyncDispose](),
      };
    },
  },
  {
    name: "fix-build",
    locks: false,
    writes: 1,
    async prepare(dir) {
      const root = join(dir, "repo");
      await Deno.mkdir(join(root, ".flox", "pkgs"), { recursive: true });
      await Deno.copyFile(
        join(ROOT, "tests", "_fixtures", "comfyui_seed.nix"),
        join(root, ".flox", "pkgs", "comfyui.nix"),
      );
      await Deno.writeTextFile(
        join(root, ".flox", "pkgs", "kde-material-you-colors.nix"),
        `{ lib, python3, fetchPypi }:

python3.pkgs.buildPythonPackage rec {
  pname = "kde-material-you-colors";
  version = "2.0.2";
  pyproject = true;

  src = fetchPypi {
    inherit pname version;
    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
  };

  build-system = with python3.pkgs; [ setuptools ];

  dependencies = with python3.pkgs; [
    numpy
  ];

  pythonImportsCheck = [ "kde_material_you_colors" ];

  meta.license = lib.licenses.mit;
}
`,
      );
      const index = join(dir, "index.json");
      await Deno.writeTextFile(
        index,
        JSON.stringify({
          description: "test index",
          nixpkgs: { rev: null, date: null, channel: null },
          python3Packages: { "python-magic": "0.4.27", numpy: "2.1.3" },
        }),
      );
      const tmpDir = join(dir, "tmp");
      await Deno.mkdir(tmpDir);
      return {
        root,
        cwd: root,
        env: { TMPDIR: tmpDir },
        tmpDir,
        args: [
          "run",
          "-A",
          `${ROOT}/tasks/fix_build.ts`,
          join(ROOT, "tests", "_fixtures", "logs", "runtime_deps_kde.log"),
          "--yes",
          "--root",
          root,
          "--nixpkgs-index",
          index,
        ],
      };
    },
  },
];

/** Holds the sources lock as another live run would (touched, so it never goes stale). */
async function holdLock(root: string): Promise<() => Promise<void>> {
  const path = join(root, ".flox", "sources", ".lock");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      pid: 1,
      host: "elsewhere",
      created: new Date().toISOString(),
      token: "test-holder",
    }) + "\n",
  );
  const beat = setInterval(() => {
    const now = new Date();
    Deno.utimeSync(path, now, now);
  }, 500);
  return async () => {
    clearInterval(beat);
    await Deno.remove(path);
  };
}

/** Settles every promise, then rethrows the first failure (no run is left going). */
async function allOrFirstError<T>(work: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

for (const flow of FLOWS) {
  Deno.test(`Ctrl-C in ${flow.name} before, between and after its writes leaves the tree before or fully after`, async () => {
    await using dir = await tmp();
    const points: {
      label: string;
      when: RegExp;
      expect: "before" | "after";
    }[] = [];
    if (flow.locks) {
      points.push({
        label: "waiting for the lock",
        when: /waiting for/,
        expect: "before",
      });
    }
    points.push({
      label: "after the first write",
      when: /applied 1\//,
      expect: "before",
    });
    if (flow.writes > 2) {
      points.push({
        label: "after the second write",
        when: /applied 2\//,
        expect: "before",
      });
    }
    points.push({
      label: "after the last write",
      when: /applied all/,
      expect: "after",
    });

    // The uninterrupted run (the tree it leaves) and the interrupted ones, each in its own
    // copy, all at once: most of their time is the pause after each write.
    const reference = async () => {
      const ref = await flow.prepare(join(dir.path, "ref"));
      const before = await snapshot(ref.root);
      const full = await run(Deno.execPath(), ref.args, {
        cwd: ref.cwd,
        env: ref.env,
      });
      assert.equal(full.code, 0, full.stderr);
      const after = await snapshot(ref.root);
      assert.notDeepEqual(after, before, "the flow changes the tree");
      await ref.dispose?.();
      return { before, after };
    };
    const interrupted = async (point: typeof points[number], i: number) => {
      const r = await flow.prepare(join(dir.path, `run${i}`));
      try {
        const release = point.label === "waiting for the lock"
          ? await holdLock(r.root)
          : undefined;
        const out = await runAndInterrupt(r.args, {
          cwd: r.cwd,
          env: { ...r.env, COMFYKIT_TEST_APPLY_PAUSE_MS: PAUSE_MS },
        }, point.when);
        if (release) {
          // Our lock is still ours: the interrupted run did not remove another run's lock.
          assert.match(
            await Deno.readTextFile(join(r.root, ".flox", "sources", ".lock")),
            /test-holder/,
          );
          await release();
        }
        const what = `${flow.name}, ${point.label}`;
        assert.ok(out.sent, `${what}: never reached:\n${out.stderr}`);
        assert.equal(out.code, 130, `${what}:\n${out.stderr}`);
        assert.deepEqual(
          [...Deno.readDirSync(r.tmpDir)].map((e) => e.name),
          [],
          `${what}: temp files left`,
        );
        return {
          point,
          what,
          tree: await snapshot(r.root),
          stderr: out.stderr,
        };
      } finally {
        await r.dispose?.();
      }
    };
    const [trees, ...runs] = await allOrFirstError<unknown>([
      reference(),
      ...points.map(interrupted),
    ]) as [
      Awaited<ReturnType<typeof reference>>,
      ...Awaited<ReturnType<typeof interrupted>>[],
    ];
    for (const r of runs) {
      const want = r.point.expect === "before" ? trees.before : trees.after;
      assert.deepEqual(
        delta(r.tree, want),
        [],
        `${r.what}: the tree is not ${r.point.expect} the run:\n${r.stderr}`,
      );
    }
  });
}
