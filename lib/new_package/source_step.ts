// new-package's step 4: where the source comes from (vendored file, fetchPypi, or
// fetchFromGitHub at a tag) and, for GitHub, how that tree builds.
//
//   const { src, build } = await sourceStep(fe, { meta, loaded, given: "vendored" });
import { githubRepo } from "../python/dist_metadata.ts";
import type { DistMetadata } from "../python/dist_metadata.ts";
import { UsageError } from "../kit/errors.ts";
import type { Frontend } from "../kit/prompt.ts";
import { parseHash, toSri } from "../hash/sha256.ts";
import { githubSource } from "./from_github.ts";
import type { Build } from "./package_plan.ts";
import { chooseSource } from "./questions.ts";
import type { SrcSpec } from "./render.ts";
import type { Loaded } from "./source.ts";

/**
 * The source of one package: `given` (--source) or asked; fetchFromGitHub needs a repository
 * (`github`, else the project URLs) and is refused for --from-manifest's recorded file.
 */
export async function sourceStep(
  fe: Frontend,
  a: {
    meta: DistMetadata;
    loaded: Loaded;
    given?: SrcSpec["kind"] | undefined;
    github?: { owner: string; repo: string } | undefined;
    tag?: string | undefined;
  },
): Promise<{ src: SrcSpec; build: Build }> {
  const { meta, loaded } = a;
  const repo = a.github ?? githubRepo(meta.projectUrls);
  const source = await chooseSource(fe, {
    given: a.given,
    fileName: loaded.fileName,
    repo: loaded.recorded ? undefined : repo,
  });
  if (source === "vendored") {
    return { src: { kind: "vendored", file: loaded.fileName }, build: meta };
  }
  if (source === "pypi") {
    return {
      src: {
        kind: "pypi",
        file: loaded.fileName,
        sri: toSri(parseHash(loaded.sha256)),
      },
      build: meta,
    };
  }
  if (loaded.recorded) {
    throw new UsageError(
      "--from-manifest packages a recorded wheel or sdist: use --source vendored or --source pypi",
    );
  }
  if (!repo) {
    throw new UsageError(
      `No GitHub repository is known for ${meta.name}: pass --github OWNER/REPO`,
    );
  }
  return await githubSource({
    fe,
    name: meta.name,
    version: meta.version,
    repo,
    ...(a.tag !== undefined ? { tag: a.tag } : {}),
  });
}
