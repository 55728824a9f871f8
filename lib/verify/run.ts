// The release checklist as code: `deno task verify` runs every check of lib/verify/checks.ts
// (one file per section in this folder) over `.flox/pkgs/*.nix`, `sources-manifest.json` and
// `.flox/sources/`, all reading one context (context.ts), and returns findings (ok / warning /
// error, each with file:line and the fix). I/O is limited to reading the repository, hashing
// vendored files and the commands passed in (nix-instantiate --parse, git).
//
//   const findings = await verifyRepo({ root, release: false, runCommand });
import { resolve } from "node:path";
import { KitError } from "../kit/errors.ts";
import { CHECKS } from "./checks.ts";
import { loadContext } from "./context.ts";
import {
  type Add,
  type Check,
  type Finding,
  type Section,
  SECTIONS,
  type VerifyOptions,
} from "./types.ts";

export { type Finding, type RunCommand, SECTIONS } from "./types.ts";

/** Runs every check (concurrently); findings come back in section order, then check order. */
export async function verifyRepo(
  opts: VerifyOptions,
  checks: readonly Check[] = CHECKS,
): Promise<Finding[]> {
  const root = resolve(opts.root);
  const stat = await Deno.stat(root).catch(() => undefined);
  if (!stat?.isDirectory) {
    throw new KitError(
      `Not a directory: "${opts.root}"; run verify in the repository or give --root DIR`,
    );
  }
  const ctx = await loadContext(opts, root);
  const run = checks.filter((c) => !c.releaseOnly || ctx.release);
  const found = await Promise.all(run.map(async (check, i) => {
    const declared: readonly Section[] = typeof check.section === "string"
      ? [check.section]
      : check.section;
    const out: { f: Finding; check: number }[] = [];
    const add: Add = (section, level, message, where, fix) => {
      if (!declared.includes(section)) {
        throw new Error(
          `verify check "${check.name}" added a finding to "${section}", not to its section${
            declared.length === 1 ? "" : "s"
          } "${declared.join('", "')}"`,
        );
      }
      out.push({ f: { section, level, message, where, fix }, check: i });
    };
    await check.run(ctx, add);
    return out;
  }));
  // Stable: within a section, in CHECKS order, then in the order each check added them.
  const order = new Map(SECTIONS.map((s, i) => [s, i]));
  return found.flat().sort((a, b) =>
    order.get(a.f.section)! - order.get(b.f.section)! || a.check - b.check
  ).map((x) => x.f);
}
