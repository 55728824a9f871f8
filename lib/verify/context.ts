// The one context every verify check reads: the options, the package files (listed and parsed
// once), the manifest (read once), which manifest files the package files use, and the facts
// several checks share (the vendored files' hashes, nixpkgs' names and licences), each computed
// once on first use. A check never depends on another check having run: whatever two checks
// share lives here.
import { join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { sha256File, toHex } from "../hash/sha256.ts";
import { type Manifest, parseManifest } from "../repo/manifest.ts";
import { SOURCES_DIR, SOURCES_MANIFEST } from "../repo/paths.ts";
import { listPackageFiles, parsePackages } from "./parse.ts";
import { pathSources, usedFiles } from "./pinned.ts";
import { readLicenseList } from "./python.ts";
import {
  MAIN_FILE,
  type PkgFile,
  type VendoredState,
  type VerifyContext,
  type VerifyOptions,
} from "./types.ts";
import { isMainVariant } from "../repo/paths.ts";
import { nixpkgsNames, wiredFrom } from "./wiring.ts";

/** Reads what the checks share: package files (parsed), the manifest, which files are used. */
export async function loadContext(
  opts: VerifyOptions,
  root: string,
): Promise<VerifyContext> {
  const listing = await listPackageFiles(root);
  await parsePackages(listing);
  // The variant builds (comfyui-cuda.nix) are no packages of the set: the "builds" check has them.
  const pkgs = listing.pkgs.filter((p) => !isMainVariant(p.name));
  const { manifest, error } = await readManifestText(root);
  const byFile = manifest
    ? new Map(manifest.sources.map((s) => [s.file, s]))
    : undefined;
  const vendored = once(() => hashVendored(root, manifest));
  const main = pkgs.find((p) => p.rel === MAIN_FILE);
  return {
    root,
    release: opts.release === true,
    online: opts.online === true,
    run: opts.runCommand,
    env: opts.env ?? denoEnv,
    pkgs,
    main,
    listing,
    manifest,
    manifestError: error,
    used: usedFiles(root, pkgs, byFile),
    // Only listed files: an unlisted src is the "Sources are pinned" error already.
    wiredFiles: new Set(
      [...wiredFiles(root, pkgs, main)].filter((f) => byFile?.has(f) ?? true),
    ),
    vendored,
    verified: once(async () => {
      const sizes = new Map(manifest?.sources.map((e) => [e.file, e]));
      return (await vendored()).filter((v) => {
        const e = sizes.get(v.file);
        return e && v.sha256 === e.sha256 &&
          (e.size === undefined || e.size === v.size);
      }).map((v) => v.file);
    }),
    nixpkgsNames: once(() => nixpkgsNames(root)),
    licenses: once(() => readLicenseList(root)),
  };
}

/** The vendored files the main package and the packages wired into it name as src. */
function wiredFiles(
  root: string,
  pkgs: PkgFile[],
  main: PkgFile | undefined,
): Set<string> {
  if (!main) return new Set();
  const others = new Map(
    pkgs.filter((p) => p !== main).map((p) => [p.name, p]),
  );
  const wired = wiredFrom(main, others);
  return new Set(
    [main, ...pkgs.filter((p) => p !== main && wired.has(p.name))]
      .flatMap((p) => pathSources(root, p)),
  );
}

/** The manifest (empty when absent), or why it is invalid. */
async function readManifestText(
  root: string,
): Promise<{ manifest?: Manifest; error?: string }> {
  const text = await readTextIfExists(join(root, SOURCES_MANIFEST));
  if (text === undefined) return { manifest: { version: 1, sources: [] } };
  try {
    return { manifest: parseManifest(text, SOURCES_MANIFEST) };
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    return { error: e.message.replace(/^sources-manifest\.json: /, "") };
  }
}

/** Hashes every manifest file present in .flox/sources (concurrently). */
async function hashVendored(
  root: string,
  m: Manifest | undefined,
): Promise<VendoredState[]> {
  const dir = join(root, SOURCES_DIR);
  return await Promise.all((m?.sources ?? []).map(async (e) => {
    try {
      const path = join(dir, e.file);
      const size = (await Deno.stat(path)).size;
      return { file: e.file, size, sha256: toHex(await sha256File(path)) };
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { file: e.file, size: 0 };
      throw err;
    }
  }));
}

/** A function computing its value on the first call only. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => p ??= fn();
}

/** Deno.env, where a variable the task may not read counts as unset. */
function denoEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
