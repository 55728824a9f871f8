// Shared test helpers: real-Nix gating, temp dirs, running tasks as subprocesses.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { info } from "../lib/kit/log.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(
  /\/$/,
  "",
);

/**
 * The seed's comfyui.nix (0.3.75, no custom package wired in), byte for byte: the fixture for
 * tests of the Nix library, verify and bump-comfyui, which must not change whenever the
 * repository's own package set (.flox/pkgs/comfyui.nix) does.
 */
export const SEED_MAIN = `${ROOT}/tests/_fixtures/comfyui_seed.nix`;

/**
 * Deno's cache folder as this test process uses it (Deno's own default when DENO_DIR is unset).
 * A child given a HOME of its own keeps it: without it, every `deno run` of a task in a scratch
 * HOME downloaded the kit's npm packages again (5-9 s each, most of add-node's test time).
 */
export const DENO_DIR = Deno.env.get("DENO_DIR") ||
  (Deno.build.os === "darwin"
    ? `${Deno.env.get("HOME")}/Library/Caches/deno`
    : `${
      Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME")}/.cache`
    }/deno`);

/** The environment of a child process: no colours, DENO_DIR kept, `cwd` as INIT_CWD, then `env`. */
export function childEnv(
  cwd: string,
  env: Record<string, string> = {},
): Record<string, string> {
  return { NO_COLOR: "1", DENO_DIR, INIT_CWD: cwd, ...env };
}

/**
 * Every test file under tests/ (in its wing's folder, tests/<wing>/), root-relative and sorted:
 * what deno.json's test and update-golden tasks must name.
 */
export function testFiles(dir = "tests"): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}/${dir}`)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...testFiles(rel));
    else if (e.name.endsWith("_test.ts")) out.push(rel);
  }
  return out.sort();
}

/** The real distributions shipped beside the project (read-only). */
export const REAL_SOURCES = `${ROOT}/../shared/real-sources`;

/** True when CI=true: differential tests must run, never skip. */
export const IN_CI = Deno.env.get("CI") === "true";

const noticed = new Set<string>();

/**
 * Whether the real distributions (../shared/real-sources beside the checkout) are there. In CI
 * their absence is a failure; elsewhere the tests that need them are skipped with a notice.
 */
export function haveRealSources(
  dir = REAL_SOURCES,
  ci = Deno.env.get("CI") === "true",
): boolean {
  let found = false;
  try {
    found = Deno.statSync(dir).isDirectory;
  } catch {
    // absent
  }
  if (!found && ci) {
    throw new Error(
      `${dir} is required when CI=true (the five real distributions of the set)`,
    );
  }
  if (!found && !noticed.has(dir)) {
    noticed.add(dir);
    info(
      `notice: ${dir} not found, skipping the tests that use the real distributions`,
    );
  }
  return found;
}

/** `Deno.test` for a test that reads ../shared/real-sources: skipped with a notice without it. */
export function realSourcesTest(
  name: string,
  fn: () => void | Promise<void>,
): void {
  Deno.test({ name, ignore: !haveRealSources(), fn });
}

/**
 * Whether a real tool (nix-hash, nix-instantiate, …) can be used. In CI a missing tool is a
 * failure; elsewhere the caller skips with a printed notice.
 */
export function haveTool(name: string): boolean {
  const found = Deno.env.get("PATH")?.split(":").some((d) => {
    try {
      return Deno.statSync(`${d}/${name}`).isFile;
    } catch {
      return false;
    }
  }) ?? false;
  if (!found && IN_CI) {
    throw new Error(
      `${name} is required when CI=true (apt-get install nix-bin)`,
    );
  }
  if (!found) {
    info(`notice: ${name} not found, skipping the tests that use it`);
  }
  return found;
}

/** A temp directory removed when disposed: `await using dir = await tmp();`. */
export async function tmp(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "comfykit-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs a command, returning exit code and decoded output. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT,
    // INIT_CWD: the folder the command was "typed in" (deno task sets it; tasks resolve paths
    // given on the command line against it), not the one the test runner was started from.
    env: childEnv(opts.cwd ?? ROOT, opts.env),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const r = await child.output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
  };
}

/**
 * Runs `tasks/<file>.ts` in a fresh Deno process with all permissions (tests check behaviour,
 * deno.json's task lines check permissions).
 */
export function runTaskProcess(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
) {
  return run(
    Deno.execPath(),
    ["run", "-A", `${ROOT}/tasks/${file}`, ...args],
    opts,
  );
}

