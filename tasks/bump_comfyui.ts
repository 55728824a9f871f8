// bump-comfyui: move the main package (.flox/pkgs/comfyui.nix) to another ComfyUI release in one
// step. Lists the release tags (GitHub tags API, newest first by version), downloads the new and
// the current archives once each through the cache, computes the new NAR hash itself (no fakeHash
// round trip), diffs and classifies requirements.txt, offers the follow-up actions, then rewrites
// comfyui.nix (version, rev/tag, hash) and the Flox manifest's version pin, text-preserving.
//
//   deno task bump-comfyui --latest --dry-run
//
// Needs: network to $COMFYKIT_GITHUB_API_URL / $COMFYKIT_GITHUB_URL (and PyPI for actions that
// fetch wheels), read/write of the repository and $COMFYKIT_CACHE_DIR, env for the endpoints.
import { resolve } from "node:path";
import { parseCli, runTask } from "../lib/cli.ts";
import { KitError, UsageError } from "../lib/errors.ts";
import { atomicWrite, readTextIfExists } from "../lib/fsutil.ts";
import { info, out, warn } from "../lib/log.ts";
import { toSri } from "../lib/hash.ts";
import {
  archiveUrl,
  githubApiUrl,
  githubUrl,
  listTags,
} from "../lib/github.ts";
import {
  type Action,
  bumpKind,
  describeAction,
  describeChange,
  describeSource,
  findTag,
  latestTag,
  nearestTags,
  nextCommands,
  pinnedVersion,
  type ReqChange,
  sortVersionTags,
  type Source,
  toChanges,
  type VersionTag,
} from "../lib/bump.ts";
import {
  FLOX_MANIFEST,
  MAIN_PACKAGE,
  type MainPackage,
  readMainPackage,
  rewriteMainPackage,
} from "../lib/comfyui.ts";
import { findFloxPins, repin, setTomlString } from "../lib/toml_edit.ts";
import { unifiedDiff } from "../lib/unified_diff.ts";
import { narHashArchive, readArchive } from "../lib/archive.ts";

import { diffRequirements, parseRequirementsTxt } from "../lib/requirements.ts";
import {
  type ActionRunners,
  planFromSources,
  type PlannedAction,
  PYTHON,
  rewriteCustomPackage,
} from "../lib/bump_actions.ts";
import {
  fetchUrlCached,
  repoPaths,
  vendorPypi,
  writeManifestFiles,
} from "../lib/vendor.ts";
import { acquireLock } from "../lib/lock.ts";
import { readManifest } from "../lib/manifest.ts";
import {
  type Classification,
  classify,
  specifierHolds,
} from "../lib/classify.ts";
import { openNixpkgs } from "../lib/nixpkgs.ts";
import { exists } from "../lib/fsutil.ts";
import { chooseFrontend, type Frontend } from "../lib/prompt.ts";
import { newPackage } from "./new_package.ts";

export const USAGE = `Usage: deno task bump-comfyui [VERSION] [options]

Bumps .flox/pkgs/comfyui.nix to another ComfyUI release: version, rev/tag and the NAR hash
(computed here), plus the version pin in .flox/env/manifest.toml; shows how requirements.txt
changed and offers the follow-up actions (new wheels, new packages, dependency list edits).

VERSION is a release tag or its version (v0.3.76 or 0.3.76); without it the tags are listed,
newest first, to pick from.

Options:
  --latest            take the newest release without asking
  --dry-run           print the unified diff of every file and the requirements diff; write nothing
  -y, --yes           carry out every follow-up action without asking
  --no-actions        only rewrite comfyui.nix and the manifest pin
  --allow-downgrade   allow moving to an older release
  --json              print the result as JSON on stdout
  --root DIR          repository root (default: the current directory)
  -h, --help          show this help

Environment: COMFYKIT_GITHUB_API_URL, COMFYKIT_GITHUB_URL, COMFYKIT_PYPI_URL, COMFYKIT_CACHE_DIR,
COMFYKIT_MIRRORS, GITHUB_TOKEN.

Examples:
  deno task bump-comfyui                     # pick a release from the list
  deno task bump-comfyui --latest --dry-run  # what would change
  deno task bump-comfyui 0.3.76 --yes        # bump and carry out every action`;

