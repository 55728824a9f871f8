// The checklist: every verify check, in one list. A check declares its section and reads only
// the shared context (lib/verify/types.ts VerifyContext, built by context.ts), so none depends on
// another having run first. Adding a check = a function in the section's file (or a new file)
// and one entry here; tests/verify/verify_checks_test.ts holds the list to its rules.
import { checkFlox } from "./flox.ts";
import { checkNetwork } from "./network.ts";
import { checkParse, nixInstantiateParse } from "./parse.ts";
import { checkPinned } from "./pinned.ts";
import { checkPython } from "./python.ts";
import { checkVendoredMeta } from "./python_meta.ts";
import { checkRelease } from "./release.ts";
import { checkRequirements } from "./requirements.ts";
import type { Check } from "./types.ts";
import {
  checkEntries,
  checkFiles,
  checkFileSizes,
  checkManifest,
  checkSumsFile,
  checkUnknownFiles,
  checkUnused,
} from "./vendored.ts";
import { checkWiring } from "./wiring.ts";
import { checkBuilds } from "./builds.ts";
import { findNixpkgs } from "../nix/nixpkgs_eval.ts";
import { checkNodes, vendoredFiles } from "./nodes.ts";

/** Every check, in print order within each section. */
export const CHECKS: readonly Check[] = [
  {
    name: "parse",
    section: "Nix files parse",
    run: (c, add) => checkParse(c.listing, add),
  },
  {
    name: "nix-instantiate-parse",
    section: "Nix files parse",
    run: async (c, add) => {
      if (!c.run) return;
      const parsed = c.pkgs.filter((p) => p.file);
      for (const f of await nixInstantiateParse(c.run, c.root, parsed)) {
        add(f.section, f.level, f.message, f.where, f.fix);
      }
    },
  },
  { name: "pinned", section: "Sources are pinned", run: checkPinned },
  {
    name: "no-network",
    section: "No network at build or run time",
    run: (c, add) => checkNetwork(c.root, c.pkgs, add),
  },
  { name: "manifest", section: "Vendored sources", run: checkManifest },
  { name: "sums", section: "Vendored sources", run: checkSumsFile },
  { name: "entries", section: "Vendored sources", run: checkEntries },
  { name: "files", section: "Vendored sources", run: checkFiles },
  { name: "file-sizes", section: "Vendored sources", run: checkFileSizes },
  {
    name: "unknown-files",
    section: "Vendored sources",
    run: checkUnknownFiles,
  },
  {
    name: "unused-entries",
    section: "Vendored sources",
    run: (c, add) => {
      if (c.manifest) checkUnused(c.manifest, c.used, add);
    },
  },
  {
    name: "wiring",
    section: "Packages are wired into the main package",
    run: async (c, add) => checkWiring(c.pkgs, add, await c.nixpkgsNames()),
  },
  {
    name: "requirements",
    section: "Packages are wired into the main package",
    run: (c, add) =>
      checkRequirements(c.pkgs, {
        online: c.online,
        env: { get: c.env },
      }, add),
  },
  {
    name: "builds",
    section: "Builds are in step",
    run: (c, add) => {
      const nixpkgs = c.run ? findNixpkgs(c.env) : undefined;
      return checkBuilds(
        c.root,
        add,
        c.run && nixpkgs ? { run: c.run, nixpkgs } : undefined,
      );
    },
  },
  {
    name: "node-packs",
    section: [
      "Sources are pinned",
      "Packages are wired into the main package",
      "Python packages",
    ],
    run: async (c, add) =>
      checkNodes(
        c.root,
        c.pkgs,
        add,
        await c.nixpkgsNames(),
        vendoredFiles(c.manifest?.sources ?? []),
        { get: c.env },
      ),
  },
  {
    name: "python",
    section: "Python packages",
    run: async (c, add) => checkPython(c.pkgs, add, await c.licenses()),
  },
  {
    name: "vendored-metadata",
    section: "Python packages",
    run: async (c, add) =>
      checkVendoredMeta(c.root, c.pkgs, await c.verified(), {
        run: c.run,
        env: c.env,
      }, add),
  },
  { name: "flox", section: "Flox environment", run: checkFlox },
  {
    name: "release",
    section: "Release",
    releaseOnly: true,
    run: (c, add) => checkRelease(c.root, c.run, c.main?.info?.version, add),
  },
];
