// What `add-node SPEC` names: a GitHub repository at a ref, a Comfy Registry node (at a
// version), or a pack on disk (a folder, .zip or .tar.gz) that may stand in for one of the
// first two (`--source`). Pure parsing, no I/O.
//
//   parseSpec("github:Kosinkadink/ComfyUI-VideoHelperSuite@993082e…") // { kind: "github", … }
import { KitError } from "../kit/errors.ts";
import { isValidRef, isValidRepoPart } from "../net/github.ts";
import { isRegistryId } from "../net/registry.ts";

/** Where a pack comes from upstream. */
export type Upstream =
  | { kind: "github"; owner: string; repo: string; ref: string }
  | { kind: "registry"; id: string; version?: string };

/** A SPEC: an upstream, or a local path (with the upstream it stands in for, if any). */
export type Spec = Upstream | { kind: "local"; path: string };

/** True when `s` names a local pack rather than an upstream. */
function isLocalSpec(s: string): boolean {
  return !/^(github|registry):/.test(s);
}

/** Parses `github:OWNER/REPO@REF` or `registry:ID[@VERSION]`; a one-line error otherwise. */
function parseUpstream(s: string, what = "SPEC"): Upstream {
  const gh = s.match(/^github:([^/@]+)\/([^/@]+)@(.+)$/);
  if (gh) {
    const [, owner, repo, ref] = gh as unknown as [
      string,
      string,
      string,
      string,
    ];
    if (!isValidRepoPart(owner) || !isValidRepoPart(repo)) {
      throw new KitError(
        `${what} "${s}": "${owner}/${repo}" is not a GitHub repository`,
      );
    }
    if (!isValidRef(ref)) {
      throw new KitError(`${what} "${s}": "${ref}" is not a git ref`);
    }
    return { kind: "github", owner, repo, ref };
  }
  if (s.startsWith("github:")) {
    throw new KitError(
      `${what} "${s}" is not github:OWNER/REPO@REF (a tag or commit is required, e.g. github:Kosinkadink/ComfyUI-VideoHelperSuite@1.7.9)`,
    );
  }
  const reg = s.match(/^registry:([^@]+)(?:@(.+))?$/);
  if (reg) {
    const [, id, version] = reg as unknown as [
      string,
      string,
      string | undefined,
    ];
    if (!isRegistryId(id)) {
      throw new KitError(
        `${what} "${s}": "${id}" is not a Comfy Registry node id`,
      );
    }
    if (version !== undefined && !/^[0-9A-Za-z.+_-]{1,64}$/.test(version)) {
      throw new KitError(`${what} "${s}": "${version}" is not a version`);
    }
    return version
      ? { kind: "registry", id, version }
      : { kind: "registry", id };
  }
  throw new KitError(
    `${what} "${s}" is not github:OWNER/REPO@REF or registry:ID[@VERSION]`,
  );
}

/** Parses a SPEC: an upstream, else a local path (checked on disk by the caller). */
export function parseSpec(s: string): Spec {
  if (!isLocalSpec(s)) return parseUpstream(s);
  if (s.trim() === "") throw new KitError("SPEC is empty");
  return { kind: "local", path: s };
}

/** The spec as the user writes it. */
export function upstreamText(u: Upstream): string {
  return u.kind === "github"
    ? `github:${u.owner}/${u.repo}@${u.ref}`
    : `registry:${u.id}${u.version ? `@${u.version}` : ""}`;
}

/** A pack id as the file name uses it: lower case, runs of other characters as `-`. */
export function nodeId(raw: string): string {
  const id = raw.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(
    /^-+|-+$/g,
    "",
  );
  if (!id) throw new KitError(`"${raw}" gives an empty node id: use --id`);
  return id;
}

/** The package file's attribute for a pack id. */
export function nodeAttr(id: string): string {
  return `comfyui-node-${id}`;
}
