// deno task outdated, the workflow: read the package set and its requirements, ask upstream
// (GitHub tags for ComfyUI and fetchFromGitHub sources, PyPI for the rest) concurrently, and
// check every requirement taken from nixpkgs against nixpkgs' version. A source that cannot be
// reached is reported on its row; nothing here throws for a network failure.
//
//   const report = await outdated({ root, pre: false, offline: false, python: "3.12", jobs: 8,
//     nixpkgs: await openNixpkgs(), env: Deno.env });
import { KitError } from "../kit/errors.ts";
import type { EnvLike } from "../kit/env.ts";
import { normalizeName } from "../python/names.ts";
import type { NixpkgsLookup } from "../nix/nixpkgs_names.ts";
import type { RequestOptions } from "../net/http.ts";
import { Reachability } from "../net/reach.ts";
import { githubApiUrl, githubHeaders, listTags } from "../net/github.ts";
import { fetchReleaseVersions, pypiUrl } from "../net/pypi.ts";
import { readMainPackage } from "../repo/main_package.ts";
import { MAIN_PACKAGE } from "../repo/paths.ts";
import { readPackageSet, type SetPackage } from "../repo/package_set.ts";
import { kindOf } from "../repo/source_kinds/all.ts";
import {
  customRequirements,
  mainRequirements,
  mapLimit,
  pypiName,
} from "./inputs.ts";
import { nixpkgsRows, type Requirer } from "./nixpkgs_rows.ts";
import type { Report, Row } from "./report.ts";
import {
  type Candidate,
  constraintsOn,
  standing,
  tagCandidates,
} from "./versions.ts";

import {
  isNodePack,
  nodeRequirements,
  registryCandidates,
} from "../add_node/run.ts";
import { parseRequirement } from "../python/pep508.ts";
import type { Requirements } from "./inputs.ts";

export type { FailOn, Report, Row } from "./report.ts";
export { fails, renderTable, summary } from "./report.ts";
export { openNixpkgsForFlag } from "../nix/nixpkgs.ts";

/** Options of {@link outdated}. */
interface OutdatedOptions {
  root: string;
  /** Consider pre-releases. */
  pre: boolean;
  /** Only what needs no network: the nixpkgs checks. */
  offline: boolean;
  /** The Python the markers are evaluated for (e.g. "3.12"). */
  python: string;
  /** Lookups at once. */
  jobs: number;
  nixpkgs: NixpkgsLookup;
  env: EnvLike;
  /** Retries and timeouts of every request (tests shrink them). */
  request?: RequestOptions;
  /** Called as each upstream lookup ends: (done, total, name). */
  onProgress?: (done: number, total: number, name: string) => void;
}

/** Builds the report. Bad repository input (a file that does not parse) is a KitError. */
export async function outdated(opts: OutdatedOptions): Promise<Report> {
  const set = await readPackageSet(opts.root);
  const mainPkg = set.packages.find((p) => p.isMain);
  if (!mainPkg) {
    throw new KitError(
      `${MAIN_PACKAGE} not found under "${opts.root}": pass --root DIR`,
    );
  }
  const main = readMainPackage(mainPkg.text, mainPkg.file);
  const customs = set.packages.filter((p) => !p.isMain);
  const warnings: string[] = [];
  // One Reachability for every lookup: the first request to a host that does not resolve or
  // refuses is the check; every other row naming that host says so at once.
  const request: RequestOptions = {
    reach: new Reachability(),
    ...opts.request,
    onRetry: opts.request?.onRetry ?? (() => {}),
  };
  const online = opts.offline
    ? undefined
    : { pypi: pypiUrl(opts.env), request };

  // Upstream lookups start at once; the requirements are read meanwhile.
  const lookups = opts.offline ? undefined : startLookups(opts, main, customs, {
    pypi: pypiUrl(opts.env),
    request,
  });
  const requirers = await gatherRequirers(
    opts,
    main,
    customs,
    online,
    warnings,
  );
  const rows: Row[] = [];
  if (lookups) {
    const [first, ...rest] = await lookups;
    rows.push(mainRow(main.pname, main.version, opts.pre, first!));
    customs.forEach((p, i) =>
      rows.push(customRow(p, requirers, opts, rest[i]!))
    );
    if (rows.every((r) => r.status === "unreachable")) {
      warnings.push(
        `no upstream source could be reached${
          request.reach?.size ? " (no network?)" : ""
        }: check the network (or COMFYKIT_MIRRORS), or pass --offline for the nixpkgs checks alone`,
      );
    }
  }
  const skip = new Set([
    normalizeName(main.pname),
    ...customs.flatMap((p) =>
      [p.attr, p.pname ?? p.attr, pypiName(p) ?? p.attr].map(normalizeName)
    ),
  ]);
  rows.push(...await nixpkgsRows(requirers, skip, opts.nixpkgs, opts.python));
  return {
    rows,
    nixpkgs: opts.nixpkgs.describe,
    warnings: collapseUnreachable(warnings),
  };
}

