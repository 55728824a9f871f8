// update-nixpkgs-index: regenerate the offline nixpkgs index (nixpkgs-index.json) by evaluating
// a real nixpkgs with Nix, so that new-package / freeze-deps / bump-comfyui can answer "is it in
// nixpkgs, at which version?" on machines without Nix.
//
// Example:
//   COMFYKIT_NIXPKGS=~/src/nixpkgs deno task update-nixpkgs-index
//   deno task update-nixpkgs-index --nixpkgs ~/src/nixpkgs --add pandas --dry-run
//
// Needs: nix-instantiate (and nix-env for --all), a nixpkgs ($COMFYKIT_NIXPKGS, --nixpkgs PATH or
// a <nixpkgs> channel), git to read the revision of a checkout without .git-revision.
// Permissions: --allow-read, --allow-write (the index), --allow-run, --allow-env.
import { argPath, parseCli, runTask } from "../lib/kit/cli.ts";
import { capture } from "../lib/kit/command.ts";
import { KitError, UsageError } from "../lib/kit/errors.ts";
import { atomicWrite, readTextIfExists } from "../lib/kit/fsutil.ts";
import { info, out, warn } from "../lib/kit/log.ts";
import {
  DEFAULT_INDEX_FILE,
  findNixpkgs,
  nixEvalVersions,
  type NixpkgsIndex,
  onPath,
  parseNixEnvJson,
  parseNixpkgsIndex,
  serializeNixpkgsIndex,
} from "../lib/nix/nixpkgs.ts";
import { shrinkProblem } from "../lib/nix/nixpkgs_index.ts";

const USAGE = `Usage: deno task update-nixpkgs-index [options]

Regenerates nixpkgs-index.json (python3Packages attribute -> version) from a real nixpkgs,
evaluated with nix-instantiate. By default the attributes already in the index are refreshed.

Options:
  --nixpkgs PATH     nixpkgs to evaluate (default: $COMFYKIT_NIXPKGS, else <nixpkgs>)
  --index FILE       index file to write (default: nixpkgs-index.json at the repository root)
  --add ATTR         also index this python3Packages attribute (repeatable)
  --all              index every python3Packages attribute (nix-env -qaP --json; slow, large)
  --rev REV          nixpkgs commit to record (default: .git-revision or git rev-parse HEAD)
  --channel NAME     channel name to record (e.g. nixos-25.05)
  --force            write an index that drops most of the old attributes
  --dry-run          print what would change on stdout, write nothing
  --json             print the new index on stdout
  -h, --help         show this help
`;

