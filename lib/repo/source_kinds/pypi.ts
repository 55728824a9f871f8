// Source kind: a release file from PyPI (a pure wheel, else the sdist), verified against the
// sha256 PyPI publishes. Spec `pypi:NAME[==VERSION]`; recorded as kind `pypi-wheel` or
// `pypi-sdist`; a package file fetches it with `fetchPypi { pname; version; … }` or names the
// vendored file; `outdated` asks PyPI for newer releases of the project.
import { z } from "zod";
import { eq, valid } from "@renovatebot/pep440";
import { KitError, UsageError } from "../../kit/errors.ts";
import { isValidProjectName, normalizeName } from "../../python/names.ts";
import {
  checkFileIsRelease,
  fetchRelease,
  kindOf,
  pickFile,
  pypiUrl,
} from "../../net/pypi.ts";
import { COMMON_FIELDS } from "./fields.ts";
import type { Plan, PlanContext, SourceKind } from "./kind.ts";

const schema = z.strictObject({
  ...COMMON_FIELDS,
  kind: z.enum(["pypi-wheel", "pypi-sdist"]),
});

/** Plans a PyPI file: asks the JSON API and picks the wheel/sdist (see pickFile). */
export async function planPypi(
  ctx: PlanContext,
  spec: { name: string; version?: string; prefer?: "wheel" | "sdist" },
): Promise<Plan> {
  const release = await fetchRelease(
    pypiUrl(ctx.env ?? Deno.env),
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

/** Project and version from a wheel or sdist file name. */
function distFileName(
  file: string,
): { name: string; version: string } | undefined {
  const wheel = file.match(
    /^([^-]+)-([^-]+)(-[^-]+)?-[^-]+-[^-]+-[^-]+\.whl$/i,
  );
  if (wheel) return { name: wheel[1]!, version: wheel[2]! };
  const sdist = file.match(/^(.+)-([^-]+)\.(tar\.gz|tgz|zip|tar\.bz2|tar)$/i);
  return sdist ? { name: sdist[1]!, version: sdist[2]! } : undefined;
}

function sameVersion(a: string, b: string): boolean {
  return a === b || (valid(a) !== null && valid(b) !== null && eq(a, b));
}

/** A release file from PyPI. */
export const pypi = {
  kinds: ["pypi-wheel", "pypi-sdist"],
  schema,
  syntax: "pypi:NAME==VERSION",
  matches: (spec) => spec.startsWith("pypi:"),
  takesUrlOptions: false,
  async plan(ctx, spec, opts) {
    const m = spec.slice(5).match(/^([^=<>!~ ]+)(?:==([^=\s]+))?$/);
    if (!m || !isValidProjectName(m[1]!)) {
      throw new UsageError(`"${spec}" is not pypi:NAME==VERSION`);
    }
    return await planPypi(ctx, {
      name: m[1]!,
      ...(m[2] ? { version: m[2] } : {}),
      ...(opts.prefer ? { prefer: opts.prefer } : {}),
    });
  },
  recordsNar: false,
  entry: (plan, got) => ({
    name: plan.name,
    version: plan.version,
    kind: plan.kind === "pypi-sdist" ? "pypi-sdist" : "pypi-wheel",
    file: plan.file,
    url: plan.url,
    sha256: got.sha256,
    size: got.size,
  }),
  // Files are identified by their hash: PyPI's hashed URL and fetchPypi's stable one are the
  // same source.
  sameOrigin: (e, plan) => e.kind === plan.kind,
  origin: (e) => e.url,
  fetchedBy: (call, e) => {
    const pname = call.attr("pname");
    return call.fetcher === "fetchPypi" && pname !== undefined &&
      normalizeName(pname) === normalizeName(e.name) &&
      call.attr("version") === e.version;
  },
  // A wheel or sdist name repeats the project and version: another project's file vendored
  // under this entry is an error.
  problems(e) {
    const named = distFileName(e.file);
    if (
      !named || normalizeName(named.name) === normalizeName(e.name) &&
        sameVersion(named.version, e.version)
    ) return [];
    return [{
      message:
        `entry ${e.name} ${e.version} names ${e.file}, the file of ${named.name} ${named.version}`,
      fix:
        `remove the entry and vendor it again: deno task fetch-source pypi:${e.name}==${e.version}`,
    }];
  },
  upstream: (e) => ({ kind: "pypi", name: e.name }),
  describe: () => "",
  example: {
    spec: "pypi:spandrel==0.4.0",
    entry: {
      name: "spandrel",
      version: "0.4.0",
      kind: "pypi-wheel",
      file: "spandrel-0.4.0-py3-none-any.whl",
      url:
        "https://files.pythonhosted.org/packages/py3/s/spandrel/spandrel-0.4.0-py3-none-any.whl",
      sha256: "a".repeat(64),
      size: 1234,
    },
    src:
      'fetchPypi { pname = "spandrel"; version = "0.4.0"; format = "wheel"; hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }',
  },
} satisfies SourceKind<typeof schema>;
