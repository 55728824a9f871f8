// Source kind: a GitHub archive (`<repo>-<rev>.tar.gz`) at a tag or commit, recorded with the
// commit the tag named and the NAR hash of its unpacked contents (what fetchFromGitHub pins).
// Spec `github:OWNER/REPO@REV`; a package file fetches it with `fetchFromGitHub { owner; repo;
// rev or tag; … }` or names the vendored archive; `outdated` asks GitHub for newer tags.
import { z } from "zod";
import { KitError, UsageError } from "../../kit/errors.ts";
import {
  archiveFileName,
  archiveUrl,
  classifyRev,
  githubApiUrl,
  githubHeaders,
  githubUrl,
  isValidRef,
  isValidRepoPart,
  parseGithubSpec,
} from "../../net/github.ts";
import { COMMON_FIELDS, nonEmpty, sri } from "./fields.ts";
import type { Plan, PlanContext, SourceKind } from "./kind.ts";

const schema = z.strictObject({
  ...COMMON_FIELDS,
  kind: z.literal("github"),
  owner: nonEmpty,
  repo: nonEmpty,
  rev: nonEmpty,
  commit: z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-hex commit")
    .optional(),
  nar: sri,
});

/**
 * Plans a GitHub archive. Tags are resolved to their commit through the API; a branch is
 * refused unless `allowBranch` (then the archive of the branch's current commit is fetched,
 * so the recorded bytes match the recorded commit).
 */
async function planGithub(
  ctx: PlanContext,
  spec: { owner: string; repo: string; rev: string; allowBranch?: boolean },
): Promise<Plan> {
  const { owner, repo, rev } = spec;
  if (!isValidRepoPart(owner) || !isValidRepoPart(repo)) {
    throw new KitError(`"${owner}/${repo}" is not a valid GitHub repository`);
  }
  if (!isValidRef(rev)) throw new KitError(`"${rev}" is not a valid git ref`);
  const env = ctx.env ?? Deno.env;
  const request = {
    ...ctx.request,
    headers: { ...githubHeaders(env), ...ctx.request?.headers },
  };
  const what = await classifyRev(githubApiUrl(env), owner, repo, rev, request);
  if (what.kind === "branch" && !spec.allowBranch) {
    throw new KitError(
      `"${rev}" is a branch of ${owner}/${repo}, which moves: use a tag or a 40-hex commit (its head is ${what.commit}), or pass --allow-branch`,
    );
  }
  const fetchRev = what.kind === "branch" ? what.commit : rev;
  return {
    kind: "github",
    name: repo,
    version: rev.replace(/^v(?=\d)/, ""),
    file: archiveFileName(repo, rev),
    url: archiveUrl(githubUrl(env), owner, repo, fetchRev),
    fields: { owner, repo, rev, commit: what.commit },
  };
}

/** A GitHub archive at a tag or commit. */
export const github = {
  kinds: ["github"],
  schema,
  syntax: "github:OWNER/REPO@REV",
  matches: (spec) => spec.startsWith("github:"),
  takesUrlOptions: false,
  async plan(ctx, spec, opts) {
    let parsed: ReturnType<typeof parseGithubSpec>;
    try {
      parsed = parseGithubSpec(spec.slice(7));
    } catch (e) {
      // A malformed spec is a usage error, as for pypi:.
      throw e instanceof KitError ? new UsageError(e.message) : e;
    }
    return await planGithub(ctx, {
      ...parsed,
      allowBranch: opts.allowBranch ?? false,
    });
  },
  recordsNar: true,
  entry(plan, got) {
    const f = plan.fields ?? {};
    return {
      name: plan.name,
      version: plan.version,
      kind: "github",
      file: plan.file,
      url: plan.url,
      sha256: got.sha256,
      size: got.size,
      owner: f.owner ?? "",
      repo: f.repo ?? "",
      rev: f.rev ?? "",
      ...(f.commit ? { commit: f.commit } : {}),
      nar: got.nar ?? "",
    };
  },
  // The same bytes from the same repository, revision and commit.
  sameOrigin: (e, plan) =>
    e.kind === plan.kind && e.owner === plan.fields?.owner &&
    e.repo === plan.fields.repo && e.rev === plan.fields.rev &&
    e.commit === plan.fields.commit,
  origin(x) {
    const commit = "owner" in x ? x.commit ?? "?" : x.fields?.commit;
    return commit ? `${x.url} (commit ${commit})` : x.url;
  },
  fetchedBy: (call, e) =>
    call.attr("owner") === e.owner && call.attr("repo") === e.repo &&
    [e.rev, e.commit].includes(call.attr("rev") ?? call.attr("tag")),
  problems: () => [],
  upstream: (e) => ({ kind: "github", owner: e.owner, repo: e.repo }),
  describe: (e) => ` nar ${e.nar}${e.commit ? ` commit ${e.commit}` : ""}`,
  example: {
    spec: "github:comfyanonymous/ComfyUI@v0.3.75",
    entry: {
      name: "ComfyUI",
      version: "0.3.75",
      kind: "github",
      file: "ComfyUI-v0.3.75.tar.gz",
      url: "https://github.com/comfyanonymous/ComfyUI/archive/v0.3.75.tar.gz",
      sha256: "c".repeat(64),
      size: 4321,
      owner: "comfyanonymous",
      repo: "ComfyUI",
      rev: "v0.3.75",
      commit: "d".repeat(40),
      nar: "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    },
    src:
      'fetchFromGitHub { owner = "comfyanonymous"; repo = "ComfyUI"; tag = "v0.3.75"; hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }',
  },
} satisfies SourceKind<typeof schema>;
