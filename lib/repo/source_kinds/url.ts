// Source kind: any http(s) URL, with the name and version the user gives (`--name`,
// `--version`; `--file`, `--sha256` optional). Recorded as kind `url`; a package file fetches it
// with a fetcher call of the same `url`; `outdated` looks its name up on PyPI.
import { z } from "zod";
import { KitError, UsageError } from "../../kit/errors.ts";
import { isValidProjectName } from "../../python/names.ts";
import { COMMON_FIELDS, fileNameProblem } from "./fields.ts";
import type { Plan, SourceKind } from "./kind.ts";

const schema = z.strictObject({ ...COMMON_FIELDS, kind: z.literal("url") });

/** Plans any http(s) URL; plain http only with `insecureHttp`. */
function planUrl(spec: {
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

/** Any http(s) URL. */
export const url = {
  kinds: ["url"],
  schema,
  syntax: "an https URL",
  matches: (spec) => /^[a-z][a-z0-9+.-]*:\/\//i.test(spec),
  takesUrlOptions: true,
  plan(_ctx, spec, opts) {
    if ((opts.count ?? 1) > 1) {
      throw new UsageError("A URL source is vendored on its own (one per run)");
    }
    const o = opts.url ?? {};
    if (o.name === undefined || o.version === undefined) {
      throw new UsageError("A URL source needs --name and --version");
    }
    return Promise.resolve(planUrl({
      url: spec,
      name: o.name,
      version: o.version,
      ...(o.file !== undefined ? { file: o.file } : {}),
      ...(o.sha256 !== undefined ? { sha256: o.sha256 } : {}),
      insecureHttp: opts.insecureHttp ?? false,
    }));
  },
  recordsNar: false,
  entry: (plan, got) => ({
    name: plan.name,
    version: plan.version,
    kind: "url",
    file: plan.file,
    url: plan.url,
    sha256: got.sha256,
    size: got.size,
  }),
  sameOrigin: (e, plan) => e.kind === plan.kind,
  origin: (e) => e.url,
  fetchedBy: (call, e) => call.attr("url") === e.url,
  problems: () => [],
  // No upstream of its own: outdated looks its name up on PyPI, as a best guess.
  upstream: (e) => ({ kind: "pypi", name: e.name }),
  describe: () => "",
  example: {
    spec: "https://example.org/dl/thing-1.0.tar.gz",
    entry: {
      name: "thing",
      version: "1.0",
      kind: "url",
      file: "thing-1.0.tar.gz",
      url: "https://example.org/dl/thing-1.0.tar.gz",
      sha256: "b".repeat(64),
      size: 99,
    },
    src:
      'fetchurl { url = "https://example.org/dl/thing-1.0.tar.gz"; hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }',
  },
} satisfies SourceKind<typeof schema>;
