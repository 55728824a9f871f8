// Checklist section "Python packages", the part that reads the vendored distributions: a wired
// package whose `Requires-Python` excludes the target interpreter, and a `meta.license` that
// the licence text the distribution ships contradicts.
import { NIXPKGS_INDEX, SOURCES_DIR } from "../repo/paths.ts";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { unpackTar } from "modern-tar";
import { KitError } from "../kit/errors.ts";
import {
  type DistMetadata,
  distMetadataFromBytes,
} from "../python/dist_metadata.ts";
import { licenseFamily, licenseFromText } from "../python/license.ts";
import { specifierHolds } from "../repo/classify.ts";
import { vendoredFileOf } from "../repo/staged_sources.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { type Add, MAIN_FILE, type PkgFile, type RunCommand } from "./types.ts";
import { wiredFrom } from "./wiring.ts";

const S = "Python packages";

/** A vendored distribution as a package file uses it. */
interface VendoredDist {
  pkg: PkgFile;
  file: string;
  meta?: DistMetadata | undefined;
  /** Shipped licence files: path in the archive → text. */
  licenseTexts: Map<string, string>;
  /** Why the metadata could not be read. */
  error?: string | undefined;
}

// Licence files of a wheel (PEP 639 licenses/, the older LICENSE* beside METADATA) or an sdist.
const LICENSE_FILE =
  /^([^/]+\.dist-info\/(licenses\/.+|(LICEN[CS]E|COPYING)[^/]*)|[^/]+\/(LICEN[CS]E|COPYING)[^/]*)$/i;

/** Reads the metadata and licence texts of a vendored file whose bytes were verified. */
async function readVendored(
  root: string,
  pkg: PkgFile,
  file: string,
): Promise<VendoredDist> {
  const out: VendoredDist = { pkg, file, licenseTexts: new Map() };
  try {
    const bytes = await Deno.readFile(join(root, SOURCES_DIR, file));
    out.meta = await distMetadataFromBytes(bytes, file);
    out.licenseTexts = await licenseFiles(bytes, file);
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    out.error = e.message;
  }
  return out;
}

/** The licence files of a wheel or sdist (only those members are inflated). */
async function licenseFiles(
  bytes: Uint8Array,
  file: string,
): Promise<Map<string, string>> {
  const dec = new TextDecoder();
  const out = new Map<string, string>();
  if (/\.(whl|zip)$/i.test(file)) {
    const files = unzipSync(bytes, {
      filter: (f) => LICENSE_FILE.test(f.name),
    });
    for (const [k, v] of Object.entries(files)) out.set(k, dec.decode(v));
    return out;
  }
  if (!/\.(tar\.gz|tgz)$/i.test(file)) return out;
  const tar = new Uint8Array(
    await new Response(
      new Blob([bytes as BlobPart]).stream().pipeThrough(
        new DecompressionStream("gzip"),
      ),
    ).arrayBuffer(),
  );
  const entries = await unpackTar(tar, {
    filter: (h) => LICENSE_FILE.test(h.name.replace(/^\.\//, "")),
  });
  for (const e of entries) {
    if (e.data) out.set(e.header.name, dec.decode(e.data));
  }
  return out;
}

/** The wired package's Requires-Python admits the interpreter. */
function checkRequiresPython(
  d: VendoredDist,
  python: TargetPython,
  add: Add,
): void {
  const spec = d.meta?.requiresPython?.trim();
  if (!spec) return;
  const where = d.pkg.rel;
  if (specifierHolds(python.version, spec)) {
    add(
      S,
      "ok",
      `Requires-Python "${spec}" admits python ${python.version}`,
      where,
    );
    return;
  }
  add(
    S,
    "error",
    `${d.file} says Requires-Python "${spec}": python ${python.version} (${python.source}) is excluded`,
    where,
    `unwire ${d.pkg.name} from the main package, or vendor a release that supports python ${python.version}`,
  );
}

/** One warning for the Requires-Python checks that could not run. */
function reportUnknownPython(dists: VendoredDist[], add: Add): void {
  const files = [
    ...new Set(dists.filter((d) => d.meta?.requiresPython).map((d) => d.file)),
  ];
  if (files.length === 0) return;
  add(
    S,
    "warning",
    `Requires-Python of ${files.length} wired distribution${
      files.length === 1 ? "" : "s"
    } not checked: the target interpreter's version is unknown (${
      files.join(", ")
    })`,
    NIXPKGS_INDEX,
    'record python3\'s version in nixpkgs-index.json ("python": "3.13"), or run verify where Nix has a nixpkgs',
  );
}

/** `meta.license` agrees with the licence text the distribution ships. */
function checkLicenseText(d: VendoredDist, add: Add): void {
  const license = d.pkg.info?.license;
  if (!license || d.licenseTexts.size === 0) return;
  const attrs = licenseAttrs(license);
  const families = new Set(attrs.map(licenseFamily));
  const shipped = [...d.licenseTexts].map(([path, text]) => ({
    path,
    attr: licenseFromText(text),
  })).filter((s): s is { path: string; attr: string } => s.attr !== undefined);
  if (shipped.length === 0 || families.size === 0) return;
  const where = licenseWhere(d.pkg);
  if (shipped.some((s) => families.has(licenseFamily(s.attr)))) {
    add(
      S,
      "ok",
      `meta.license agrees with the shipped ${shipped[0]!.path}`,
      where,
    );
    return;
  }
  const s = shipped[0]!;
  add(
    S,
    "warning",
    `meta.license is ${
      attrs.map((a) => `licenses.${a}`).join(", ")
    } but ${d.file} ships ${s.path}, a ${licenseFamily(s.attr)} licence text`,
    where,
    `choose the licence from the evidence (deno task new-package ${d.pkg.name} --license ATTR) and say why in a comment`,
  );
}

/** The `lib.licenses` attributes a `meta.license` expression names. */
export function licenseAttrs(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/\blicenses\.([A-Za-z0-9_-]+)/g)) {
    out.add(m[1]!);
  }
  const w = expr.match(/with\s+(?:lib\.)?licenses\s*;\s*\[([^\]]*)\]/);
  if (w) { for (const n of w[1]!.split(/\s+/).filter(Boolean)) out.add(n); }
  return [...out];
}

