// new-package's options: the answers a run is given up front (NewPackageOptions, from the flags
// or from bump-comfyui's actions), and a session together with them (Run), which the steps in
// run.ts and package_steps.ts share.
import type { Changeset } from "../kit/changeset.ts";
import type { MetaAnswers } from "./meta_answers.ts";
import type { Session, SourceKind } from "./steps.ts";

/** Answers given up front (flags); `undefined` means "ask". */
export interface NewPackageOptions {
  /** NAME, NAME==VERSION, or a path to a wheel/sdist. */
  target: string;
  root: string;
  version?: string;
  source?: SourceKind;
  prefer?: "wheel" | "sdist";
  github?: { owner: string; repo: string };
  tag?: string;
  license?: string[];
  licenseNote?: string;
  imports?: string[];
  extras?: string[];
  /** Take the source from sources-manifest.json (no download; the file may be absent). */
  fromManifest?: boolean;
  /** Metadata answers (root package only). */
  meta?: MetaAnswers;
  python: string;
  inNixpkgs?: "use" | "package";
  missing?: "list" | "create";
  /** false: --no-wire; undefined: ask (default yes). */
  wire?: boolean;
  /** Main package file (absolute). */
  main: string;
  nixpkgsIndex?: string;
  force: boolean;
  dryRun: boolean;
  /** Quiet the file preview (JSON output). */
  json: boolean;
  /** Write a package whose Requires-Python excludes nixpkgs' python3 without asking. */
  ignoreRequiresPython?: boolean;
  /**
   * Stage the writes here and leave applying them to the caller (bump-comfyui's actions);
   * without it newPackage applies its own Changeset at the end.
   */
  changeset?: Changeset;
  /**
   * Where downloads go, owned by the caller: with `changeset`, the staged copies read from it
   * when the caller applies, after newPackage returns. Default: a temp dir of its own.
   */
  scratchDir?: string;
}

/** A session with the whole of new-package's options. */
export type Run = Session & { opts: NewPackageOptions };
