// The SBOM parts of the .flox/pkgs files: ComfyUI (the root), custom Python packages (purl
// pkg:pypi, hash of their vendored file), node packs (comfyui-node-*.nix, pinned by a fetcher),
// and the nixpkgs packages each depends on. Pure: parsed files and the manifest in, parts out.
import type { NixFile } from "../nix/parse.ts";
import { type PackageInfo, readPackage } from "../nix/query.ts";
import { attrSetOf, bindingsOf } from "../nix/bindings.ts";
import { type DepList, depListOf } from "../nix/lists.ts";
import type { Fetcher } from "../nix/fetchers.ts";
import { normalizeName } from "../python/names.ts";
import { toHex, tryParseHash } from "../hash/sha256.ts";
import type { SourceEntry } from "../repo/manifest.ts";
import { licenseAttrs, licenseOf } from "./licenses.ts";
import { addEdge, type Bill, type Part } from "./model.ts";

/**
 * The dependency lists that end up in the shipped closure, and those only used to build. A node
 * pack (add-node) lists the Python packages it needs in `passthru.pythonDependencies`.
 */
const RUNTIME = [
  "dependencies",
  "propagatedBuildInputs",
  "buildInputs",
  "passthru.pythonDependencies",
];
const BUILD = ["build-system", "nativeBuildInputs"];

/** What the collector knows besides the package files. */
interface PackageContext {
  /** Vendored sources by file name. */
  sources: Map<string, SourceEntry>;
  /** SHA256SUMS.txt: file name → hex. */
  sums: Map<string, string>;
  /** nixpkgs' python3Packages attribute → version (the offline index), and python3's. */
  versions: Record<string, string>;
  python?: string | undefined;
  /** The nixpkgs revision of the lock's toplevel group, when there is a lock. */
  nixpkgsRev?: string | undefined;
}

/** One package file: its attribute (file name) and parsed text. */
export interface PackageFile {
  attr: string;
  /** Relative to the root, for messages and the comfykit:file property. */
  path: string;
  file: NixFile;
}

/** The file's dependency lists, `passthru = { pythonDependencies = [ … ]; }` included. */
function depLists(info: PackageInfo): Map<string, DepList> {
  const lists = new Map(info.lists);
  const passthru = info.attrs.get("passthru");
  const set = passthru?.value ? attrSetOf(passthru.value) : undefined;
  for (const b of set ? bindingsOf(info.file, set, info.scope) : []) {
    const list = depListOf(info.file, b);
    if (list) lists.set(`passthru.${b.name}`, list);
  }
  return lists;
}

function metaString(info: PackageInfo, key: string): string | undefined {
  const direct = info.attrs.get(`meta.${key}`)?.string;
  if (direct !== undefined) return direct;
  const meta = info.attrs.get("meta");
  const set = meta?.value ? attrSetOf(meta.value) : undefined;
  return set
    ? bindingsOf(info.file, set, info.scope).find((b) => b.name === key)
      ?.string
    : undefined;
}

/** What a `src` pins: purl/VCS for GitHub, the file hash for flat fetchers, the NAR hash. */
function sourceFacts(
  src: Fetcher | undefined,
  ctx: PackageContext,
  part: Part,
  notes: string[],
  where: string,
): void {
  if (!src) return;
  const attr = (k: string) => src.attrs.get(k)?.value;
  const hash = attr("hash") ?? attr("sha256");
  if (src.fetcher === "path") {
    const name = (src.resolvedPath ?? src.path ?? "").split("/").pop() ?? "";
    const entry = ctx.sources.get(name);
    if (!entry) {
      notes.push(
        `${where}: src ${
          src.path ?? "?"
        } is not in sources-manifest.json: no hash recorded`,
      );
      return;
    }
    part.sha256 = entry.sha256;
    part.distribution = entry.url;
    part.properties["comfykit:vendored-file"] = `.flox/sources/${name}`;
    const sum = ctx.sums.get(name);
    if (sum !== undefined && sum !== entry.sha256) {
      notes.push(
        `${where}: SHA256SUMS.txt and sources-manifest.json disagree on ${name} (run deno task verify)`,
      );
    }
    if (entry.kind === "github") {
      part.vcs = `https://github.com/${entry.owner}/${entry.repo}`;
    }
    return;
  }
  const owner = attr("owner"), repo = attr("repo");
  const rev = attr("tag") ?? attr("rev");
  part.properties["comfykit:fetcher"] = src.fetcher;
  if (src.fetcher === "fetchFromGitHub" && owner && repo) {
    part.vcs = `https://github.com/${owner}/${repo}`;
    if (rev) part.properties["comfykit:rev"] = rev;
  }
  const url = attr("url");
  if (url) part.distribution = url;
  if (!hash) return;
  // fetchurl/fetchPypi hash the file; fetchzip and fetchFromGitHub its unpacked NAR.
  if (/^(fetchurl|fetchPypi)$/.test(src.fetcher)) {
    const d = tryParseHash(hash);
    if (d) part.sha256 = toHex(d);
  } else {
    part.properties["comfykit:nar-hash"] = hash;
  }
}

