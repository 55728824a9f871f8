// bump-comfyui's workflow: what comfyui.nix pins, the release to move to (GitHub tags, newest
// first by version), both releases' archives read once each through the cache (NAR hash and
// requirements.txt), the requirements diff classified into actions, the actions confirmed and
// run, and every file change — comfyui.nix's pins, the actions' package files, vendored
// sources, manifest and SHA256SUMS.txt — staged in one Changeset, applied all
// together at the end (or shown as a diff in a dry run). tasks/bump_comfyui.ts prints the result.
import { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists, tempDir } from "../kit/fsutil.ts";
import { info, out, warn } from "../kit/log.ts";
import { type Frontend, ScriptedFrontend } from "../kit/prompt.ts";
import { githubApiUrl, listTags } from "../net/github.ts";
import {
  latestTag,
  sortVersionTags,
  type VersionTag,
} from "../python/versions.ts";
import { diffRequirements } from "../python/requirements.ts";
import { openNixpkgsForFlag } from "../nix/nixpkgs.ts";
import {
  type BumpTarget,
  MAIN_PACKAGE,
  type MainPackage,
  readMainPackage,
  rewriteMainPackage,
} from "../repo/main_package.ts";
import { PKGS_DIR, SOURCES_DIR, SOURCES_MANIFEST } from "../repo/paths.ts";
import { readMainRelease, sameHash } from "../repo/main_archive.ts";
import { applyWithSourcesLock } from "../repo/staged_sources.ts";
import { nixpkgsIndexFor } from "../repo/paths.ts";
import { newPackage } from "../new_package/run.ts";
import {
  bumpKind,
  nextCommands,
  pickTag,
  type ReqChange,
  toChanges,
} from "./plan.ts";
import { type ActionRunners, type PlannedAction } from "./actions.ts";
import { type ActionOutcome, carryOutActions, planActions } from "./apply.ts";
import { prepareCustomUpdate } from "./custom.ts";
import { bumpJson, changeLines } from "./report.ts";

export { DEFAULT_PYTHON } from "./actions.ts";

/** What to bump to and how (the task's flags, validated). */
interface BumpOptions {
  root: string;
  /** A tag or version; undefined: `latest`, or ask. */
  wanted?: string | undefined;
  latest: boolean;
  dryRun: boolean;
  noActions: boolean;
  allowDowngrade: boolean;
  python: string;
  nixpkgsIndex?: string | undefined;
  json: boolean;
  frontend: Frontend;
}

/** What a bump did (or would do). */
export type BumpOutcome =
  | { status: "up-to-date"; version: string }
  | {
    status: "dry-run" | "bumped";
    pname: string;
    from: string;
    to: string;
    /** The object `--json` prints. */
    json: ReturnType<typeof bumpJson>;
    /** The diff of every file the bump changes (or would change). */
    diff: string;
    /** The files written, relative to the root. */
    wrote: string[];
    /** The commands to run next (empty when an action failed). */
    next: string[];
    /** The names of the actions that failed (their files are not written). */
    failed: string[];
  };

/** Moves the main package to another release; see BumpOptions. */
export async function bumpComfyui(opts: BumpOptions): Promise<BumpOutcome> {
  const { root } = opts;
  const pkgText = await readTextIfExists(`${root}/${MAIN_PACKAGE}`);
  if (pkgText === undefined) {
    throw new KitError(
      `${MAIN_PACKAGE} not found under "${root}": pass --root DIR`,
    );
  }
  const main = readMainPackage(pkgText, MAIN_PACKAGE);
  const target = await chooseTarget(main, opts);
  const kind = bumpKind(main.version, target.version);
  if (kind === "same") {
    info(
      `${main.pname} is already at ${main.version} (${MAIN_PACKAGE}): nothing to do`,
    );
    return { status: "up-to-date", version: main.version };
  }
  if (kind === "downgrade" && !opts.allowDowngrade) {
    throw new KitError(
      `${target.version} is older than the current ${main.version}: refusing to downgrade (pass --allow-downgrade)`,
    );
  }

  // Both releases, once each through the cache; the new one's NAR hash is the new pin.
  const next = await readMainRelease(main, target.tag);
  info(`NAR hash of ${target.tag}: ${next.hash}`);
  const oldReqs = await currentRequirements(main);
  const changes = toChanges(diffRequirements(oldReqs, next.requirements));
  // New packages' downloads, read when the bump applies its one Changeset.
  await using scratch = await tempDir("comfykit-bump-");
  const planned = await planFor(changes, pkgText, opts, scratch.path);
  if (!opts.json) {
    info(
      `${main.pname} ${main.version} → ${target.version} (${target.tag}, ${next.hash})`,
    );
    for (const line of changeLines(changes, planned)) out(line);
  }

  const cs = new Changeset(root);
  const bumped = stagePins(cs, pkgText, main, {
    version: target.version,
    tag: target.tag,
    hash: next.hash,
  });
  const { text: finalPkg, outcomes } = await carryOutActions(planned, bumped, {
    frontend: opts.frontend,
    dryRun: opts.dryRun,
    noActions: opts.noActions,
    quiet: opts.json,
    changes: cs,
  });
  cs.write(MAIN_PACKAGE, finalPkg);

  const diffs = await cs.diffs();
  const wrote = opts.dryRun
    ? []
    : (await applyWithSourcesLock(cs)).map((a) => a.path);
  const failed = outcomes.filter((d) => d.status === "failed")
    .map((d) => d.action.name);
  return {
    status: opts.dryRun ? "dry-run" : "bumped",
    pname: main.pname,
    from: main.version,
    to: target.version,
    json: bumpJson({
      main,
      target,
      hash: next.hash,
      changes,
      sources: planned.map((p) => p.source),
      outcomes,
      files: diffs.map((d) => ({ file: d.path, diff: d.diff })),
      dryRun: opts.dryRun,
    }),
    diff: diffs.map((d) => d.diff).join(""),
    wrote,
    next: failed.length || opts.dryRun ? [] : nextCommands(
      target.version,
      gitPaths(wrote, outcomes),
      removedCustom(outcomes),
    ),
    failed,
  };
}

