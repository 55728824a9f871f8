// The release plan: its steps in an order that never tags a build that fails, each one
// idempotent so a rerun continues where a failure stopped. A step returns what it did ("done …"
// or why it had nothing to do) and throws a KitError when it fails.
import { capture } from "../kit/command.ts";
import { KitError } from "../kit/errors.ts";
import { verifyRepo } from "../verify/run.ts";
import { FLOX_LOCK } from "../repo/paths.ts";
import { perform } from "./exec.ts";
import {
  branch,
  changedBetween,
  dirty,
  head,
  published,
  recordPublished,
  RELEASE_PATHS,
  snapshot,
  staged,
  tagCommit,
} from "./git.ts";

/** What the plan is made from. */
export interface ReleaseContext {
  root: string;
  version: string;
  /** `v<version>`. */
  tag: string;
  /** The main package's attribute (comfyui): the commit and tag messages name it. */
  main: string;
  /** The packages built and published, in order (RELEASED_PACKAGES). */
  packages: string[];
  /** Custom packages published after them (with --with-deps): the ones they need. */
  deps: string[];
  org?: string | undefined;
  remote: string;
  /** The checked-out branch, when known at plan time (for the plan's text). */
  branch?: string | undefined;
  push: boolean;
  gitOnly: boolean;
  /** Uncommitted changes to .flox/ and the manifest go into the release commit. */
  includeChanges: boolean;
  /** What the build was given (set by the add step): only the lock may change until verify. */
  built?: Map<string, string> | undefined;
  /** What verify passed (set by the verify step): the commit step commits exactly this. */
  verified?: Map<string, string> | undefined;
  /** The commit the release made or found (set by the commit step): the tag and push use it. */
  released?: string | undefined;
}

/** One step of the plan. */
export interface Step {
  id: string;
  /** The command it runs, as a person would type it. */
  title: string;
  /** A tool it needs besides git. */
  needs?: "flox";
  run(): Promise<string>;
}

/** The steps for `ctx`, in order. */
export function planSteps(ctx: ReleaseContext): Step[] {
  const steps: Step[] = [stageStep(ctx)];
  if (!ctx.gitOnly) {
    for (const [i, name] of ctx.packages.entries()) {
      const argv = ["flox", "build", name];
      steps.push({
        id: ctx.packages.length === 1 ? "build" : `build:${name}`,
        title: argv.join(" "),
        needs: "flox",
        run: async () => {
          // The first build locks the environment: the next ones must see that lock tracked.
          if (i > 0) await git(ctx.root, ["add", "--", ...RELEASE_PATHS]);
          await perform(argv, ctx.root);
          return `built ${name}`;
        },
      });
    }
  }
  steps.push({
    id: "verify",
    title:
      "verify (deno task verify --release, less the tag this release makes)",
    run: () => verifyStep(ctx),
  });
  steps.push(...commitSteps(ctx));
  if (!ctx.push) return steps;
  steps.push(pushStep(ctx));
  if (ctx.gitOnly || ctx.org === undefined) return steps;
  return [...steps, ...publishSteps(ctx, ctx.org)];
}

/**
 * Stage the release's files before the build: Flox builds only what git tracks, so a source
 * bump-comfyui or fetch-source has just vendored must be in the index first.
 */
function stageStep(ctx: ReleaseContext): Step {
  return {
    id: "add",
    title: `git add -- ${RELEASE_PATHS.join(" ")}`,
    run: async () => {
      await git(ctx.root, ["add", "--", ...RELEASE_PATHS]);
      ctx.built = await snapshot(ctx.root, RELEASE_PATHS);
      return `staged ${RELEASE_PATHS.join(" and ")}`;
    },
  };
}

/** Commit what verify passed, tag the commit. */
function commitSteps(ctx: ReleaseContext): Step[] {
  const { root, tag } = ctx;
  const message = `${ctx.main}: ${ctx.version}`;
  return [{
    id: "commit",
    title: `git commit -m "${message}" -- ${
      RELEASE_PATHS.join(" ")
    } (what verify passed; only if something changed)`,
    run: async () => {
      await unchangedSinceVerify(ctx);
      await git(root, ["add", "--", ...RELEASE_PATHS]);
      if (!(await staged(root, RELEASE_PATHS))) {
        ctx.released = await head(root);
        return "nothing staged";
      }
      // With the paths, only the release's files are committed, whatever else is staged.
      await git(root, ["commit", "-m", message, "--", ...RELEASE_PATHS]);
      ctx.released = await head(root);
      return `committed ${ctx.released.slice(0, 12)}`;
    },
  }, {
    id: "tag",
    title:
      `git tag -a ${tag} -m "${ctx.main} ${ctx.version}" (skipped when it points at HEAD)`,
    run: async () => {
      const at = await tagCommit(root, tag);
      const now = await headIsReleased(ctx);
      if (at === now) return `${tag} already points at HEAD`;
      if (at !== undefined) throw tagElsewhere(tag, at, now);
      await git(root, ["tag", "-a", tag, "-m", `${ctx.main} ${ctx.version}`]);
      return `tagged ${tag}`;
    },
  }];
}

/**
 * HEAD, when it is still the release's commit; a KitError when it moved after the commit step (a
 * commit made between --step prompts would be tagged and pushed unverified).
 */
