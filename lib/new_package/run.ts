// new-package as a library: the guided walkthrough for one package (nixpkgs check, metadata,
// dependencies, source, format, import names, licence, render, write, wire) and the queue of
// dependencies nixpkgs lacks (--missing create). tasks/new_package.ts and bump-comfyui call
// newPackage(); the steps live beside it: source.ts (load), deps.ts, source_step.ts,
// package_steps.ts (build system, licence, render), questions.ts, package_plan.ts,
// steps.ts (write, wire), missing_queue.ts. Every write is staged (stage.ts) and applied
// once, after the last question.
//
//   const results = await newPackage({ target: "spandrel==0.4.0", root, python: "3.12",
//     main: `${root}/.flox/pkgs/comfyui.nix`, force: false, dryRun: false, json: false },
//     chooseFrontend({ yes: true }));
import { join } from "node:path";
import {
  checkWriteAccess,
  nixpkgsIndexFor,
  packageFile,
  SOURCES_MANIFEST,
} from "../repo/paths.ts";
import { Changeset } from "../kit/changeset.ts";
import type { NewPackageOptions, Run } from "./options.ts";
import { KitError } from "../kit/errors.ts";
import { tempDir } from "../kit/fsutil.ts";
import { info, warn } from "../kit/log.ts";
import { withAnswers } from "./meta_answers.ts";
import { type QueueItem, queueTarget } from "./missing_queue.ts";
import { normalizeName } from "../python/names.ts";
import { openNixpkgsForFlag } from "../nix/nixpkgs.ts";
import { pypiToNixAttr } from "../nix/nixpkgs_names.ts";
import { chooseExtras, logDeps, resolveDeps } from "./deps.ts";
import {
  isDistPath,
  type Loaded,
  loadLocal,
  loadPypi,
  loadRecorded,
  parseTarget,
} from "./source.ts";
import type { Frontend } from "../kit/prompt.ts";
import {
  type PackageResult,
  pythonFits,
  refuseMainPackage,
  usedFromNixpkgs,
} from "./steps.ts";
import { applyWithSourcesLock } from "../repo/staged_sources.ts";
import { buildAndLicense, renderAndWrite } from "./package_steps.ts";
import { sourceStep } from "./source_step.ts";

export type { NewPackageOptions } from "./options.ts";
// What tasks/new_package.ts needs to parse its flags (tasks import only run.ts files).
export { parseGithubRepo } from "./from_github.ts";
export { isImportName, parseMetaAnswers, splitList } from "./meta_answers.ts";
export { directReference, isDistPath } from "./source.ts";
export { parseLicenseFlag } from "../python/license.ts";
export { normalizeName } from "../python/names.ts";
export type { PackageResult } from "./steps.ts";

const NIX_ATTR = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/**
 * Runs the walkthrough for `opts.target` and, with `missing: "create"`, for the dependencies
 * nixpkgs lacks (a queue; cycles are reported and cut). Library entry point for other tasks.
 */
export async function newPackage(
  opts: NewPackageOptions,
  fe: Frontend,
): Promise<PackageResult[]> {
  if (!opts.dryRun) await checkWritable(opts.root);
  // --nixpkgs-index alone, else Nix / flox / the root's offline index (nixpkgsIndexFor).
  const nixpkgs = await openNixpkgsForFlag(
    opts.nixpkgsIndex,
    nixpkgsIndexFor(opts.root),
  );
  info(`nixpkgs: ${nixpkgs.describe}`);
  // stage.ts keeps sources-manifest.json's temporary and saved copies in .flox/sources.
  const cs = opts.changeset ?? new Changeset(opts.root);
  await using own = opts.scratchDir === undefined
    ? await tempDir("comfykit-new-package-")
    : undefined;
  const scratch = { path: opts.scratchDir ?? own!.path };
  const session: Run = {
    opts,
    fe,
    nixpkgs,
    cs,
    scratch: scratch.path,
    results: [],
    done: new Set(),
  };
  const queue = await walk(session, opts.target, [], true);
  let missingAction = opts.missing;
  if (queue.length && !missingAction) {
    missingAction = await fe.select<"list" | "create">({
      key: "missing",
      flag: "--missing",
      message: `Not in nixpkgs: ${
        queue.map((q) => q.name).join(", ")
      }. Package them now?`,
      choices: [
        {
          value: "list",
          name: "No, list them (package each later with new-package)",
        },
        { value: "create", name: "Yes, package them one after another" },
      ],
      default: "list",
    });
  }
  if (missingAction === "create") {
    while (queue.length) {
      const next = queue.shift()!;
      if (session.done.has(normalizeName(next.name))) continue;
      const target = queueTarget(next);
      info(`\n== ${target} (needed by ${next.chain.at(-1)}) ==`);
      queue.push(...await walk(session, target, next.chain, false));
    }
  }
  // Nothing is written before every question is answered: a cancelled run leaves no trace.
  if (!opts.dryRun && !opts.changeset) await applyWithSourcesLock(cs);
  return session.results;
}

