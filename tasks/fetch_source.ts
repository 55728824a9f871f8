// fetch-source: vendor a source into .flox/sources/, verified, recorded in
// sources-manifest.json and SHA256SUMS.txt — or restore/verify every recorded source (--all).
//
// Example: deno task fetch-source pypi:spandrel==0.4.0
//          deno task fetch-source github:comfyanonymous/ComfyUI@v0.3.75
//          deno task fetch-source --all --check
//
// Needs: --allow-net (PyPI, GitHub, any https URL given, mirrors), --allow-read,
// --allow-write=.flox/sources,sources-manifest.json,<cache dir>, --allow-env, --allow-sys=hostname
// (lock owner). Environment: COMFYKIT_PYPI_URL, COMFYKIT_GITHUB_URL, COMFYKIT_GITHUB_API_URL,
// COMFYKIT_MIRRORS, COMFYKIT_CACHE_DIR, COMFYKIT_ROOT, GITHUB_TOKEN.
import { resolve } from "node:path";
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import { createProgress, type RetryPolicy } from "../lib/net/download.ts";
import { parseGithubSpec } from "../lib/net/github.ts";
import { isValidProjectName } from "../lib/python/names.ts";
import {
  executePlan,
  type Plan,
  planGithub,
  planPypi,
  planUrl,
  restoreAll,
  type RestoreResult,
  type VendorContext,
  type VendorResult,
} from "../lib/repo/vendor.ts";

const USAGE = `Usage:
  deno task fetch-source pypi:NAME[==VERSION] [--wheel|--sdist]
  deno task fetch-source github:OWNER/REPO@REV [--allow-branch]
  deno task fetch-source URL --name NAME --version VERSION [--file FILE] [--sha256 HEX]
  deno task fetch-source --all [--check] [--jobs N]

Vendors sources into .flox/sources/, verified, and records them in sources-manifest.json and
.flox/sources/SHA256SUMS.txt. Several pypi:/github: sources may be given at once.

Sources:
  pypi:NAME==VERSION   the release's pure-Python wheel, else its sdist (verified against
                       the sha256 PyPI publishes); without ==VERSION the latest release
  github:OWNER/REPO@REV  the archive <repo>-<rev>.tar.gz, with its NAR hash; REV is a tag
                       (resolved to its commit) or a 40-hex commit
  URL                  any https URL (--name and --version required)

Options:
  --all               restore every manifest entry missing on disk, re-verify the others
  --check             with --all: only report missing or corrupt files (exit 1 if any)
  --jobs N            with --all: concurrent downloads (default 4)
  --wheel, --sdist    force the wheel or the sdist of a PyPI release
  --allow-branch      accept a branch name for github: (it moves; the commit is recorded)
  --name, --version   name and version of a URL source
  --file FILE         file name for a URL source (default: the URL's last segment)
  --sha256 HEX        expected sha256 of a URL source
  --insecure-http     allow plain-http URLs and redirects (never a downgrade from https)
  --force             replace a vendored file with different bytes / a changed manifest entry
  --dry-run           show what would be downloaded and written; write nothing
  --json              print the result as JSON on stdout
  --root DIR          repository root (default: $COMFYKIT_ROOT, else the current directory)
  --no-cache          neither read nor fill the download cache
  --retries N         attempts per download (default 5)
  --timeout SECONDS   per-attempt timeout (default 30)
  -h, --help          show this help

Environment: COMFYKIT_PYPI_URL, COMFYKIT_GITHUB_URL, COMFYKIT_GITHUB_API_URL,
COMFYKIT_MIRRORS (FROM=TO,...), COMFYKIT_CACHE_DIR (default ~/.cache/comfykit), GITHUB_TOKEN.`;

