// The project's own architecture check: reads every import in lib/ and tasks/ and fails when one
// breaks the rules of the layout (README.md "Layout", docs/architecture.md):
//   - a mechanism folder (kit hash archive python net nix comfy repo) never imports a workflow;
//   - mechanism folders are layered: kit < hash < archive < python < net < nix < comfy < repo,
//     and a mechanism imports only from its own folder and lower ones;
//   - a workflow folder imports another workflow only through its run.ts;
//   - a task imports only lib/<wing>/run.ts files, lib/kit/, and lib/repo/paths.ts (which gives
//     --root its one meaning: resolveRoot and ROOT_HELP);
//   - no import cycles, between files or between folders;
//   - no unused exports: every name lib/ exports is imported by lib/, tasks/ or bench/, or by a
//     test when the module itself uses it too (a seam of live code tested directly); a name
//     only tests import and nothing in the product runs is dead code kept alive by its test;
//   - tests/ mirrors lib/: every *_test.ts sits in tests/<wing>/ (a lib/ folder's name), in
//     tests/package_set/ (the repository's own package files) or in tests/suite/ (the whole kit),
//     never directly in tests/ (docs/architecture.md "tests/").
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../_helpers.ts";

/**
 * The mechanism folders, lowest first: each may import only from itself and the folders before
 * it. python (pure: PEP 440/503/508, metadata, licences) sits below net, whose PyPI client uses
 * its names; nix sits above both (PyPI names → nixpkgs attributes); comfy (ComfyUI's own
 * formats: saved workflows, PNG chunks) may use any of them, and repo may use comfy.
 */
export const LAYERS = [
  "kit",
  "hash",
  "archive",
  "python",
  "net",
  "nix",
  "comfy",
  "repo",
] as const;

const MECHANISMS = new Set<string>(LAYERS);

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
    if (!MECHANISMS.has(toWing)) {
      return `a mechanism (${fromWing}) imports a workflow (${toWing})`;
    }
    const rank = (w: string) => LAYERS.indexOf(w as typeof LAYERS[number]);
    return rank(toWing) < rank(fromWing)
      ? undefined
      : `a mechanism imports a higher layer (${fromWing} < ${toWing}: ${
        LAYERS.join(" < ")
      })`;
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
    breach("lib/net/pypi.ts", "lib/repo/manifest.ts")!,
    /higher layer \(net < repo/,
  );
  assert.match(breach("lib/kit/a.ts", "lib/hash/b.ts")!, /higher layer/);
  assert.equal(breach("lib/repo/a.ts", "lib/nix/b.ts"), undefined);
  assert.equal(breach("lib/net/a.ts", "lib/python/b.ts"), undefined);
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

/** The strongly connected parts of a graph with more than one node (its cycles), sorted. */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      part.push(w);
    } while (w !== v);
    if (part.length > 1) out.push(part.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

Deno.test("architecture: no import cycles between files, nor between lib/ folders", () => {
  const files = new Map<string, string[]>();
  const folders = new Map<string, string[]>();
  for (const [from, to] of allImports()) {
    files.set(from, [...files.get(from) ?? [], to]);
    if (!files.has(to)) files.set(to, []);
    const a = wingOf(from), b = wingOf(to);
    if (a && b && a !== b) folders.set(a, [...folders.get(a) ?? [], b]);
    for (const w of [a, b]) if (w && !folders.has(w)) folders.set(w, []);
  }
  assert.deepEqual(cyclesOf(files).map((c) => c.join(" <-> ")), []);
  assert.deepEqual(cyclesOf(folders).map((c) => c.join(" <-> ")), []);
});

/** Folders under tests/ that are no lib/ folder: shared fixtures and the whole-kit groups. */
const TEST_FOLDERS = new Set(["_fixtures", "golden", "package_set", "suite"]);

/**
 * What breaks tests/' layout, given every file and folder under tests/ (root-relative) and the
 * folders of lib/: a test file directly in tests/ or nested deeper than tests/<folder>/, a
 * folder that names no lib/ folder nor one of TEST_FOLDERS.
 */
export function testLayoutBreaches(
  paths: string[],
  libFolders: Set<string>,
): string[] {
  const out: string[] = [];
  for (const path of paths) {
    const parts = path.split("/");
    if (path.endsWith("_test.ts") && parts.length !== 3) {
      out.push(
        `${path}: a test file belongs in tests/<wing>/ (or tests/suite/)`,
      );
    }
    const folder = parts[1]!;
    if (
      parts.length > 2 && !libFolders.has(folder) && !TEST_FOLDERS.has(folder)
    ) {
      out.push(`${path}: tests/${folder}/ names no folder of lib/`);
    }
  }
  return out;
}

/** Every file under `dir`, root-relative. */
function allFiles(dir: string): string[] {
  return [...Deno.readDirSync(join(ROOT, dir))].flatMap((e) =>
    e.isDirectory ? allFiles(`${dir}/${e.name}`) : [`${dir}/${e.name}`]
  ).sort();
}

Deno.test("architecture: test files sit in tests/<wing>/, mirroring lib/", () => {
  const libFolders = new Set(
    [...Deno.readDirSync(join(ROOT, "lib"))].filter((e) => e.isDirectory).map(
      (e) => e.name,
    ),
  );
  const files = allFiles("tests");
  assert.ok(files.filter((f) => f.endsWith("_test.ts")).length > 50);
  assert.deepEqual(testLayoutBreaches(files, libFolders), []);
});

Deno.test("testLayoutBreaches() names a flat test file, a deep one and an unknown folder", () => {
  const lib = new Set(["kit", "verify"]);
  assert.deepEqual(
    testLayoutBreaches([
      "tests/_helpers.ts",
      "tests/kit/cli_test.ts",
      "tests/verify/verify_helpers.ts",
      "tests/suite/style_test.ts",
      "tests/_fixtures/logs/a.log",
    ], lib),
    [],
  );
  assert.deepEqual(
    testLayoutBreaches([
      "tests/cli_test.ts",
      "tests/kit/deep/cli_test.ts",
      "tests/misc/x_test.ts",
    ], lib),
    [
      "tests/cli_test.ts: a test file belongs in tests/<wing>/ (or tests/suite/)",
      "tests/kit/deep/cli_test.ts: a test file belongs in tests/<wing>/ (or tests/suite/)",
      "tests/misc/x_test.ts: tests/misc/ names no folder of lib/",
    ],
  );
});

Deno.test("cyclesOf() finds a cycle and ignores a chain", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(cyclesOf(g), [["a", "b", "c"]]);
  assert.deepEqual(cyclesOf(new Map([["a", ["b"]], ["b", []]])), []);
});