/** An upstream lookup's result, or why it failed. */
type Fetched =
  | { ok: true; candidates: Candidate[] }
  | { ok: false; error: unknown };

/** Asks upstream for ComfyUI's tags and each custom package's releases, `jobs` at a time. */
function startLookups(
  opts: OutdatedOptions,
  main: { pname: string; owner: string; repo: string },
  customs: SetPackage[],
  online: { pypi: string; request: RequestOptions },
): Promise<Fetched[]> {
  const api = githubApiUrl(opts.env);
  const ghOpts = { ...online.request, headers: githubHeaders(opts.env) };
  const jobs: [string, () => Promise<Candidate[]>][] = [
    [
      main.pname,
      () => listTags(api, main.owner, main.repo, ghOpts).then(tagCandidates),
    ],
    ...customs.map((p): [string, () => Promise<Candidate[]>] => [
      p.attr,
      () => candidatesOf(p, online, api, ghOpts, opts.env),
    ]),
  ];
  let done = 0;
  return mapLimit(jobs, opts.jobs, ([name, f]) =>
    f().then(
      (candidates): Fetched => ({ ok: true, candidates }),
      (error): Fetched => ({ ok: false, error }),
    ).finally(() => opts.onProgress?.(++done, jobs.length, name)));
}

/** Who requires what: ComfyUI and each custom package whose requirements could be read. */
async function gatherRequirers(
  opts: OutdatedOptions,
  main: { pname: string; version: string },
  customs: SetPackage[],
  online: { pypi: string; request: RequestOptions } | undefined,
  warnings: string[],
): Promise<Requirer[]> {
  const [mainReqs, customReqs] = await Promise.all([
    mainRequirements(opts.root, opts.offline),
    mapLimit(
      customs,
      opts.jobs,
      (p) =>
        isNodePack(p.attr)
          ? nodePackRequirements(p)
          : customRequirements(opts.root, p, online),
    ),
  ]);
  const requirers: Requirer[] = [];
  const by = `${main.pname} ${main.version}`;
  if (mainReqs.ok) {
    requirers.push({ by, requirements: mainReqs.requirements });
  } else warnings.push(`requirements of ${by}: ${mainReqs.reason}`);
  customReqs.forEach((r, i) => {
    const p = customs[i]!;
    if (r.ok) requirers.push({ by: label(p), requirements: r.requirements });
    else warnings.push(`requirements of ${label(p)}: ${r.reason}`);
  });
  return requirers;
}

function label(p: SetPackage): string {
  return `${p.pname ?? p.attr} ${p.version ?? "(no version)"}`;
}

/** The candidates of a custom package: GitHub tags, or PyPI's releases (yanked marked). */
async function candidatesOf(
  p: SetPackage,
  online: { pypi: string; request: RequestOptions },
  api: string,
  ghOpts: RequestOptions,
  env: EnvLike,
): Promise<Candidate[]> {
  const gh = githubOf(p);
  if (gh) return tagCandidates(await listTags(api, gh.owner, gh.repo, ghOpts));
  // A node pack from the Comfy Registry: its published versions.
  const fromRegistry = isNodePack(p.attr)
    ? await registryCandidates(p.text, env, online.request)
    : undefined;
  if (fromRegistry) return fromRegistry;
  const name = pypiName(p);
  if (!name) {
    throw new KitError(
      `Its source (${
        p.source?.kind ?? "none"
      }) has no upstream the kit can ask`,
    );
  }
  return await fetchReleaseVersions(online.pypi, name, online.request);
}