const OPTIONS = {
  all: { type: "boolean" },
  check: { type: "boolean" },
  jobs: { type: "string" },
  wheel: { type: "boolean" },
  sdist: { type: "boolean" },
  "allow-branch": { type: "boolean" },
  name: { type: "string" },
  version: { type: "string" },
  file: { type: "string" },
  sha256: { type: "string" },
  "insecure-http": { type: "boolean" },
  force: { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  root: { type: "string" },
  "no-cache": { type: "boolean" },
  retries: { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseCli<typeof OPTIONS>>["values"];

function positiveInt(flag: string, text: string | undefined, max: number) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max}`);
  }
  return n;
}

/** Entry point: `deno task fetch-source …`. */
export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values: v, positionals } = parseCli(args, OPTIONS);
    if (v.help) {
      out(USAGE);
      return 0;
    }
    const jobs = positiveInt("jobs", v.jobs, 64);
    const retries = positiveInt("retries", v.retries, 100);
    const timeout = positiveInt("timeout", v.timeout, 3600);
    if (v.wheel && v.sdist) {
      throw new UsageError("choose one of --wheel and --sdist");
    }
    if (v.all && positionals.length) {
      throw new UsageError("--all takes no sources");
    }
    if (!v.all && !positionals.length) {
      throw new UsageError("give a source (pypi:, github: or a URL) or --all");
    }
    if (!v.all && (v.check || v.jobs)) {
      throw new UsageError("--check and --jobs go with --all");
    }

    const retry: RetryPolicy = {
      ...(retries ? { attempts: retries } : {}),
      ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
    };
    const root = await rootDir(v.root);
    const ctx: VendorContext = {
      root,
      request: { retry, onRetry: (m) => warn(m) },
      ...(v["no-cache"] ? { cacheDir: false as const } : {}),
      progress: createProgress(),
      force: v.force ?? false,
      dryRun: v["dry-run"] ?? false,
    };
    try {
      if (v.all) return await all(ctx, v, jobs);
      return await sources(ctx, v, positionals);
    } catch (e) {
      // deno.json grants writes to this repository only: another --root needs its own grant.
      if (e instanceof Deno.errors.NotCapable) {
        throw new KitError(
          `no permission to write into "${root}": ${
            e.message.split(",")[0]
          } (deno task fetch-source may write only to this repository's .flox/sources and sources-manifest.json; for another root run "deno run --allow-net --allow-read --allow-env --allow-sys=hostname --allow-write=${root}/.flox/sources,${root}/sources-manifest.json tasks/fetch_source.ts …")`,
        );
      }
      throw e;
    }
  });
}

