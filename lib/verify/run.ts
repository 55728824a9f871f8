// The release checklist as code: `deno task verify` runs the checks of each section (one file
// per section in this folder) over `.flox/pkgs/*.nix`, `sources-manifest.json` and
// `.flox/sources/`, and returns findings (ok / warning / error, each with file:line and the
// fix). I/O is limited to reading the repository, hashing vendored files and the commands passed
// in (nix-instantiate --parse, git).
//
//   const findings = await verifyRepo({ root, release: false, runCommand });
import { resolve } from "node:path";
import { KitError } from "../kit/errors.ts";
import { checkNetwork } from "./network.ts";
import { checkParse, listPackageFiles, nixInstantiateParse } from "./parse.ts";
import { checkPinned } from "./pinned.ts";
import { checkPython } from "./python.ts";
import { checkRelease } from "./release.ts";
import {
  collector,
  type Finding,
  MAIN_FILE,
  type RunCommand,
} from "./types.ts";
import { checkVendored, readManifestChecked } from "./vendored.ts";
import { checkWiring, nixpkgsNames } from "./wiring.ts";
import { checkNodes, vendoredFiles } from "./nodes.ts";
import { checkFlox } from "./flox.ts";
import { checkVendoredMeta } from "./python_meta.ts";
import { readLicenseList } from "./python.ts";
import { checkRequirements } from "./requirements.ts";

export {
  type Finding,
  type Level,
  MAIN_FILE,
  type RunCommand,
  type Section,
  SECTIONS,
} from "./types.ts";
export { dynamicUrlReason } from "./network.ts";
export { isCommit, isTagLike } from "./pinned.ts";
export { closestSystem, NIX_SYSTEMS } from "./python.ts";

/** What verifyRepo needs. */
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

/** Runs every check; findings come back in section order. */
export async function verifyRepo(opts: VerifyOptions): Promise<Finding[]> {
  const root = resolve(opts.root);
  const stat = await Deno.stat(root).catch(() => undefined);
  if (!stat?.isDirectory) {
    throw new KitError(
      `Not a directory: "${opts.root}"; run verify in the repository or give --root DIR`,
    );
  }
  const env = opts.env ?? denoEnv;
  const run = opts.runCommand;
  const { add, sorted, out } = collector();
  const pkgs = await listPackageFiles(root, add);
  await checkParse(pkgs, add);
  const nixParse = run
    ? nixInstantiateParse(run, root, pkgs.filter((p) => p.file))
    : Promise.resolve([]);

  const manifest = await readManifestChecked(root, add);
  // With an invalid manifest (reported above) no src can be checked against it.
  const byFile = manifest
    ? new Map(manifest.sources.map((s) => [s.file, s]))
    : undefined;
  const used = new Set<string>();
  checkPinned(root, pkgs, byFile, used, add);
  await checkNetwork(root, pkgs, add);
  const verified = manifest
    ? await checkVendored(root, manifest, used, add)
    : [];
  checkWiring(pkgs, add, await nixpkgsNames(root));
  await checkNodes(
    root,
    pkgs,
    add,
    await nixpkgsNames(root),
    vendoredFiles(manifest?.sources ?? []),
    { get: env },
  );
  checkPython(pkgs, add, await readLicenseList(root));
  // The rest reads archives and runs commands: concurrently, each into its own section.
  const [parsed] = await Promise.all([
    nixParse,
    checkRequirements(root, pkgs, {
      online: opts.online === true,
      env: { get: env },
    }, add),
    checkVendoredMeta(root, pkgs, verified, { run, env }, add),
    checkFlox(
      root,
      pkgs,
      verified,
      { release: opts.release === true, run },
      add,
    ),
  ]);
  out.push(...parsed);

  if (opts.release) {
    const main = pkgs.find((p) => p.rel === MAIN_FILE);
    await checkRelease(root, run, main?.info?.version, add);
  }
  return sorted();
}

/** Deno.env, where a variable the task may not read counts as unset. */
function denoEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
