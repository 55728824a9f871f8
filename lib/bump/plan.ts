// The pure stages of bump-comfyui: the release chosen (tag ordering is lib/python/versions.ts),
// downgrade detection, nearest versions for an unknown tag, and the actions a requirements diff
// calls for. Strings in, plain data out; lib/bump/run.ts does the I/O.
import { compare } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";
import { tagVersion, type VersionTag } from "../python/versions.ts";
import { normalizeName } from "../python/names.ts";
import { markerToString, type Requirement } from "../python/pep508.ts";
import type { RequirementsDiff } from "../python/requirements.ts";

/** Direction of a bump from `current` to `target`. */
type BumpKind = "same" | "upgrade" | "downgrade";

/** Compares versions by PEP 440 order. */
export function bumpKind(current: string, target: string): BumpKind {
  const c = compare(target, current);
  return c === 0 ? "same" : c > 0 ? "upgrade" : "downgrade";
}

/**
 * Finds the tag the user asked for: `0.3.76`, `v0.3.76` or the exact tag name. Returns
 * undefined when no tag matches.
 */
export function findTag(
  sorted: readonly VersionTag[],
  wanted: string,
): VersionTag | undefined {
  const exact = sorted.find((t) => t.tag === wanted);
  if (exact) return exact;
  const v = tagVersion(wanted);
  if (v === undefined) return undefined;
  return sorted.find((t) => compare(t.version, v) === 0);
}

/**
 * The `n` tags nearest to `wanted`: for a version, its neighbours in version order (the closest
 * below and above it); for anything else, the most similar names.
 */
export function nearestTags(
  sorted: readonly VersionTag[],
  wanted: string,
  n = 3,
): VersionTag[] {
  const v = tagVersion(wanted);
  if (v !== undefined) {
    // Ascending order, then expand from the insertion point by rank distance.
    const asc = [...sorted].reverse();
    let pos = asc.findIndex((t) => compare(t.version, v) > 0);
    if (pos < 0) pos = asc.length;
    let lo = pos - 1, hi = pos;
    const picked: VersionTag[] = [];
    while (picked.length < n && (lo >= 0 || hi < asc.length)) {
      const takeLo = hi >= asc.length ||
        (lo >= 0 && pos - 1 - lo <= hi - pos);
      picked.push(takeLo ? asc[lo--]! : asc[hi++]!);
    }
    return picked.sort((a, b) => compare(b.version, a.version));
  }
  return [...sorted]
    .map((t) => ({
      t,
      d: levenshtein(t.tag.toLowerCase(), wanted.toLowerCase()),
    }))
    .sort((a, b) => a.d - b.d || compare(b.t.version, a.t.version))
    .slice(0, n)
    .map((x) => x.t);
}

/**
 * The tag `wanted` names (see `findTag`); a KitError listing the nearest versions when `repo`
 * (`owner/name`, for the message) has no such release.
 */
