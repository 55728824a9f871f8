// new-package's steps 5 to 8 for one package, after its source is known: build system,
// import names and licence, then the rendered file (staged) and the wiring of the root package.
import type { DistMetadata } from "../python/dist_metadata.ts";
import { info, warn } from "../kit/log.ts";
import { type DepReport, resolveBuildDeps } from "./deps.ts";
import { type QueueItem, queueItems } from "./missing_queue.ts";
import {
  type Build,
  packageSpec,
  renderPackageFile,
  wheelPlatforms,
} from "./package_plan.ts";
import {
  chooseImports,
  chooseLicense,
  type LicenseChoice,
} from "./questions.ts";
import type { SrcSpec } from "./render.ts";
import type { Run } from "./options.ts";
import type { Loaded } from "./source.ts";
import { type PackageResult, wire, writePackage } from "./steps.ts";

/**
 * Step 5, the format and build system (read from the archive, not guessed), and step 6, the
 * import names and the licence.
 */
export async function buildAndLicense(
  s: Run,
  a: {
    meta: DistMetadata;
    build: Build;
    loaded: Loaded;
    pkgRel: string;
    isRoot: boolean;
  },
) {
  const { opts, fe } = s;
  const { meta, build, loaded } = a;
  const buildDeps = await resolveBuildDeps(s.nixpkgs, build);
  info(
    `format: ${build.format}${
      buildDeps.length
        ? `, build: ${buildDeps.map((d) => d.attr).join(" ")}`
        : ""
    }`,
  );
  const imports = await chooseImports(
    fe,
    a.isRoot ? opts.imports : undefined,
    // Without a file there is nothing to propose: the name would only be a guess.
    loaded.fromFlags
      ? undefined
      : build.importNames.length
      ? build.importNames
      : meta.importNames,
  );
  if (!imports.length) {
    warn(`${a.pkgRel}: no import names, so pythonImportsCheck is empty`);
  }
  const license = await chooseLicense(
    fe,
    meta,
    a.isRoot ? opts.license : undefined,
  );
  return { buildDeps, imports, license };
}

/** Steps 7 and 8: render, show, confirm, stage the file; wire the root package. */
export async function renderAndWrite(
  s: Run,
  a: {
    meta: DistMetadata;
    attr: string;
    key: string;
    loaded: Loaded;
    src: SrcSpec;
    build: Build;
    deps: DepReport[];
    buildDeps: { attr: string }[];
    imports: string[];
    license: LicenseChoice;
    chain: string[];
    isRoot: boolean;
    /** Comment lines for the top of the derivation. */
    notes?: string[];
  },
): Promise<QueueItem[]> {
  const { opts } = s;
  const { meta, attr, key, loaded, src, build, deps, buildDeps, imports } = a;
  const { license, chain, isRoot } = a;
  const pkgRel = `.flox/pkgs/${attr}.nix`;
  const missing = deps.filter((d) => d.status === "missing");
  const platforms = wheelPlatforms(loaded.fileName, src.kind);
  const text = await renderPackageFile(
    opts.root,
    packageSpec({
      meta,
      build,
      src,
      deps,
      buildDeps,
      imports,
      license: license.attrs,
      licenseEvidence: license.evidence,
      licenseNote: isRoot ? opts.licenseNote : undefined,
      notes: a.notes,
      platforms,
    }),
  );
  const result: PackageResult = {
    name: meta.name,
    version: meta.version,
    attr,
    action: "written",
    file: pkgRel,
    source: src.kind,
    format: build.format,
    license: license.attrs,
    importNames: imports,
    dependencies: deps,
    buildDependencies: buildDeps.map((d) => d.attr),
    missing: missing.map((d) => d.name),
  };
  const queue = queueItems(missing, [...chain, key]);
  await writePackage(s, { attr, text, source: src.kind, loaded, result });
  if (result.action === "declined") {
    s.results.push(result);
    return [];
  }

  // Step 8: wire the root package into the main package.
  if (isRoot) {
    const wired = await wire(s, attr, platforms, true);
    if (wired) result.wired = wired;
  }
  s.results.push(result);
  return queue;
}
