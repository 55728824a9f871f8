// What every verify check shares: the finding model, the checklist sections in print order, the
// package files as read, and the command runner passed in (nix-instantiate, git).
import type { NixFile } from "../nix/parse.ts";
import type { PackageInfo } from "../nix/query.ts";
import { MAIN_PACKAGE } from "../repo/paths.ts";

/** The severity of a finding. */
export type Level = "ok" | "warning" | "error";

/** Checklist sections, in print order. */
export const SECTIONS = [
  "Nix files parse",
  "Sources are pinned",
  "No network at build or run time",
  "Vendored sources",
  "Packages are wired into the main package",
  "Builds are in step",
  "Python packages",
  "Flox environment",
  "Release",
] as const;
export type Section = typeof SECTIONS[number];

/** One line of the checklist. */
export interface Finding {
  section: Section;
  level: Level;
  /** `file` or `file:line`, relative to the repository root. */
  where?: string | undefined;
  message: string;
  fix?: string | undefined;
}

/** Adds one finding. */
export type Add = (
  section: Section,
  level: Level,
  message: string,
  where?: string,
  fix?: string,
) => void;

/** Runs an external command; returns undefined when it is not installed. */
export type RunCommand = (
  cmd: string,
  args: string[],
  cwd: string,
) => Promise<{ code: number; stdout: string; stderr: string } | undefined>;

/** A package file under .flox/pkgs, parsed when its syntax is valid. */
export interface PkgFile {
  /** Path relative to the repository root (`.flox/pkgs/foo.nix`). */
  rel: string;
  abs: string;
  /** The package's attribute name (file name without `.nix`). */
  name: string;
  file?: NixFile | undefined;
  info?: PackageInfo | undefined;
}

/** The file the main package lives in. */
export const MAIN_FILE = MAIN_PACKAGE;

/** The command that restores vendored files. */
export const RESTORE = "deno task fetch-source --all";

/** A collector: `add` appends, `sorted()` returns the findings in section order. */
export function collector(): { add: Add; out: Finding[]; sorted(): Finding[] } {
  const out: Finding[] = [];
  const add: Add = (section, level, message, where, fix) =>
    out.push({ section, level, message, where, fix });
  const order = new Map(SECTIONS.map((s, i) => [s, i]));
  const sorted = () =>
    out.map((f, i) => ({ f, i })).sort((a, b) =>
      order.get(a.f.section)! - order.get(b.f.section)! || a.i - b.i
    ).map((x) => x.f);
  return { add, out, sorted };
}
