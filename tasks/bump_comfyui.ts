// bump-comfyui: move the main package (.flox/pkgs/comfyui.nix) to another ComfyUI release in one
// step. Lists the release tags (GitHub tags API, newest first by version), downloads the new and
// the current archives once each through the cache, computes the new NAR hash itself (no fakeHash
// round trip), diffs and classifies requirements.txt, offers the follow-up actions, then rewrites
// comfyui.nix (version, rev/tag, hash) text-preserving; nothing else in it changes.
//
//   deno task bump-comfyui --latest --dry-run
//
// Needs: network to $COMFYKIT_GITHUB_API_URL / $COMFYKIT_GITHUB_URL (and PyPI for actions that
// fetch wheels), read/write of the repository and $COMFYKIT_CACHE_DIR, env for the endpoints.
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import {
  checkWriteAccess,
  PKGS_DIR,
  resolveRoot,
  ROOT_HELP,
  SOURCES_DIR,
  SOURCES_MANIFEST,
} from "../lib/repo/paths.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { atomicWrite, exists, readTextIfExists } from "../lib/kit/fsutil.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import { toSri } from "../lib/hash/sha256.ts";
import {
  archiveUrl,
  githubApiUrl,
  githubUrl,
  listTags,
} from "../lib/net/github.ts";
import {
  bumpKind,
  latestTag,
  nextCommands,
  pickTag,
  sortVersionTags,
  toChanges,
  type VersionTag,
} from "../lib/bump/plan.ts";
import {
  archiveRequirements,
  MAIN_PACKAGE,
  type MainPackage,
  readMainPackage,
  rewriteMainPackage,
} from "../lib/repo/main_package.ts";
import { narHashArchive } from "../lib/archive/read.ts";
import { diffRequirements } from "../lib/python/requirements.ts";
import { type ActionRunners, DEFAULT_PYTHON } from "../lib/bump/actions.ts";
import {
  carryOutActions,
  planActions,
  updateCustomPackage,
} from "../lib/bump/apply.ts";
import {
  bumpJson,
  changeLines,
  editDiff,
  type FileEdit,
} from "../lib/bump/report.ts";
import { fetchUrlCached } from "../lib/repo/vendor.ts";
import { openNixpkgsForFlag } from "../lib/nix/nixpkgs.ts";
import { chooseFrontend, type Frontend } from "../lib/kit/prompt.ts";
import { newPackage } from "../lib/new_package/run.ts";

export const USAGE = `Usage: deno task bump-comfyui [VERSION] [options]

Bumps .flox/pkgs/comfyui.nix to another ComfyUI release: version, rev/tag and the NAR hash
(computed here), nothing else in the file; shows how requirements.txt
changed and offers the follow-up actions (new wheels, new packages, dependency list edits).

VERSION is a release tag or its version (v0.3.76 or 0.3.76); without it the tags are listed,
newest first, to pick from.

Options:
  --latest              take the newest release without asking
  --dry-run             print the diff of every file and the requirements diff; write nothing
  -y, --yes             carry out every follow-up action without asking
  --no-actions          only rewrite the pins of comfyui.nix
  --allow-downgrade     allow moving to an older release
  --python X.Y          target Python for requirement markers (default ${DEFAULT_PYTHON})
  --nixpkgs-index FILE  look names up in this offline nixpkgs index only (default: Nix or
                        flox when present, else the repository's nixpkgs-index.json)
  --json                print the result as JSON on stdout
  --root DIR            ${ROOT_HELP}
  -h, --help            show this help

Environment: COMFYKIT_GITHUB_API_URL, COMFYKIT_GITHUB_URL, COMFYKIT_PYPI_URL, COMFYKIT_CACHE_DIR,
COMFYKIT_MIRRORS, GITHUB_TOKEN.

Examples:
  deno task bump-comfyui                     # pick a release from the list
  deno task bump-comfyui --latest --dry-run  # what would change
  deno task bump-comfyui 0.3.76 --yes        # bump and carry out every action

Exit status: 0 done (or nothing to do), 1 bad input or failure, 2 usage error, 130 cancelled.`;

