// From a distribution's metadata and the walkthrough's answers to the PackageSpec that
// lib/new_package/render.ts turns into .flox/pkgs/<attr>.nix, and that rendering with the repository's
// template (templates/package.nix, users may edit it; the shipped one when it is absent).
//
//   const spec = packageSpec({ meta, build, src, deps, buildDeps, imports, license });
//   const text = await renderPackageFile(root, spec);
import { PACKAGE_TEMPLATE } from "../repo/paths.ts";
import { join, relative } from "node:path";
import type { DistMetadata } from "../python/dist_metadata.ts";
import { KitError } from "../kit/errors.ts";
import { exists } from "../kit/fsutil.ts";
import { normalizeName } from "../python/names.ts";
import { type DepReport, depSpec } from "./deps.ts";
import type { NixSystem } from "../python/markers.ts";
import {
  DEFAULT_TEMPLATE,
  type PackageSpec,
  renderPackage,
  type SrcSpec,
} from "./render.ts";

/** How the package is built: format, [build-system] requirements, import names found. */
export interface Build {
  format: PackageSpec["format"];
  buildRequires: string[];
  importNames: string[];
}

/**
 * The Nix systems a platform wheel runs on, from its platform tag; undefined for a pure wheel,
 * an sdist, or a GitHub source (built from the tree). KitError when no Nix system fits.
 */
export function wheelPlatforms(
  file: string,
  source: SrcSpec["kind"],
): NixSystem[] | undefined {
  if (source === "github" || !file.endsWith(".whl")) return undefined;
  const platform = file.replace(/\.whl$/, "").split("-").at(-1) ?? "any";
  if (platform === "any") return undefined;
  const systems = new Set<NixSystem>();
  for (const p of platform.split(".")) {
    if (/linux.*x86_64/.test(p)) systems.add("x86_64-linux");
    if (/linux.*aarch64/.test(p)) systems.add("aarch64-linux");
    if (/macosx.*(x86_64|intel|universal)/.test(p)) {
      systems.add("x86_64-darwin");
    }
    if (/macosx.*(arm64|universal)/.test(p)) systems.add("aarch64-darwin");
  }
  if (!systems.size) {
    throw new KitError(
      `${file} is for "${platform}", which no Nix system here runs`,
    );
  }
  return [...systems].sort();
}

/**
 * The spec of one package file. Dependencies in a cycle are left out; custom and missing ones
 * become function arguments; the homepage is the PyPI project page only when the metadata
 * names none.
 */
export function packageSpec(a: {
  meta: DistMetadata;
  build: Build;
  src: SrcSpec;
  deps: readonly DepReport[];
  buildDeps: readonly { attr: string }[];
  imports: readonly string[];
  license: readonly string[];
  licenseEvidence?: readonly string[];
  licenseNote?: string | undefined;
  notes?: readonly string[] | undefined;
  platforms?: readonly NixSystem[] | undefined;
}): PackageSpec {
  const { meta } = a;
  return {
    pname: normalizeName(meta.name),
    version: meta.version,
    format: a.build.format,
    src: a.src,
    dependencies: a.deps.filter((d) => d.status !== "cycle").map(depSpec),
    buildDependencies: a.buildDeps.map(depSpec),
    customArgs: a.deps.filter((d) =>
      d.status === "custom" || d.status === "missing"
    ).map((d) => d.attr),
    importNames: a.imports,
    description: nixDescription(meta.summary ?? meta.name),
    homepage: meta.homepage ??
      `https://pypi.org/project/${normalizeName(meta.name)}/`,
    ...(meta.changelog ? { changelog: meta.changelog } : {}),
    license: a.license,
    ...(a.licenseEvidence?.length
      ? { licenseEvidence: a.licenseEvidence }
      : {}),
    ...(a.notes?.length ? { notes: a.notes } : {}),
    ...(a.licenseNote ? { licenseNote: a.licenseNote } : {}),
    ...(a.platforms ? { platforms: a.platforms } : {}),
  };
}

const ABBREVIATIONS = /\b(e\.g|i\.e|etc|vs|approx|incl|cf)\.$/i;

/**
 * A summary as nixpkgs' meta rules want a description (doc/stdenv/meta.chapter.md): one line,
 * its first sentence only, no leading article, a capital first letter, no trailing period.
 * "Optimally partitioning data into piece-wise linear segments." →
 * "Optimally partitioning data into piece-wise linear segments".
 */
export function nixDescription(summary: string): string {
  let d = summary.replace(/\s+/g, " ").trim();
  // The first sentence: a period, "!" or "?" followed by a space and more text.
  for (const m of d.matchAll(/[.!?](?= +\S)/g)) {
    const before = d.slice(0, m.index + 1);
    if (ABBREVIATIONS.test(before)) continue;
    d = before;
    break;
  }
  d = d.replace(/^(a|an|the) +(?=\S)/i, "").replace(/\.+$/, "").trim();
  return d.charAt(0).toUpperCase() + d.slice(1);
}

/** Renders `spec` with `root`'s templates/package.nix, or the shipped template without one. */
export async function renderPackageFile(
  root: string,
  spec: PackageSpec,
): Promise<string> {
  const local = join(root, PACKAGE_TEMPLATE);
  const templatePath = (await exists(local)) ? local : DEFAULT_TEMPLATE;
  return renderPackage(
    spec,
    await Deno.readTextFile(templatePath),
    relative(root, templatePath),
  );
}
