// Wiring a package into the main package (.flox/pkgs/comfyui.nix): a custom package becomes a
// function argument, and every package goes into propagatedBuildInputs, inside the
// `lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ … ])` block of its systems when
// it has some. Surgical edits through lib/nix/edit.ts (re-parsed, written atomically).
//
//   await wireInto({ root, main, attr: "spandrel", custom: true, dryRun: false, json: false, fe });
import { packageFile } from "./paths.ts";
import { join, relative } from "node:path";
import { exists } from "../kit/fsutil.ts";
import { info, out, warn } from "../kit/log.ts";
import { addFormal } from "../nix/edit_formals.ts";
import { addListItem } from "../nix/edit_list.ts";
import { editNixFile } from "../nix/write.ts";
import type { NixSystem } from "../python/pep508.ts";
import type { Frontend } from "../kit/prompt.ts";

/** Where a package was wired: the main file (relative to the root) and whether it changed. */
export interface Wired {
  file: string;
  changed: boolean;
}

/**
 * Adds `attr` to the main package `main` (absolute). `wire` false skips, undefined asks
 * through `fe` (default yes). Undefined when nothing was wired: the package is the main one,
 * the main file does not exist, or the answer was no. With `dryRun` the diff is printed.
 */
export async function wireInto(opts: {
  root: string;
  main: string;
  attr: string;
  systems?: readonly NixSystem[] | undefined;
  /** A custom package (.flox/pkgs), which the main package takes as an argument. */
  custom: boolean;
  wire?: boolean | undefined;
  dryRun: boolean;
  json: boolean;
  fe: Frontend;
}): Promise<Wired | undefined> {
  const { attr, systems } = opts;
  const mainRel = relative(opts.root, opts.main);
  if (opts.main === join(opts.root, packageFile(attr))) {
    return undefined;
  }
  if (!(await exists(opts.main))) {
    warn(`${mainRel} does not exist: not wiring ${attr} in`);
    return undefined;
  }
  const yes = opts.wire ?? await opts.fe.confirm({
    key: "wire",
    flag: "--no-wire",
    message: `Add ${attr} to ${mainRel}?`,
    default: true,
  });
  if (!yes) return undefined;
  const r = await editNixFile(opts.main, (t) => {
    const withArg = opts.custom ? addFormal(t, attr, { path: mainRel }) : t;
    return addListItem(withArg, "propagatedBuildInputs", attr, {
      path: mainRel,
      ...(systems ? { systems: [...systems] } : {}),
    });
  }, { dryRun: opts.dryRun, displayPath: mainRel });
  if (r.changed && opts.dryRun && !opts.json) out(r.diff.trimEnd());
  info(
    r.changed
      ? `${opts.dryRun ? "would wire" : "wired"} ${attr} into ${mainRel}`
      : `${mainRel} already has ${attr}`,
  );
  return { file: mainRel, changed: r.changed };
}
