// Shared test helpers: real-Nix gating, temp dirs, running tasks as subprocesses.
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

/** The real distributions shipped beside the project (read-only). */
export const REAL_SOURCES = `${ROOT}/../shared/real-sources`;

/** True when CI=true: differential tests must run, never skip. */
export const IN_CI = Deno.env.get("CI") === "true";

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
    env: { NO_COLOR: "1", INIT_CWD: opts.cwd ?? ROOT, ...opts.env },
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
