// What the release asks git: HEAD, the branch, where a tag points, what is staged or dirty, and
// the record of what earlier runs published (kept in the repository's own git config, so a rerun
// knows without a file in the work tree).
import { posix } from "node:path";
import { stream } from "../kit/command.ts";
import { KitError } from "../kit/errors.ts";
import { SOURCES_MANIFEST } from "../repo/paths.ts";
import { query } from "./exec.ts";

/** The paths the release commits. */
export const RELEASE_PATHS = [".flox", SOURCES_MANIFEST];

/** HEAD's commit; a KitError outside a git repository or before the first commit. */
export async function head(root: string): Promise<string> {
  const r = await query("git", ["rev-parse", "--verify", "-q", "HEAD"], root);
  if (r.code !== 0) {
    throw new KitError(
      `"${root}" is not a git repository with a commit: the release commits, tags and pushes with git`,
    );
  }
  return r.stdout.trim();
}

/** The checked-out branch, or undefined on a detached HEAD. */
export async function branch(root: string): Promise<string | undefined> {
  const r = await query("git", ["symbolic-ref", "--short", "-q", "HEAD"], root);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** The commit a tag points at (annotated tags peeled), or undefined when there is no such tag. */
export async function tagCommit(
  root: string,
  tag: string,
): Promise<string | undefined> {
  const r = await query(
    "git",
    ["rev-parse", "-q", "--verify", `refs/tags/${tag}^{commit}`],
    root,
  );
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** True when the index holds changes to `paths` against HEAD. */
export async function staged(root: string, paths: string[]): Promise<boolean> {
  const r = await query(
    "git",
    ["diff", "--cached", "--quiet", "--", ...paths],
    root,
  );
  if (r.code > 1) throw new KitError(`git diff failed: ${r.stderr.trim()}`);
  return r.code === 1;
}

/**
 * The folder the root is in, relative to the top of its git work tree ("" at the top, "sub/"
 * when the package set is a subfolder of a larger repository).
 */
async function prefix(root: string): Promise<string> {
  const r = await query("git", ["rev-parse", "--show-prefix"], root);
  if (r.code !== 0) {
    throw new KitError(`git rev-parse failed: ${r.stderr.trim()}`);
  }
  return r.stdout.trim();
}

/**
 * `git status --porcelain -z` with the given options, as paths relative to the root: git prints
 * them from the top of the work tree, which in a subfolder is not the root.
 */
async function status(root: string, args: string[]): Promise<string[]> {
  const r = await query("git", ["status", "--porcelain", "-z", ...args], root);
  if (r.code !== 0) throw new KitError(`git status failed: ${r.stderr.trim()}`);
  const pre = await prefix(root);
  const fields = r.stdout.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    paths.push(f.slice(3));
    // A rename or copy is followed by the path it came from.
    if (f[0] === "R" || f[0] === "C") i++;
  }
  return paths.map((p) => posix.relative(pre || ".", p) || ".");
}

/** Uncommitted or untracked paths under `paths` (relative to the root). */
export async function dirty(root: string, paths: string[]): Promise<string[]> {
  return await status(root, ["--untracked-files=all", "--", ...paths]);
}

/** Modified tracked files anywhere in the work tree (untracked ones left out), relative to the root. */
export async function modifiedTracked(root: string): Promise<string[]> {
  return await status(root, ["--untracked-files=no"]);
}

/**
 * What the work tree holds under `paths` (tracked and untracked, ignored files left out): each
 * path with its git blob id and mode, "deleted" for a tracked file that is gone. Two equal
 * snapshots mean the same content; the release compares the one verify passed with the one it
 * commits.
 */
export async function snapshot(
  root: string,
  paths: string[],
): Promise<Map<string, string>> {
  const ls = await query(
    "git",
    ["ls-files", "-z", "-c", "-o", "--exclude-standard", "--", ...paths],
    root,
  );
  if (ls.code !== 0) {
    throw new KitError(`git ls-files failed: ${ls.stderr.trim()}`);
  }
  const files = [...new Set(ls.stdout.split("\0").filter(Boolean))].sort();
  const state = new Map<string, string>();
  const present: string[] = [];
  for (const f of files) {
    const st = await Deno.lstat(posix.join(root, f)).catch(() => undefined);
    if (!st) state.set(f, "deleted");
    else if (st.isSymlink) {
      state.set(f, `link ${await Deno.readLink(posix.join(root, f))}`);
    } else if (st.isFile) {
      state.set(f, (st.mode ?? 0) & 0o111 ? "100755" : "100644");
      present.push(f);
    }
  }
  if (present.length) {
    const h = await query("git", ["hash-object", "--", ...present], root);
    if (h.code !== 0) {
      throw new KitError(`git hash-object failed: ${h.stderr.trim()}`);
    }
    h.stdout.trim().split("\n").forEach((id, i) => {
      const f = present[i]!;
      state.set(f, `${state.get(f)} ${id}`);
    });
  }
  return state;
}

/** The paths whose content differs between two snapshots. */
export function changedBetween(
  a: Map<string, string>,
  b: Map<string, string>,
): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** Whether `tag` is a name git accepts for a tag (`git check-ref-format refs/tags/TAG`). */
export async function validTagName(
  tag: string,
  root: string,
): Promise<boolean> {
  const r = await query("git", ["check-ref-format", `refs/tags/${tag}`], root);
  return r.code === 0;
}

/** True when `remote` is configured. */
export async function hasRemote(
  root: string,
  remote: string,
): Promise<boolean> {
  const r = await query("git", ["remote", "get-url", remote], root);
  return r.code === 0;
}

/**
 * The commit `tag` points at on `remote` (annotated tags peeled), or undefined when the remote
 * has no such tag or cannot be asked (the push will then say why).
 */
export async function remoteTagCommit(
  root: string,
  remote: string,
  tag: string,
): Promise<string | undefined> {
  const ref = `refs/tags/${tag}`;
  // Quietly, and never asking for a password here: the push, which shows its output, may ask.
  const r = await stream(
    "git",
    ["ls-remote", "--tags", remote, ref, `${ref}^{}`],
    { cwd: root, echo: false, env: { GIT_TERMINAL_PROMPT: "0" } },
  );
  if (r.code !== 0) return undefined;
  const refs = new Map(
    r.stdout.split("\n").filter(Boolean).map((l) => {
      const [id, name] = l.split("\t");
      return [name, id] as const;
    }),
  );
  return refs.get(`${ref}^{}`) ?? refs.get(ref);
}

const key = (tag: string, what: string) => `comfykit-release.${tag}.${what}`;

/** `git config --local ARGS…`: the values it printed, none when the key is unset. */
async function config(root: string, ...args: string[]): Promise<string[]> {
  const r = await query("git", ["config", "--local", ...args], root);
  if (r.code !== 0) return [];
  return r.stdout.split("\n").filter(Boolean);
}

/** What an earlier run published for `tag` at `commit` (nothing when it was another commit). */
export async function published(
  root: string,
  tag: string,
  commit: string,
): Promise<string[]> {
  const [at] = await config(root, "--get", key(tag, "commit"));
  if (at !== commit) return [];
  return await config(root, "--get-all", key(tag, "published"));
}

/** Records that `name` was published for `tag` at `commit`. */
export async function recordPublished(
  root: string,
  tag: string,
  commit: string,
  name: string,
): Promise<void> {
  const [at] = await config(root, "--get", key(tag, "commit"));
  if (at !== commit) {
    await config(root, "--unset-all", key(tag, "published"));
    await config(root, key(tag, "commit"), commit);
  }
  const r = await query(
    "git",
    ["config", "--local", "--add", key(tag, "published"), name],
    root,
  );
  if (r.code !== 0) {
    throw new KitError(
      `Cannot record the publication in git config: ${r.stderr.trim()}`,
    );
  }
}
