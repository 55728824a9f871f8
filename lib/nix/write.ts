// Writing an edited .nix file: re-parsed, refused if the file changed on disk meanwhile, atomic,
// with its unified diff (lib/kit/diff.ts); nothing written with dryRun.

import { KitError } from "../kit/errors.ts";
import { atomicWrite } from "../kit/fsutil.ts";
import { parseNix } from "./parse.ts";
import { unifiedDiff } from "../kit/diff.ts";

/** Result of writing an edited file. */
interface WriteResult {
  changed: boolean;
  diff: string;
  before: string;
  after: string;
}

/**
 * Writes `after` to `path` if it differs from `before`: re-parses it, checks the file on disk
 * still holds `before`, then writes atomically. With `dryRun` only the diff is computed.
 */
export async function writeNixFile(
  path: string,
  before: string,
  after: string,
  opts: { dryRun?: boolean; displayPath?: string } = {},
): Promise<WriteResult> {
  const shown = opts.displayPath ?? path;
  if (before === after) return { changed: false, diff: "", before, after };
  parseNix(after, shown);
  const diff = unifiedDiff(before, after, `a/${shown}`, `b/${shown}`);
  if (!opts.dryRun) {
    const now = await Deno.readTextFile(path);
    if (now !== before) {
      throw new KitError(
        `${shown} changed on disk while it was being edited; run again`,
      );
    }
    await atomicWrite(path, after);
  }
  return { changed: true, diff, before, after };
}