/**
 * Stages comfyui.nix's new pins first (so its diff comes first; the Flox manifest does not
 * install comfyui, so it has no pin to follow); returns the new text, for the actions to edit.
 */
function stagePins(
  cs: Changeset,
  pkgText: string,
  main: MainPackage,
  target: BumpTarget,
): string {
  const bumped = rewriteMainPackage(pkgText, main, target, MAIN_PACKAGE);
  cs.write(MAIN_PACKAGE, bumped);
  return bumped;
}

/** The packages of our own comfyui.nix stopped taking (remove-package's candidates). */
function removedCustom(outcomes: readonly ActionOutcome[]): string[] {
  return outcomes.flatMap((d) =>
    d.status === "done" && d.action.kind === "remove-input" && d.action.custom
      ? [d.action.attr]
      : []
  );
}

/** The release to move to: VERSION, the newest with --latest, else the user's choice. */
async function chooseTarget(
  main: MainPackage,
  opts: BumpOptions,
): Promise<VersionTag> {
  const repo = `${main.owner}/${main.repo}`;
  info(`Listing tags of ${repo} …`);
  const tags = sortVersionTags(
    await listTags(githubApiUrl(), main.owner, main.repo, {
      // A slow or rate-limited API is retried: say what is being waited for.
      onRetry: (m) => info(`waiting for GitHub's tags of ${repo}: ${m}`),
    }),
  );
  if (tags.length === 0) throw new KitError(`${repo} has no version tags`);
  if (opts.wanted !== undefined) return pickTag(tags, opts.wanted, repo);
  const newest = latestTag(tags)!;
  if (opts.latest) return newest;
  const choice = await opts.frontend.select({
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

/** The current release's requirements; none (with a warning) when it cannot be read. */
async function currentRequirements(main: MainPackage) {
  try {
    const old = await readMainRelease(main, main.rev);
    if (!sameHash(old.hash, main.hash)) {
      warn(
        `the archive of ${main.rev} hashes to ${old.hash}, not ${main.hash} as ${MAIN_PACKAGE} says: its requirements may not be what was packaged`,
      );
    }
    return old.requirements;
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    warn(
      `cannot read the current release ${main.rev}: ${e.message}; diffing against nothing`,
    );
    return [];
  }
}

/** Classifies the changed packages and plans an action for each. */
async function planFor(
  changes: readonly ReqChange[],
  pkgText: string,
  opts: BumpOptions,
  scratchDir: string,
): Promise<PlannedAction[]> {
  if (changes.length === 0) return [];
  const fallback = nixpkgsIndexFor(opts.root);
  const nixpkgs = await openNixpkgsForFlag(opts.nixpkgsIndex, fallback);
  info(`nixpkgs: ${nixpkgs.describe}`);
  return await planActions(changes, {
    root: opts.root,
    pkgText,
    nixpkgs,
    python: opts.python,
    runners: runnersFor(opts, opts.nixpkgsIndex ?? fallback, scratchDir),
  });
}

/** The file work of the actions: fetch-source's library and new-package's walkthrough. */
function runnersFor(
  opts: BumpOptions,
  nixpkgsIndex: string | undefined,
  scratchDir: string,
): ActionRunners {
  const { root } = opts;
  return {
    async newPackage(a, ctx) {
      // Staged with the bump, not applied on its own: Ctrl-C or a failure before the bump's
      // one apply leaves no new package behind. A dry run previews and stages nothing.
      const own = ctx.changes.fork();
      await newPackage(
        {
          target: a.version ? `${a.name}==${a.version}` : a.name,
          root,
          python: opts.python,
          // We only create a package when nixpkgs' does not do; comfyui.nix is wired here, with
          // the requirement's platform condition, in the same write as the bump.
          inNixpkgs: "package",
          missing: "list",
          wire: false,
          main: `${root}/${MAIN_PACKAGE}`,
          ...(nixpkgsIndex ? { nixpkgsIndex } : {}),
          force: false,
          dryRun: ctx.dryRun,
          json: opts.json,
          changeset: own,
          scratchDir,
          // A dry run previews the package new-package would write with its default answers.
        },
        ctx.dryRun
          ? new ScriptedFrontend({}, { useDefaults: true })
          : opts.frontend,
      );
      if (!ctx.dryRun) own.commit();
    },
    updateCustom: (a, ctx) => prepareCustomUpdate(root, a, ctx.dryRun),
  };
}

/** What to `git add`: the files written, and what new-package wrote beside them. */
function gitPaths(
  wrote: readonly string[],
  outcomes: readonly ActionOutcome[],
): string[] {
  const created = outcomes.some((d) =>
    d.status === "done" && d.action.kind === "new-package"
  );
  return [
    ...new Set([
      ...wrote,
      ...(created ? [PKGS_DIR, SOURCES_DIR, SOURCES_MANIFEST] : []),
    ]),
  ];
}
