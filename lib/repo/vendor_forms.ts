// The one-call forms of vendoring (new-package, bump-comfyui): a PyPI release, a GitHub archive,
// a local wheel or sdist; and fetchPypi's stable URL of a distribution file.
import { repoPaths } from "./paths.ts";
import { basename, join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { fileNameProblem, readManifest, type SourceEntry } from "./manifest.ts";
import { normalizeName } from "../python/names.ts";
import { copyVerified } from "../net/download.ts";
import {
  fileSha,
  type Plan,
  rel,
  type VendorContext,
} from "./vendor_context.ts";
import { executePlan } from "./vendor.ts";
import { planGithub } from "./source_kinds/github.ts";
import { planPypi } from "./source_kinds/pypi.ts";

/** Vendors a PyPI release's file (pure wheel, else sdist; `prefer` forces one). */
export async function vendorPypi(
  opts: VendorContext & {
    name: string;
    version?: string;
    prefer?: "wheel" | "sdist";
  },
): Promise<SourceEntry> {
  const spec = {
    name: opts.name,
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    ...(opts.prefer ? { prefer: opts.prefer } : {}),
  };
  return (await executePlan(opts, await planPypi(opts, spec))).entry;
}

/** Vendors a GitHub archive (flat sha256 and NAR hash recorded). */
export async function vendorGithub(
  opts: VendorContext & {
    owner: string;
    repo: string;
    rev: string;
    allowBranch?: boolean;
  },
): Promise<SourceEntry> {
  return (await executePlan(opts, await planGithub(opts, opts))).entry;
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

/**
 * Copies a local wheel or sdist into `.flox/sources/` and records it (kind from the extension;
 * `url` defaults to fetchPypi's stable URL of the file name).
 */
export async function vendorLocalFile(
  opts: VendorContext & {
    path: string;
    name: string;
    version: string;
    url?: string;
  },
): Promise<SourceEntry> {
  const file = basename(opts.path);
  const why = fileNameProblem(file);
  if (why) {
    throw new KitError(`Cannot vendor as ${JSON.stringify(file)}: ${why}`);
  }
  const kind = file.endsWith(".whl") ? "pypi-wheel" : "pypi-sdist";
  const url = opts.url ?? pypiStableUrl(file);
  const sha256 = await fileSha(opts.path);
  if (sha256 === undefined) throw new KitError(`"${opts.path}" does not exist`);
  const plan: Plan = {
    kind,
    name: normalizeName(opts.name),
    version: opts.version,
    file,
    url,
    sha256,
  };
  const paths = repoPaths(opts.root);
  const prior = (await readManifest(paths.manifest)).sources.find((e) =>
    e.file === file
  );
  // The same bytes already recorded keep their recorded origin.
  if (prior && prior.sha256 === sha256 && prior.kind === kind) {
    plan.url = prior.url;
  }
  await Deno.mkdir(paths.sourcesDir, { recursive: true });
  const dest = join(paths.sourcesDir, file);
  const have = await fileSha(dest);
  if (have !== undefined && have !== sha256 && !opts.force) {
    throw new KitError(
      `${
        rel(file)
      } exists with different bytes (sha256 ${have}, ${opts.path} has ${sha256}): not overwriting it (rerun with --force)`,
    );
  }
  if (have !== sha256 && !opts.dryRun) {
    // Through the same verified temp+rename path as a download: never half a file.
    await copyVerified(opts.path, dest, sha256);
  }
  return (await executePlan(opts, plan)).entry;
}
