// The tar route of a directory's NAR hash: GNU tar walks and reads the tree into a FIFO, a
// reader thread (nar_tar_worker.ts) copies the FIFO into a ring of shared slots (tar_ring.ts),
// and this thread parses the slots into the NAR (TarToNar, nar_tar.ts) and hashes it.
import { onInterrupt } from "../kit/cleanup.ts";
import { KitError } from "../kit/errors.ts";
import { tempDir } from "../kit/fsutil.ts";
import { TarToNar } from "./nar_tar.ts";
import { type Digest, finish, newSha256 } from "./sha256.ts";
import {
  EOF,
  EVENTS,
  FAILED,
  HEAD,
  LENGTHS,
  newRing,
  type Ring,
  STATE,
  stop,
  TAIL,
} from "./tar_ring.ts";

/**
 * GNU tar's arguments for a stream TarToNar reads: sorted, hard links as files, no follows, and
 * 64 KiB records (a FIFO's capacity: every read comes back full, where tar's default 10 KiB
 * records made ~40% more, smaller reads).
 */
const TAR_ARGS = [
  "--sort=name",
  "--format=gnu",
  "--hard-dereference",
  "--blocking-factor=128",
];

function allowed(command: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command }).state ===
      "granted";
  } catch {
    return false;
  }
}

/** True when this process may run `tar` and `mkfifo` (deno.json grants them to checksum). */
export function tarAllowed(): boolean {
  return allowed("tar") && allowed("mkfifo");
}

/**
 * The NAR hash of the directory `dir` (a real directory, not a symlink to one) from one GNU tar
 * archive, or undefined when tar or mkfifo is missing, no temp folder can be made, tar says
 * anything on stderr (an unreadable file, a socket it skipped, a file that changed), exits
 * non-zero or gives a stream NAR cannot take: the caller then walks the tree itself, which names
 * the problem.
 *
 * Three processes share the work on two cores: tar walks and reads the tree into a FIFO, a
 * reader thread (nar_tar_worker.ts) copies the FIFO into a ring of 1 MiB slots, and this thread
 * parses and hashes them as they fill. Memory stays flat however large the tree.
 */
export async function narHashDirByTar(
  dir: string,
): Promise<Digest | undefined> {
  const ring = newRing();
  let reader: Worker | undefined;
  try {
    await using scratch = await tempDir("comfykit-nar-");
    const fifo = `${scratch.path}/archive`;
    const made = new Deno.Command("mkfifo", {
      args: ["-m", "600", fifo],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    // Creating the thread holds this one ~11 ms: mkfifo runs meanwhile.
    reader = new Worker(
      new URL("./nar_tar_worker.ts", import.meta.url),
      { type: "module" },
    );
    const opened = readerOpened(reader, ring);
    if (!(await made).success) return undefined;
    // A read-write end, held until tar has exited and the reader has opened the FIFO: neither
    // tar's open nor the reader's waits for the other, and the reader sees the end of the
    // archive only once tar is done.
    const hold = Deno.openSync(fifo, { read: true, write: true });
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("tar", {
        args: [...TAR_ARGS, "-C", dir, "-cf", fifo, "."],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        env: { LC_ALL: "C" },
      }).spawn();
    } catch (e) {
      hold.close();
      throw e;
    }
    const unregister = onInterrupt(() => child.kill());
    let exited = false;
    const status = child.status.then(async (s) => {
      exited = true;
      await opened;
      hold.close();
      return s;
    });
    const stderr = new Response(child.stderr).text();
    reader.postMessage({ fifo, ...ring });
    let digest: Digest | undefined;
    try {
      digest = await consume(ring, dir);
    } finally {
      // A refused stream (or a bug): tar must not outlive the hash.
      if (!exited) child.kill();
      unregister();
    }
    const [{ code }, err] = await Promise.all([status, stderr]);
    return digest && code === 0 && err.trim() === "" ? digest : undefined;
  } catch (e) {
    // No temp folder, no mkfifo or tar, no permission for them: the walk takes over.
    if (Object.values(Deno.errors).some((E) => e instanceof E)) {
      return undefined;
    }
    throw e;
  } finally {
    reader?.terminate();
    stop(ring);
  }
}

/** Resolves once the reader has opened the FIFO, failed, could not start, or was stopped. */
async function readerOpened(reader: Worker, ring: Ring): Promise<void> {
  const c = new Int32Array(ring.control);
  reader.addEventListener("error", (e) => {
    e.preventDefault();
    stop(ring);
  });
  while (true) {
    const events = Atomics.load(c, EVENTS);
    if (Atomics.load(c, STATE) !== 0) return;
    const wait = Atomics.waitAsync(c, EVENTS, events);
    if (wait.async) await wait.value;
  }
}

/**
 * Parses and hashes the slots the reader fills, in order; undefined when the reader fails or
 * the stream is not one NAR can take.
 */
async function consume(ring: Ring, dir: string): Promise<Digest | undefined> {
  const { data, slots, size } = ring;
  const c = new Int32Array(ring.control);
  const hash = newSha256();
  const nar = new TarToNar(hash, dir);
  let tail = 0;
  try {
    while (true) {
      // Read before looking, so an event between the look and the wait is not missed.
      const events = Atomics.load(c, EVENTS);
      if (Atomics.load(c, HEAD) > tail) {
        const i = tail % slots;
        nar.push(new Uint8Array(data, i * size, c[LENGTHS + i]));
        Atomics.store(c, TAIL, ++tail);
        Atomics.notify(c, TAIL);
        continue;
      }
      const state = Atomics.load(c, STATE);
      if (state === FAILED) return undefined;
      if (state === EOF && Atomics.load(c, HEAD) === tail) break;
      const wait = Atomics.waitAsync(c, EVENTS, events);
      if (wait.async) await wait.value;
    }
    nar.end();
    return finish(hash);
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    return undefined;
  } finally {
    stop(ring);
  }
}