/**
 * Refuses, in one line and before any question, a root this process may not write (deno.json
 * scopes the task's --allow-write to the current repository); Deno never asks.
 */
async function checkWritable(root: string): Promise<void> {
  await checkWriteAccess(
    root,
    [join(root, ".flox"), join(root, SOURCES_MANIFEST)],
    "the task may write only the current repository's .flox/ and sources-manifest.json; run it from the repository --root names (cd DIR && deno task new-package …), or add --dry-run",
  );
}

/**
 * Steps 1 and 2: the distribution to package (a file on disk, the recorded one, or PyPI's);
 * undefined when step 1 answered "use nixpkgs'".
 */
async function loadTarget(
  s: Run,
  target: string,
  isRoot: boolean,
): Promise<Loaded | undefined> {
  const { opts, fe } = s;
  if (!isDistPath(target) && isRoot && opts.fromManifest) {
    // --from-manifest: the recorded file; its metadata, or the flags' answers when absent.
    return await loadRecorded({
      target,
      root: opts.root,
      ...(opts.version !== undefined ? { version: opts.version } : {}),
      ...(opts.prefer ? { prefer: opts.prefer } : {}),
      answers: opts.meta ?? {},
      nixpkgs: s.nixpkgs,
      fe,
    });
  }
  if (isDistPath(target)) {
    // new-package PATH: everything from the file itself, no network.
    return await loadLocal(target, isRoot ? opts.version : undefined);
  }
  const t = parseTarget(target, isRoot ? opts.version : undefined);
  refuseMainPackage(s, pypiToNixAttr(t.name));
  // Step 1: is it in nixpkgs already?
  if (isRoot && await usedFromNixpkgs(s, t.name, t.version)) return undefined;
  // Step 2: the release and its file; the file's own metadata wins over the JSON API. The
  // file stays in the session's scratch folder until the staged copy is applied.
  return await loadPypi({
    name: t.name,
    ...(t.version !== undefined ? { version: t.version } : {}),
    ...(opts.prefer && isRoot ? { prefer: opts.prefer } : {}),
    dir: s.scratch,
  });
}

/** The walkthrough for one package; returns the missing dependencies to queue. */
async function walk(
  s: Run,
  target: string,
  chain: string[],
  isRoot: boolean,
): Promise<QueueItem[]> {
  const { opts, fe } = s;
  const loaded = await loadTarget(s, target, isRoot);
  if (!loaded) return [];

  const meta = isRoot && opts.meta
    ? withAnswers(loaded.meta, opts.meta)
    : loaded.meta;
  const attr = pypiToNixAttr(meta.name);
  if (!NIX_ATTR.test(attr)) {
    throw new KitError(
      `"${meta.name}" gives "${attr}", which is not a valid Nix attribute name`,
    );
  }
  refuseMainPackage(s, attr);
  const key = normalizeName(meta.name);
  s.done.add(key);
  const pkgRel = packageFile(attr);
  for (const name of meta.droppedImports ?? []) {
    warn(
      `${loaded.fileName}: top_level.txt names "${name}", but the wheel holds no such package or module: not an import name`,
    );
  }
  info(`${meta.name} ${meta.version}: ${meta.summary ?? "(no summary)"}`);
  const python = await pythonFits(s, meta, pkgRel);
  if (!python.ok) {
    info(`${pkgRel}: nothing written`);
    return [];
  }

  // Step 3: dependencies.
  const extras = await chooseExtras(fe, meta, isRoot ? opts.extras : undefined);
  const deps = await resolveDeps(meta, extras, {
    python: opts.python,
    root: opts.root,
    nixpkgs: s.nixpkgs,
    chain: [...chain, key],
  });
  logDeps(deps);

  // Step 4: the source.
  const { src, build } = await sourceStep(fe, {
    meta,
    loaded,
    given: opts.source,
    github: isRoot ? opts.github : undefined,
    tag: isRoot ? opts.tag : undefined,
  });

  // Steps 5 and 6: build system, import names, licence.
  const { buildDeps, imports, license } = await buildAndLicense(s, {
    meta,
    build,
    loaded,
    pkgRel,
    isRoot,
  });

  return await renderAndWrite(s, {
    meta,
    attr,
    key,
    loaded,
    src,
    build,
    deps,
    buildDeps,
    imports,
    license,
    chain,
    isRoot,
    ...(python.note ? { notes: [python.note] } : {}),
  });
}
