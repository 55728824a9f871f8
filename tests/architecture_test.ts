// The project's own architecture check: reads every import in lib/ and tasks/ and fails when one
// breaks the rules of the layout (README.md "Layout"):
//   - a mechanism folder (kit hash archive net nix python comfy repo) never imports a workflow folder;
//   - a workflow folder imports another workflow only through its run.ts;
//   - a task imports only lib/<wing>/run.ts files, lib/kit/, and lib/repo/paths.ts (which gives
//     --root its one meaning: resolveRoot and ROOT_HELP).
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./_helpers.ts";

const MECHANISMS = new Set([
  "kit",
  "hash",
  "archive",
  "net",
  "nix",
  "python",
  "comfy",
  "repo",
]);

/**
 * Known breaks, each to be removed by the wing's owner when the task becomes thin (the lead
 * removes them after merging). Format: "<importer> -> <imported>", both relative to the root.
 * Nothing else may break a rule.
 */
const EXCEPTIONS = new Set<string>([]);

/** Every .ts file under `dir`, relative to the root. */
function tsFiles(dir: string): string[] {
  const files: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...tsFiles(rel));
    else if (e.name.endsWith(".ts")) files.push(rel);
  }
  return files.sort();
}

/** The relative specifiers a module imports: static, re-exports, dynamic and `typeof import`. */
export function importsOf(text: string): string[] {
  const specs = new Set<string>();
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gms,
    /^\s*import\s+["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of text.matchAll(re)) specs.add(m[1]!);
  }
  return [...specs].filter((s) => s.startsWith("."));
}

/** The wing (folder under lib/) of a root-relative path, or undefined. */
function wingOf(path: string): string | undefined {
  const m = /^lib\/([^/]+)\//.exec(path);
  return m?.[1];
}

/** The rule `from -> to` breaks, or undefined. */
export function breach(from: string, to: string): string | undefined {
  const toWing = wingOf(to);
  const isRun = /^lib\/[^/]+\/run\.ts$/.test(to);
  if (from.startsWith("tasks/")) {
    if (to.startsWith("tasks/")) return "a task imports another task";
    if (toWing === "kit" || isRun || to === "lib/repo/paths.ts") {
      return undefined;
    }
    return "a task imports only run.ts files, lib/kit/ and lib/repo/paths.ts";
  }
  const fromWing = wingOf(from);
  if (fromWing === undefined || toWing === undefined) {
    return to.startsWith("tasks/") ? "lib/ imports a task" : undefined;
  }
  if (fromWing === toWing) return undefined;
  if (MECHANISMS.has(fromWing)) {
    return MECHANISMS.has(toWing)
      ? undefined
      : `a mechanism (${fromWing}) imports a workflow (${toWing})`;
  }
  if (!MECHANISMS.has(toWing) && !isRun) {
    return `a workflow (${fromWing}) imports another workflow (${toWing}) past its run.ts`;
  }
  return undefined;
}

/** Every import of lib/ and tasks/ as root-relative `[from, to]` pairs. */
function allImports(): [string, string][] {
  const pairs: [string, string][] = [];
  for (const file of [...tsFiles("lib"), ...tsFiles("tasks")]) {
    const text = Deno.readTextFileSync(join(ROOT, file));
    for (const spec of importsOf(text)) {
      const to = relative(ROOT, resolve(ROOT, dirname(file), spec));
      pairs.push([file, to]);
    }
  }
  return pairs;
}

Deno.test("architecture: every import in lib/ and tasks/ keeps the layout's rules", () => {
  const pairs = allImports();
  assert.ok(pairs.length > 200, `read ${pairs.length} imports`);
  const broken: string[] = [];
  const used = new Set<string>();
  for (const [from, to] of pairs) {
    const why = breach(from, to);
    if (!why) continue;
    const key = `${from} -> ${to}`;
    if (EXCEPTIONS.has(key)) used.add(key);
    else broken.push(`${key}: ${why}`);
  }
  assert.deepEqual(
    broken,
    [],
    `imports that break the layout:\n${broken.join("\n")}`,
  );
  const stale = [...EXCEPTIONS].filter((e) => !used.has(e));
  assert.deepEqual(
    stale,
    [],
    "exceptions that no longer break a rule: remove them",
  );
});

Deno.test("breach() names each rule it enforces", () => {
  assert.match(
    breach("lib/net/pypi.ts", "lib/bump/plan.ts")!,
    /mechanism \(net\) imports a workflow \(bump\)/,
  );
  assert.match(
    breach("lib/bump/plan.ts", "lib/new_package/render.ts")!,
    /past its run\.ts/,
  );
  assert.equal(breach("lib/bump/plan.ts", "lib/new_package/run.ts"), undefined);
  assert.equal(breach("lib/bump/plan.ts", "lib/repo/vendor.ts"), undefined);
  assert.match(
    breach("tasks/verify.ts", "lib/nix/parse.ts")!,
    /a task imports only/,
  );
  assert.equal(breach("tasks/verify.ts", "lib/verify/run.ts"), undefined);
  assert.equal(breach("tasks/verify.ts", "lib/kit/cli.ts"), undefined);
  assert.equal(breach("tasks/verify.ts", "lib/repo/paths.ts"), undefined);
  assert.match(breach("tasks/a.ts", "tasks/b.ts")!, /another task/);
});

Deno.test("importsOf() reads static, re-export, multi-line, dynamic and type imports", () => {
  const text = `import { a } from "./a.ts";
import {
  b,
} from "../b.ts";
export { c } from "./c.ts";
import type { D } from "./d.ts";
let lib: typeof import("./e.ts");
const f = await import("./f.ts");
import "./g.ts";
import { z } from "zod";`;
  assert.deepEqual(importsOf(text).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
  ]);
});
