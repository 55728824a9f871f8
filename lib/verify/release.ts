// Checklist section "Release" (only with --release): the git work tree is clean for .flox/ and
// the manifest, and HEAD carries the tag v<main package version>.
import { SOURCES_MANIFEST } from "../repo/paths.ts";
import { type Add, MAIN_FILE, type RunCommand } from "./types.ts";

const S = "Release";

/** Runs the section's checks; without git every check fails with one finding. */
export async function checkRelease(
  root: string,
  run: RunCommand | undefined,
  version: string | undefined,
  add: Add,
): Promise<void> {
  const status = run
    ? await run(
      "git",
      ["status", "--porcelain", "--", ".flox", SOURCES_MANIFEST],
      root,
    )
    : undefined;
  if (!run || !status || status.code !== 0) {
    add(
      S,
      "error",
      `not a git work tree (git status failed${
        status ? `: ${status.stderr.trim()}` : ""
      })`,
      undefined,
      "run verify --release in the repository's clone",
    );
    return;
  }
  const dirty = status.stdout.split("\n").filter(Boolean);
  if (dirty.length) {
    add(
      S,
      "error",
      `uncommitted changes: ${dirty.map((l) => l.slice(3)).join(", ")}`,
      undefined,
      "commit them (git add .flox sources-manifest.json && git commit)",
    );
  } else add(S, "ok", "work tree clean for .flox/ and sources-manifest.json");
  await checkTag(root, run, version, add);
}

/** HEAD is tagged v<version>. */
async function checkTag(
  root: string,
  run: RunCommand,
  version: string | undefined,
  add: Add,
): Promise<void> {
  const want = version ? `v${version}` : undefined;
  const tags = await run("git", ["tag", "--points-at", "HEAD"], root);
  const list = tags?.stdout.split("\n").map((t) => t.trim()).filter(Boolean) ??
    [];
  if (!want) {
    add(
      S,
      "error",
      "main package version unknown",
      MAIN_FILE,
      "fix comfyui.nix",
    );
  } else if (list.includes(want)) add(S, "ok", `HEAD is tagged ${want}`);
  else {
    add(
      S,
      "error",
      `HEAD is not tagged ${want}${
        list.length ? ` (tags: ${list.join(", ")})` : ""
      }`,
      undefined,
      `git tag -a ${want} -m "comfyui ${version}"`,
    );
  }
}
