// An advisory lock file (`.flox/sources/.lock`) so two fetch-source runs cannot interleave their
// read-merge-write of the manifest. Created with O_EXCL; it records pid, host and time (for the
// error message), and its holder touches it every few seconds: a lock nobody has touched for
// `staleMs` was left by a crashed run and is broken safely. (Liveness by pid would need /proc,
// which Deno opens only to --allow-all; the heartbeat needs nothing beyond the lock's own write.)
import { KitError } from "../kit/errors.ts";
import { removeOnInterrupt } from "../kit/cleanup.ts";
import { info } from "../kit/log.ts";

/** Tuning for {@link acquireLock}; the defaults suit a lock held for milliseconds. */
export interface LockOptions {
  /** Give up waiting after this long (default 60 s). */
  timeoutMs?: number;
  /** A lock not touched for this long is stale (default 15 s; the holder touches it every third). */
  staleMs?: number;
  /** Poll interval while waiting (default 25 ms). */
  pollMs?: number;
  /**
   * Told once, after `announceAfterMs` (default 1 s) of waiting, what is waited for
   * (default: printed on stderr), so a wait is never silent.
   */
  onWait?: (message: string) => void;
  announceAfterMs?: number;
}

interface Owner {
  pid: number;
  host: string;
  created: string;
  token: string;
}

/** A held lock; release it (or `await using`) when done. */
interface Lock extends AsyncDisposable {
  readonly path: string;
  release(): Promise<void>;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const data = JSON.parse(await Deno.readTextFile(path));
    return typeof data?.pid === "number" && typeof data?.token === "string"
      ? data as Owner
      : undefined;
  } catch {
    return undefined;
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const mtime = (await Deno.stat(path)).mtime?.getTime() ?? Date.now();
    return Date.now() - mtime > staleMs;
  } catch {
    return false;
  }
}

/**
 * Breaks a stale lock: moves it aside (atomic), and if what was moved is not the lock judged
 * stale (another run replaced it meanwhile) hard-links it back, so a live lock is never stolen.
 */
async function breakStale(path: string, seen: Owner | undefined) {
  const aside = `${path}.stale.${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.rename(path, aside);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const moved = await readOwner(aside);
  if (seen && moved?.token !== seen.token) {
    await Deno.link(aside, path).catch(() => {});
  }
  await Deno.remove(aside).catch(() => {});
}

/** Takes the lock at `path`, waiting for another holder; KitError after the timeout. */
export async function acquireLock(
  path: string,
  opts: LockOptions = {},
): Promise<Lock> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const staleMs = opts.staleMs ?? 15_000;
  const pollMs = opts.pollMs ?? 25;
  const me: Owner = {
    pid: Deno.pid,
    host: hostname(),
    created: new Date().toISOString(),
    token: crypto.randomUUID(),
  };
  const announceAfterMs = opts.announceAfterMs ?? 1000;
  let announced = false;
  const started = Date.now();
  for (;;) {
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw lockError(path, e);
    }
    if (file) {
      const unregister = removeOnInterrupt(path);
      try {
        await file.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
      } catch (e) {
        // A full disk: an empty lock left behind would stall the next run until it goes stale.
        file.close();
        await Deno.remove(path).catch(() => {});
        unregister();
        throw lockError(path, e);
      }
      file.close();
      // Heartbeat: keep the lock fresh while held, so only an abandoned one goes stale.
      const beat = setInterval(() => {
        const now = new Date();
        Deno.utime(path, now, now).catch(() => {});
      }, Math.max(10, Math.floor(staleMs / 3)));
      Deno.unrefTimer(beat);
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        clearInterval(beat);
        // Remove only our own lock (never one that replaced ours after being judged stale).
        if ((await readOwner(path))?.token === me.token) {
          await Deno.remove(path).catch(() => {});
        }
        unregister();
      };
      return { path, release, [Symbol.asyncDispose]: release };
    }
    const owner = await readOwner(path);
    if (await isStale(path, staleMs)) {
      await breakStale(path, owner);
      continue;
    }
    const who = owner
      ? `pid ${owner.pid} on ${owner.host} since ${owner.created}`
      : "another process";
    if (!announced && Date.now() - started >= announceAfterMs) {
      announced = true;
      (opts.onWait ?? info)(
        `waiting for "${path}", held by ${who} (a lock left untouched for ${
          Math.round(staleMs / 1000)
        } s is taken over; giving up after ${Math.round(timeoutMs / 1000)} s)`,
      );
    }
    if (Date.now() - started > timeoutMs) {
      throw new KitError(
        `"${path}" is held by ${who}: wait for that fetch-source to finish, or remove the file if none is running`,
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function lockError(path: string, e: unknown): KitError {
  const why = e instanceof Deno.errors.NotCapable
    ? "not allowed for this task"
    : e instanceof Error
    ? e.message.split(" (os error")[0]!
    : String(e);
  return new KitError(
    `Cannot take the lock "${path}": ${why} (nothing was changed)`,
  );
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  await using _lock = await acquireLock(path, opts);
  return await fn();
}