async function headIsReleased(ctx: ReleaseContext): Promise<string> {
  const now = await head(ctx.root);
  if (ctx.released === undefined) {
    throw new KitError("The release commit was not made in this run");
  }
  if (now !== ctx.released) {
    throw new KitError(
      `HEAD moved since the release commit ${ctx.released.slice(0, 12)} (now ${
        now.slice(0, 12)
      }): the release tags and pushes only what was built and verified; run the release again`,
    );
  }
  return now;
}

/** Refuses a commit of anything verify did not see (an edit made after it, --step or not). */
async function unchangedSinceVerify(ctx: ReleaseContext): Promise<void> {
  if (!ctx.verified) {
    throw new KitError("Verify has not passed in this run: nothing to commit");
  }
  const changed = changedBetween(
    ctx.verified,
    await snapshot(ctx.root, RELEASE_PATHS),
  );
  if (changed.length) {
    throw new KitError(
      `Changed since verify passed: ${
        changed.join(", ")
      }: the release commits only what was built and verified; run the release again`,
    );
  }
}

/**
 * Push the current branch and the one tag the release made, both or neither (`--atomic`): no
 * other local tag is published, and a tag origin refuses leaves the branch unpushed too.
 */
function pushStep(ctx: ReleaseContext): Step {
  return {
    id: "push",
    title: `git push --atomic ${ctx.remote} ${
      ctx.branch ?? "<branch>"
    } refs/tags/${ctx.tag}`,
    run: async () => {
      const b = await branch(ctx.root);
      if (!b) {
        throw new KitError("HEAD is detached: check out the release branch");
      }
      await headIsReleased(ctx);
      await git(ctx.root, [
        "push",
        "--atomic",
        ctx.remote,
        `refs/heads/${b}`,
        `refs/tags/${ctx.tag}`,
      ]);
      return `pushed ${b} and ${ctx.tag} to ${ctx.remote}`;
    },
  };
}

/** Publish the main package and its dependencies to `org`, each once per tagged commit. */
function publishSteps(ctx: ReleaseContext, org: string): Step[] {
  const { root, tag } = ctx;
  return [...ctx.packages, ...ctx.deps].map((name) => {
    const argv = ["flox", "publish", "-o", org, name];
    return {
      id: `publish:${name}`,
      title: argv.join(" "),
      needs: "flox" as const,
      run: async () => {
        const commit = await head(root);
        if ((await published(root, tag, commit)).includes(name)) {
          return `${name} was published by an earlier run`;
        }
        await perform(argv, root);
        await recordPublished(root, tag, commit, name);
        return `published ${name} to ${org}`;
      },
    };
  });
}

/** The refusal to move an existing tag. */
export function tagElsewhere(tag: string, at: string, now: string): KitError {
  return new KitError(
    `Tag ${tag} already points at ${at.slice(0, 12)}, not HEAD ${
      now.slice(0, 12)
    }: a release never moves a tag; bump the version, or move the tag yourself`,
  );
}

async function git(root: string, args: string[]): Promise<void> {
  await perform(["git", ...args], root);
}

/**
 * Without --include-changes, uncommitted changes to the release's files are refused, save the
 * lock file `flox build` writes.
 */
export async function refuseUncommitted(
  ctx: Pick<ReleaseContext, "root" | "includeChanges">,
  suffix = "",
): Promise<void> {
  if (ctx.includeChanges) return;
  const left = (await dirty(ctx.root, RELEASE_PATHS)).filter((p) =>
    p !== FLOX_LOCK
  );
  if (left.length) {
    throw new KitError(
      `Uncommitted changes: ${
        left.join(", ")
      }: commit them first, or pass --include-changes to make them part of the release commit${suffix}`,
    );
  }
}

/**
 * verify's checklist (errors stop the release) and its release check of a clean tree, less the
 * tag (the release makes it) and less the lock file `flox build` has just written. With
 * includeChanges the maintainer's uncommitted changes are allowed too: they go into the commit.
 * What it passed is recorded, so the commit step can refuse anything changed after it.
 */
async function verifyStep(ctx: ReleaseContext): Promise<string> {
  const findings = await verifyRepo({
    root: ctx.root,
    release: false,
    runCommand: (cmd, args, cwd) => capture(cmd, args, { cwd }),
  });
  const errors = findings.filter((f) => f.level === "error");
  if (errors.length) {
    const first = errors[0]!;
    throw new KitError(
      `Verify found ${errors.length} error${
        errors.length === 1 ? "" : "s"
      }, first ${
        first.where ? `${first.where}: ` : ""
      }${first.message}: run "deno task verify" and fix them`,
    );
  }
  await refuseUncommitted(ctx);
  const now = await snapshot(ctx.root, RELEASE_PATHS);
  // What verify checked must be what flox build was given: only the lock it writes may differ.
  const changed = ctx.built
    ? changedBetween(ctx.built, now).filter((p) => p !== FLOX_LOCK)
    : [];
  if (changed.length) {
    throw new KitError(
      `Changed since the build started: ${
        changed.join(", ")
      }: the release commits only what was built and verified; run the release again`,
    );
  }
  ctx.verified = now;
  const warnings = findings.filter((f) => f.level === "warning").length;
  return `${findings.length - warnings} checks passed, ${warnings} warning${
    warnings === 1 ? "" : "s"
  }`;
}