/** The repository root: --root (typed path), else $COMFYKIT_ROOT, else the current directory. */
async function rootDir(flag: string | undefined): Promise<string> {
  const given = flag ?? Deno.env.get("COMFYKIT_ROOT");
  const root = flag !== undefined
    ? argPath(flag)
    : resolve(given ?? Deno.cwd());
  const name = flag !== undefined ? "--root" : "COMFYKIT_ROOT";
  try {
    const st = await Deno.stat(root);
    if (!st.isDirectory) {
      throw new KitError(`${name} "${given}" is not a directory`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(`${name} "${given}" does not exist`);
    }
    throw e;
  }
  return root;
}

async function plan(
  ctx: VendorContext,
  v: Values,
  spec: string,
  count: number,
): Promise<Plan> {
  if (spec.startsWith("pypi:")) {
    const m = spec.slice(5).match(/^([^=<>!~ ]+)(?:==([^=\s]+))?$/);
    if (!m || !isValidProjectName(m[1]!)) {
      throw new UsageError(`"${spec}" is not pypi:NAME==VERSION`);
    }
    return await planPypi(ctx, {
      name: m[1]!,
      ...(m[2] ? { version: m[2] } : {}),
      ...(v.wheel ? { prefer: "wheel" as const } : {}),
      ...(v.sdist ? { prefer: "sdist" as const } : {}),
    });
  }
  if (spec.startsWith("github:")) {
    let parsed: ReturnType<typeof parseGithubSpec>;
    try {
      parsed = parseGithubSpec(spec.slice(7));
    } catch (e) {
      // A malformed spec is a usage error, as for pypi:.
      throw e instanceof KitError ? new UsageError(e.message) : e;
    }
    return await planGithub(ctx, {
      ...parsed,
      allowBranch: v["allow-branch"] ?? false,
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    if (count > 1) {
      throw new UsageError("a URL source is vendored on its own (one per run)");
    }
    if (v.name === undefined || v.version === undefined) {
      throw new UsageError("a URL source needs --name and --version");
    }
    return planUrl({
      url: spec,
      name: v.name,
      version: v.version,
      ...(v.file !== undefined ? { file: v.file } : {}),
      ...(v.sha256 !== undefined ? { sha256: v.sha256 } : {}),
      insecureHttp: v["insecure-http"] ?? false,
    });
  }
  throw new UsageError(
    `"${spec}" is not a source: use pypi:NAME==VERSION, github:OWNER/REPO@REV or an https URL`,
  );
}

async function sources(
  ctx: VendorContext,
  v: Values,
  specs: string[],
): Promise<number> {
  const isUrl = specs.some((s) => !/^(pypi|github):/.test(s));
  if (!isUrl && (v.name || v.version || v.file || v.sha256)) {
    throw new UsageError(
      "--name, --version, --file and --sha256 go with a URL",
    );
  }
  if (ctx.request && v["insecure-http"]) ctx.request.insecureHttp = true;
  const results: VendorResult[] = [];
  for (const spec of specs) {
    const p = await plan(ctx, v, spec, specs.length);
    const r = await executePlan(ctx, p);
    results.push(r);
    if (!v.json) out(describe(r));
  }
  if (v.json) {
    out(JSON.stringify(
      {
        dryRun: ctx.dryRun,
        results: results.map((r) => ({
          action: r.action,
          file: r.entry.file,
          fromCache: r.fromCache,
          source: r.source,
          entry: r.entry,
        })),
      },
      null,
      2,
    ));
  }
  return 0;
}

function describe(r: VendorResult): string {
  const e = r.entry;
  const where = `.flox/sources/${e.file}`;
  switch (r.action) {
    case "would-add":
    case "would-replace":
      return `would download ${r.source} -> ${where}${
        r.action === "would-replace" ? " (replacing different bytes)" : ""
      } and record it in sources-manifest.json${
        e.sha256 !== "0".repeat(64) ? ` (sha256 ${e.sha256})` : ""
      }`;
    case "would-record":
      return `would record ${where} (already present, sha256 ${e.sha256}) in sources-manifest.json`;
    default: {
      const extra = e.kind === "github"
        ? ` nar ${e.nar}${e.commit ? ` commit ${e.commit}` : ""}`
        : "";
      const how = r.fromCache ? " (from cache)" : "";
      return `${r.action} ${where} sha256 ${e.sha256}${extra}${how}`;
    }
  }
}

async function all(
  ctx: VendorContext,
  v: Values,
  jobs: number | undefined,
): Promise<number> {
  if (v.wheel || v.sdist || v["allow-branch"] || v.name || v.file) {
    throw new UsageError(
      "--all takes only --check, --jobs, --force, --dry-run, --json",
    );
  }
  const report = await restoreAll(ctx, {
    ...(jobs ? { jobs } : {}),
    check: v.check ?? false,
  });
  const bad = new Set(["missing", "corrupt", "failed"]);
  const failures = report.results.filter((r) => bad.has(r.status));
  const failed = failures.length > 0 || (!!v.check && report.sumsStale);
  if (v.json) {
    out(JSON.stringify(
      {
        ok: !failed,
        check: v.check ?? false,
        dryRun: ctx.dryRun,
        sumsStale: report.sumsStale,
        untracked: report.untracked,
        results: report.results.map((r) => ({
          file: r.entry.file,
          status: r.status,
          sha256: r.entry.sha256,
          ...(r.actual ? { actual: r.actual } : {}),
          ...(r.fromCache !== undefined ? { fromCache: r.fromCache } : {}),
          ...(r.source ? { source: r.source } : {}),
          ...(r.error ? { error: r.error } : {}),
        })),
      },
      null,
      2,
    ));
  } else {
    for (const r of report.results) out(line(r));
    if (report.sumsStale) {
      out(
        v.check || ctx.dryRun
          ? "stale .flox/sources/SHA256SUMS.txt (does not match sources-manifest.json)"
          : "rewrote .flox/sources/SHA256SUMS.txt from sources-manifest.json",
      );
    }
    for (const f of report.untracked) {
      warn(`.flox/sources/${f} is not in sources-manifest.json`);
    }
    info(summary(report.results, failures, !!v.check, ctx.dryRun ?? false));
  }
  return failed ? 1 : 0;
}

/** The closing line of `--all`: what needs attention and the command that fixes it. */
function summary(
  results: RestoreResult[],
  failures: RestoreResult[],
  check: boolean,
  dryRun: boolean,
): string {
  const n = results.length;
  const count = (...s: string[]) =>
    results.filter((r) => s.includes(r.status)).length;
  if (failures.length === 0) {
    const pending = count("would-restore", "would-replace");
    return dryRun && pending > 0
      ? `${pending} of ${n} sources would be downloaded, ${
        count("ok")
      } verified (dry run: nothing written)`
      : `${n} sources verified`;
  }
  const hint = failures.every((r) => r.error?.includes("sources-manifest.json"))
    ? "correct the entries in sources-manifest.json named above"
    : check
    ? `run "deno task fetch-source --all" to restore`
    : count("corrupt") > 0
    ? "rerun with --force to replace corrupt files"
    : count("failed") > 0
    ? "check the network, or point COMFYKIT_MIRRORS at a mirror, and rerun"
    : "";
  return `${failures.length} of ${n} sources need attention${
    hint ? ` (${hint})` : ""
  }`;
}

function line(r: RestoreResult): string {
  const f = r.entry.file;
  switch (r.status) {
    case "corrupt":
      return `corrupt ${f}: expected sha256 ${r.entry.sha256}, found ${r.actual}`;
    case "failed":
      return `failed ${f}: ${r.error}`;
    case "would-restore":
    case "would-replace":
      return `${r.status} ${f} from ${r.entry.url}`;
    case "restored":
    case "replaced":
      return `${r.status} ${f}${r.fromCache ? " (from cache)" : ""}`;
    default:
      return `${r.status} ${f}`;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
