// Staged writes for flows that change several files: new-package with its missing
// dependencies, bump-comfyui with its actions, remove-package. Nothing touches the tree
// until `apply()`, which first checks that every target can be written, then writes each
// file atomically and, if any write fails or the user interrupts, restores what it wrote.
// Cancelling a flow before `apply()` therefore leaves the tree as it found it.
//
//   const cs = new Changeset(root);
//   cs.write(".flox/pkgs/x.nix", text);
//   cs.copy(".flox/sources/x.whl", "/tmp/download/x.whl");
//   console.log(await cs.diff());
//   await cs.apply();
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { KitError } from "./errors.ts";
import { unifiedDiff } from "./diff.ts";
import { readTextIfExists, tempSibling } from "./fsutil.ts";
import { onInterrupt } from "./cleanup.ts";

type Op =
  & (
    | { kind: "write"; data: string | Uint8Array }
    | { kind: "copy"; from: string }
    | { kind: "remove" }
  )
  & { tempDir?: string | undefined };

/**
 * Where a file's temp and saved copies go: beside it by default; `tempDir` (same file system)
 * for a file whose folder the task may not write, only the file itself (the repository root's
 * sources-manifest.json, under a task's --allow-write).
 */
interface StageOptions {
  tempDir?: string;
}

/** What `apply()` did to one path, in order. */
export interface Applied {
  path: string;
  kind: Op["kind"];
}

/** A set of file writes, copies and removals under `root`, applied all together or not at all. */
export class Changeset {
  readonly root: string;
  #ops = new Map<string, Op>();
  #parent: Changeset | undefined;

  constructor(root: string) {
    this.root = root;
  }

  /**
   * A child changeset that reads through this one (its staged texts count) and adds its own
   * changes to it only on `commit()`: a step that may fail stages into a fork, and a failure
   * leaves this changeset as it was.
   */
  fork(): Changeset {
    const child = new Changeset(this.root);
    child.#parent = this;
    return child;
  }

  /** Moves a fork's changes into the changeset it was forked from (later changes win). */
  commit(): void {
    const parent = this.#parent;
    if (!parent) throw new Error("commit() of a changeset that is no fork");
    for (const [abs, op] of this.#ops) {
      parent.#ops.delete(abs);
      parent.#ops.set(abs, op);
    }
    this.#ops.clear();
  }

