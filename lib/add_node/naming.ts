// What add-node names and pins for a pack it has read: the id (file name), the folder ComfyUI
// sees, the version, the homepage, the command recorded in the header and the source
// expression (fetchFromGitHub / fetchzip). Pure: facts in, strings out.
import { basename } from "node:path";
import { KitError } from "../kit/errors.ts";
import { type Obtained, registryCdnUrl } from "./source.ts";
import { parseSpec, type Upstream, upstreamText } from "./spec.ts";
import type { PackMeta } from "./metadata.ts";
import type { NodeSource } from "./render.ts";

/** --source's value, which must be an upstream. */
export function parseSourceFlag(s: string): Upstream {
  const spec = parseSpec(s);
  if (spec.kind === "local") {
    throw new KitError(
      `--source "${s}" is not github:OWNER/REPO@REF or registry:ID@VERSION`,
    );
  }
  return spec;
}

/** The pack id: the Registry's, else pyproject's [project] name, else the repository's or file's. */
export function defaultId(got: Obtained, meta: PackMeta, spec: string): string {
  const u = got.upstream;
  if (u?.kind === "registry") return u.id;
  if (meta.name) return meta.name;
  if (u?.kind === "github") return u.repo;
  return basename(spec).replace(
    /(-[0-9a-f]{40})?\.(zip|tar\.gz|tgz|tar)$/i,
    "",
  );
}

/** The folder under custom_nodes/: the repository name (as git clone makes it), else the id. */
export function folderName(
  got: Obtained,
  meta: PackMeta,
  spec: string,
): string {
  const u = got.upstream;
  if (u?.kind === "github") return u.repo;
  if (u?.kind === "registry") return u.id;
  return defaultId(got, meta, spec);
}

export function versionOf(got: Obtained, meta: PackMeta): string {
  if (got.registry) return got.registry.version;
  if (got.github?.refAttr === "tag") {
    return got.github.ref.replace(/^v(?=\d)/, "");
  }
  if (meta.version) return meta.version;
  if (got.github) return `0-unstable-${got.github.ref.slice(0, 12)}`;
  return "0";
}

export function homepageOf(u: Upstream | undefined): string | undefined {
  return u?.kind === "github"
    ? `https://github.com/${u.owner}/${u.repo}`
    : u?.kind === "registry"
    ? `https://registry.comfy.org/nodes/${u.id}`
    : undefined;
}

/** The command line recorded in the file's header. */
export function specText(
  opts: { spec: string; vendor?: boolean | undefined },
  got: Obtained,
): string {
  const u = got.upstream;
  const main =
    opts.spec.startsWith("github:") || opts.spec.startsWith("registry:")
      ? upstreamText(u!)
      : `${basename(opts.spec)}${u ? ` --source ${upstreamText(u)}` : ""}`;
  return `${main}${opts.vendor ? " --vendor" : ""}`;
}

export function sourceOf(
  got: Obtained,
  meta: PackMeta,
  opts: { url?: string | undefined },
  id: string,
): NodeSource {
  const u = got.upstream;
  if (u?.kind === "github" && got.github) {
    return {
      kind: "github",
      owner: u.owner,
      repo: u.repo,
      refAttr: got.github.refAttr,
      ref: got.github.ref,
      hash: got.pack.hash,
    };
  }
  if (u?.kind === "registry" && got.registry) {
    let url = opts.url ?? got.registry.url;
    if (!url) {
      if (!meta.publisherId) {
        throw new KitError(
          `The pack's pyproject.toml names no [tool.comfy] PublisherId: give the node.zip URL with --url`,
        );
      }
      url = registryCdnUrl(meta.publisherId, u.id, got.registry.version);
    }
    return {
      kind: "registry",
      id: u.id,
      version: got.registry.version,
      url,
      hash: got.pack.hash,
      stripRoot: got.pack.topDir !== undefined,
    };
  }
  throw new KitError(`${id}: no upstream to pin: use --source or --vendor`);
}
