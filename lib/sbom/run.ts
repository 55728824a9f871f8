// sbom's workflow: read what the repository at `root` ships (package files, vendored sources,
// the nixpkgs index and lock, workflow locks) and write it as a CycloneDX 1.6 document. Offline:
// only files under the root are read.
//
//   const r = await sbom({ root, deny: ["GPL-3.0-only"] });
//   if (r.denied.length === 0) print(r.text);
import { basename, join } from "node:path";
import { KitError } from "../kit/errors.ts";
import { parseNix } from "../nix/parse.ts";
import { readNixpkgsIndex } from "../nix/nixpkgs_index.ts";
import { sha256File, toHex } from "../hash/sha256.ts";
import { parseSums } from "../hash/sums.ts";
import { readManifest } from "../repo/manifest.ts";
import {
  FLOX_LOCK,
  MAIN_PACKAGE,
  NIXPKGS_INDEX,
  PKGS_DIR,
  SOURCES_MANIFEST,
  SUMS_FILE,
} from "../repo/paths.ts";
import type { Bill } from "./model.ts";
import { addPackages, type PackageFile } from "./packages.ts";
import { addWorkflowLock, nixpkgsRevOf } from "./locks.ts";
import { deniedParts, renderBom } from "./document.ts";

/** Where workflow locks live, relative to the root. */
const WORKFLOWS_DIR = "workflows";

/** What sbom() needs. */
interface SbomOptions {
  root: string;
  /** Licences (SPDX ids or nixpkgs names) to refuse. */
  deny?: readonly string[];
  timestamp?: string | undefined;
}

/** The document, the components whose licence is denied, and what could not be used. */
interface SbomResult {
  text: string;
  denied: string[];
  notes: string[];
  components: number;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** .flox/pkgs/NAME.nix and .flox/pkgs/NAME/default.nix, sorted by NAME. */
async function packageFiles(root: string): Promise<PackageFile[]> {
  const dir = join(root, PKGS_DIR);
  const found: { attr: string; path: string }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".nix")) {
        found.push({
          attr: e.name.slice(0, -4),
          path: `${PKGS_DIR}/${e.name}`,
        });
      } else if (e.isDirectory) {
        const p = `${PKGS_DIR}/${e.name}/default.nix`;
        if ((await readIfExists(join(root, p))) !== undefined) {
          found.push({ attr: e.name, path: p });
        }
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(
        `${PKGS_DIR} not found under ${root}: not a comfykit repository (use --root)`,
      );
    }
    throw e;
  }
  found.sort((a, b) => a.attr < b.attr ? -1 : a.attr > b.attr ? 1 : 0);
  return await Promise.all(found.map(async (f) => ({
    ...f,
    file: parseNix(await Deno.readTextFile(join(root, f.path)), f.path),
  })));
}

/** Reads the repository at `opts.root` into a Bill and renders it. */
export async function sbom(opts: SbomOptions): Promise<SbomResult> {
  const { root } = opts;
  const files = await packageFiles(root);
  const mainAttr = basename(MAIN_PACKAGE, ".nix");
  if (!files.some((f) => f.attr === mainAttr)) {
    throw new KitError(`${MAIN_PACKAGE} not found under ${root}`);
  }
  const manifest = await readManifest(join(root, SOURCES_MANIFEST));
  const sums = new Map<string, string>();
  const sumsText = await readIfExists(join(root, SUMS_FILE));
  if (sumsText !== undefined) {
    const parsed = parseSums(sumsText, SUMS_FILE);
    if (parsed.errors.length > 0) throw new KitError(parsed.errors[0]!);
    for (const l of parsed.lines) sums.set(l.path, l.hex);
  }
  const indexPath = join(root, NIXPKGS_INDEX);
  const index = (await readIfExists(indexPath)) === undefined
    ? undefined
    : await readNixpkgsIndex(indexPath);
  const lockText = await readIfExists(join(root, FLOX_LOCK));
  const nixpkgsRev = lockText === undefined
    ? undefined
    : nixpkgsRevOf(lockText, FLOX_LOCK);
  const bill: Bill = {
    // Replaced by the main package's part.
    root: {
      ref: mainAttr,
      type: "application",
      name: mainAttr,
      licenses: [],
      properties: {},
    },
    parts: [],
    edges: new Map(),
    notes: [],
  };
  addPackages(bill, files, mainAttr, {
    sources: new Map(manifest.sources.map((s) => [s.file, s])),
    sums,
    versions: index?.python3Packages ?? {},
    python: index?.python,
    nixpkgsRev,
  });
  for (const lock of await workflowLocks(root)) {
    const path = join(root, lock);
    addWorkflowLock(
      bill,
      await Deno.readTextFile(path),
      lock,
      toHex(await sha256File(path)),
    );
  }
  const properties: Record<string, string> = {};
  if (nixpkgsRev) properties["nixpkgs:rev"] = nixpkgsRev;
  else bill.notes.push(`${FLOX_LOCK} absent: no nixpkgs revision recorded`);
  if (index?.nixpkgs.rev) {
    properties["comfykit:nixpkgs-index-rev"] = index.nixpkgs.rev;
  }
  const text = renderBom(bill, {
    timestamp: opts.timestamp,
    tool: { name: "comfykit sbom" },
    properties,
  });
  return {
    text,
    denied: deniedParts(bill, opts.deny ?? []),
    notes: bill.notes,
    components: bill.parts.length + 1,
  };
}

/** workflows/*.lock.json, sorted. */
async function workflowLocks(root: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(join(root, WORKFLOWS_DIR))) {
      if (e.isFile && e.name.endsWith(".lock.json")) {
        out.push(`${WORKFLOWS_DIR}/${e.name}`);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}
