// Applying planned edits in memory (file by file, each edit re-parsed) and writing the result all
// or nothing: every target is checked writable first, and a failed write restores what was
// already written (lib/kit/changeset.ts).
import { dirname } from "node:path";
import { KitError } from "../kit/errors.ts";
import { unifiedDiff } from "../kit/diff.ts";
import { Changeset } from "../kit/changeset.ts";
import { parseNix } from "../nix/parse.ts";
import type { Action } from "./plan.ts";

/** A file whose text the actions change. */
interface Changed {
  abs: string;
  file: string;
  before: string;
  after: string;
  diff: string;
}

export interface Applied {
  changed: Changed[];
  /** Actions whose edit failed (turned into advice on the action). */
  failed: Action[];
}

/**
 * Runs every action's edit on its file's text; an edit that throws, or changes nothing (the fix
 * is already there), becomes that action's advice.
 */
export function applyActions(actions: Action[]): Applied {
  const texts = new Map<
    string,
    { file: string; before: string; now: string }
  >();
  const failed: Action[] = [];
  for (const a of actions) {
    const edit = a.edit;
    if (!edit) continue;
    const t = edit.target;
    const cur = texts.get(t.abs) ??
      { file: t.file, before: t.text, now: t.text };
    try {
      const next = edit.apply(cur.now);
      if (next === cur.now) {
        // Already there, yet the build failed on it: the name does not give what it needs.
        a.advice =
          `${edit.describe}: it is already there, yet the build still fails on it: the package under that name does not provide what the build looks for (check its nixpkgs name; pythonRemoveDeps or "deno task new-package" for one of its own)`;
        a.edit = undefined;
        failed.push(a);
        continue;
      }
      cur.now = next;
      texts.set(t.abs, cur);
    } catch (e) {
      if (!(e instanceof KitError)) throw e;
      a.advice = `the edit (${edit.describe}) failed: ${e.message}`;
      a.edit = undefined;
      failed.push(a);
    }
  }
  const changed: Changed[] = [];
  for (const [abs, t] of texts) {
    if (t.now === t.before) continue;
    changed.push({
      abs,
      file: t.file,
      before: t.before,
      after: t.now,
      diff: unifiedDiff(t.before, t.now, `a/${t.file}`, `b/${t.file}`),
    });
  }
  return { changed, failed };
}

/**
 * Writes every changed file, or none (lib/kit/changeset.ts: checked writable first, a failed
 * write or an interrupt restores what was written). A file changed on disk since it was read,
 * or one this task may not write, is refused before anything is written.
 */
export async function writeAll(
  root: string,
  changed: Changed[],
): Promise<void> {
  const cs = new Changeset(root);
  for (const c of changed) {
    try {
      (await Deno.open(c.abs, { write: true })).close();
    } catch (e) {
      throw writeError(c.file, c.abs, e);
    }
    if (await Deno.readTextFile(c.abs) !== c.before) {
      throw new KitError(
        `${c.file} changed on disk while fix-build was reading the log; nothing written, run again`,
      );
    }
    parseNix(c.after, c.file);
    cs.write(c.abs, c.after);
  }
  await cs.apply();
}

function writeError(file: string, abs: string, e: unknown): unknown {
  if (e instanceof Deno.errors.NotCapable) {
    return new KitError(
      `No permission to write "${file}": deno task fix-build may write only to this repository's .flox/pkgs; nothing written (for another --root run "deno run --allow-read --allow-env --allow-run=flox,nix-instantiate --allow-write=${
        dirname(abs)
      } tasks/fix_build.ts …")`,
    );
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new KitError(
      `Cannot write "${file}": permission denied; nothing written`,
    );
  }
  return e;
}
