// verify's checks of the node packs add-node writes (`.flox/pkgs/comfyui-node-<id>.nix`), one
// self-contained function so it can join the list of checks: each pack's source is pinned by a
// NAR hash (or vendored with its sha256 recorded), it is wired into comfyui.nix (customNodes
// and an argument) and nothing unwired is listed, each Python requirement it carries exists
// (nixpkgs' index or a .flox/pkgs file), and hazards the scan found carry a recorded decision.
import { join } from "node:path";
import type { SyntaxNode } from "@lezer/common";
import { readTextIfExists } from "../kit/fsutil.ts";
import { parseNix } from "../nix/parse.ts";
import { findBindingValue } from "../nix/find.ts";
import { children, exprChildren } from "../nix/syntax.ts";
import { isPlaceholderHash } from "../hash/sha256.ts";
import { type Add, MAIN_FILE, type PkgFile } from "./types.ts";
import { depItems } from "./wiring.ts";
import { fetchUrlCached, NotCachedError } from "../repo/fetch_cache.ts";
import type { EnvLike } from "../kit/env.ts";
import { KitError } from "../kit/errors.ts";
import { archiveUrl, githubUrl } from "../net/github.ts";
import { narHashArchive } from "../archive/nar_archive.ts";
import { toSri } from "../hash/sha256.ts";

const PREFIX = "comfyui-node-";
const SRI = /^sha256-[A-Za-z0-9+/]{43}=$/;

/** The items of the list bound to `name` anywhere in the file (undefined when there is none). */
function listOf(
  text: string,
  path: string,
  name: string,
): string[] | undefined {
  const file = parseNix(text, path);
  const value = findBindingValue(file, name);
  if (!value) return undefined;
  // `[ a ] ++ lib.optionals (…) [ b ]`: every identifier inside list brackets.
  const items: string[] = [];
  const walk = (n: SyntaxNode, inList: boolean) => {
    if (n.name === "List") {
      for (const c of exprChildren(n)) walk(c, true);
    } else if (inList && (n.name === "Identifier" || n.name === "Select")) {
      items.push(file.slice(n));
    } else for (const c of children(n)) walk(c, false);
  };
  walk(value, false);
  return items;
}

/** Runs the node-pack checks over the package files (`pyNames`: nixpkgs' python3Packages). */
export async function checkNodes(
  root: string,
  pkgs: PkgFile[],
  add: Add,
  pyNames: ReadonlySet<string>,
  vendored: ReadonlySet<string>,
  env: EnvLike = {},
): Promise<void> {
  const nodes = pkgs.filter((p) => p.name.startsWith(PREFIX) && p.info);
  const main = pkgs.find((p) => p.rel === MAIN_FILE);
  const mainText = await readTextIfExists(join(root, MAIN_FILE));
  const wired = mainText === undefined
    ? []
    : listOf(mainText, MAIN_FILE, "customNodes") ?? [];
  const formals = new Set(main?.info?.formals.map((f) => f.name) ?? []);
  const names = new Set(pkgs.map((p) => p.name));
  for (const w of wired) {
    if (!names.has(w)) {
      add(
        "Packages are wired into the main package",
        "error",
        `customNodes lists ${w}, which has no .flox/pkgs/${w}.nix`,
        MAIN_FILE,
        `deno task remove-node ${w.slice(PREFIX.length)}`,
      );
    }
  }
  for (const p of nodes) {
    const text = (await readTextIfExists(p.abs)) ?? "";
    if (checkPin(p, add, vendored)) await checkCachedArchive(p, add, env);
    const isWired = wired.includes(p.name) && formals.has(p.name);
    add(
      "Packages are wired into the main package",
      isWired ? "ok" : "error",
      isWired
        ? `node pack ${p.name} is in customNodes and an argument of comfyui.nix`
        : `node pack ${p.name} is not wired into comfyui.nix (customNodes and its arguments)`,
      p.rel,
      isWired
        ? undefined
        : `deno task add-node … again, or deno task remove-node ${
          p.name.slice(PREFIX.length)
        }`,
    );
    const deps = listOf(text, p.rel, "pythonDependencies");
    if (deps === undefined) {
      add("Python packages", "error", "no passthru.pythonDependencies", p.rel);
    }
    for (const d of deps ?? []) {
      const attr = d.replace(/^python3\d*\.pkgs\./, "");
      const ok = d.startsWith("python3") ? pyNames.has(attr) : names.has(d);
      add(
        "Python packages",
        ok ? "ok" : "error",
        ok
          ? `requirement ${attr} of ${p.name} is present`
          : `requirement ${d} of ${p.name} is in neither nixpkgs-index.json nor .flox/pkgs`,
        p.rel,
        ok ? undefined : `deno task new-package ${attr}`,
      );
    }
    checkComfyOwn(p, text, main, add);
    checkHazards(p, text, add);
  }
}