export function pickTag(
  sorted: readonly VersionTag[],
  wanted: string,
  repo: string,
): VersionTag {
  const t = findTag(sorted, wanted);
  if (t) return t;
  const near = nearestTags(sorted, wanted).map((t) => t.tag).join(", ");
  throw new KitError(
    `${repo} has no release "${wanted}": nearest are ${near}`,
  );
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Requirements diff → actions

/** One requirement as bump-comfyui sees it (a subset of lib/python/requirements.ts' Requirement). */
interface Req {
  name: string;
  specifier: string;
  /** The environment marker as written, e.g. `sys_platform == "linux"`. */
  marker?: string;
}

/** One line of the requirements diff. */
export type ReqChange =
  | { change: "added"; name: string; new: Req }
  | { change: "removed"; name: string; old: Req }
  | { change: "changed"; name: string; old: Req; new: Req };

/** The requirements diff as a list: changed first, then added, then removed (file order within). */
export function toChanges(d: RequirementsDiff): ReqChange[] {
  const req = (r: Requirement): Req => ({
    name: r.name,
    specifier: r.specifier,
    ...(r.marker ? { marker: markerToString(r.marker) } : {}),
  });
  return [
    ...d.changed.map((c): ReqChange => ({
      change: "changed",
      name: normalizeName(c.name),
      old: req(c.old),
      new: req(c.new),
    })),
    ...d.added.map((r): ReqChange => ({
      change: "added",
      name: normalizeName(r.name),
      new: req(r),
    })),
    ...d.removed.map((r): ReqChange => ({
      change: "removed",
      name: normalizeName(r.name),
      old: req(r),
    })),
  ];
}

/** Where a package comes from today (what lib/repo/classify.ts reports, flattened). */
export type Source =
  | { status: "nixpkgs"; attr: string; version: string; satisfies: boolean }
  | {
    status: "custom";
    /** Repository-relative path of its .nix file. */
    file: string;
    attr: string;
    version?: string;
    matches: boolean;
  }
  | { status: "vendored"; file: string; version: string }
  | { status: "missing"; fix?: string };

/** What to do about one requirement change. */
export type Action =
  | {
    kind: "update-custom";
    name: string;
    from?: string;
    to: string;
    /** The custom package file to rewrite (version and src). */
    pkgFile: string;
    /** Vendored files of the old version (dropped if nothing else uses them). */
    oldFiles: string[];
  }
  | {
    kind: "new-package";
    name: string;
    version?: string;
    specifier: string;
    /** Also add it to comfyui.nix once created (true for added requirements). */
    addInput: boolean;
    marker?: string;
    /** Why a package of our own is needed. */
    reason?: string;
  }
  | {
    kind: "add-input";
    name: string;
    attr: string;
    custom: boolean;
    marker?: string;
  }
  | { kind: "remove-input"; name: string; attr: string; custom: boolean }
  | { kind: "none"; name: string; reason: string };

/** The exact version a specifier pins (`==1.32.1` → `1.32.1`), if any. */
export function pinnedVersion(specifier: string): string | undefined {
  const m = /^\s*===?\s*([^\s,*]+)\s*$/.exec(specifier);
  return m?.[1];
}

/** Decides the action for one requirement change, given where the package comes from. */
export function actionFor(c: ReqChange, src: Source): Action {
  const name = normalizeName(c.name);
  if (c.change === "removed") {
    if (src.status === "nixpkgs") {
      return { kind: "remove-input", name, attr: src.attr, custom: false };
    }
    if (src.status === "custom") {
      return { kind: "remove-input", name, attr: src.attr, custom: true };
    }
    return { kind: "none", name, reason: "not a dependency of comfyui.nix" };
  }
  const req = c.new;
  const pin = pinnedVersion(req.specifier);
  const marker = req.marker ? { marker: req.marker } : {};
  // A package of our own, wired into comfyui.nix: for a pin nixpkgs misses, or nothing at all.
  const newPackageAction = (reason: string): Action => ({
    kind: "new-package",
    name,
    ...(pin ? { version: pin } : {}),
    specifier: req.specifier,
    addInput: true,
    ...marker,
    reason,
  });
  switch (src.status) {
    case "nixpkgs":
      if (src.satisfies) {
        return c.change === "added"
          ? {
            kind: "add-input",
            name,
            attr: src.attr,
            custom: false,
            ...marker,
          }
          : {
            kind: "none",
            name,
            reason:
              `nixpkgs' ${src.attr} ${src.version} satisfies "${req.specifier}"`,
          };
      }
      return newPackageAction(
        `nixpkgs' ${src.attr} ${src.version} does not satisfy "${req.specifier}"`,
      );
    case "custom":
      if (src.matches && c.change === "changed") {
        return {
          kind: "none",
          name,
          reason: `${src.file} ${
            src.version ?? ""
          } satisfies "${req.specifier}"`.replace("  ", " "),
        };
      }
      if (src.matches) {
        return {
          kind: "add-input",
          name,
          attr: src.attr,
          custom: true,
          ...marker,
        };
      }
      return {
        kind: "update-custom",
        name,
        ...(src.version ? { from: src.version } : {}),
        to: pin ?? req.specifier,
        pkgFile: src.file,
        oldFiles: [],
      };
    case "vendored":
    case "missing":
      return newPackageAction(
        src.status === "vendored"
          ? `${src.file} is vendored but no package file uses it`
          : "not in nixpkgs nor in the repository",
      );
  }
}

/** One line describing an action, as shown before asking to carry it out. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case "update-custom": {
      const drop = a.oldFiles.length
        ? `, drop ${a.oldFiles.join(", ")} if nothing else uses it`
        : "";
      return `${a.name} ${
        a.from ?? "?"
      } → ${a.to}: fetch the new release, update ${a.pkgFile} version and src${drop}`;
    }
    case "new-package":
      return `${a.name}${
        a.version ? ` ${a.version}` : a.specifier ? ` ${a.specifier}` : ""
      }: ` +
        (a.reason ? `${a.reason}: ` : "") +
        `create a package (deno task new-package ${a.name}${
          a.version ? `==${a.version}` : ""
        })` +
        (a.addInput ? " and add it to comfyui.nix" : "");
    case "add-input":
      return `${a.name}: add ${a.attr} to comfyui.nix's dependencies` +
        (a.marker ? ` (only where ${a.marker})` : "");
    case "remove-input":
      return `${a.name}: remove ${a.attr} from comfyui.nix's dependencies` +
        (a.custom
          ? ` (its package file stays: ${
            removePackageCommand(a.attr)
          } drops it)`
          : "");
    case "none":
      return `${a.name}: nothing to do (${a.reason})`;
  }
}

/** Where a package comes from, in a few words: `nixpkgs av 14.4.0, does not satisfy >=99`. */
export function describeSource(src: Source): string {
  switch (src.status) {
    case "nixpkgs":
      return `nixpkgs ${src.attr} ${src.version}${
        src.satisfies ? "" : ", does not satisfy the pin"
      }`;
    case "custom":
      return `custom ${src.file}${src.version ? ` ${src.version}` : ""}${
        src.matches ? "" : ", does not match the pin"
      }`;
    case "vendored":
      return `vendored ${src.file}, no package file`;
    case "missing":
      return "missing";
  }
}

/** Renders a requirement change as one line: `+ name spec`, `- name spec`, `~ name old → new`. */
export function describeChange(c: ReqChange): string {
  const show = (r: Req) =>
    (r.specifier || "(any)") + (r.marker ? ` ; ${r.marker}` : "");
  switch (c.change) {
    case "added":
      return `+ ${c.name} ${show(c.new)}`;
    case "removed":
      return `- ${c.name} ${show(c.old)}`;
    case "changed":
      return `~ ${c.name} ${show(c.old)} → ${show(c.new)}`;
  }
}

/** The command that drops a package of our own nothing needs any more (issue 14's task). */
function removePackageCommand(attr: string): string {
  return `deno task remove-package ${attr}`;
}

/**
 * The commands to run after a successful bump, in the order of README's release steps;
 * `removed` are the packages of our own comfyui.nix no longer takes (their files go first).
 */
export function nextCommands(
  version: string,
  files: readonly string[],
  removed: readonly string[] = [],
): string[] {
  return [
    ...removed.map(removePackageCommand),
    "flox build comfyui",
    `git add ${files.join(" ")}`,
    `git commit -m "comfyui: ${version}"`,
    `git tag v${version}`,
    // --release wants the clean, tagged tree, so it comes after the tag and before the push.
    "deno task verify --release",
    `git push && git push origin v${version}`,
    "flox publish -o <org> comfyui",
  ];
}
