// The release tests' scene: a temporary git repository holding the package set (optionally in a
// subfolder of a larger repository), a bare repository as its remote over a file path, and flox
// replaced by a recording stand-in on PATH. The stand-in checks its arguments and what the real
// flox needs: `flox build` sees only files git tracks (an untracked file under .flox/ is a
// failure, as it is missing from what Nix's git fetcher copies), `flox publish` wants clean
// tracked files and HEAD pushed. It can be told to fail (FLOX_FAIL) or to hold its build until a
// file appears (FLOX_BUILD_WAIT, announcing FLOX_BUILD_WAIT.started).
import assert from "node:assert/strict";
import {
  copyTree,
  ROOT,
  run,
  runTaskProcess,
  taskArgs,
  tmp,
} from "../_helpers.ts";

const STAND_IN = `#!/bin/sh
# A recording stand-in for flox: logs its arguments, checks them, fails when told to.
echo "$*" >> "$FLOX_LOG"
if [ -n "$FLOX_FAIL" ] && [ "$FLOX_FAIL" = "$*" ]; then
  echo "stand-in told to fail: $*" >&2; exit 3
fi
case "$1" in
  build)
    [ "$#" -eq 2 ] || { echo "flox build: expected one package: $*" >&2; exit 64; }
    [ -f .flox/env/manifest.toml ] || { echo "flox build: not a Flox environment" >&2; exit 1; }
    untracked="$(git ls-files --others --exclude-standard -- .flox | head -n 1)"
    [ -z "$untracked" ] || { echo "flox build: $untracked is not tracked by git: Nix does not see it" >&2; exit 1; }
    if [ -n "$FLOX_BUILD_WAIT" ]; then
      : > "$FLOX_BUILD_WAIT.started"
      while [ ! -e "$FLOX_BUILD_WAIT" ]; do sleep 0.05; done
    fi
    printf '{"lockfile-version":1,"locked":"%s"}\\n' "$2" > .flox/env/manifest.lock
    echo "built $2" ;;
  publish)
    if [ "$#" -ne 4 ] || [ "$2" != "-o" ]; then
      echo "flox publish: expected -o ORG PACKAGE: $*" >&2; exit 64
    fi
    [ -z "$(git status --porcelain --untracked-files=no)" ] || { echo "flox publish: tracked files are not clean" >&2; exit 1; }
    git branch -r --contains HEAD | grep -q . || { echo "flox publish: HEAD is not pushed" >&2; exit 1; }
    echo "published $4 to $3" ;;
  *) echo "flox stand-in: unexpected command: $*" >&2; exit 64 ;;
esac
`;

/** The scene; `sub` puts the package set in that subfolder of a larger repository. */
export async function setup(opts: { sub?: string } = {}) {
  const dir = await tmp();
  const top = `${dir.path}/repo`;
  const repo = opts.sub ? `${top}/${opts.sub}` : top;
  const remote = `${dir.path}/remote.git`;
  const bin = `${dir.path}/bin`;
  const log = `${dir.path}/flox.log`;
  await copyTree(`${ROOT}/.flox`, `${repo}/.flox`);
  await Deno.copyFile(
    `${ROOT}/sources-manifest.json`,
    `${repo}/sources-manifest.json`,
  );
  if (opts.sub) await Deno.writeTextFile(`${top}/README`, "a larger repo\n");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(`${bin}/flox`, STAND_IN, { mode: 0o755 });
  await Deno.writeTextFile(log, "");
  const git = async (...args: string[]) => {
    const r = await run("git", args, { cwd: repo });
    assert.equal(r.code, 0, `git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  assert.equal(
    (await run("git", ["init", "-q", "--bare", remote], { cwd: dir.path }))
      .code,
    0,
  );
  await run("git", ["init", "-q", "-b", "main", top]);
  await git("config", "user.name", "Test");
  await git("config", "user.email", "test@example.org");
  await git("config", "commit.gpgsign", "false");
  await git("config", "tag.gpgsign", "false");
  await git("add", "-A", ":/");
  await git("commit", "-q", "-m", "package set");
  await git("remote", "add", "origin", remote);
  const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  const env = (withFlox: boolean, extra: Record<string, string>) => ({
    PATH: withFlox ? `${bin}:${path}` : path,
    FLOX_LOG: log,
    ...extra,
  });
  const task = (
    args: string[],
    extra: Record<string, string> = {},
    withFlox = true,
  ) =>
    runTaskProcess("release.ts", ["--root", repo, ...args], {
      env: env(withFlox, extra),
    });
  return {
    dir: dir.path,
    repo,
    remote,
    bin,
    log,
    git,
    task,
    /** The release with deno.json's permissions, not awaited, for runs side by side. */
    spawn: async (args: string[], extra: Record<string, string> = {}) =>
      new Deno.Command(Deno.execPath(), {
        args: [...await taskArgs("release", dir.path), "--root", repo, ...args],
        env: env(true, extra),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    floxCalls: async () =>
      (await Deno.readTextFile(log)).split("\n").filter(Boolean),
    remoteRef: async (ref: string) => {
      const r = await run("git", [
        "--git-dir",
        remote,
        "rev-parse",
        "-q",
        "--verify",
        ref,
      ]);
      return r.code === 0 ? r.stdout.trim() : undefined;
    },
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}
