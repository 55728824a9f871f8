// What the add-node tests share: a scratch copy of the repository's package set, the real node
// packs of ../shared/real-nodes, an index with the names the packs need, and the evaluation of
// a package directory against the stand-in nixpkgs (tests/_fixtures/stub_nixpkgs.nix).
import { join } from "node:path";
import { copyTree, haveRealSources, ROOT, run, tmp } from "../_helpers.ts";
import { KNOWN_LICENSE_ATTRS } from "../../lib/python/license.ts";
import { readNixpkgsIndex } from "../../lib/nix/nixpkgs_index.ts";

/** The real node packs beside the checkout (read-only). */
export const REAL_NODES = `${ROOT}/../shared/real-nodes`;
export const VHS =
  "Kosinkadink-ComfyUI-VideoHelperSuite-993082e4f2473bf4acaf06f51e33877a7eb38960.tar.gz";
export const CUSTOM_SCRIPTS =
  "pythongosssss-ComfyUI-Custom-Scripts-f2838ed5e59de4d73cde5c98354b87a8d3200190.tar.gz";
export const ANIMATEDIFF =
  "Kosinkadink-ComfyUI-AnimateDiff-Evolved-90fb1331201a4b29488089e4fbffc0d82cc6d0a9.tar.gz";

/** Whether ../shared/real-nodes is there (required when CI=true). */
export function haveRealNodes(): boolean {
  return haveRealSources(REAL_NODES);
}

/** The NAR hashes Nix computed, from ../shared/real-nodes/README.md: file → SRI. */
export async function realNodeHashes(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(join(REAL_NODES, "README.md"));
  const out = new Map<string, string>();
  for (
    const m of text.matchAll(
      /^\| `([^`]+\.tar\.gz)` \| [^|]+ \| `(sha256-[^`]+)` \|/gm,
    )
  ) {
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * A scratch repository: the package set, nixpkgs-index.json (plus `extraIndex`), an empty
 * sources manifest; disposed with `await using`.
 */
export async function scratchRepo(
  extraIndex: Record<string, string> = {},
): Promise<AsyncDisposable & { path: string; index: string }> {
  const dir = await tmp();
  await copyTree(join(ROOT, ".flox/pkgs"), join(dir.path, ".flox/pkgs"));
  await Deno.mkdir(join(dir.path, ".flox/sources"), { recursive: true });
  await Deno.writeTextFile(
    join(dir.path, "sources-manifest.json"),
    await Deno.readTextFile(join(ROOT, "sources-manifest.json")),
  );
  const index = JSON.parse(
    await Deno.readTextFile(join(ROOT, "nixpkgs-index.json")),
  );
  Object.assign(index.python3Packages, extraIndex);
  const indexFile = join(dir.path, "nixpkgs-index.json");
  await Deno.writeTextFile(indexFile, JSON.stringify(index, null, 2) + "\n");
  return Object.assign(dir, { index: indexFile });
}

/** What the stub reports for comfyui.nix's node packs. */
export interface EvaluatedNode {
  name: string;
  drvName: string;
  pythonDependencies: string[];
}

/** Evaluates a package directory with the stub for `system`; comfyui's customNodes and env. */
export async function evaluateNodes(
  pkgsDir: string,
  indexFile: string,
  system: string,
): Promise<{ customNodes: EvaluatedNode[]; pythonEnvModules: string[] }> {
  const index = await readNixpkgsIndex(indexFile);
  await using scratch = await tmp();
  const data = join(scratch.path, "data.json");
  await Deno.writeTextFile(
    data,
    JSON.stringify({
      pythonPackages: index.python3Packages,
      licenseNames: KNOWN_LICENSE_ATTRS,
    }),
  );
  const stub = join(ROOT, "tests/_fixtures/stub_nixpkgs.nix");
  const expr = `let d = builtins.fromJSON (builtins.readFile ${
    JSON.stringify(data)
  }); in import ${JSON.stringify(stub)} {
    system = ${JSON.stringify(system)};
    pkgsDir = /. + ${JSON.stringify(pkgsDir)};
    pythonVersion = ${JSON.stringify(index.python ?? "3.13")};
    inherit (d) pythonPackages licenseNames;
  }`;
  const r = await run("nix-instantiate", [
    "--eval",
    "--strict",
    "--json",
    "-E",
    expr,
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
  const all = JSON.parse(r.stdout);
  return all.comfyui;
}
