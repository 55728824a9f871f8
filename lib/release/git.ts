// What the release asks git: HEAD, the branch, where a tag points, what is staged or dirty, and
// the record of what earlier runs published (kept in the repository's own git config, so a rerun
// knows without a file in the work tree).
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

/** Uncommitted or untracked paths under `paths` (`git status --porcelain`), as paths. */
export async function dirty(root: string, paths: string[]): Promise<string[]> {
  const r = await query("git", ["status", "--porcelain", "--", ...paths], root);
  if (r.code !== 0) throw new KitError(`git status failed: ${r.stderr.trim()}`);
  return r.stdout.split("\n").filter(Boolean).map((l) => l.slice(3));
}

/** Modified tracked files anywhere in the work tree (untracked ones left out). */
export async function modifiedTracked(root: string): Promise<string[]> {
  const r = await query(
    "git",
    ["status", "--porcelain", "--untracked-files=no"],
    root,
  );
  if (r.code !== 0) throw new KitError(`git status failed: ${r.stderr.trim()}`);
  return r.stdout.split("\n").filter(Boolean).map((l) => l.slice(3));
}

/** True when `remote` is configured. */
export async function hasRemote(
  root: string,
  remote: string,
): Promise<boolean> {
  const r = await query("git", ["remote", "get-url", remote], root);
  return r.code === 0;
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
