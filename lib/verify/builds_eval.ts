// "Builds are in step", evaluated: with nix-instantiate and a nixpkgs ($COMFYKIT_NIXPKGS or
// <nixpkgs>), every build (comfyui and its variants) is evaluated the way Flox does it (NEF:
// nixpkgs imported with allowUnfree and no cudaSupport, every .flox/pkgs file an attribute of
// an overlay, called with newScope) for each system, and the torches in its Python closure are
// counted, each with its CUDA setting: a source torch's `cudaSupport`, a prebuilt one's wheel
// URL (download.pytorch.org/whl/cuXYZ). Nothing is built; derivations are instantiated.
import { MAIN_PACKAGE, MAIN_VARIANTS, packageFile } from "../repo/paths.ts";
import type { Add, RunCommand } from "./types.ts";

const S = "Builds are in step";

/** The systems the builds are evaluated for (the environment's, .flox/env/manifest.toml). */
const EVAL_SYSTEMS = [
  "x86_64-linux",
  "aarch64-linux",
  "aarch64-darwin",
] as const;

const EXPR = `{ nixpkgs, pkgsDir, system, buildsJson }:
let
  builds = builtins.fromJSON buildsJson;
  entries = builtins.readDir pkgsDir;
  files = builtins.concatMap (n:
    let t = entries.\${n}; l = builtins.stringLength n; in
    if t == "regular" && l > 4 && builtins.substring (l - 4) 4 n == ".nix"
    then [ { name = builtins.substring 0 (l - 4) n; path = pkgsDir + "/\${n}"; } ]
    else if t == "directory" && builtins.pathExists (pkgsDir + "/\${n}/default.nix")
    then [ { name = n; path = pkgsDir + "/\${n}"; } ]
    else [ ]) (builtins.attrNames entries);
  overlay = final: prev: builtins.listToAttrs (map (f: {
    inherit (f) name;
    value = final.newScope { \${f.name} = prev.\${f.name} or (throw "\${f.name} asks for itself"); } f.path { };
  }) files);
  pkgs = (if builtins.isFunction nixpkgs then nixpkgs else import nixpkgs) {
    inherit system;
    config = { allowUnfree = true; allowInsecure = true; };
    overlays = [ overlay ];
  };
  isDrv = d: builtins.isAttrs d && d ? outPath;
  closure = ds: map (x: x.d) (builtins.genericClosure {
    startSet = map (d: { key = d.outPath; inherit d; }) (builtins.filter isDrv ds);
    operator = x: map (d: { key = d.outPath; inherit d; })
      (builtins.filter isDrv (x.d.propagatedBuildInputs or [ ]));
  });
  urlOf = t: let s = t.src or { }; in
    if s ? url then toString s.url else if (s.urls or [ ]) != [ ] then toString (builtins.head s.urls) else "";
  cudaOf = t: (t.cudaSupport or false) || builtins.match ".*/whl/cu[0-9]+/.*" (urlOf t) != null;
  torchesOf = drv:
    let
      nodes = drv.passthru.customNodes or drv.customNodes or [ ];
      ds = (drv.propagatedBuildInputs or [ ]) ++ builtins.concatMap (n: n.pythonDependencies or [ ]) nodes;
    in map (t: { inherit (t) name; cuda = cudaOf t; })
      (builtins.filter (d: (d.pname or "") == "torch") (closure ds));
  report = b:
    let
      drv = pkgs.\${b};
      available = drv.meta.available or true;
      torches = torchesOf drv;
      r = builtins.tryEval (builtins.deepSeq torches torches);
    in
    if !available then { build = b; offered = false; }
    else if r.success then { build = b; offered = true; torches = r.value; }
    else { build = b; offered = true; failed = true; };
in map report builds`;

/** What one build evaluated to on one system. */
interface Report {
  build: string;
  offered: boolean;
  failed?: boolean;
  torches?: { name: string; cuda: boolean }[];
}

/**
 * Evaluates every build for each of `systems` with `nixpkgs` (a path, or `<nixpkgs>`), adding a
 * finding per build and system. `builds`: the main package's attribute and its variants'.
 */
export async function evaluateBuilds(
  root: string,
  opts: {
    run: RunCommand;
    nixpkgs: string;
    builds: string[];
    systems?: readonly string[];
  },
  add: Add,
): Promise<void> {
  const nixpkgsArg = opts.nixpkgs.startsWith("<")
    ? opts.nixpkgs
    : `(/. + ${JSON.stringify(opts.nixpkgs)})`;
  for (const system of opts.systems ?? EVAL_SYSTEMS) {
    const r = await opts.run("nix-instantiate", [
      "--eval",
      "--strict",
      "--json",
      "-E",
      EXPR,
      "--arg",
      "nixpkgs",
      nixpkgsArg,
      "--arg",
      "pkgsDir",
      `(/. + ${JSON.stringify(`${root}/.flox/pkgs`)})`,
      "--argstr",
      "system",
      system,
      "--argstr",
      "buildsJson",
      JSON.stringify(opts.builds),
    ], root);
    if (!r) return;
    if (r.code !== 0) {
      const line = r.stderr.split("\n").find((l) => /error/.test(l)) ??
        r.stderr.trim().split("\n").at(-1) ?? "";
      add(
        S,
        "error",
        `the builds do not evaluate for ${system} with ${opts.nixpkgs}: ${line.trim()}`,
        MAIN_PACKAGE,
        "deno task verify without COMFYKIT_NIXPKGS shows the static findings; nix-instantiate's full message names the file",
      );
      continue;
    }
    for (const rep of JSON.parse(r.stdout) as Report[]) {
      reportBuild(rep, system, add);
    }
  }
}

function reportBuild(rep: Report, system: string, add: Add): void {
  const variant = MAIN_VARIANTS.includes(rep.build);
  const file = variant ? packageFile(rep.build) : MAIN_PACKAGE;
  if (!rep.offered) {
    add(S, "ok", `${rep.build} is not offered for ${system}`, file);
    return;
  }
  if (rep.failed || !rep.torches) {
    add(
      S,
      "error",
      `${rep.build} does not evaluate for ${system} (nixpkgs refuses it or a package throws)`,
      file,
      `nix-instantiate --eval of ${rep.build} for ${system} shows the error`,
    );
    return;
  }
  const shown = rep.torches.map((t) => `${t.name} (${t.cuda ? "CUDA" : "CPU"})`)
    .join(", ");
  if (rep.torches.length > 1) {
    add(
      S,
      "error",
      `${rep.build} on ${system}: ${rep.torches.length} torches in one Python environment: ${shown}`,
      file,
      "the static findings above name the file that brings the second one; every package must take python3 and plain torch",
    );
  } else if (variant && !rep.torches.every((t) => t.cuda)) {
    add(
      S,
      "error",
      `${rep.build} on ${system}: its torch is not a CUDA build: ${shown}`,
      file,
      `${file}'s packageOverrides must give python3 a CUDA torch for ${system}`,
    );
  } else {
    add(
      S,
      "ok",
      `${rep.build} on ${system}: one torch, ${shown || "none"}`,
      file,
    );
  }
}
