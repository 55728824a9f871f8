// fetch-source's workflow: plan each source (pypi:, github:, URL: each kind of lib/repo/source_kinds/
// parses its own spec), vendor it through
// lib/repo/vendor.ts, or restore/verify every manifest entry (--all). The task parses flags into
// FetchOptions and prints what comes back; the text of each result line is made here
// (lib/fetch_source/report.ts).
//
//   const results = await fetchSources(opts, ["pypi:spandrel==0.4.0"], (r) => out(describe(r)));
//   const report = await restoreSources(opts, { check: true });
import { KitError, UsageError } from "../kit/errors.ts";
import { createProgress } from "../net/download.ts";
import { type RetryPolicy } from "../net/http.ts";
import { join } from "node:path";
import {
  checkWriteAccess,
  SOURCES_DIR,
  SOURCES_MANIFEST,
} from "../repo/paths.ts";
import { executePlan } from "../repo/vendor.ts";
import {
  type Plan,
  type VendorContext,
  type VendorResult,
} from "../repo/vendor_context.ts";
import { kindForSpec, SOURCE_KINDS } from "../repo/source_kinds/all.ts";
import { restoreAll } from "../repo/restore.ts";

export {
  describe,
  restoreLine,
  restoreSummary,
  sizeWarning,
} from "./report.ts";

/** What a fetch-source run does, from its flags. */
export interface FetchOptions {
  root: string;
  /** --wheel / --sdist for pypi: sources. */
  prefer?: "wheel" | "sdist" | undefined;
  allowBranch: boolean;
  /** --name, --version, --file, --sha256 of a URL source. */
  url: {
    name?: string | undefined;
    version?: string | undefined;
    file?: string | undefined;
    sha256?: string | undefined;
  };
  insecureHttp: boolean;
  force: boolean;
  dryRun: boolean;
  noCache: boolean;
  retry: RetryPolicy;
  onRetry: (message: string) => void;
}

function context(o: FetchOptions): VendorContext {
  return {
    root: o.root,
    request: {
      retry: o.retry,
      onRetry: o.onRetry,
      ...(o.insecureHttp ? { insecureHttp: true } : {}),
    },
    ...(o.noCache ? { cacheDir: false as const } : {}),
    progress: createProgress(),
    force: o.force,
    dryRun: o.dryRun,
  };
}

/**
 * deno.json grants writes to this repository only: another --root needs its own grant, which
 * the error names.
 */
async function withGrantHint<T>(
  root: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (
      e instanceof Deno.errors.NotCapable && /write access/.test(e.message)
    ) {
      throw new KitError(
        `No permission to write into "${root}": ${
          e.message.split(",")[0]
        } (deno task fetch-source may write only to this repository's ${SOURCES_DIR} and ${SOURCES_MANIFEST}; for another root run "deno run --allow-net --allow-read --allow-env --allow-sys=hostname --allow-write=${root}/${SOURCES_DIR},${root}/${SOURCES_MANIFEST} tasks/fetch_source.ts …")`,
      );
    }
    throw e;
  }
}

/** Refuses a root this run may not write, in one line, before any download. */
async function checkAccess(root: string): Promise<void> {
  await checkWriteAccess(
    root,
    [join(root, SOURCES_DIR), join(root, SOURCES_MANIFEST)],
    `deno task fetch-source may write only this repository's ${SOURCES_DIR} and ${SOURCES_MANIFEST}; run it from that repository (cd DIR && deno task fetch-source …), or for another root run "deno run --allow-net --allow-read --allow-env --allow-sys=hostname --allow-write=${root}/${SOURCES_DIR},${root}/${SOURCES_MANIFEST} tasks/fetch_source.ts …"`,
  );
}

/** Vendors each source in turn; each result goes to `onResult` as soon as it is written. */
export async function fetchSources(
  o: FetchOptions,
  specs: string[],
  onResult: (r: VendorResult) => void,
): Promise<VendorResult[]> {
  // An unknown spec counts: its error comes later, after the usage checks.
  const isUrl = specs.some((s) => kindForSpec(s)?.takesUrlOptions ?? true);
  if (
    !isUrl && (o.url.name || o.url.version || o.url.file || o.url.sha256)
  ) {
    throw new UsageError(
      "--name, --version, --file and --sha256 go with a URL",
    );
  }
  if (!o.dryRun) await checkAccess(o.root);
  const ctx = context(o);
  return await withGrantHint(o.root, async () => {
    const results: VendorResult[] = [];
    for (const spec of specs) {
      const p = await plan(ctx, o, spec, specs.length);
      const r = await executePlan(ctx, p);
      results.push(r);
      onResult(r);
    }
    return results;
  });
}

/** Restores (or with `check`, only checks) every manifest entry. */
export async function restoreSources(
  o: FetchOptions,
  opts: { check: boolean; jobs?: number | undefined },
) {
  if (!o.dryRun && !opts.check) await checkAccess(o.root);
  // As before the split, --insecure-http applies to the sources given, not to --all.
  const ctx = context({ ...o, insecureHttp: false });
  return await withGrantHint(o.root, () =>
    restoreAll(ctx, {
      ...(opts.jobs ? { jobs: opts.jobs } : {}),
      check: opts.check,
    }));
}

/** What one source spec would fetch (API calls only): its kind parses and plans it. */
async function plan(
  ctx: VendorContext,
  o: FetchOptions,
  spec: string,
  count: number,
): Promise<Plan> {
  const kind = kindForSpec(spec);
  if (!kind) {
    const forms = SOURCE_KINDS.map((k) => k.syntax);
    throw new UsageError(
      `"${spec}" is not a source: use ${forms.slice(0, -1).join(", ")} or ${
        forms.at(-1)
      }`,
    );
  }
  return await kind.plan(ctx, spec, {
    prefer: o.prefer,
    allowBranch: o.allowBranch,
    url: o.url,
    insecureHttp: o.insecureHttp,
    count,
  });
}
