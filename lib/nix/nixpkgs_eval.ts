// Asking a live nixpkgs: `nix-instantiate --eval` of the wanted attributes' versions, or
// `flox search --json`.
import { existsSync } from "node:fs";
import { capture, onPath } from "../kit/command.ts";
import { KitError } from "../kit/errors.ts";
import { echoCommand, warn } from "../kit/log.ts";
import {
  nixAttrCandidates,
  type NixpkgsLookup,
  type NixpkgsPackage,
} from "./nixpkgs_names.ts";
// ---------------------------------------------------------------------------------------------
// Nix

/**
 * The nixpkgs to evaluate, or undefined when there is none (checked without running anything,
 * so a Nix without channels, like Debian's nix-bin, is skipped at once): $COMFYKIT_NIXPKGS (must
 * exist), else `<nixpkgs>` when NIX_PATH names it or a default channel directory exists.
 */
export function findNixpkgs(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string | undefined {
  const explicit = env("COMFYKIT_NIXPKGS");
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new KitError(
        `COMFYKIT_NIXPKGS "${explicit}" does not exist: point it at a nixpkgs checkout or unset it`,
      );
    }
    return explicit;
  }
  if (!onPath("nix-instantiate", env)) return undefined;
  const nixPath = env("NIX_PATH") ?? "";
  for (const entry of nixPath.split(":").filter(Boolean)) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      if (entry.slice(0, eq) === "nixpkgs") return "<nixpkgs>";
    } else if (existsSync(`${entry}/nixpkgs`)) return "<nixpkgs>";
  }
  if (nixPath) return undefined;
  // NIX_PATH unset: Nix falls back to the channels of the user's profile.
  const home = env("HOME");
  const user = env("USER") ?? "root";
  const defaults = [
    home && `${home}/.nix-defexpr/channels/nixpkgs`,
    `/nix/var/nix/profiles/per-user/${user}/channels/nixpkgs`,
  ];
  return defaults.some((p) => p && existsSync(p)) ? "<nixpkgs>" : undefined;
}

// Evaluates the version of each wanted attribute in one run; broken or throwing attributes
// (aliases that `throw` a rename message) count as absent.
const NIX_EXPR = `{ namesJson, nixpkgs }:
let
  pkgs = (if builtins.isFunction nixpkgs then nixpkgs else import nixpkgs) { config = { allowAliases = false; }; overlays = [ ]; };
  ps = pkgs.python3Packages;
  versionOf = n:
    let r = builtins.tryEval (
      if builtins.hasAttr n ps
      then (let p = builtins.getAttr n ps; in if builtins.isAttrs p && p ? version then p.version else null)
      else null);
    in if r.success then r.value else null;
in builtins.listToAttrs (map (n: { name = n; value = versionOf n; }) (builtins.fromJSON namesJson))`;

/**
 * Versions of nixpkgs `python3Packages` attributes by evaluation (`nix-instantiate --eval`);
 * null for absent ones. `nixpkgs` is a path or `<nixpkgs>`.
 */
export async function nixEvalVersions(
  nixpkgs: string,
  attrs: readonly string[],
): Promise<Record<string, string | null>> {
  if (attrs.length === 0) return {};
  const nixpkgsArg = nixpkgs.startsWith("<")
    ? nixpkgs
    : nixPathLiteral(nixpkgs);
  const args = [
    "--eval",
    "--strict",
    "--json",
    "-E",
    NIX_EXPR,
    "--arg",
    "nixpkgs",
    nixpkgsArg,
    "--argstr",
    "namesJson",
    JSON.stringify([...new Set(attrs)]),
  ];
  echoCommand([
    "nix-instantiate",
    "--eval",
    "…",
    "--arg",
    "nixpkgs",
    nixpkgsArg,
  ]);
  const r = await capture("nix-instantiate", args);
  const stderr = r?.stderr.trim() ?? "nix-instantiate not found";
  if (!r?.success) {
    throw new KitError(
      `nix-instantiate could not evaluate nixpkgs "${nixpkgs}": ${
        lastLines(stderr, 3)
      }`,
    );
  }
  const parsed = JSON.parse(r.stdout) as Record<
    string,
    unknown
  >;
  const result: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(parsed)) {
    result[k] = typeof v === "string" ? v : null;
  }
  return result;
}

/** A Nix path literal for an absolute or relative file path (`/x/y`, `./x`). */
function nixPathLiteral(p: string): string {
  const abs = p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  if (!/^[A-Za-z0-9._+\/-]+$/.test(abs)) {
    // Paths with unusual characters: go through a string.
    return `(/. + ${JSON.stringify(abs)})`;
  }
  return abs.replace(/\/+$/, "") || "/";
}

function lastLines(text: string, n: number): string {
  return text.split("\n").filter(Boolean).slice(-n).join(" / ") ||
    "(no message)";
}