/** The names a module exports (declarations, `export { … }` lists and re-exports). */
export function exportedNames(text: string): string[] {
  const names = new Set<string>();
  const decl =
    /^export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|abstract\s+class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of text.matchAll(decl)) names.add(m[1]!);
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()!
        .trim();
      if (name) names.add(name);
    }
  }
  return [...names];
}

/**
 * The names a module imports from each relative specifier: `import { a, b as c }`, re-exports,
 * `const { a } = await import("…")`; "*" for a namespace import or `typeof import(…)`.
 */
export function importedNames(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (spec: string, name: string) => {
    if (!spec.startsWith(".")) return;
    if (!out.has(spec)) out.set(spec, new Set());
    out.get(spec)!.add(name);
  };
  const lists = [
    /(?:import|export)\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/gs,
    /const\s+\{([^}]*)\}\s*=\s*await\s+import\(\s*["']([^"']+)["']\s*\)/gs,
    // A task's workflow, loaded after --help: ({ a, b } = await import("../lib/x/run.ts"));
    /\(\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*["']([^"']+)["']\s*\)\s*\)/gs,
  ];
  for (const re of lists) {
    for (const m of text.matchAll(re)) {
      for (const part of m[1]!.split(",")) {
        const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+|:/)[0]!
          .trim();
        if (name) add(m[2]!, name);
      }
    }
  }
  const whole = [
    /import\s+\*\s+as\s+\w+\s+from\s*["']([^"']+)["']/g,
    /typeof\s+import\(\s*["']([^"']+)["']\s*\)/g,
    /\(\s*await\s+import\(\s*["']([^"']+)["']\s*\)\s*\)\./g,
  ];
  for (const re of whole) for (const m of text.matchAll(re)) add(m[1]!, "*");
  return out;
}

/** True when `name` occurs in the module's code (comments left out) beyond its declaration. */
export function usedInside(text: string, name: string): boolean {
  const code = text.replace(/\/\*[^]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const re = new RegExp(
    `(?<![\\w$.])${name.replace(/\$/g, "\\$")}(?![\\w$])`,
    "g",
  );
  return (code.match(re)?.length ?? 0) > 1;
}

Deno.test("architecture: every name lib/ exports is imported by another file", () => {
  const usedBy = (dirs: string[]) => {
    const used = new Map<string, Set<string>>();
    for (const file of dirs.flatMap(tsFiles)) {
      const text = Deno.readTextFileSync(join(ROOT, file));
      for (const [spec, names] of importedNames(text)) {
        const to = relative(ROOT, resolve(ROOT, dirname(file), spec));
        if (!used.has(to)) used.set(to, new Set());
        for (const n of names) used.get(to)!.add(n);
      }
    }
    return used;
  };
  const product = usedBy(["lib", "tasks", "bench"]);
  const tests = usedBy(["tests"]);
  const unused: string[] = [];
  for (const file of tsFiles("lib")) {
    const names = product.get(file) ?? new Set();
    if (names.has("*")) continue;
    const text = Deno.readTextFileSync(join(ROOT, file));
    for (const name of exportedNames(text)) {
      if (names.has(name)) continue;
      // A test is a user of a seam of live code, not of code only tests run.
      if (tests.get(file)?.has(name) && usedInside(text, name)) continue;
      unused.push(`${file} ${name}`);
    }
  }
  assert.deepEqual(
    unused,
    [],
    `exported but imported by no other file (drop the export, or the code):\n${
      unused.join("\n")
    }`,
  );
});

Deno.test("exportedNames() and importedNames() read the forms lib/ uses", () => {
  assert.deepEqual(
    exportedNames(`export function a() {}
export async function b() {}
export const c = 1;
export interface D {}
export type E = string;
export class F {}
export { g, h as i } from "./x.ts";
export type { J } from "./y.ts";
function k() {}`).sort(),
    ["D", "E", "F", "J", "a", "b", "c", "g", "i"].sort(),
  );
  const got = importedNames(`import { a, type B, c as d } from "./x.ts";
import {
  e,
} from "../y.ts";
const { f } = await import("./z.ts");
let lib: typeof import("./w.ts");
import { zod } from "zod";`);
  assert.deepEqual([...got.get("./x.ts")!].sort(), ["B", "a", "c"]);
  assert.deepEqual([...got.get("../y.ts")!], ["e"]);
  assert.deepEqual([...got.get("./z.ts")!], ["f"]);
  assert.deepEqual([...got.get("./w.ts")!], ["*"]);
  assert.equal(got.has("zod"), false);
});
