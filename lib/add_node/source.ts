// Getting a pack onto disk and pinned: a GitHub archive (the ref classified as tag, commit or
// branch; a branch is pinned as its commit), a Registry node.zip (its install record), or a
// local folder / archive standing in for either (`--source`), with no network then.
import { basename } from "node:path";
import { KitError } from "../kit/errors.ts";
import { exists } from "../kit/fsutil.ts";
import { info, warn } from "../kit/log.ts";
import type { EnvLike } from "../kit/env.ts";
import { createProgress } from "../kit/progress.ts";
import {
  archiveUrl,
  classifyRev,
  githubApiUrl,
  githubHeaders,
  githubUrl,
  isCommit,
} from "../net/github.ts";
import { fetchInstall, registryUrl } from "../net/registry.ts";
import { fetchUrlCached } from "../repo/fetch_cache.ts";
import {
  isArchivePath,
  type Pack,
  readPackArchive,
  readPackDir,
} from "./pack.ts";
import type { Spec, Upstream } from "./spec.ts";

/** A pack on disk with its pin. */
export interface Obtained {
  pack: Pack;
  /** The archive file (absent for a folder). */
  archive?: string;
  upstream?: Upstream;
  /** For GitHub: tag or commit as written into the file. */
  github?: { refAttr: "tag" | "rev"; ref: string; commit?: string };
  /** For the Registry: the version and the URL of its node.zip. */
  registry?: { version: string; url: string; deprecated?: boolean };
}

/** Where `registry:ID@VERSION`'s node.zip lives when it cannot be asked (an offline --source). */
export function registryCdnUrl(
  publisher: string,
  id: string,
  version: string,
): string {
  return `https://cdn.comfy.org/${publisher}/${id}/${version}/node.zip`;
}

/** Downloads (or reads) the pack SPEC names; `source` is --source for a local SPEC. */
export async function obtain(
  spec: Spec,
  source: Upstream | undefined,
  env: EnvLike,
): Promise<Obtained> {
  const progress = createProgress();
  if (spec.kind === "github") {
    const request = { headers: githubHeaders(env) };
    const rev = await classifyRev(
      githubApiUrl(env),
      spec.owner,
      spec.repo,
      spec.ref,
      request,
    );
    if (rev.kind === "branch") {
      warn(
        `${spec.ref} is a branch of ${spec.owner}/${spec.repo}: pinned as its commit ${rev.commit}`,
      );
    }
    const ref = rev.kind === "tag" ? spec.ref : rev.commit;
    const url = archiveUrl(githubUrl(env), spec.owner, spec.repo, ref);
    info(`downloading ${url}`);
    const archive = await fetchUrlCached(url, { env, progress });
    return {
      pack: await readPackArchive(archive, progress),
      archive,
      upstream: spec,
      github: {
        refAttr: rev.kind === "tag" ? "tag" : "rev",
        ref,
        commit: rev.commit,
      },
    };
  }
  if (spec.kind === "registry") {
    const rec = await fetchInstall(registryUrl(env), spec.id, spec.version);
    if (rec.deprecated) {
      warn(`registry:${spec.id}@${rec.version} is deprecated`);
    }
    info(`downloading ${rec.downloadUrl}`);
    const archive = await fetchUrlCached(rec.downloadUrl, { env, progress });
    return {
      pack: await readPackArchive(archive, progress),
      archive,
      upstream: { kind: "registry", id: spec.id, version: rec.version },
      registry: {
        version: rec.version,
        url: rec.downloadUrl,
        ...(rec.deprecated ? { deprecated: true } : {}),
      },
    };
  }
  if (!(await exists(spec.path))) {
    throw new KitError(`No such file or folder: "${spec.path}"`);
  }
  const isDir = (await Deno.stat(spec.path)).isDirectory;
  if (!isDir && !isArchivePath(spec.path)) {
    throw new KitError(
      `"${
        basename(spec.path)
      }" is neither a folder nor a .zip / .tar.gz archive`,
    );
  }
  const pack = isDir
    ? await readPackDir(spec.path)
    : await readPackArchive(spec.path, progress);
  const local: Obtained = isDir ? { pack } : { pack, archive: spec.path };
  if (!source) return local;
  if (source.kind === "github") {
    // Offline: a 40-hex id is a commit, anything else is taken as a tag (docs/add-node.md).
    const commit = isCommit(source.ref);
    return {
      ...local,
      upstream: source,
      github: {
        refAttr: commit ? "rev" : "tag",
        ref: source.ref,
        ...(commit ? { commit: source.ref } : {}),
      },
    };
  }
  if (!source.version) {
    throw new KitError(
      `--source registry:${source.id} needs @VERSION: the local pack stands in for one version`,
    );
  }
  return {
    ...local,
    upstream: source,
    registry: { version: source.version, url: "" },
  };
}
