// What removing a custom package changes, staged in a Changeset and nothing written: its
// argument and list entries gone from comfyui.nix and from any custom package that takes it, its
// .flox/pkgs file deleted, its vendored source, manifest entry and checksum line dropped when
// nothing else uses them. Refuses the main package and a package another one still needs.
import { Changeset } from "../kit/changeset.ts";
import { KitError } from "../kit/errors.ts";
import { normalizeName } from "../python/names.ts";
import { readPackageSet, type SetPackage } from "../repo/package_set.ts";
import { unwireText, variableUses } from "../repo/wire.ts";
import {
  isMainVariant,
  packageFile,
  PKGS_DIR,
  sourceFile,
} from "../repo/paths.ts";
import { stageSourceDrop } from "../repo/staged_sources.ts";

/** What to keep. */
export interface RemoveOptions {
  root: string;
  name: string;
  /** Keep the .flox/pkgs file (unwired); its source is kept too, since the file names it. */
  keepFile: boolean;
  /** Keep the vendored source and its manifest entry. */
  keepSource: boolean;
  /** Also unwire NAME from custom packages that still list it as a dependency. */
  force: boolean;
}

/** The staged removal and what it amounts to. */
interface RemovalPlan {
  attr: string;
  file: string;
  changes: Changeset;
  /** Files NAME was unwired from (relative). */
  unwiredFrom: string[];
  /** Vendored files removed (relative). */
  sources: string[];
  /** Manifest entries dropped ("name version (file)"). */
  entries: string[];
  /** Why a source was kept ("… is also used by …"). */
  kept: string[];
}

/** Finds the package NAME names: its attribute (file name), or its pname. */
function findPackage(packages: SetPackage[], name: string): SetPackage {
  const n = normalizeName(name);
  const byAttr = packages.find((p) => p.attr === name) ??
    packages.find((p) => normalizeName(p.attr) === n);
  if (byAttr) return byAttr;
  const byPname = packages.filter((p) =>
    p.pname !== undefined && normalizeName(p.pname) === n
  );
  if (byPname.length > 1) {
    throw new KitError(
      `"${name}" is the pname of ${
        byPname.map((p) => `${p.attr} (${p.file})`).join(" and ")
      }: name the one to remove by its file name`,
    );
  }
  if (byPname[0]) return byPname[0];
  if (isMainVariant(name)) {
    throw new KitError(
      `${name} is a build of the main package (${
        packageFile(name)
      }), not a package of the set: nothing to unwire; git rm the file to drop that build`,
    );
  }
  const names = packages.filter((p) => !p.isMain).map((p) => p.attr);
  throw new KitError(
    `No package "${name}" in ${PKGS_DIR}/: ${
      names.length
        ? `one of: ${names.join(", ")}`
        : "there are no custom packages"
    }`,
  );
}

/** The custom packages that take `attr` as an argument and list it among their dependencies. */
function dependents(packages: SetPackage[], attr: string): SetPackage[] {
  return packages.filter((p) =>
    !p.isMain && p.attr !== attr && p.takes.includes(attr) &&
    [...p.info.lists.entries()].some(([name, l]) =>
      name !== "pythonImportsCheck" &&
      [l.main, ...l.blocks].some((b) => b?.items.some((i) => i.name === attr))
    )
  );
}

/** Stages the removal; a KitError (nothing staged on disk) when it must be refused. */
export async function planRemoval(opts: RemoveOptions): Promise<RemovalPlan> {
  const set = await readPackageSet(opts.root);
  const pkg = findPackage(set.packages, opts.name);
  if (pkg.isMain) {
    throw new KitError(
      `${pkg.attr} is the main package (${pkg.file}): it cannot be removed`,
    );
  }
  const needing = dependents(set.packages, pkg.attr);
  if (needing.length && !opts.force) {
    throw new KitError(
      `${pkg.attr} is still needed by ${
        needing.map((p) => `${p.attr} (${p.file})`).join(", ")
      }: remove ${
        needing.length === 1 ? "it" : "them"
      } first, or pass --force to unwire ${pkg.attr} from ${
        needing.length === 1 ? "it" : "them"
      } too`,
    );
  }
  const cs = new Changeset(opts.root);
  const plan: RemovalPlan = {
    attr: pkg.attr,
    file: pkg.file,
    changes: cs,
    unwiredFrom: [],
    sources: [],
    entries: [],
    kept: [],
  };
  // Only files that take it as an argument refer to our package; a bare name in another file's
  // `with python3.pkgs; [ … ]` is nixpkgs' package of that name and stays.
  for (const p of set.packages) {
    if (
      p.attr === pkg.attr || !p.info.formals.some((f) => f.name === pkg.attr)
    ) continue;
    const after = unwireText(p.text, pkg.attr, p.file);
    const left = variableUses(after, pkg.attr, p.file);
    if (left.length) {
      throw new KitError(
        `${p.file}:${
          left[0]
        }: still uses "${pkg.attr}" after unwiring: edit that line by hand, then run again`,
      );
    }
    cs.write(p.target, after);
    plan.unwiredFrom.push(p.file);
  }
  if (!opts.keepFile) cs.remove(pkg.file);
  if (!opts.keepFile && !opts.keepSource && pkg.source?.kind === "vendored") {
    const file = pkg.source.file;
    const drop = await stageSourceDrop(cs, file);
    if (drop.usedBy.length) {
      plan.kept.push(
        `${sourceFile(file)} is also used by ${drop.usedBy.join(", ")}`,
      );
    }
    if (drop.removed) plan.sources.push(drop.removed);
    plan.entries.push(...drop.entries);
  }
  return plan;
}
