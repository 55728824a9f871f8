// deno task release, the workflow: work out the plan (lib/release/steps.ts), show it, check what
// it needs before anything runs (git, the branch and remote, flox, a tag already elsewhere),
// confirm, then run the steps in order. A failing step stops the release with the step named
// and what is done listed; a rerun continues, since every step is idempotent.
//
//   const r = await release({ root, org: "acme", remote: "origin", push: true, gitOnly: false,
//     withDeps: false, includeChanges: false, dryRun: false, step: false, fe });
import { KitError, UsageError } from "../kit/errors.ts";
import { info, out } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import { onPath } from "../kit/command.ts";
import { readMainPackage } from "../repo/main_package.ts";
import { neededBy, readPackageSet } from "../repo/package_set.ts";
import {
  isMainVariant,
  MAIN_ATTR,
  MAIN_VARIANTS,
  packageFile,
  repoPaths,
} from "../repo/paths.ts";
import { exists } from "../kit/fsutil.ts";
import { acquireReleaseLock } from "./lock.ts";
import {
  branch,
  hasRemote,
  head,
  modifiedTracked,
  RELEASE_PATHS,
  remoteTagCommit,
  tagCommit,
  validTagName,
} from "./git.ts";
import {
  planSteps,
  refuseUncommitted,
  type ReleaseContext,
  type Step,
  tagElsewhere,
} from "./steps.ts";

/**
 * The packages a release builds and publishes, in order, with the same tag: the one place to
 * add a package (comfyui-cuda). `--with-deps` adds the custom packages these need.
 */
const RELEASED_PACKAGES: readonly string[] = [
  MAIN_ATTR,
  // The variant builds (comfyui-cuda) are offered on Linux only (their meta.platforms).
  ...(Deno.build.os === "linux" ? MAIN_VARIANTS : []),
];

/** Options of {@link release}. */
interface ReleaseOptions {
  root: string;
  org?: string | undefined;
  remote: string;
  push: boolean;
  gitOnly: boolean;
  withDeps: boolean;
  includeChanges: boolean;
  dryRun: boolean;
  /** Confirm each step rather than the plan. */
  step: boolean;
  /** The caller prints JSON on stdout: the plan goes to stderr. */
  json: boolean;
  fe: Frontend;
}

/** What happened to each step. */
interface ReleaseResult {
  version: string;
  tag: string;
  steps: { id: string; title: string; outcome: string }[];
  /** "released", "planned" (dry run) or "cancelled". */
  status: "released" | "planned" | "cancelled";
}

/** Plans and runs the release. */
export async function release(opts: ReleaseOptions): Promise<ReleaseResult> {
  const ctx = await context(opts);
  const steps = planSteps(ctx);
  const result: ReleaseResult = {
    version: ctx.version,
    tag: ctx.tag,
    steps: [],
    status: "planned",
  };
  const show = opts.json ? info : out;
  show(`Release ${ctx.main} ${ctx.version} (${ctx.tag}):`);
  steps.forEach((s, i) => show(`  ${i + 1}. ${s.title}`));
  if (opts.dryRun) return result;
  await head(ctx.root);
  await using _lock = await acquireReleaseLock(ctx.root);
  await preflight(ctx, steps);
  if (!opts.step) {
    const go = await opts.fe.confirm({
      key: "release",
      flag: "--yes",
      message: `Run these ${steps.length} steps?`,
      default: true,
    });
    if (!go) return { ...result, status: "cancelled" };
  }
  const done: string[] = [];
  for (const [i, s] of steps.entries()) {
    if (opts.step) {
      const go = await opts.fe.confirm({
        key: `step:${s.id}`,
        flag: "--yes",
        message: `Step ${i + 1}: ${s.title}?`,
        default: true,
      });
      if (!go) {
        info(stopped(i, s, done, "stopped at your answer"));
        return { ...result, status: "cancelled" };
      }
    }
    info(`\n[${i + 1}/${steps.length}] ${s.title}`);
    let outcome: string;
    try {
      outcome = await s.run();
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      throw new KitError(stopped(i, s, done, e.message));
    }
    info(`  ${outcome}`);
    result.steps.push({ id: s.id, title: s.title, outcome });
    done.push(`${s.id} (${outcome})`);
  }
  return { ...result, status: "released" };
}

function stopped(i: number, s: Step, done: string[], why: string): string {
  return `Release stopped at step ${i + 1} (${s.title}): ${why}; done: ${
    done.length ? done.join(", ") : "nothing"
  }; run the release again to continue`;
}