function githubPurl(part: Part, src: Fetcher | undefined): string | undefined {
  const owner = src?.attrs.get("owner")?.value;
  const repo = src?.attrs.get("repo")?.value;
  const rev = src?.attrs.get("tag")?.value ?? src?.attrs.get("rev")?.value;
  if (src?.fetcher !== "fetchFromGitHub" || !owner || !repo) return undefined;
  const at = rev ?? part.version;
  return `pkg:github/${owner.toLowerCase()}/${repo.toLowerCase()}${
    at ? `@${encodeURIComponent(at)}` : ""
  }`;
}

/** The part of one package file; `kind` decides its ref and purl. */
function packagePart(
  pf: PackageFile,
  info: PackageInfo,
  kind: "root" | "node" | "custom",
  ctx: PackageContext,
  notes: string[],
): Part {
  const name = info.pname ?? pf.attr;
  const part: Part = {
    ref: kind === "root"
      ? pf.attr
      : kind === "node"
      ? `node:${pf.attr}`
      : `flox:${pf.attr}`,
    type: kind === "root" ? "application" : "library",
    name,
    version: info.version,
    description: metaString(info, "description"),
    website: metaString(info, "homepage"),
    licenses: info.license ? licenseAttrs(info.license).map(licenseOf) : [],
    properties: { "comfykit:file": pf.path },
  };
  sourceFacts(info.src, ctx, part, notes, pf.path);
  part.purl = kind === "custom"
    ? `pkg:pypi/${normalizeName(name)}${
      info.version ? `@${encodeURIComponent(info.version)}` : ""
    }`
    : githubPurl(part, info.src);
  return part;
}

/** A nixpkgs attribute path as the packages use it: python3.pkgs.x → python3Packages.x. */
function nixpkgsAttr(item: string, scope: string | undefined): string {
  const full = scope && !item.includes(".") ? `${scope}.${item}` : item;
  return full.replace(/^python3(\.pkgs|Packages)\./, "python3Packages.");
}

function nixpkgsPart(attr: string, ctx: PackageContext): Part {
  const dot = attr.lastIndexOf(".");
  const set = dot > 0 ? attr.slice(0, dot) : undefined;
  const name = attr.slice(dot + 1);
  const version = set === "python3Packages"
    ? ctx.versions[name]
    : attr === "python3"
    ? ctx.python
    : undefined;
  const properties: Record<string, string> = { "nixpkgs:attribute": attr };
  if (version !== undefined) {
    properties["comfykit:version-from"] = "nixpkgs-index.json";
  }
  if (ctx.nixpkgsRev) properties["nixpkgs:rev"] = ctx.nixpkgsRev;
  return {
    ref: `nixpkgs:${attr}`,
    type: "library",
    name: set ? `${set}.${name}` : name,
    version,
    licenses: [],
    properties,
  };
}

/**
 * Adds every package file to `bill`: comfyui.nix is the root, comfyui-node-*.nix node packs,
 * the others custom packages; each dependency list item becomes an edge to a custom package
 * (an argument of the file that names a package file) or a nixpkgs part.
 */
export function addPackages(
  bill: Bill,
  files: PackageFile[],
  mainAttr: string,
  ctx: PackageContext,
): void {
  const custom = new Set(files.map((f) => f.attr));
  const nixpkgs = new Map<string, Part>();
  const runtimeUse = new Set<string>();
  for (const pf of files) {
    const info = readPackage(pf.file);
    const kind = pf.attr === mainAttr
      ? "root"
      : pf.attr.startsWith("comfyui-node-")
      ? "node"
      : "custom";
    const part = packagePart(pf, info, kind, ctx, bill.notes);
    if (kind === "root") bill.root = part;
    else bill.parts.push(part);
    const formals = new Set(info.formals.map((f) => f.name));
    const depend = (attr: string, runtime: boolean) => {
      if (runtime) runtimeUse.add(attr);
      if (!nixpkgs.has(attr)) nixpkgs.set(attr, nixpkgsPart(attr, ctx));
      addEdge(bill, part.ref, `nixpkgs:${attr}`);
    };
    for (const [binding, list] of depLists(info)) {
      const runtime = RUNTIME.includes(binding);
      if (!runtime && !BUILD.includes(binding)) continue;
      for (const block of [list.main, ...list.blocks]) {
        for (const item of block?.items ?? []) {
          if (item.isString || !/^[A-Za-z_][\w'.-]*$/.test(item.name)) continue;
          // A function argument shadows `with python3.pkgs;` in Nix.
          if (formals.has(item.name) && custom.has(item.name)) {
            const ref = item.name === mainAttr
              ? mainAttr
              : item.name.startsWith("comfyui-node-")
              ? `node:${item.name}`
              : `flox:${item.name}`;
            addEdge(bill, part.ref, ref);
            if (runtime) runtimeUse.add(ref);
          } else {
            const scope = formals.has(item.name) ? undefined : list.with;
            depend(nixpkgsAttr(item.name, scope), runtime);
          }
        }
      }
    }
    // An application's interpreter ships with it (python3.withPackages).
    if (kind === "root" && formals.has("python3")) depend("python3", true);
  }
  for (const [attr, p] of nixpkgs) {
    if (!runtimeUse.has(attr)) p.buildOnly = true;
    bill.parts.push(p);
  }
}
