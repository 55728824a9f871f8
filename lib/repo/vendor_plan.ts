// Plans: what would be fetched for a pypi:, github: or URL source (URL, file name, the hash when
// the origin publishes one). They cost only API calls, so `--dry-run` stops here.
import { KitError } from "../kit/errors.ts";
import { fileNameProblem } from "./manifest.ts";
import { isValidProjectName, normalizeName } from "../python/names.ts";
import {
  checkFileIsRelease,
  fetchRelease,
  kindOf,
  pickFile,
  pypiUrl,
} from "../net/pypi.ts";
import {
  archiveFileName,
  archiveUrl,
  classifyRev,
  githubApiUrl,
  githubHeaders,
  githubUrl,
  isValidRef,
  isValidRepoPart,
} from "../net/github.ts";
import { ctxEnv, type Plan, type VendorContext } from "./vendor_context.ts";

/** Plans a PyPI file: asks the JSON API and picks the wheel/sdist (see pickFile). */
export async function planPypi(
  ctx: VendorContext,
  spec: { name: string; version?: string; prefer?: "wheel" | "sdist" },
): Promise<Plan> {
  const release = await fetchRelease(
    pypiUrl(ctxEnv(ctx)),
    spec.name,
    spec.version,
    ctx.request ?? {},
  );
  const file = pickFile(release, {
    wheel: spec.prefer === "wheel",
    sdist: spec.prefer === "sdist",
  });
  checkFileIsRelease(
    file.filename,
    spec.name,
    spec.version ?? release.info.version,
  );
  return {
    kind: kindOf(file),
    name: normalizeName(release.info.name),
    version: release.info.version,
    file: file.filename,
    url: file.url,
    sha256: file.digests.sha256.toLowerCase(),
    ...(file.size !== undefined ? { size: file.size } : {}),
  };
}

/**
 * Plans a GitHub archive. Tags are resolved to their commit through the API; a branch is
 * refused unless `allowBranch` (then the archive of the branch's current commit is fetched,
 * so the recorded bytes match the recorded commit).
 */
export async function planGithub(
  ctx: VendorContext,
  spec: { owner: string; repo: string; rev: string; allowBranch?: boolean },
): Promise<Plan> {
  const { owner, repo, rev } = spec;
  if (!isValidRepoPart(owner) || !isValidRepoPart(repo)) {
    throw new KitError(`"${owner}/${repo}" is not a valid GitHub repository`);
  }
  if (!isValidRef(rev)) throw new KitError(`"${rev}" is not a valid git ref`);
  const env = ctxEnv(ctx);
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
    github: { owner, repo, rev, commit: what.commit },
  };
}

/** Plans any http(s) URL; plain http only with `insecureHttp`. */
export function planUrl(spec: {
  url: string;
  name: string;
  version: string;
  file?: string;
  sha256?: string;
  insecureHttp?: boolean;
}): Plan {
  let u: URL;
  try {
    u = new URL(spec.url);
  } catch {
    throw new KitError(`"${spec.url}" is not a URL`);
  }
  if (u.protocol === "http:" && !spec.insecureHttp) {
    throw new KitError(
      `Refusing plain http "${spec.url}": use https, or pass --insecure-http`,
    );
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new KitError(`"${spec.url}" is not an http(s) URL`);
  }
  if (!spec.name.trim() || !spec.version.trim()) {
    throw new KitError("A URL source needs --name and --version");
  }
  if (!isValidProjectName(spec.name)) {
    throw new KitError(
      `--name "${spec.name}" is not a project name (letters, digits, '.', '_', '-')`,
    );
  }
  if (!/^[\x21-\x7e]{1,128}$/.test(spec.version)) {
    throw new KitError(
      `--version "${spec.version}" is not a version (no spaces or control characters)`,
    );
  }
  let file = spec.file;
  if (file === undefined) {
    const last = u.pathname.split("/").pop() ?? "";
    try {
      file = decodeURIComponent(last);
    } catch {
      file = last;
    }
  }
  const why = fileNameProblem(file);
  if (why) {
    const from = spec.file === undefined ? ` (from "${spec.url}")` : "";
    throw new KitError(
      `Cannot vendor as ${
        JSON.stringify(file)
      }${from}: ${why}: choose another name with --file`,
    );
  }
  const sha = spec.sha256?.toLowerCase();
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new KitError(`--sha256 "${spec.sha256}" is not 64 hex characters`);
  }
  return {
    kind: "url",
    name: spec.name,
    version: spec.version,
    file,
    url: spec.url,
    ...(sha ? { sha256: sha } : {}),
    ...(spec.insecureHttp ? { insecureHttp: true } : {}),
  };
}

/**
 * fetchPypi's stable URL for a distribution file:
 * `https://files.pythonhosted.org/packages/<py3|source>/<first letter>/<project>/<file>`.
 */
export function pypiStableUrl(file: string): string {
  const wheel = file.match(
    /^([^-]+)-[^-]+(?:-\d[^-]*)?-([^-]+)-[^-]+-[^-]+\.whl$/,
  );
  if (wheel) {
    const [, project, python] = wheel as unknown as [string, string, string];
    return `https://files.pythonhosted.org/packages/${python}/${
      project[0]
    }/${project}/${file}`;
  }
  const sdist = file.match(/^(.+)-[^-]+\.(?:tar\.gz|zip|tar\.bz2)$/);
  if (!sdist) {
    throw new KitError(`"${file}" is neither a wheel nor an sdist file name`);
  }
  const project = sdist[1]!;
  return `https://files.pythonhosted.org/packages/source/${
    project[0]
  }/${project}/${file}`;
}