async function context(opts: ReleaseOptions): Promise<ReleaseContext> {
  const publishing = opts.push && !opts.gitOnly;
  if (publishing && opts.org === undefined) {
    throw new UsageError(
      "--org is required to publish: pass --org ORG, or --git-only / --no-push to stop before publishing",
    );
  }
  if (opts.withDeps && !publishing) {
    throw new UsageError(
      "--with-deps publishes: it cannot go with --git-only or --no-push",
    );
  }
  const set = await readPackageSet(opts.root);
  const byAttr = new Map(set.packages.map((p) => [p.attr, p]));
  // A variant is no package of the set (readPackageSet leaves it out): released when its
  // file is there.
  const released: string[] = [];
  for (const name of RELEASED_PACKAGES) {
    if (isMainVariant(name)) {
      if (await exists(`${repoPaths(opts.root).root}/${packageFile(name)}`)) {
        released.push(name);
      }
      continue;
    }
    released.push(name);
    if (!byAttr.has(name)) {
      throw new KitError(
        `${packageFile(name)} not found under "${opts.root}": pass --root DIR`,
      );
    }
  }
  const mainPkg = byAttr.get(MAIN_ATTR)!;
  const main = readMainPackage(mainPkg.text, mainPkg.file);
  const tag = `v${main.version}`;
  // Checked before anything runs: git would refuse the tag only after the commit.
  if (!(await validTagName(tag, opts.root))) {
    throw new KitError(
      `${mainPkg.file}: version "${main.version}" makes "${tag}", which git does not accept as a tag name (git check-ref-format): fix the version (nothing was done)`,
    );
  }
  return {
    root: opts.root,
    version: main.version,
    tag,
    main: mainPkg.attr,
    packages: released,
    // Only what the released packages need: a package in .flox/pkgs/ that nothing wires in
    // (it may not even build) is not published.
    deps: opts.withDeps ? neededBy(set, released) : [],
    org: opts.org,
    remote: opts.remote,
    branch: await branch(opts.root).catch(() => undefined),
    push: opts.push,
    gitOnly: opts.gitOnly,
    includeChanges: opts.includeChanges,
  };
}

/** Everything the plan needs, checked before its first step, so nothing is half-done. */
async function preflight(ctx: ReleaseContext, steps: Step[]): Promise<void> {
  const now = await head(ctx.root);
  const first = steps.findIndex((s) => s.needs === "flox");
  if (first >= 0 && !onPath("flox")) {
    throw new KitError(
      `flox is not installed: step ${first + 1} (${
        steps[first]!.title
      }) needs it; install flox, or pass --git-only to run the git steps only (nothing was done)`,
    );
  }
  if (ctx.push) {
    if (!(await branch(ctx.root))) {
      throw new KitError(
        "HEAD is detached: check out the release branch (nothing was done)",
      );
    }
    if (!(await hasRemote(ctx.root, ctx.remote))) {
      throw new KitError(
        `git has no remote "${ctx.remote}": pass --remote NAME, or --no-push (nothing was done)`,
      );
    }
  }
  const at = await tagCommit(ctx.root, ctx.tag);
  if (at !== undefined && at !== now) throw tagElsewhere(ctx.tag, at, now);
  if (ctx.push) {
    // Someone else's v<version> on the remote would stop the push after the commit and tag.
    const there = await remoteTagCommit(ctx.root, ctx.remote, ctx.tag);
    if (there !== undefined && there !== at) {
      throw new KitError(
        `Tag ${ctx.tag} already exists on ${ctx.remote} at ${
          there.slice(0, 12)
        }, not as the local tag: a release never moves a tag; if it is this release's, fetch it (git fetch ${ctx.remote} tag ${ctx.tag}), else bump the version (nothing was done)`,
      );
    }
  }
  await refuseUncommitted(ctx, " (nothing was done)");
  if (steps.some((s) => s.id.startsWith("publish:"))) {
    // flox publish wants every tracked file clean; the release commits only its own paths.
    const inRelease = (p: string) =>
      RELEASE_PATHS.some((r) => p === r || p.startsWith(`${r}/`));
    const other = (await modifiedTracked(ctx.root)).filter((p) =>
      !inRelease(p)
    );
    if (other.length) {
      throw new KitError(
        `Modified tracked files outside the release: ${
          other.join(", ")
        }: flox publish needs a clean tree; commit or stash them (nothing was done)`,
      );
    }
  }
}
