// One release at a time per repository: a lock kept by git itself, as the ref
// refs/comfykit/release-lock, created only when absent (`git update-ref REF NEW ""` is atomic), so
// two releases cannot both pass (and both publish) and no file is written by Deno. The ref points
// at a commit whose message says who holds it; the holder renews it every HEARTBEAT_MS, so a lock
// left by a killed run is stale after STALE_MS and is taken over (compare-and-swap again).
import { onInterrupt } from "../kit/cleanup.ts";
import { KitError } from "../kit/errors.ts";
import { query } from "./exec.ts";

/** The ref that holds the lock (shared by every worktree of the repository). */
export const LOCK_REF = "refs/comfykit/release-lock";
const HEARTBEAT_MS = 10_000;
const STALE_MS = 60_000;

/** A held release lock; `release()` it (or `await using`) when the release ends. */
interface ReleaseLock extends AsyncDisposable {
  release(): Promise<void>;
}

// The lock commit needs no identity of the user's: git would refuse without one.
const IDENT = [
  "-c",
  "user.name=comfykit",
  "-c",
  "user.email=comfykit@localhost",
];

async function git(root: string, args: string[]) {
  return await query("git", [...IDENT, ...args], root);
}

async function lockCommit(root: string, holder: string): Promise<string> {
  const tree = await git(root, ["rev-parse", "HEAD^{tree}"]);
  if (tree.code !== 0) {
    throw new KitError(`git rev-parse failed: ${tree.stderr.trim()}`);
  }
  const c = await git(root, [
    "commit-tree",
    "--no-gpg-sign",
    tree.stdout.trim(),
    "-m",
    holder,
  ]);
  if (c.code !== 0) {
    throw new KitError(`git commit-tree failed: ${c.stderr.trim()}`);
  }
  return c.stdout.trim();
}

/** The lock's commit, its message and its age in ms, or undefined when nobody holds it. */
async function current(
  root: string,
): Promise<{ id: string; holder: string; ageMs: number } | undefined> {
  const r = await git(root, [
    "log",
    "-1",
    "--format=%H%n%ct%n%s",
    LOCK_REF,
    "--",
  ]);
  if (r.code !== 0) return undefined;
  const [id, time, holder] = r.stdout.trim().split("\n");
  return {
    id: id!,
    holder: holder ?? "",
    ageMs: Date.now() - Number(time) * 1000,
  };
}

/**
 * Takes the release lock of the repository at `root`, or throws a KitError naming the release
 * that holds it. A lock not renewed for a minute (its release was killed) is taken over.
 */
export async function acquireReleaseLock(root: string): Promise<ReleaseLock> {
  const holder = `release by pid ${Deno.pid} since ${new Date().toISOString()}`;
  let mine = await lockCommit(root, holder);
  const held = await current(root);
  const expected = held && held.ageMs > STALE_MS ? held.id : "";
  const r = await git(root, ["update-ref", LOCK_REF, mine, expected]);
  if (r.code !== 0) {
    const now = await current(root);
    throw new KitError(
      `Another release is running in this repository (${
        now?.holder ?? "it has just started"
      }): wait for it to end; a lock left by a killed release expires after a minute (git update-ref -d ${LOCK_REF} removes it at once)`,
    );
  }
  const drop = () => {
    // Synchronous: it also runs from the interrupt handler.
    new Deno.Command("git", {
      args: ["update-ref", "-d", LOCK_REF, mine],
      cwd: root,
      stdout: "null",
      stderr: "null",
    }).outputSync();
  };
  const unregister = onInterrupt(drop);
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(async () => {
      const next = await lockCommit(root, holder);
      const u = await git(root, ["update-ref", LOCK_REF, next, mine]);
      if (u.code === 0) mine = next;
    }).catch(() => {});
  }, HEARTBEAT_MS);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    clearInterval(timer);
    await renewing;
    drop();
    unregister();
  };
  return { release, [Symbol.asyncDispose]: release };
}
