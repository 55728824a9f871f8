// --vendor: the pack's archive copied into .flox/sources/ and recorded in sources-manifest.json
// and SHA256SUMS.txt like every vendored source, staged in the run's Changeset; the package
// file then builds from the vendored file instead of fetching.
import { basename } from "node:path";
import type { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { type SourceEntry, upsertEntry } from "../repo/manifest.ts";
import { sourceFile } from "../repo/paths.ts";
import { stagedManifest, stageManifest } from "../repo/staged_sources.ts";
import { fileSha } from "../repo/vendor_context.ts";
import {
  archiveFileName,
  archiveUrl,
  DEFAULT_GITHUB_URL,
} from "../net/github.ts";
import type { Obtained } from "./source.ts";
import type { NodeSource } from "./render.ts";

/** Stages the vendored archive and its manifest entry; returns the file's source. */
export async function stageVendor(
  cs: Changeset,
  got: Obtained,
  id: string,
  version: string,
  url?: string,
): Promise<NodeSource> {
  if (!got.archive) {
    throw new KitError(
      "--vendor needs an archive (.tar.gz or .zip), not a folder",
    );
  }
  const sha256 = await fileSha(got.archive);
  const zip = /\.zip$/i.test(got.archive);
  const u = got.upstream;
  let entry: SourceEntry;
  if (u?.kind === "github" && got.github) {
    entry = {
      name: id,
      version,
      kind: "github",
      file: archiveFileName(u.repo, got.github.ref),
      url: archiveUrl(DEFAULT_GITHUB_URL, u.owner, u.repo, got.github.ref),
      sha256: sha256!,
      owner: u.owner,
      repo: u.repo,
      rev: got.github.ref,
      ...(got.github.commit ? { commit: got.github.commit } : {}),
      nar: got.pack.hash,
    };
  } else {
    const from = url || got.registry?.url;
    if (!from) {
      throw new KitError(
        "--vendor of a local pack without --source needs --url (where it came from)",
      );
    }
    entry = {
      name: id,
      version,
      kind: "url",
      file: u?.kind === "registry"
        ? `${id}-${version}.zip`
        : basename(got.archive),
      url: from,
      sha256: sha256!,
    };
  }
  cs.copy(sourceFile(entry.file), got.archive);
  stageManifest(cs, upsertEntry(await stagedManifest(cs), entry));
  return {
    kind: "vendored",
    file: entry.file,
    zip,
    topDir: got.pack.topDir !== undefined,
    upstream: entry.url,
  };
}