/**
 * Runs `fn` in-process with console.log / console.error (where lib/kit/log.ts writes) captured:
 * `{code, stdout, stderr}`. For testing a task's `main()` without a subprocess.
 */
export async function captureOutput(
  fn: () => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = globalThis.console;
  const saved = [c.log, c.error];
  let stdout = "";
  let stderr = "";
  c.log = (...a: unknown[]) => void (stdout += a.join(" ") + "\n");
  c.error = (...a: unknown[]) => void (stderr += a.join(" ") + "\n");
  try {
    const code = await fn();
    return { code, stdout, stderr };
  } finally {
    [c.log, c.error] = saved as [typeof c.log, typeof c.error];
  }
}

/** Copies the files and folders under `from` into `to` (created), symlinks left out. */
export async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) {
      await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  }
}

/**
 * The `deno run …` arguments of deno.json's task `name`, exactly as `deno task` runs it (its
 * permissions, `--no-prompt`), with the script made absolute and `$HOME` replaced by `home`:
 * run them with `run(Deno.execPath(), [...await taskArgs(name, home), ...args], { cwd })`.
 * A task that first picks the download cache (`cache=…; deno run … "$cache"`) gets the folder
 * `env` selects, as deno task's shell would.
 */
export async function taskArgs(
  name: string,
  home: string,
  env: Record<string, string> = {},
): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const full = config.tasks[name]?.command as string | undefined;
  if (!full) throw new Error(`deno.json has no task "${name}"`);
  const command = full.slice(full.lastIndexOf("; ") + 1).trim();
  const words = command.split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`task "${name}" is not a plain "deno run": ${full}`);
  }
  const cache = env.COMFYKIT_CACHE_DIR ||
    (env.XDG_CACHE_HOME
      ? `${env.XDG_CACHE_HOME}/comfykit`
      : `${home}/.cache/comfykit`);
  const script = words.at(-1)!;
  return [
    "run",
    "--config",
    `${ROOT}/deno.json`,
    ...words.slice(2, -1).map((w) =>
      w.replaceAll('"$cache"', cache).replaceAll("$HOME", home)
    ),
    `${ROOT}/${script}`,
  ];
}

/** Where golden files live. */
export const GOLDEN_DIR = `${ROOT}/tests/golden`;

/**
 * The one golden-file check: compares `actual` with tests/golden/<name> (`name` may hold a
 * folder); with UPDATE_GOLDEN=1 (`deno task update-golden`) writes the file instead.
 */
export async function assertGolden(
  name: string,
  actual: string,
): Promise<void> {
  const path = `${GOLDEN_DIR}/${name}`;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(path);
  } catch {
    assert.fail(`missing golden file ${path}: run "deno task update-golden"`);
  }
  assert.equal(
    actual,
    expected,
    `differs from ${path} (review, then "deno task update-golden")`,
  );
}

/** A detached tmux session running a shell line, for the real-terminal tests. */
export interface TmuxSession extends AsyncDisposable {
  session: string;
  /** tmux send-keys. */
  keys(...keys: string[]): Promise<unknown>;
  /** Waits (up to 20 s) until the screen matches `re`, and returns the screen. */
  waitFor(re: RegExp): Promise<string>;
}

/**
 * Starts `cmd` in a new 160-column tmux session; `tmuxArgs` go before the command (`-e VAR=…`);
 * `socketDir` (TMUX_TMPDIR for every tmux call of the session) gives it a private server, which
 * the process's environment, shared with the files running beside it, must not carry.
 */
export async function tmuxSession(
  prefix: string,
  cmd: string,
  opts: { height?: number; tmuxArgs?: string[]; socketDir?: string } = {},
): Promise<TmuxSession> {
  const session = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = opts.socketDir
    ? { TMUX_TMPDIR: opts.socketDir }
    : {};
  const tmux = (args: string[]) => run("tmux", args, { env });
  const started = await tmux([
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "160",
    "-y",
    String(opts.height ?? 50),
    ...(opts.tmuxArgs ?? []),
    cmd,
  ]);
  if (started.code !== 0) throw new Error(`tmux: ${started.stderr}`);
  return {
    session,
    keys: (...k) => tmux(["send-keys", "-t", session, ...k]),
    async waitFor(re) {
      let screen = "";
      for (let i = 0; i < 200; i++) {
        screen = (await tmux(["capture-pane", "-p", "-t", session])).stdout;
        if (re.test(screen)) return screen;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${re}; screen:\n${screen}`);
    },
    async [Symbol.asyncDispose]() {
      await tmux(["kill-session", "-t", session]);
    },
  };
}
