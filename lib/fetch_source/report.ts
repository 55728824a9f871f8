// The text fetch-source prints: one line per vendored or restored source, and --all's closing
// line (what needs attention and the command that fixes it).
import type { RestoreResult } from "../repo/restore.ts";
import type { VendorResult } from "../repo/vendor_context.ts";
import { sourceFile } from "../repo/paths.ts";
import { FILE_SIZE_FIX, fileSizeProblem } from "../repo/manifest.ts";
import { kindOf } from "../repo/source_kinds/all.ts";

/** The line for one vendored (or, in a dry run, planned) source. */
export function describe(r: VendorResult): string {
  const e = r.entry;
  const where = sourceFile(e.file);
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
      const extra = kindOf(e).describe(e);
      const how = r.fromCache ? " (from cache)" : "";
      return `${r.action} ${where} sha256 ${e.sha256}${extra}${how}`;
    }
  }
}

/** The closing line of `--all`: what needs attention and the command that fixes it. */
export function restoreSummary(
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

/** The line for one entry of `--all`. */
export function restoreLine(r: RestoreResult): string {
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

/** A warning for a vendored file too large for git hosts (GitHub), or undefined. */
export function sizeWarning(r: VendorResult): string | undefined {
  const size = r.entry.size;
  const problem = size === undefined ? undefined : fileSizeProblem(size);
  return problem &&
    `${sourceFile(r.entry.file)} ${problem.message}: ${FILE_SIZE_FIX}`;
}