/** `file:line` of the package's `license =` binding (the file when not found). */
export function licenseWhere(p: PkgFile): string {
  const text = p.file?.text ?? "";
  const i = text.search(/\blicense\s*=/);
  return i < 0 ? p.rel : `${p.rel}:${text.slice(0, i).split("\n").length}`;
}

/** Where the target interpreter's version comes from. */
interface TargetPython {
  version: string;
  source: string;
}

/**
 * The version of nixpkgs' `python3`: from Nix when it can evaluate a nixpkgs ($COMFYKIT_NIXPKGS
 * or <nixpkgs>), else the version nixpkgs-index.json records (`python`, `python3Version`, or a
 * `python3` / `python` entry of its python3Packages); undefined when neither knows.
 */
async function targetPython(
  root: string,
  run: RunCommand | undefined,
  env: (name: string) => string | undefined,
): Promise<TargetPython | undefined> {
  const nixpkgs = env("COMFYKIT_NIXPKGS");
  const r = run
    ? await run("nix-instantiate", [
      "--eval",
      "--json",
      "-E",
      `(import ${
        nixpkgs ? JSON.stringify(nixpkgs) : "<nixpkgs>"
      } { }).python3.version`,
    ], root)
    : undefined;
  if (r?.code === 0) {
    const v = JSON.parse(r.stdout);
    if (typeof v === "string") {
      return { version: v, source: `nixpkgs' python3, by nix-instantiate` };
    }
  }
  const text = await readTextIfExists(join(root, NIXPKGS_INDEX));
  if (!text) return undefined;
  try {
    const d = JSON.parse(text) as Record<string, unknown>;
    const pkgs = (d.python3Packages ?? {}) as Record<string, unknown>;
    const v = [d.python, d.python3Version, pkgs.python3, pkgs.python].find((
      x,
    ): x is string => typeof x === "string" && /^\d+\.\d+/.test(x));
    return v
      ? { version: v, source: "python3 of nixpkgs-index.json" }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads each wired package's verified vendored distribution and runs the Requires-Python and
 * licence-text checks on it (`verified`: manifest files whose bytes matched).
 */
export async function checkVendoredMeta(
  root: string,
  pkgs: PkgFile[],
  verified: string[],
  opts: {
    run: RunCommand | undefined;
    env: (name: string) => string | undefined;
  },
  add: Add,
): Promise<void> {
  const main = pkgs.find((p) => p.rel === MAIN_FILE);
  if (!main) return;
  const wired = wiredFrom(main, new Map(pkgs.map((p) => [p.name, p])));
  const good = new Set(verified);
  const dists = await Promise.all(
    pkgs.filter((p) => wired.has(p.name)).map((p) => ({
      p,
      // A symlinked file's relative src starts at its target's folder, as Nix reads it.
      f: p.info ? vendoredFileOf(p.info, p.at) : undefined,
    }))
      .filter((x): x is { p: PkgFile; f: string } =>
        x.f !== undefined && good.has(x.f)
      )
      .map(({ p, f }) => readVendored(root, p, f)),
  );
  const readable = dists.filter((d) => {
    if (d.error) {
      add(
        S,
        "warning",
        `cannot read the metadata of ${d.file}: ${d.error}`,
        d.pkg.rel,
        "vendor a wheel or sdist (deno task fetch-source)",
      );
    }
    return !d.error;
  });
  const python = readable.some((d) => d.meta?.requiresPython)
    ? await targetPython(root, opts.run, opts.env)
    : undefined;
  if (python) { for (const d of readable) checkRequiresPython(d, python, add); }
  else reportUnknownPython(readable, add);
  for (const d of readable) checkLicenseText(d, add);
}
