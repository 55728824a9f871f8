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
import { parseCli, runTask } from "../lib/kit/cli.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { UsageError } from "../lib/kit/errors.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import type { FetchOptions } from "../lib/fetch_source/run.ts";
import type * as Workflow from "../lib/fetch_source/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let {
  describe,
  fetchSources,
  restoreLine,
  restoreSources,
  restoreSummary,
  sizeWarning,
} = {} as typeof Workflow;

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
  --root DIR          ${ROOT_HELP}
  --no-cache          neither read nor fill the download cache
  --retries N         attempts per download (default 5)
  --timeout SECONDS   per-attempt timeout (default 30)
  -h, --help          show this help

Environment: COMFYKIT_PYPI_URL, COMFYKIT_GITHUB_URL, COMFYKIT_GITHUB_API_URL,
COMFYKIT_MIRRORS (FROM=TO,...), COMFYKIT_CACHE_DIR (default ~/.cache/comfykit), GITHUB_TOKEN.

Exit status: 0 done, 1 bad input or a failed source (--all: missing or corrupt files),
2 usage error, 130 interrupted.`;

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
    ({
      describe,
      fetchSources,
      restoreLine,
      restoreSources,
      restoreSummary,
      sizeWarning,
    } = await import("../lib/fetch_source/run.ts"));
    const jobs = positiveInt("jobs", v.jobs, 64);
    const retries = positiveInt("retries", v.retries, 100);
    const timeout = positiveInt("timeout", v.timeout, 3600);
    if (v.wheel && v.sdist) {
      throw new UsageError("Choose one of --wheel and --sdist");
    }
    if (v.all && positionals.length) {
      throw new UsageError("--all takes no sources");
    }
    if (!v.all && !positionals.length) {
      throw new UsageError("Give a source (pypi:, github: or a URL) or --all");
    }
    if (!v.all && (v.check || v.jobs)) {
      throw new UsageError("--check and --jobs go with --all");
    }
    const o: FetchOptions = {
      root: await resolveRoot(v.root),
      prefer: v.wheel ? "wheel" : v.sdist ? "sdist" : undefined,
      allowBranch: v["allow-branch"] ?? false,
      url: { name: v.name, version: v.version, file: v.file, sha256: v.sha256 },
      insecureHttp: v["insecure-http"] ?? false,
      force: v.force ?? false,
      dryRun: v["dry-run"] ?? false,
      noCache: v["no-cache"] ?? false,
      retry: {
        ...(retries ? { attempts: retries } : {}),
        ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
      },
      onRetry: (m) => warn(m),
    };
    if (v.all) return await all(o, v, jobs);
    const results = await fetchSources(o, positionals, (r) => {
      if (!v.json) out(describe(r));
      const big = sizeWarning(r);
      if (big) warn(big);
    });
    if (v.json) {
      out(JSON.stringify(
        {
          dryRun: o.dryRun,
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
  });
}

async function all(
  o: FetchOptions,
  v: Values,
  jobs: number | undefined,
): Promise<number> {
  if (v.wheel || v.sdist || v["allow-branch"] || v.name || v.file) {
    throw new UsageError(
      "--all takes only --check, --jobs, --force, --dry-run, --json",
    );
  }
  const report = await restoreSources(o, { jobs, check: v.check ?? false });
  const bad = new Set(["missing", "corrupt", "failed"]);
  const failures = report.results.filter((r) => bad.has(r.status));
  const failed = failures.length > 0 || (!!v.check && report.sumsStale);
  if (v.json) {
    out(JSON.stringify(
      {
        ok: !failed,
        check: v.check ?? false,
        dryRun: o.dryRun,
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
    for (const r of report.results) out(restoreLine(r));
    if (report.sumsStale) {
      out(
        v.check || o.dryRun
          ? "stale .flox/sources/SHA256SUMS.txt (does not match sources-manifest.json)"
          : "rewrote .flox/sources/SHA256SUMS.txt from sources-manifest.json",
      );
    }
    for (const f of report.untracked) {
      warn(`.flox/sources/${f} is not in sources-manifest.json`);
    }
    info(restoreSummary(report.results, failures, !!v.check, o.dryRun));
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