const OPTIONS = {
  latest: { type: "boolean" },
  "dry-run": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "no-actions": { type: "boolean" },
  "allow-downgrade": { type: "boolean" },
  python: { type: "string" },
  "nixpkgs-index": { type: "string" },
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
  // Something like v0.3.7x is a mistyped release (the error lists the nearest ones); a word is not.
  if (wanted !== undefined && !/^[vV]?\d/.test(wanted)) {
    throw new UsageError(
      `"${wanted}" is not a version: give one like 0.3.76 or v0.3.76`,
    );
  }
  const python = opts.python ?? DEFAULT_PYTHON;
  if (!/^\d+\.\d+(\.\d+)?$/.test(python)) {
    throw new UsageError(
      `--python "${python}" is not a Python version like 3.12`,
    );
  }
  const root = await resolveRoot(opts.root);
  const indexFlag = opts["nixpkgs-index"] !== undefined
    ? argPath(opts["nixpkgs-index"])
    : undefined;
  const dryRun = opts["dry-run"] ?? false;
  if (!dryRun) {
    // One line before any question or download when this run may not write the root.
    await checkWriteAccess(
      root,
      [`${root}/.flox`, `${root}/${SOURCES_MANIFEST}`],
      "the task may write only the current repository's .flox/ and sources-manifest.json; run it from the repository --root names (cd DIR && deno task bump-comfyui …), or add --dry-run",
    );
  }
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
  info(`Listing tags of ${main.owner}/${main.repo} …`);
  const tags = sortVersionTags(
    await listTags(githubApiUrl(), main.owner, main.repo),
  );
  if (tags.length === 0) {
    throw new KitError(`${main.owner}/${main.repo} has no version tags`);
  }
  const target = wanted !== undefined
    ? pickTag(tags, wanted, `${main.owner}/${main.repo}`)
    : await chooseTag(tags, opts.latest ?? false, main, frontend);
  const kind = bumpKind(main.version, target.version);
  if (kind === "same") {
    info(
      `${main.pname} is already at ${main.version} (${MAIN_PACKAGE}): nothing to do`,
    );
    if (json) {
      out(JSON.stringify(
        { status: "up-to-date", version: main.version },
        null,
        2,
      ));
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
  const newReqs = await archiveRequirements(newArchive, target.tag);
  const oldReqs = oldArchive
    ? await archiveRequirements(oldArchive, main.rev)
    : [];
  const changes = toChanges(diffRequirements(oldReqs, newReqs));
  const localIndex = `${root}/nixpkgs-index.json`;
  const fallbackIndex = await exists(localIndex) ? localIndex : undefined;
  let planned: Awaited<ReturnType<typeof planActions>> = [];
  if (changes.length > 0) {
    const nixpkgs = await openNixpkgsForFlag(indexFlag, fallbackIndex);
    info(`nixpkgs: ${nixpkgs.describe}`);
    planned = await planActions(changes, {
      root,
      pkgText,
      nixpkgs,
      python,
      runners: runnersFor(root, frontend, {
        json,
        python,
        nixpkgsIndex: indexFlag ?? fallbackIndex,
      }),
    });
  }

  // 5. The edits: comfyui.nix's pins and the comfyui.nix parts of the actions.
  if (!json) {
    info(
      `${main.pname} ${main.version} → ${target.version} (${target.tag}, ${hash})`,
    );
    for (const line of changeLines(changes, planned)) out(line);
  }
  const { text: nextPkg, outcomes } = await carryOutActions(
    planned,
    rewriteMainPackage(
      pkgText,
      main,
      { version: target.version, tag: target.tag, hash },
      MAIN_PACKAGE,
    ),
    { frontend, dryRun, noActions: opts["no-actions"] ?? false, quiet: json },
  );
  const edits: FileEdit[] = [
    { file: MAIN_PACKAGE, before: pkgText, after: nextPkg },
  ];
  const result = () =>
    bumpJson({
      main,
      target,
      hash,
      changes,
      sources: planned.map((p) => p.source),
      outcomes,
      edits,
      dryRun,
    });

  if (dryRun) {
    if (json) out(JSON.stringify(result(), null, 2));
    else for (const e of edits) out(editDiff(e).trimEnd());
    info("dry run: nothing written");
    return 0;
  }

  for (const e of edits) await atomicWrite(`${root}/${e.file}`, e.after);
  const files = edits.map((e) => e.file);
  // Actions write package files and vendored sources too: commit those with the bump.
  const staged =
    outcomes.some((d) =>
        d.status === "done" && d.action.kind !== "add-input" &&
        d.action.kind !== "remove-input"
      )
      ? [...files, PKGS_DIR, SOURCES_DIR, SOURCES_MANIFEST]
      : files;
  if (json) {
    out(JSON.stringify(result(), null, 2));
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
  const failed = outcomes.filter((d) => d.status === "failed");
  if (failed.length) {
    throw new KitError(
      `${failed.length} action(s) failed (${
        failed.map((f) => f.action.name).join(", ")
      }): the bump itself was written; carry them out by hand`,
    );
  }
  return 0;
}

/** Asks which release to move to (newest by default), or takes the newest with --latest. */
async function chooseTag(
  tags: VersionTag[],
  latest: boolean,
  main: MainPackage,
  frontend: Frontend,
): Promise<VersionTag> {
  const newest = latestTag(tags)!;
  if (latest) return newest;
  const choice = await frontend.select({
    key: "version",
    message: `${main.repo} release (current ${main.version})`,
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

/** The file work of the actions: fetch-source's library and new-package's walkthrough. */
function runnersFor(
  root: string,
  frontend: Frontend,
  opts: { json: boolean; python: string; nixpkgsIndex: string | undefined },
): ActionRunners {
  return {
    async newPackage(a) {
      await newPackage({
        target: a.version ? `${a.name}==${a.version}` : a.name,
        root,
        python: opts.python,
        // We only create a package when nixpkgs' does not do; comfyui.nix is wired here, with
        // the requirement's platform condition, in the same write as the bump.
        inNixpkgs: "package",
        missing: "list",
        wire: false,
        main: `${root}/${MAIN_PACKAGE}`,
        ...(opts.nixpkgsIndex ? { nixpkgsIndex: opts.nixpkgsIndex } : {}),
        force: false,
        dryRun: false,
        json: opts.json,
      }, frontend);
    },
    updateCustom: (a) => updateCustomPackage(root, a),
  };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