function mainRow(
  name: string,
  version: string,
  pre: boolean,
  fetched: Fetched,
): Row {
  const row: Row = {
    kind: "main",
    name,
    ours: version,
    status: "unknown",
    details: [],
  };
  if (!fetched.ok) return unreachable(row, fetched.error);
  const s = standing(version, fetched.candidates, [], pre);
  row.newest = s.newest;
  row.status = s.status;
  if (s.reason) row.details.push(s.reason);
  if (s.status === "newer") {
    row.command = `deno task bump-comfyui ${s.newest}`;
    row.details.push(`run "${row.command}"`);
  }
  return row;
}

function customRow(
  p: SetPackage,
  requirers: readonly Requirer[],
  opts: OutdatedOptions,
  fetched: Fetched,
): Row {
  const name = p.pname ?? p.attr;
  const row: Row = {
    kind: "custom",
    name,
    ours: p.version,
    status: "unknown",
    details: [],
  };
  if (p.version === undefined) {
    row.details.push(`${p.file}: no version string to compare`);
    return row;
  }
  if (!fetched.ok) return unreachable(row, fetched.error);
  const others = requirers.filter((r) => r.by !== label(p));
  const constraints = constraintsOn(pypiName(p) ?? name, others, opts.python);
  const s = standing(p.version, fetched.candidates, constraints, opts.pre);
  row.newest = s.newest;
  row.status = s.status;
  row.allowed = s.allowed;
  if (s.reason) row.details.push(s.reason);
  if (s.status === "held") {
    row.heldBy = s.heldBy;
    for (const c of s.heldBy) row.details.push(`${c.requirement} (${c.by})`);
    if (s.allowed && s.allowed !== p.version) {
      row.details.push(`newest allowed: ${s.allowed}`);
    }
  }
  const target = s.status === "newer" ? s.newest : s.allowed;
  if (target && target !== p.version && s.status !== "current") {
    row.command = moveCommand(p, name, target);
    row.details.push(`run "${row.command}"`);
  }
  return row;
}

/** The GitHub repository a custom package comes from: fetchFromGitHub, or a vendored archive. */
function githubOf(p: SetPackage): { owner: string; repo: string } | undefined {
  const src = p.source;
  if (src?.kind === "github") return src;
  if (src?.kind === "vendored" && src.entry) {
    const up = kindOf(src.entry).upstream(src.entry);
    if (up?.kind === "github") return up;
  }
  return undefined;
}

/** The new-package line that moves a custom package to `version`, from the same kind of source. */
function moveCommand(p: SetPackage, name: string, version: string): string {
  const gh = githubOf(p);
  return gh
    ? `deno task new-package ${name}==${version} --source github --github ${gh.owner}/${gh.repo} --force`
    : `deno task new-package ${pypiName(p) ?? name}==${version}${
      p.source?.kind === "pypi" ? " --source pypi" : ""
    } --force`;
}

function unreachable(row: Row, e: unknown): Row {
  if (!(e instanceof KitError)) throw e;
  row.status = "unreachable";
  row.details.push(e.message);
  return row;
}

/** A node pack's requirements, as add-node recorded them in its file's header. */
function nodePackRequirements(p: SetPackage): Promise<Requirements> {
  try {
    return Promise.resolve({
      ok: true,
      requirements: nodeRequirements(p.text).map(parseRequirement),
      from: p.file,
    });
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    return Promise.resolve({ ok: false, reason: `${p.file}: ${e.message}` });
  }
}

/**
 * With no network every requirement read fails alike: one warning naming the packages, not one
 * per package repeating the same reason.
 */
function collapseUnreachable(warnings: string[]): string[] {
  const REQ = /^requirements of (.+?): .*is unreachable \(no network\?\)/;
  const down = warnings.map((w) => REQ.exec(w)?.[1]).filter((x) =>
    x !== undefined
  );
  if (down.length < 2) return warnings;
  return [
    `requirements of ${down.length} packages not read, no network: ${
      down.join(", ")
    } (the nixpkgs checks below leave them out)`,
    ...warnings.filter((w) => !REQ.test(w)),
  ];
}