const OPTIONS = {
  latest: { type: "boolean" },
  "dry-run": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "no-actions": { type: "boolean" },
  "allow-downgrade": { type: "boolean" },
  json: { type: "boolean" },
  root: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Options for tests: a scripted prompt frontend instead of the terminal. */
export interface BumpDeps {
  frontend?: Frontend;
}

export function main(args: string[], deps: BumpDeps = {}): Promise<number> {
  return runTask(USAGE, () => bump(args, deps));
}

async function bump(args: string[], deps: BumpDeps): Promise<number> {
  const { values: opts, positionals } = parseCli(args, OPTIONS);
  if (opts.help) {
    out(USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `expected at most one VERSION, got ${positionals.length}`,
    );
  }
  const wanted = positionals[0];
  if (wanted !== undefined && opts.latest) {
    throw new UsageError("give either VERSION or --latest, not both");
  }
  const root = resolve(opts.root ?? Deno.cwd());
  const dryRun = opts["dry-run"] ?? false;
  const json = opts.json ?? false;
  const frontend = deps.frontend ?? chooseFrontend({ yes: opts.yes ?? false });

  // 1. What the main package pins today.
  const pkgPath = `${root}/${MAIN_PACKAGE}`;
  const pkgText = await readTextIfExists(pkgPath);
  if (pkgText === undefined) {
    throw new KitError(
      `${MAIN_PACKAGE} not found under "${root}": pass --root DIR`,
    );
  }
  const main = readMainPackage(pkgText, MAIN_PACKAGE);

  // 2. The release to move to.
  const apiBase = githubApiUrl();
  info(`Listing tags of ${main.owner}/${main.repo} …`);
  const tags = sortVersionTags(await listTags(apiBase, main.owner, main.repo));
  if (tags.length === 0) {
    throw new KitError(`${main.owner}/${main.repo} has no version tags`);
  }
  const target = await chooseTag(
    tags,
    wanted,
    opts.latest ?? false,
    main,
    frontend,
  );
  const kind = bumpKind(main.version, target.version);
  if (kind === "same") {
    info(
      `${main.pname} is already at ${main.version} (${MAIN_PACKAGE}): nothing to do`,
    );
    if (json) {
      out(
        JSON.stringify(
          { status: "up-to-date", version: main.version },
          null,
          2,
        ),
      );
    }
    return 0;
  }
  if (kind === "downgrade" && !opts["allow-downgrade"]) {
    throw new KitError(
      `${target.version} is older than the current ${main.version}: refusing to downgrade (pass --allow-downgrade)`,
    );
  }

  // 3. Both archives, once each through the cache; the new one's NAR hash.
  const web = githubUrl();
  const newArchive = await fetchUrlCached(
    archiveUrl(web, main.owner, main.repo, target.tag),
  );
  const hash = toSri(await narHashArchive(newArchive));
  info(`NAR hash of ${target.tag}: ${hash}`);
  let oldArchive: string | undefined;
  try {
    oldArchive = await fetchUrlCached(
      archiveUrl(web, main.owner, main.repo, main.rev),
    );
    const oldHash = toSri(await narHashArchive(oldArchive));
    if (oldHash !== main.hash) {
      warn(
        `the archive of ${main.rev} hashes to ${oldHash}, not ${main.hash} as ${MAIN_PACKAGE} says: its requirements may not be what was packaged`,
      );
    }
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    warn(
      `cannot read the current release ${main.rev}: ${e.message}; diffing against nothing`,
    );
  }

  // 4. The requirements diff, classified, and the actions it calls for.
  const newReqs = await requirementsOf(newArchive, target.tag);
  const oldReqs = oldArchive ? await requirementsOf(oldArchive, main.rev) : [];
  const changes = toChanges(diffRequirements(oldReqs, newReqs));
  const planned = await planActions(
    changes,
    root,
    pkgText,
    runnersFor(root, frontend, json),
  );

  // 5. The edits: comfyui.nix, the manifest pin, and the comfyui.nix parts of the actions.
  let nextPkg = rewriteMainPackage(
    pkgText,
    main,
    { version: target.version, tag: target.tag, hash },
    MAIN_PACKAGE,
  );
  const manifestPath = `${root}/${FLOX_MANIFEST}`;
  const manifestText = await readTextIfExists(manifestPath);
  let nextManifest = manifestText;
  if (manifestText !== undefined) {
    for (const pin of findFloxPins(manifestText, main.pname, FLOX_MANIFEST)) {
      nextManifest = setTomlString(
        nextManifest!,
        pin.path,
        repin(pin.version, target.version),
        FLOX_MANIFEST,
      );
    }
  }

  reportChanges(
    changes,
    planned,
    main,
    target,
    hash,
    json,
  );

  // Actions: edits of comfyui.nix's inputs are text; the others fetch and write files.
  const done: {
    action: Action;
    status: "done" | "skipped" | "planned" | "manual" | "failed";
  }[] = [];
  for (const p of planned) {
    if (p.action.kind === "none") continue;
    if (opts["no-actions"]) {
      done.push({ action: p.action, status: "skipped" });
      continue;
    }
    if (p.manual !== undefined) {
      if (!json) info(`to do by hand: ${p.manual}`);
      done.push({ action: p.action, status: "manual" });
      continue;
    }
    if (dryRun) {
      if (p.editMain) nextPkg = p.editMain(nextPkg);
      done.push({ action: p.action, status: "planned" });
      continue;
    }
    const yes = await frontend.confirm({
      key: `action:${p.action.name}`,
      message: `${describeAction(p.action)}?`,
      default: true,
      flag: "--yes",
    });
    if (!yes) {
      done.push({ action: p.action, status: "skipped" });
      continue;
    }
    try {
      if (p.run) await p.run();
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      warn(`${describeAction(p.action)}: failed: ${e.message}`);
      done.push({ action: p.action, status: "failed" });
      continue;
    }
    if (p.editMain) nextPkg = p.editMain(nextPkg);
    done.push({ action: p.action, status: "done" });
  }

  const edits: { file: string; before: string; after: string }[] = [
    { file: MAIN_PACKAGE, before: pkgText, after: nextPkg },
  ];
  if (manifestText !== undefined && nextManifest !== manifestText) {
    edits.push({
      file: FLOX_MANIFEST,
      before: manifestText,
      after: nextManifest!,
    });
  }

  if (dryRun) {
    for (const e of edits) {
      const d = unifiedDiff(e.before, e.after, `a/${e.file}`, `b/${e.file}`);
      if (json) continue;
      out(d.trimEnd());
    }
    if (json) {
      out(JSON.stringify(
        resultJson(
          planned.map((p) => p.source),
          main,
          target,
          hash,
          changes,
          done,
          edits,
          true,
        ),
        null,
        2,
      ));
    }
    info("dry run: nothing written");
    return 0;
  }

  for (const e of edits) await atomicWrite(`${root}/${e.file}`, e.after);
  const files = edits.map((e) => e.file);
  // Actions write package files and vendored sources too: commit those with the bump.
  const staged =
    done.some((d) =>
        d.status === "done" && d.action.kind !== "add-input" &&
        d.action.kind !== "remove-input"
      )
      ? [...files, ".flox/pkgs", ".flox/sources", "sources-manifest.json"]
      : files;
  if (json) {
    out(
      JSON.stringify(
        resultJson(
          planned.map((p) => p.source),
          main,
          target,
          hash,
          changes,
          done,
          edits,
          false,
        ),
        null,
        2,
      ),
    );
  } else {
    out(
      `${main.pname} ${main.version} → ${target.version}: wrote ${
        files.join(", ")
      }`,
    );
    out("Next:");
    for (const c of nextCommands(target.version, [...new Set(staged)])) {
      out(`  ${c}`);
    }
  }
  const failed = done.filter((d) => d.status === "failed");
  if (failed.length) {
    throw new KitError(
      `${failed.length} action(s) failed (${
        failed.map((f) => f.action.name).join(", ")
      }): the bump itself was written; carry them out by hand`,
    );
  }
  return 0;
}

async function chooseTag(
  tags: VersionTag[],
  wanted: string | undefined,
  latest: boolean,
  main: MainPackage,
  frontend: Frontend,
): Promise<VersionTag> {
  if (wanted !== undefined) {
    const t = findTag(tags, wanted);
    if (t) return t;
    const near = nearestTags(tags, wanted).map((t) => t.tag).join(", ");
    throw new KitError(
      `${main.owner}/${main.repo} has no release "${wanted}": nearest are ${near}`,
    );
  }
  const newest = latestTag(tags)!;
  if (latest) return newest;
  const choice = await frontend.select({
    key: "version",
    message: `ComfyUI release (current ${main.version})`,
    choices: tags.slice(0, 30).map((t) => ({
      name: `${t.tag}${t.version === main.version ? " (current)" : ""}${
        t.prerelease ? " (pre-release)" : ""
      }`,
      value: t.tag,
    })),
    default: newest.tag,
    flag: "VERSION or --latest",
  });
  return tags.find((t) => t.tag === choice)!;
}

/** Classifies every changed package (repository files first, then nixpkgs) and plans actions. */
async function planActions(
  changes: ReqChange[],
  root: string,
  pkgText: string,
  runners: ActionRunners,
): Promise<PlannedAction[]> {
  if (changes.length === 0) return [];
  const local = `${root}/nixpkgs-index.json`;
  const nixpkgs = await openNixpkgs(
    await exists(local) ? { indexFile: local } : {},
  );
  info(`nixpkgs: ${nixpkgs.describe}`);
  const refs = changes.map((c) => {
    const r = c.change === "removed" ? c.old : c.new;
    const pin = pinnedVersion(r.specifier);
    return {
      name: c.name,
      specifier: r.specifier,
      ...(pin ? { version: pin } : {}),
    };
  });
  const classes = await classify(refs, { root, nixpkgs });
  const sources = new Map<string, Source>();
  changes.forEach((c, i) =>
    sources.set(c.name, toSource(classes[i]!, refs[i]!.specifier))
  );
  const plans = planFromSources(changes, sources, pkgText, runners);
  // The vendored file of a custom package's old version goes once nothing else uses it.
  for (const [i, p] of plans.entries()) {
    const cls = classes[i]!;
    if (
      p.action.kind === "update-custom" && cls.status === "custom" && cls.source
    ) {
      p.action.oldFiles = [cls.source.file];
    }
  }
  return plans;
}

/** The file work of the actions: fetch-source's library for new releases of custom packages. */
function runnersFor(
  root: string,
  frontend: Frontend,
  json: boolean,
): ActionRunners {
  return {
    async newPackage(a) {
      const local = `${root}/nixpkgs-index.json`;
      await newPackage({
        target: a.version ? `${a.name}==${a.version}` : a.name,
        root,
        python: PYTHON,
        // We only create a package when nixpkgs' does not do; comfyui.nix is wired here, with
        // the requirement's platform condition, in the same write as the bump.
        inNixpkgs: "package",
        missing: "list",
        wire: false,
        main: `${root}/${MAIN_PACKAGE}`,
        ...(await exists(local) ? { nixpkgsIndex: local } : {}),
        force: false,
        dryRun: false,
        json,
      }, frontend);
    },
    async updateCustom(a) {
      const pin = pinnedVersion(a.to) ??
        (/^[0-9][^\s,<>=!~]*$/.test(a.to) ? a.to : undefined);
      const entry = await vendorPypi({
        root,
        name: a.name,
        ...(pin ? { version: pin } : {}),
      });
      const path = `${root}/${a.pkgFile}`;
      const text = await Deno.readTextFile(path);
      const next = rewriteCustomPackage(text, a.pkgFile, {
        version: entry.version,
        file: entry.file,
        sha256: entry.sha256,
        url: entry.url,
      });
      await atomicWrite(path, next);
      info(`updated ${a.pkgFile} to ${entry.version} (${entry.file})`);
      for (const f of a.oldFiles) {
        if (f !== entry.file) await dropIfUnused(root, f);
      }
    },
  };
}

/** Removes a vendored file and its manifest entry when no package file mentions it any more. */
async function dropIfUnused(root: string, file: string): Promise<void> {
  const pkgs = `${root}/.flox/pkgs`;
  for await (const e of Deno.readDir(pkgs)) {
    if (!e.isFile || !e.name.endsWith(".nix")) continue;
    if ((await Deno.readTextFile(`${pkgs}/${e.name}`)).includes(file)) {
      info(`keeping ${file}: .flox/pkgs/${e.name} still uses it`);
      return;
    }
  }
  const paths = repoPaths(root);
  await using _lock = await acquireLock(paths.lock);
  const m = await readManifest(paths.manifest);
  await writeManifestFiles(paths, {
    ...m,
    sources: m.sources.filter((s) => s.file !== file),
  });
  await Deno.remove(`${paths.sourcesDir}/${file}`).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  info(`dropped ${file} (nothing else uses it)`);
}

function toSource(c: Classification, specifier: string): Source {
  switch (c.status) {
    case "nixpkgs":
      return {
        status: "nixpkgs",
        attr: c.attr,
        version: c.version,
        satisfies: c.satisfies,
      };
    case "custom":
      return {
        status: "custom",
        file: c.file,
        attr: c.attr,
        ...(c.version ? { version: c.version } : {}),
        matches: c.matches ??
          (c.version !== undefined &&
            (!specifier || specifierHolds(c.version, specifier))),
      };
    case "vendored":
      return {
        status: "vendored",
        file: c.entry.file,
        version: c.entry.version,
      };
    case "missing":
      return { status: "missing", fix: c.fix };
  }
}

async function requirementsOf(archive: string, rev: string) {
  const entries = await readArchive(archive);
  const file = entries.find((e) => /^[^/]+\/requirements\.txt$/.test(e.path));
  if (!file || file.data === undefined) {
    throw new KitError(`the archive of ${rev} has no requirements.txt`);
  }
  return parseRequirementsTxt(
    new TextDecoder().decode(file.data),
    `${rev}/requirements.txt`,
  );
}

function reportChanges(
  changes: ReqChange[],
  planned: PlannedAction[],
  main: MainPackage,
  target: VersionTag,
  hash: string,
  json: boolean,
) {
  if (json) return;
  info(
    `${main.pname} ${main.version} → ${target.version} (${target.tag}, ${hash})`,
  );
  if (changes.length === 0) {
    out("requirements.txt: unchanged");
    return;
  }
  out("requirements.txt:");
  changes.forEach((c, i) =>
    out(`  ${describeChange(c)}  [${describeSource(planned[i]!.source)}]`)
  );
  out("actions:");
  for (const p of planned) out(`  ${describeAction(p.action)}`);
}

function resultJson(
  sources: Source[],
  main: MainPackage,
  target: VersionTag,
  hash: string,
  changes: ReqChange[],
  done: { action: Action; status: string }[],
  edits: { file: string; before: string; after: string }[],
  dryRun: boolean,
) {
  return {
    status: dryRun ? "dry-run" : "bumped",
    from: main.version,
    to: target.version,
    tag: target.tag,
    hash,
    requirements: changes.map((c, i) => ({ ...c, source: sources[i] })),
    actions: done.map((d) => ({
      ...d.action,
      status: d.status,
      description: describeAction(d.action),
    })),
    files: edits.filter((e) => e.before !== e.after).map((e) => ({
      file: e.file,
      diff: unifiedDiff(e.before, e.after, `a/${e.file}`, `b/${e.file}`),
    })),
  };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
