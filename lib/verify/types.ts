// What every verify check shares: the finding model, the checklist sections in print order, the
// package files as read, and the command runner passed in (nix-instantiate, git).
import type { NixFile } from "../nix/parse.ts";
import type { PackageInfo } from "../nix/query.ts";
import type { Manifest } from "../repo/manifest.ts";
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
  /** Where Nix reads it from, root-relative (a symlink's target; else `rel`). */
  at: string;
  /** The package's attribute name (file name without `.nix`). */
  name: string;
  file?: NixFile | undefined;
  info?: PackageInfo | undefined;
}

/** The file the main package lives in. */
export const MAIN_FILE = MAIN_PACKAGE;

/** The command that restores vendored files. */
export const RESTORE = "deno task fetch-source --all";

/** The package files as found: the files, and what is wrong with the folder itself. */
export interface Listing {
  pkgs: PkgFile[];
  /** `.nix` symlinks whose target is missing, in the order found. */
  dangling: string[];
  /** A package defined twice (`foo.nix` and `foo/default.nix`): the second file and the first. */
  duplicates: { pkg: PkgFile; other: PkgFile }[];
  /** Syntax errors by package file (`where` is `file:line:col` when known). */
  syntax: Map<PkgFile, { where: string; message: string }>;
}

/** nixpkgs' licence attribute names, and the deprecated aliases among them. */
export interface LicenseList {
  names: Set<string>;
  deprecated: Set<string>;
}

/** Why nixpkgs-licenses.json cannot be used (licence names then go unchecked). */
export interface LicenseProblem {
  level: "error" | "warning";
  problem: string;
}

/** What verifyRepo was asked to do. */
export interface VerifyOptions {
  root: string;
  release?: boolean;
  /** Download ComfyUI's pinned archive when the cache lacks it (to compare requirements.txt). */
  online?: boolean;
  /** Used for nix-instantiate and git; omit to skip both (release checks then fail). */
  runCommand?: RunCommand | undefined;
  /** Environment variables (default: Deno.env; unreadable ones count as unset). */
  env?: (name: string) => string | undefined;
}

/** One manifest file as found in .flox/sources. */
export interface VendoredState {
  file: string;
  /** Its sha256 (hex); undefined when the file is missing. */
  sha256?: string | undefined;
  size: number;
}

/** What every check reads. Built by loadContext; checks only read it. */
export interface VerifyContext {
  /** The repository root (absolute). */
  root: string;
  release: boolean;
  online: boolean;
  run: RunCommand | undefined;
  env: (name: string) => string | undefined;
  /** Package files, sorted by path; `file`/`info` set where the syntax is valid. */
  pkgs: PkgFile[];
  /** The main package's file, when present. */
  main: PkgFile | undefined;
  /** What listing and parsing the package files found (dangling links, duplicates, syntax). */
  listing: Listing;
  /** The manifest (empty when absent); undefined when invalid (see manifestError). */
  manifest: Manifest | undefined;
  /** Why the manifest is invalid. */
  manifestError: string | undefined;
  /** Manifest files some package file uses (a path src, or a fetcher call its kind knows). */
  used: ReadonlySet<string>;
  /** Manifest files the main package and the packages wired into it name as src. */
  wiredFiles: ReadonlySet<string>;
  /** Each manifest file on disk, hashed once. */
  vendored(): Promise<VendoredState[]>;
  /** The manifest files whose bytes (and size) match their entry: the ones safe to read. */
  verified(): Promise<string[]>;
  /** The python3Packages names of nixpkgs-index.json (empty when none). */
  nixpkgsNames(): Promise<Set<string>>;
  /** nixpkgs' licence names, or why nixpkgs-licenses.json cannot be used. */
  licenses(): Promise<LicenseList | LicenseProblem>;
}

/**
 * One check of the checklist: reads the shared context and adds findings to the section (or
 * sections) it declares (adding to another is a bug verifyRepo refuses). Checks run
 * concurrently; the findings come out in SECTIONS order, then in CHECKS order, then in the
 * order added.
 */
export interface Check {
  /** A short unique name (kebab-case), for tests and error messages. */
  name: string;
  /** Its section; a check over one concern may report into several (node packs). */
  section: Section | readonly [Section, ...Section[]];
  /** Runs only under `verify --release`. */
  releaseOnly?: boolean;
  run(ctx: VerifyContext, add: Add): void | Promise<void>;
}