/** A lookup that evaluates nixpkgs with Nix; results are cached for the lookup's life. */
export function nixLookup(nixpkgs: string): NixpkgsLookup {
  const cache = new Map<string, string | null>();
  const versions = async (attrs: string[]) => {
    const missing = attrs.filter((a) => !cache.has(a));
    if (missing.length > 0) {
      const got = await nixEvalVersions(nixpkgs, missing);
      for (const a of missing) cache.set(a, got[a] ?? null);
    }
  };
  const pick = (name: string): NixpkgsPackage | undefined => {
    for (const c of nixAttrCandidates(name)) {
      const v = cache.get(c);
      if (v) return { attr: c, version: v };
    }
    return undefined;
  };
  const lookupMany = async (names: readonly string[]) => {
    await versions(names.flatMap(nixAttrCandidates));
    return new Map(names.map((n) => [n, pick(n)]));
  };
  return {
    source: "nix",
    describe: `nix-instantiate --eval against ${nixpkgs}`,
    lookupMany,
    lookup: async (name) => (await lookupMany([name])).get(name),
    lookupAttr: async (attr) => {
      await versions([attr]);
      const v = cache.get(attr);
      return v ? { attr, version: v } : undefined;
    },
    // python3Packages.python is the interpreter itself.
    pythonVersion: async () => {
      await versions(["python"]);
      return cache.get("python") ?? undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// flox

/**
 * The hit for `python3Packages.<attr>` (or a versioned `python3NNPackages.<attr>`) in the JSON
 * printed by `flox search --json`: an array of objects with the package path under `pkg_path`
 * (flox ≥ 1.0; `attr_path` / `relPath` in older versions) and a `version`.
 */
export function parseFloxSearch(
  json: string,
  attr: string,
): NixpkgsPackage | undefined {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(data)) return undefined;
  const exact = new RegExp(
    `^(?:legacyPackages\\.[^.]+\\.)?python3(\\d*)Packages\\.${
      attr.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    }$`,
  );
  let best: { rank: number; pkg: NixpkgsPackage } | undefined;
  for (const item of data) {
    if (typeof item !== "object" || item === null) continue;
    const o = item as Record<string, unknown>;
    const path = [o.pkg_path, o.attr_path, o.relPath]
      .map((p) => Array.isArray(p) ? p.join(".") : p)
      .find((p): p is string => typeof p === "string");
    const version = o.version;
    if (!path || typeof version !== "string" || version === "") continue;
    const m = path.match(exact);
    if (!m) continue;
    const rank = m[1] === "" ? 0 : 1; // python3Packages wins over python3NNPackages
    if (!best || rank < best.rank) best = { rank, pkg: { attr, version } };
  }
  return best?.pkg;
}

/** How long one `flox search` may take before the offline index answers instead (20 s). */
const FLOX_SEARCH_TIMEOUT_MS = 20_000;

/**
 * nixpkgs through `flox search`. A search that fails or hangs (killed after `timeoutMs`) is said
 * once in a warning, and from then on `fallback` (the offline index) answers every lookup.
 */
export function floxLookup(
  opts: {
    timeoutMs?: number;
    fallback?: () => Promise<NixpkgsLookup>;
  } = {},
): NixpkgsLookup {
  const cache = new Map<string, NixpkgsPackage | undefined>();
  let fallen: Promise<NixpkgsLookup> | undefined;
  let describe = "flox search";
  const fallBack = (why: string): Promise<NixpkgsLookup> => {
    if (!opts.fallback) throw new KitError(`flox search failed: ${why}`);
    if (!fallen) {
      fallen = opts.fallback().then((l) => {
        describe = `${l.describe} (flox search failed)`;
        warn(`flox search failed (${why}): using ${l.describe}`);
        return l;
      });
    }
    return fallen;
  };
  const lookupAttr = async (
    attr: string,
  ): Promise<NixpkgsPackage | undefined> => {
    if (fallen) return (await fallen).lookupAttr(attr);
    if (cache.has(attr)) return cache.get(attr);
    const args = ["search", "--json", "-a", `python3Packages.${attr}`];
    const timeoutMs = opts.timeoutMs ?? FLOX_SEARCH_TIMEOUT_MS;
    const r = await capture("flox", args, { echo: true, timeoutMs });
    if (!r?.success) {
      const why = r?.timedOut
        ? `no answer within ${timeoutMs / 1000} s`
        : lastLines(r?.stderr || `exit ${r?.code ?? "?"}`, 3) ||
          "flox not found";
      return (await fallBack(why)).lookupAttr(attr);
    }
    const hit = parseFloxSearch(r.stdout, attr);
    cache.set(attr, hit);
    return hit;
  };
  const lookup = async (name: string) => {
    if (fallen) return (await fallen).lookup(name);
    for (const c of nixAttrCandidates(name)) {
      const hit = await lookupAttr(c);
      if (hit) return hit;
    }
    return undefined;
  };
  return {
    source: "flox",
    get describe() {
      return describe;
    },
    lookup,
    lookupAttr,
    lookupMany: async (names) => {
      const out = new Map<string, NixpkgsPackage | undefined>();
      for (const n of names) out.set(n, await lookup(n));
      return out;
    },
  };
}
