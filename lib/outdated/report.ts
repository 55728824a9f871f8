// The outdated report: one row per pinned thing (ComfyUI, each custom package, each package
// taken from nixpkgs), rendered as a table for people or kept as data for --json.
import type { Constraint } from "./versions.ts";

/** Where a row stands. */
type Status =
  | "current"
  | "newer"
  | "held"
  | "unsatisfied"
  | "unreachable"
  | "unknown";

/** One line of the report. */
export interface Row {
  kind: "main" | "custom" | "nixpkgs";
  name: string;
  /** Our version: the file's, or nixpkgs' for a nixpkgs row. */
  ours?: string | undefined;
  /** The newest eligible upstream release. */
  newest?: string | undefined;
  /** The newest version every requirement on it allows, when the newest is held back. */
  allowed?: string | undefined;
  status: Status;
  /** The requirements holding it back, for status "held". */
  heldBy?: Constraint[];
  /** One line each: why, and what to run. */
  details: string[];
  /** The command that moves it, when there is one. */
  command?: string | undefined;
}

/** The whole report. */
export interface Report {
  rows: Row[];
  /** Where nixpkgs' versions came from. */
  nixpkgs: string;
  /** Inputs that could not be read (they make some checks incomplete). */
  warnings: string[];
}

/** The status column: "held by comfyui 0.3.75" names the holders. */
function statusText(row: Row): string {
  if (row.status !== "held") return row.status;
  const by = [...new Set((row.heldBy ?? []).map((c) => c.by))];
  return `held by ${by.join(", ")}`;
}

/** The table: NAME OURS NEWEST STATUS, details indented under their row. */
export function renderTable(report: Report): string[] {
  const head = ["NAME", "OURS", "NEWEST", "STATUS"];
  const cells = report.rows.map((r) => [
    r.name,
    r.ours ?? "-",
    r.newest ?? "-",
    statusText(r),
  ]);
  const width = head.map((h, i) =>
    Math.max(h.length, ...cells.map((c) => c[i]!.length))
  );
  const line = (c: string[]) =>
    c.map((x, i) => i === c.length - 1 ? x : x.padEnd(width[i]!)).join("  ");
  const out = [line(head)];
  report.rows.forEach((r, i) => {
    out.push(line(cells[i]!));
    for (const d of r.details) out.push(`    ${d}`);
  });
  return out;
}

/** "2 newer, 1 held, 1 unsatisfied, 30 current": counts by status, in a fixed order. */
export function summary(report: Report): string {
  const order: Status[] = [
    "newer",
    "held",
    "unsatisfied",
    "unreachable",
    "unknown",
    "current",
  ];
  const parts = order.map((s) => {
    const n = report.rows.filter((r) => r.status === s).length;
    return n ? `${n} ${s}` : "";
  }).filter(Boolean);
  return parts.length ? parts.join(", ") : "nothing to check";
}

/** What `--fail-on` can name. */
export type FailOn = "outdated" | "unsatisfied";

/**
 * True when the report fails `failOn`: outdated = a newer or held release, unsatisfied = a
 * nixpkgs version outside a requirement. A row that could not be checked fails either, so CI
 * never passes on a check it did not make.
 */
export function fails(report: Report, failOn: readonly FailOn[]): boolean {
  if (failOn.length === 0) return false;
  return report.rows.some((r) =>
    r.status === "unreachable" ||
    // Not compared (no PEP 440 version, nothing upstream): could not be checked.
    (failOn.includes("outdated") && r.status === "unknown") ||
    (failOn.includes("outdated") &&
      (r.status === "newer" || r.status === "held")) ||
    (failOn.includes("unsatisfied") && r.status === "unsatisfied")
  );
}