/** Entry point. */
export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      nixpkgs: { type: "string" },
      index: { type: "string" },
      add: { type: "string", multiple: true },
      all: { type: "boolean" },
      rev: { type: "string" },
      channel: { type: "string" },
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE.trimEnd());
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`);
    }
    if (values.rev !== undefined && !/^[0-9a-f]{40}$/.test(values.rev)) {
      throw new UsageError(`--rev "${values.rev}" is not a 40-hex commit`);
    }
    for (const a of values.add ?? []) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(a)) {
        throw new UsageError(`--add "${a}" is not an attribute name`);
      }
    }

    const indexFile = values.index !== undefined
      ? argPath(values.index)
      : DEFAULT_INDEX_FILE;
    if (!values["dry-run"]) await checkWritable(indexFile);

    if (!onPath("nix-instantiate")) {
      throw new KitError(
        "nix-instantiate not found: the index can only be regenerated where Nix is installed (apt-get install nix-bin, or https://nixos.org/download)",
      );
    }
    const nixpkgs = values.nixpkgs !== undefined
      ? argPath(values.nixpkgs)
      : findNixpkgs();
    if (nixpkgs === undefined) {
      throw new KitError(
        "no nixpkgs to evaluate: pass --nixpkgs PATH or set COMFYKIT_NIXPKGS to a nixpkgs checkout (NIX_PATH has no nixpkgs and there is no channel)",
      );
    }
    const nixpkgsDir = nixpkgs === "<nixpkgs>"
      ? await findFile("nixpkgs")
      : nixpkgs;
    try {
      await Deno.stat(nixpkgsDir);
    } catch {
      throw new KitError(`nixpkgs "${nixpkgsDir}" does not exist`);
    }

    const oldText = await readTextIfExists(indexFile);
    const old = oldText === undefined
      ? undefined
      : parseNixpkgsIndex(oldText, indexFile);

    const rev = values.rev ?? await nixpkgsRevision(nixpkgsDir);
    const date = await commitDate(nixpkgsDir, rev);

    let versions: Record<string, string>;
    if (values.all) {
      versions = await allPython3Packages(nixpkgsDir);
    } else {
      const wanted = [
        ...new Set([
          ...Object.keys(old?.python3Packages ?? {}),
          ...(values.add ?? []),
        ]),
      ].sort();
      if (wanted.length === 0) {
        throw new UsageError(
          `no attributes to index: "${indexFile}" is empty or missing; pass --add ATTR or --all`,
        );
      }
      info(`evaluating ${wanted.length} python3Packages attributes …`);
      const got = await nixEvalVersions(nixpkgsDir, wanted);
      versions = {};
      const absent: string[] = [];
      for (const a of wanted) {
        const v = got[a];
        if (v) versions[a] = v;
        else absent.push(a);
      }
      if (absent.length > 0) {
        warn(
          `not in this nixpkgs (or broken), left out: ${absent.join(", ")}`,
        );
      }
    }

    const index: NixpkgsIndex = {
      description:
        `Generated by "deno task update-nixpkgs-index" on ${today()}: python3Packages.<attr>.version evaluated with ${
          values.all ? "nix-env -qaP --json" : "nix-instantiate --eval"
        } from the nixpkgs revision below. Regenerate with the same task.`,
      nixpkgs: { rev, date, channel: values.channel ?? null },
      python3Packages: versions,
    };
    const text = serializeNixpkgsIndex(index);

    const dryRun = values["dry-run"] ?? false;
    // A dry run's result is the diff: on stdout (with --json, stdout is the index).
    const show = dryRun && !values.json ? out : info;
    for (const line of diffLines(old?.python3Packages ?? {}, versions)) {
      show(line);
    }
    if (values.json) out(text.trimEnd());
    const shrink = shrinkProblem(old?.python3Packages ?? {}, versions);
    if (dryRun) {
      if (shrink) warn(shrink.replace(/: was the right.*/, ""));
      show(
        `dry run: would write ${indexFile} with ${
          Object.keys(versions).length
        } attributes from nixpkgs ${rev.slice(0, 12)} (nothing written)`,
      );
      return 0;
    }
    if (shrink && !values.force) throw new KitError(`${indexFile}: ${shrink}`);
    await atomicWrite(indexFile, text);
    info(
      `wrote ${indexFile}: ${
        Object.keys(versions).length
      } attributes from nixpkgs ${rev.slice(0, 12)}`,
    );
    return 0;
  });
}

/** Lines describing how the attribute → version map changes. */
export function diffLines(
  before: Record<string, string>,
  after: Record<string, string>,
): string[] {
  const lines: string[] = [];
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort();
  for (const n of names) {
    const a = before[n];
    const b = after[n];
    if (a === b) continue;
    if (a === undefined) lines.push(`+ ${n} ${b}`);
    else if (b === undefined) lines.push(`- ${n} ${a}`);
    else lines.push(`~ ${n} ${a} -> ${b}`);
  }
  return lines;
}

/** Runs a tool, echoing it; a missing tool reads as a failure that says so. */
async function run(
  cmd: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await capture(cmd, args, { echo: true });
  if (!r) return { ok: false, stdout: "", stderr: `${cmd} not found` };
  return { ok: r.success, stdout: r.stdout, stderr: r.stderr };
}

async function findFile(name: string): Promise<string> {
  const r = await run("nix-instantiate", ["--find-file", name]);
  if (!r.ok) {
    throw new KitError(`<${name}> not found: ${r.stderr.trim()}`);
  }
  return r.stdout.trim();
}

/**
 * Refuses, in one line and before Nix runs, an index file this process may not write (deno.json
 * scopes the task's --allow-write to the repository); on a terminal Deno asks first.
 */
async function checkWritable(path: string): Promise<void> {
  const { state } = await Deno.permissions.request({ name: "write", path });
  if (state !== "granted") {
    throw new KitError(
      `no write access to "${path}": the task may write only inside the repository; choose an --index there, or add --dry-run --json and redirect stdout`,
    );
  }
}

/** The nixpkgs commit: `.git-revision` (channels, tarballs) or `git rev-parse HEAD` (checkouts). */
async function nixpkgsRevision(dir: string): Promise<string> {
  const file = (await readTextIfExists(`${dir}/.git-revision`))?.trim();
  if (file && /^[0-9a-f]{40}$/.test(file)) return file;
  if (file !== undefined) {
    throw new KitError(
      `"${dir}/.git-revision" holds ${
        JSON.stringify(file.slice(0, 60))
      }, not a 40-hex commit: fix it, or pass --rev COMMIT`,
    );
  }
  const r = await run("git", ["-C", dir, "rev-parse", "HEAD"]);
  const rev = r.stdout.trim();
  if (r.ok && /^[0-9a-f]{40}$/.test(rev)) return rev;
  throw new KitError(
    `cannot tell which nixpkgs revision "${dir}" is (no .git-revision, not a git checkout): pass --rev COMMIT`,
  );
}

async function commitDate(dir: string, rev: string): Promise<string | null> {
  if (!(await readTextIfExists(`${dir}/.git/HEAD`))) return null;
  const r = await run("git", [
    "-C",
    dir,
    "show",
    "-s",
    "--format=%cs",
    rev,
  ]);
  const d = r.stdout.trim();
  return r.ok && /^\d{4}-\d{2}-\d{2}$/.test(d) ? d : null;
}

/** Every python3Packages attribute with a version, via `nix-env -qaP --json`. */
async function allPython3Packages(
  dir: string,
): Promise<Record<string, string>> {
  const r = await run("nix-env", [
    "-qaP",
    "--json",
    "-f",
    dir,
    "-A",
    "python3Packages",
  ]);
  if (!r.ok) {
    throw new KitError(
      `nix-env could not list python3Packages: ${
        r.stderr.trim().split("\n").slice(-3).join(" / ")
      }`,
    );
  }
  return parseNixEnvJson(r.stdout);
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
