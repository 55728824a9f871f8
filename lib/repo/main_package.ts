// The repository's main package, .flox/pkgs/comfyui.nix: what it pins (version, GitHub owner,
// repo, rev/tag, hash), read from the file itself so nothing is hard-coded twice, and the
// surgical rewrite bump-comfyui makes to it (text in, text out): the pins only, so the wrapper,
// the install phase and the install check stay byte-for-byte. The Flox manifest has nothing to
// repin: it does not install comfyui (the package is built from this file and published).
// Its source archives are lib/repo/main_archive.ts.
import { MAIN_PACKAGE } from "./paths.ts";
import { KitError } from "../kit/errors.ts";
import { parseNix } from "../nix/parse.ts";
import { readPackage } from "../nix/query.ts";
import { setStringAttr } from "../nix/edit.ts";

// The main package file (relative to the root), re-exported for callers.
export { MAIN_PACKAGE };

/** What the main package pins. */
export interface MainPackage {
  pname: string;
  version: string;
  owner: string;
  repo: string;
  /** Which attribute of fetchFromGitHub names the revision. */
  revAttr: "rev" | "tag";
  /** The revision as written, e.g. `"v${version}"`. */
  revText: string;
  /** The revision resolved, e.g. `v0.3.75`. */
  rev: string;
  /** The hash as written (SRI). */
  hash: string;
  /** `hash`, or the older `sha256`. */
  hashAttr: "hash" | "sha256";
}

/** Reads the pins of the main package; a KitError naming the file when one is missing. */
export function readMainPackage(
  text: string,
  path = MAIN_PACKAGE,
): MainPackage {
  const info = readPackage(parseNix(text, path));
  const need = (what: string, v: string | undefined): string => {
    if (v === undefined || v === "") {
      throw new KitError(
        `${path}: cannot read ${what}: expected a string literal`,
      );
    }
    return v;
  };
  const src = info.src;
  if (!src || src.fetcher !== "fetchFromGitHub") {
    throw new KitError(
      `${path}: src is not a fetchFromGitHub call: bump-comfyui only follows GitHub releases`,
    );
  }
  const attr = (name: string) => src.attrs.get(name);
  const revAttr = attr("tag") ? "tag" : "rev";
  const rev = attr(revAttr);
  const hashAttr = attr("hash") ? "hash" : "sha256";
  const hash = attr(hashAttr);
  return {
    pname: need("pname", info.pname),
    version: need("version", info.version),
    owner: need("src.owner", attr("owner")?.value),
    repo: need("src.repo", attr("repo")?.value),
    revAttr,
    revText: need(`src.${revAttr}`, rev?.text),
    rev: need(`src.${revAttr}`, rev?.value),
    hash: need(`src.${hashAttr}`, hash?.value),
    hashAttr,
  };
}

/**
 * The dependency list of the main package that bump-comfyui's actions edit: `dependencies`
 * (today's nixpkgs name) when the file has one, else `propagatedBuildInputs`.
 */
export function mainInputsAttr(
  text: string,
  path = MAIN_PACKAGE,
): "dependencies" | "propagatedBuildInputs" {
  return readPackage(parseNix(text, path)).lists.has("dependencies")
    ? "dependencies"
    : "propagatedBuildInputs";
}

/** The new pins: version, the release tag and the NAR hash (SRI) of its archive. */
export interface BumpTarget {
  version: string;
  tag: string;
  hash: string;
}

/**
 * Rewrites `version`, the revision and `hash` of the main package. A revision written as a
 * template of the version (`"v${version}"`) is kept when it yields the new tag; otherwise the
 * tag is written literally. Everything else stays byte-for-byte.
 */
export function rewriteMainPackage(
  text: string,
  main: MainPackage,
  target: BumpTarget,
  path = MAIN_PACKAGE,
): string {
  let next = setStringAttr(text, ["version"], target.version, { path });
  const after = readMainPackage(next, path);
  if (after.rev !== target.tag) {
    next = setStringAttr(next, ["src", main.revAttr], target.tag, { path });
  }
  next = setStringAttr(next, ["src", main.hashAttr], target.hash, { path });
  const check = readMainPackage(next, path);
  if (
    check.version !== target.version || check.rev !== target.tag ||
    check.hash !== target.hash
  ) {
    throw new Error(`${path}: the rewrite did not produce the new pins`);
  }
  return next;
}