/** The pin's form; true when it is a fetcher with a NAR hash (worth recomputing). */
function checkPin(
  p: PkgFile,
  add: Add,
  vendored: ReadonlySet<string>,
): boolean {
  const src = p.info!.src;
  const S = "Sources are pinned";
  if (src?.path !== undefined) {
    const file = src.path.split("/").pop()!;
    const ok = vendored.has(file);
    add(
      S,
      ok ? "ok" : "error",
      ok
        ? `node pack source ${file} is vendored`
        : `node pack source ${src.path} is not in sources-manifest.json`,
      `${p.rel}:${src.line}`,
    );
    return false;
  }
  const hash = src?.attrs.get("hash")?.value;
  const known = src?.fetcher === "fetchFromGitHub" ||
    src?.fetcher === "fetchzip";
  const ok = known && hash !== undefined && SRI.test(hash) &&
    !isPlaceholderHash(hash);
  add(
    S,
    ok ? "ok" : "error",
    ok
      ? `node pack ${p.name}: ${src!.fetcher} pinned by NAR hash ${hash}`
      : `node pack ${p.name}: src is not a fetchFromGitHub/fetchzip with a NAR hash`,
    `${p.rel}${src ? `:${src.line}` : ""}`,
    ok ? undefined : "re-run deno task add-node for it (with --force)",
  );
  return ok;
}

/**
 * The pinned NAR hash recomputed from the archive in the download cache (add-node leaves it
 * there); quiet about an archive the cache does not hold (a fresh clone).
 */
async function checkCachedArchive(p: PkgFile, add: Add, env: EnvLike) {
  const src = p.info!.src!;
  const attr = (k: string) => src.attrs.get(k)?.value;
  const ref = attr("tag") ?? attr("rev");
  const url = src.fetcher === "fetchFromGitHub"
    ? attr("owner") && attr("repo") && ref
      ? archiveUrl(githubUrl(env), attr("owner")!, attr("repo")!, ref)
      : undefined
    : attr("url");
  if (!url) return;
  let archive: string;
  try {
    archive = await fetchUrlCached(url, { env, offline: true });
  } catch (e) {
    if (e instanceof NotCachedError) return;
    throw e;
  }
  const pinned = attr("hash")!;
  let got: string;
  try {
    got = toSri(await narHashArchive(archive));
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    got = `unreadable (${e.message})`;
  }
  const ok = got === pinned;
  add(
    "Sources are pinned",
    ok ? "ok" : "error",
    ok
      ? `node pack ${p.name}: the cached archive has the pinned NAR hash`
      : `node pack ${p.name}: the cached archive of ${url} has NAR hash ${got}, not the pinned ${pinned}`,
    `${p.rel}:${src.line}`,
    ok
      ? undefined
      : "deno task fix-hash, or re-run deno task add-node for it (with --force)",
  );
}

/**
 * A requirement add-node left to ComfyUI's own package must still be among ComfyUI's
 * dependencies (a bump could drop it): else the pack lacks it.
 */
function checkComfyOwn(
  p: PkgFile,
  text: string,
  main: PkgFile | undefined,
  add: Add,
) {
  if (!main?.info) return;
  const mainDeps = new Set(
    [...depItems(main.info)].map(({ item }) => item.name),
  );
  for (const m of text.matchAll(/^# {3}(.+?): ComfyUI's own (\S+)$/gm)) {
    const attr = m[2]!;
    if (mainDeps.has(attr)) continue;
    add(
      "Python packages",
      "error",
      `node pack ${p.name} relies on ComfyUI's own ${attr}, which ${MAIN_FILE} no longer lists`,
      p.rel,
      "re-run deno task add-node for it (with --force)",
    );
  }
}

/** Hazards found by the scan must carry a decision (the header add-node writes). */
function checkHazards(p: PkgFile, text: string, add: Add): void {
  const found = text.match(/^# Hazards \(static scan\): (\d+) found$/m);
  const decision = text.match(/^# Decision: (.+)$/m)?.[1];
  const none = /^# Hazards \(static scan\): none found$/m.test(text);
  const ok = none ||
    (found !== null && decision !== undefined && /^accepted/.test(decision));
  add(
    "Python packages",
    ok ? "ok" : "error",
    ok
      ? `node pack ${p.name}: ${
        none ? "no hazards found" : `${found![1]} hazard(s) ${decision}`
      }`
      : `node pack ${p.name}: no recorded hazard scan and decision`,
    p.rel,
    ok ? undefined : "re-run deno task add-node for it (with --force)",
  );
}

/** The vendored file names of a manifest's sources. */
export function vendoredFiles(
  sources: readonly { file: string }[],
): Set<string> {
  return new Set(sources.map((s) => s.file));
}