  #abs(path: string): string {
    return isAbsolute(path) ? path : join(this.root, path);
  }

  /** Stages `data` as the new content of `path` (relative to the root, or absolute). */
  write(
    path: string,
    data: string | Uint8Array,
    opts: StageOptions = {},
  ): void {
    this.#ops.set(this.#abs(path), {
      kind: "write",
      data,
      tempDir: this.#tempDir(opts),
    });
  }

  #tempDir(opts: StageOptions): string | undefined {
    return opts.tempDir === undefined ? undefined : this.#abs(opts.tempDir);
  }

  /** Stages a copy of the file `from` to `path` (for large files: not held in memory). */
  copy(path: string, from: string, opts: StageOptions = {}): void {
    this.#ops.set(this.#abs(path), {
      kind: "copy",
      from,
      tempDir: this.#tempDir(opts),
    });
  }

  /** Stages the removal of `path`; removing a file that does not exist is not an error. */
  remove(path: string, opts: StageOptions = {}): void {
    this.#ops.set(this.#abs(path), {
      kind: "remove",
      tempDir: this.#tempDir(opts),
    });
  }

  /** The text `path` will have after `apply()`: the staged text, else what is on disk. */
  async readText(path: string): Promise<string | undefined> {
    const op = this.#ops.get(this.#abs(path));
    if (op === undefined) {
      return this.#parent
        ? await this.#parent.readText(path)
        : await readTextIfExists(this.#abs(path));
    }
    if (op.kind === "remove") return undefined;
    if (op.kind === "copy") return await Deno.readTextFile(op.from);
    return typeof op.data === "string"
      ? op.data
      : new TextDecoder().decode(op.data);
  }

  /** True when `path` has a staged change. */
  has(path: string): boolean {
    return this.#ops.has(this.#abs(path)) || (this.#parent?.has(path) ?? false);
  }

  /** The staged paths, relative to the root, in staging order (a fork's parent's first). */
  paths(): string[] {
    const own = [...this.#ops.keys()].map((p) => relative(this.root, p));
    const inherited = this.#parent?.paths() ?? [];
    return [...new Set([...inherited, ...own])];
  }

  get size(): number {
    return this.#ops.size;
  }

  /** Unified diffs of every staged text change; binary files and copies get a one-line note. */
  async diff(): Promise<string> {
    return (await this.diffs()).map((d) => d.diff).join("");
  }

  /** The diff of each staged path that changes, in staging order (see `diff()`). */
  async diffs(): Promise<{ path: string; diff: string }[]> {
    const parts: { path: string; diff: string }[] = [];
    for (const [abs, op] of this.#ops) {
      const rel = relative(this.root, abs);
      const d = await diffOne(abs, rel, op);
      if (d) parts.push({ path: rel, diff: d });
    }
    return parts;
  }

  /** Fails with one line naming the first target that cannot be written, before any write. */
  async checkWritable(): Promise<void> {
    for (const [abs, op] of this.#ops) {
      const rel = relative(this.root, abs);
      const existing = await Deno.lstat(abs).catch(() => undefined);
      if (existing !== undefined && op.kind !== "remove") {
        try {
          (await Deno.open(abs, { write: true })).close();
        } catch (e) {
          throw notWritable(rel, e);
        }
      }
      const dir = await nearestDir(op.tempDir ?? dirname(abs));
      try {
        const probe = await Deno.makeTempFile({
          dir,
          prefix: ".comfykit-probe-",
        });
        await Deno.remove(probe);
      } catch (e) {
        throw notWritable(relative(this.root, dir) || ".", e);
      }
      if (op.kind === "copy") {
        await Deno.stat(op.from).catch((e) => {
          throw new KitError(`Cannot read ${op.from}: ${messageOf(e)}`);
        });
      }
    }
  }

  /**
   * Applies every staged change, or none: on a failure or an interrupt (SIGINT, SIGTERM,
   * SIGHUP) the files already written are restored and the new ones removed. The rollback is
   * registered with the interrupt registry (lib/kit/cleanup.ts), which awaits it before it
   * runs older actions (the sources lock's removal) and exits 130.
   */
  async apply(): Promise<Applied[]> {
    if (this.#parent) throw new Error("apply() of a fork: commit() it instead");
    await this.checkWritable();
    const saved: Saved[] = [];
    const done: Applied[] = [];
    let interrupted = false;
    let settled!: () => void;
    const finished = new Promise<void>((r) => settled = r);
    const unregister = onInterrupt(() => {
      interrupted = true;
      return finished;
    });
    try {
      const pause = testPause();
      for (const [abs, op] of this.#ops) {
        if (interrupted) break;
        const s = await save(abs, op.tempDir);
        try {
          await applyOne(abs, op);
        } catch (e) {
          // The target is untouched (each change is one rename or unlink), but folders made for
          // a new file go; a saved copy that cannot be put back (an immutable target) is dropped.
          await s.restore().catch(() => s.discard()).catch(() => {});
          throw e;
        }
        saved.push(s);
        done.push({ path: relative(this.root, abs), kind: op.kind });
        await pause?.(`${done.length}/${this.#ops.size}`);
      }
      if (interrupted) throw new Error("interrupted");
      await pause?.("all");
      for (const s of saved) await s.discard().catch(() => {});
      return done;
    } catch (e) {
      const unrestored: string[] = [];
      for (const s of saved.reverse()) {
        await s.restore().catch((err) =>
          unrestored.push(`${relative(this.root, s.path)} (${messageOf(err)})`)
        );
      }
      if (interrupted) {
        // The registry exits 130 once the rollback is told finished; nothing after it runs.
        settled();
        return await new Promise<never>(() => {});
      }
      const outcome = unrestored.length
        ? `the rollback could not restore ${unrestored.join(", ")}`
        : "nothing was changed";
      if (e instanceof KitError && !unrestored.length) throw e;
      const at = done.length < this.#ops.size
        ? relative(this.root, [...this.#ops.keys()][done.length]!)
        : this.root;
      throw new KitError(`Cannot write ${at}: ${messageOf(e)} (${outcome})`);
    } finally {
      settled();
      unregister();
    }
  }
}

/**
 * The interrupt tests' hook (tests/suite/interrupt_test.ts): with COMFYKIT_TEST_APPLY_PAUSE_MS set,
 * apply announces each step on stderr and waits that long after it, so a test can send a real
 * signal before, between and after the writes of a real task.
 */
function testPause(): ((step: string) => Promise<void>) | undefined {
  let ms: number;
  try {
    ms = Number(Deno.env.get("COMFYKIT_TEST_APPLY_PAUSE_MS") ?? "");
  } catch {
    return undefined; // no env permission: no hook
  }
  if (!(ms > 0)) return undefined;
  return async (step) => {
    await Deno.stderr.write(
      new TextEncoder().encode(`comfykit-test: applied ${step}\n`),
    );
    await new Promise((r) => setTimeout(r, ms));
  };
}

async function diffOne(
  abs: string,
  rel: string,
  op: Op,
): Promise<string | undefined> {
  const before = await readTextIfExists(abs).catch(() => undefined);
  if (op.kind === "copy") {
    return `${before === undefined ? "new" : "replaced"} file ${rel}\n`;
  }
  if (op.kind === "remove") {
    if (before === undefined) return undefined;
    // A wheel or tarball is no text to show line by line.
    return /[\0\uFFFD]/.test(before)
      ? `deleted file ${rel}\n`
      : unifiedDiff(before, "", `a/${rel}`, "/dev/null");
  }
  if (typeof op.data !== "string") {
    return `${before === undefined ? "new" : "changed"} file ${rel}\n`;
  }
  if (before === op.data) return undefined;
  return unifiedDiff(
    before ?? "",
    op.data,
    before === undefined ? "/dev/null" : `a/${rel}`,
    `b/${rel}`,
  );
}

async function applyOne(abs: string, op: Op): Promise<void> {
  if (op.kind === "remove") {
    await Deno.remove(abs).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return;
  }
  const tmp = tempFor(abs, op.tempDir);
  // mkdir of an existing folder still needs write access to it: only make what is missing.
  for (const dir of new Set([dirname(abs), dirname(tmp)])) {
    const info = await Deno.stat(dir).catch(() => undefined);
    if (!info?.isDirectory) await Deno.mkdir(dir, { recursive: true });
  }
  try {
    if (op.kind === "copy") await Deno.copyFile(op.from, tmp);
    else if (typeof op.data === "string") {
      await Deno.writeTextFile(tmp, op.data);
    } else await Deno.writeFile(tmp, op.data);
    await Deno.rename(tmp, abs);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

interface Saved {
  path: string;
  restore(): Promise<void>;
  discard(): Promise<void>;
}

/** A temp path for `abs`: beside it, or in `dir`. */
function tempFor(abs: string, dir: string | undefined): string {
  const t = tempSibling(abs);
  return dir === undefined ? t : join(dir, basename(t));
}

/** Keeps the old bytes of `abs` aside (a hard link when possible) until the apply ends. */
async function save(abs: string, tempDir?: string): Promise<Saved> {
  const info = await Deno.lstat(abs).catch(() => undefined);
  if (info === undefined) {
    const missing = await missingDirs(dirname(abs));
    return {
      path: abs,
      restore: async () => {
        await Deno.remove(abs).catch(() => {});
        // Deepest first; Deno.remove refuses a folder that is not empty.
        for (const d of missing) await Deno.remove(d).catch(() => {});
      },
      discard: () => Promise.resolve(),
    };
  }
  const aside = tempFor(abs, tempDir);
  try {
    await Deno.link(abs, aside);
  } catch {
    await Deno.copyFile(abs, aside);
  }
  return {
    path: abs,
    restore: () => Deno.rename(aside, abs),
    discard: () => Deno.remove(aside),
  };
}

/** The folders above a new file that do not exist yet, deepest first. */
async function missingDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (let d = dir; dirname(d) !== d; d = dirname(d)) {
    if (await Deno.lstat(d).then(() => true, () => false)) break;
    out.push(d);
  }
  return out;
}

async function nearestDir(dir: string): Promise<string> {
  for (let d = dir;; d = dirname(d)) {
    const info = await Deno.stat(d).catch(() => undefined);
    if (info?.isDirectory) return d;
    if (dirname(d) === d) return d;
  }
}

function notWritable(path: string, e: unknown): KitError {
  return new KitError(
    `Cannot write ${JSON.stringify(path)}: ${
      messageOf(e)
    } (nothing was changed)`,
  );
}

function messageOf(e: unknown): string {
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotCapable) return "not allowed for this task";
  return e instanceof Error
    ? e.message.split("\n")[0]!.replace(/ \(os error \d+\).*$/, "")
    : String(e);
}
