// pip requirements files: parsing (comments, continuations, options, -r/-c includes, per-line
// --hash) and comparing two sets of requirements (what bump-comfyui reports between releases).
// Each requirement line is parsed by lib/python/pep508.ts, the one PEP 508 parser of the kit.
//
//   const reqs = parseRequirementsTxt(text, "requirements.txt");
//   const d = diffRequirements(oldReqs, newReqs); // { added, removed, changed, unchanged }
import { dirname, resolve } from "node:path";
import { KitError } from "../kit/errors.ts";
import { normalizeName } from "./names.ts";
import {
  markerToString,
  parseRequirement,
  type Requirement,
} from "./pep508.ts";

/** A requirement with where it was written. */
export interface RequirementLine extends Requirement {
  /** The file it came from, as given to the parser. */
  file: string;
  /** 1-based line where the (possibly continued) line starts. */
  line: number;
  /** `--hash=` values given on the line (`sha256:<hex>`). */
  hashes: string[];
}

/** A `-r` / `-c` reference to another file. */
interface Include {
  kind: "requirement" | "constraint";
  /** The path as written (relative to the including file). */
  path: string;
  line: number;
}

/** Everything a requirements file says. */
interface RequirementsFile {
  requirements: RequirementLine[];
  includes: Include[];
  /** `-i` / `--index-url` (last one wins, as in pip). */
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  /** Options accepted but with no meaning for resolution here (e.g. `--prefer-binary`). */
  ignored: { option: string; line: number }[];
}

// Global options pip accepts in requirements files, and whether they take a value.
const OPTIONS: Record<string, { value: boolean; short?: string }> = {
  "--requirement": { value: true, short: "-r" },
  "--constraint": { value: true, short: "-c" },
  "--index-url": { value: true, short: "-i" },
  "--extra-index-url": { value: true },
  "--find-links": { value: true, short: "-f" },
  "--no-index": { value: false },
  "--pre": { value: false },
  "--prefer-binary": { value: false },
  "--require-hashes": { value: false },
  "--trusted-host": { value: true },
  "--only-binary": { value: true },
  "--no-binary": { value: true },
  "--use-feature": { value: true },
  "--editable": { value: true, short: "-e" },
};
const SHORT = Object.fromEntries(
  Object.entries(OPTIONS).flatMap(([long, o]) =>
    o.short ? [[o.short, long]] : []
  ),
);
// Options allowed after a requirement on the same line.
const PER_REQUIREMENT = new Set([
  "--hash",
  "--config-settings",
  "--global-option",
]);

/** Joined logical lines: comments stripped, `\` continuations joined, blank lines dropped. */
function logicalLines(text: string): { line: number; text: string }[] {
  const physical = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const result: { line: number; text: string }[] = [];
  let buf = "";
  let start = 0;
  for (let i = 0; i < physical.length; i++) {
    let l = physical[i]!;
    if (buf === "") start = i + 1;
    // A comment starts at a '#' at the start of a line or after whitespace (pip's rule), so
    // URL fragments like `#egg=` survive.
    const c = l.search(/(^|\s)#/);
    if (c >= 0) l = l.slice(0, c);
    if (l.endsWith("\\") && c < 0) {
      buf += l.slice(0, -1);
      continue;
    }
    buf += l;
    if (buf.trim() !== "") result.push({ line: start, text: buf.trim() });
    buf = "";
  }
  if (buf.trim() !== "") result.push({ line: start, text: buf.trim() });
  return result;
}

/** Splits on whitespace, keeping quoted strings together (for markers with spaces). */
function tokens(text: string): string[] {
  return text.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
}

/** Parses a requirements file into requirements, includes and options. */
export function parseRequirementsFile(
  text: string,
  file: string,
): RequirementsFile {
  const result: RequirementsFile = {
    requirements: [],
    includes: [],
    extraIndexUrls: [],
    findLinks: [],
    noIndex: false,
    ignored: [],
  };
  for (const { line, text: l } of logicalLines(text)) {
    const where = `${file}:${line}`;
    if (l.startsWith("-")) fileOption(result, l, line, where);
    else {
      result.requirements.push({
        ...requirementLine(l, where),
        file,
        line,
      });
    }
  }
  return result;
}

/** One option line of a requirements file (`-r other.txt`, `--index-url URL` …), into `result`. */
function fileOption(
  result: RequirementsFile,
  l: string,
  line: number,
  where: string,
): void {
  const toks = tokens(l);
  let opt = toks[0]!;
  let value: string | undefined;
  const eq = opt.indexOf("=");
  if (opt.startsWith("--") && eq > 0) {
    value = opt.slice(eq + 1);
    opt = opt.slice(0, eq);
  } else if (!opt.startsWith("--") && opt.length > 2) {
    value = opt.slice(2); // -rfile
    opt = opt.slice(0, 2);
  }
  opt = SHORT[opt] ?? opt;
  const spec = OPTIONS[opt];
  if (!spec) throw new KitError(`${where}: unknown option "${toks[0]}"`);
  if (spec.value) {
    value ??= toks[1];
    if (value === undefined || value === "") {
      throw new KitError(`${where}: option "${opt}" needs a value`);
    }
  }
  switch (opt) {
    case "--requirement":
      result.includes.push({ kind: "requirement", path: value!, line });
      break;
    case "--constraint":
      result.includes.push({ kind: "constraint", path: value!, line });
      break;
    case "--index-url":
      result.indexUrl = value!;
      break;
    case "--extra-index-url":
      result.extraIndexUrls.push(value!);
      break;
    case "--find-links":
      result.findLinks.push(value!);
      break;
    case "--no-index":
      result.noIndex = true;
      break;
    case "--editable":
      throw new KitError(
        `${where}: editable requirement "${value}" cannot be pinned: list the project by name instead`,
      );
    default:
      result.ignored.push({ option: opt, line });
  }
}

/** A requirement line, possibly followed by per-requirement options (` --hash=sha256:…`). */
function requirementLine(
  l: string,
  where: string,
): Requirement & { hashes: string[] } {
  const optAt = l.search(/\s--?[A-Za-z]/);
  const reqText = optAt >= 0 ? l.slice(0, optAt) : l;
  const hashes: string[] = [];
  const toks = optAt >= 0 ? tokens(l.slice(optAt)) : [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const [name, inline] = t.includes("=")
      ? [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]
      : [t, undefined];
    if (!PER_REQUIREMENT.has(name)) {
      throw new KitError(
        `${where}: option "${name}" is not allowed after a requirement`,
      );
    }
    const v = inline ?? toks[++i];
    if (!v) throw new KitError(`${where}: option "${name}" needs a value`);
    if (name === "--hash") {
      if (!/^sha(256|384|512):[0-9a-f]+$/.test(v)) {
        throw new KitError(`${where}: bad hash "${v}"`);
      }
      hashes.push(v);
    }
  }
  if (/^(\.{0,2}\/|[A-Za-z][A-Za-z0-9+.-]*:\/\/)/.test(reqText)) {
    throw new KitError(
      `${where}: "${reqText}" is a path or URL, not a named requirement: write "name @ URL"`,
    );
  }
  try {
    return { ...parseRequirement(reqText), hashes };
  } catch (e) {
    if (e instanceof KitError) throw new KitError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The requirements of a requirements.txt text (options and includes are not followed). */
export function parseRequirementsTxt(
  text: string,
  file: string,
): RequirementLine[] {
  return parseRequirementsFile(text, file).requirements;
}

/**
 * Reads a requirements file and the files it includes with `-r` (relative to the including
 * file); `-c` constraint files are returned separately. Cycles are an error.
 */
export async function readRequirementsFile(path: string): Promise<{
  requirements: RequirementLine[];
  constraints: RequirementLine[];
  options: Omit<RequirementsFile, "requirements" | "includes">;
}> {
  const options: Omit<RequirementsFile, "requirements" | "includes"> = {
    extraIndexUrls: [],
    findLinks: [],
    noIndex: false,
    ignored: [],
  };
  const requirements: RequirementLine[] = [];
  const constraints: RequirementLine[] = [];
  const visit = async (p: string, stack: string[], into: RequirementLine[]) => {
    const abs = resolve(p);
    if (stack.includes(abs)) {
      throw new KitError(
        `Requirements files include each other: ${
          [...stack, abs].join(" -> ")
        }`,
      );
    }
    let text: string;
    try {
      text = await Deno.readTextFile(abs);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        const from = stack.at(-1);
        throw new KitError(
          `Requirements file "${p}" not found${
            from ? ` (included from "${from}")` : ""
          }`,
        );
      }
      throw e;
    }
    const f = parseRequirementsFile(text, p);
    into.push(...f.requirements);
    if (f.indexUrl !== undefined) options.indexUrl = f.indexUrl;
    options.extraIndexUrls.push(...f.extraIndexUrls);
    options.findLinks.push(
      ...f.findLinks.map((l) =>
        /^[A-Za-z][A-Za-z0-9+.-]*:/.test(l) ? l : resolve(dirname(abs), l)
      ),
    );
    options.noIndex ||= f.noIndex;
    options.ignored.push(...f.ignored);
    for (const inc of f.includes) {
      const target = resolve(dirname(abs), inc.path);
      await visit(
        target,
        [...stack, abs],
        inc.kind === "constraint" ? constraints : into,
      );
    }
  };
  await visit(path, [], requirements);
  return { requirements, constraints, options };
}

/** One requirement that differs between two sets. */
interface ChangedRequirement {
  /** Normalised project name. */
  name: string;
  old: Requirement;
  new: Requirement;
  /** What changed, e.g. `specifier ">=4.50.3" -> ">=4.52"`. */
  changes: string[];
}

/** The difference between two lists of requirements. */
export interface RequirementsDiff {
  added: Requirement[];
  removed: Requirement[];
  changed: ChangedRequirement[];
  unchanged: Requirement[];
}

function markerText(r: Requirement): string {
  return r.marker ? markerToString(r.marker) : "";
}

function describeChanges(a: Requirement, b: Requirement): string[] {
  const changes: string[] = [];
  const q = (s: string) => JSON.stringify(s);
  if (a.specifier !== b.specifier) {
    changes.push(`specifier ${q(a.specifier)} -> ${q(b.specifier)}`);
  }
  const ea = a.extras.map(normalizeName).sort().join(",");
  const eb = b.extras.map(normalizeName).sort().join(",");
  if (ea !== eb) changes.push(`extras [${ea}] -> [${eb}]`);
  if ((a.url ?? "") !== (b.url ?? "")) {
    changes.push(`url ${q(a.url ?? "")} -> ${q(b.url ?? "")}`);
  }
  if (markerText(a) !== markerText(b)) {
    changes.push(`marker ${q(markerText(a))} -> ${q(markerText(b))}`);
  }
  if (a.name !== b.name && changes.length === 0) {
    changes.push(`spelling ${q(a.name)} -> ${q(b.name)}`);
  }
  return changes;
}

/**
 * Compares two requirement lists by normalised name (`Pillow` and `pillow` are one project).
 * A project listed several times (under different markers) is matched marker by marker.
 * Results keep the order of `newer` (removed: the order of `older`).
 */
export function diffRequirements(
  older: readonly Requirement[],
  newer: readonly Requirement[],
): RequirementsDiff {
  const group = (list: readonly Requirement[]) => {
    const m = new Map<string, Requirement[]>();
    for (const r of list) {
      const k = normalizeName(r.name);
      m.set(k, [...(m.get(k) ?? []), r]);
    }
    return m;
  };
  const og = group(older);
  const ng = group(newer);
  const diff: RequirementsDiff = {
    added: [],
    removed: [],
    changed: [],
    unchanged: [],
  };
  const matched = new Set<Requirement>();
  const compare = (name: string, a: Requirement, b: Requirement) => {
    matched.add(a);
    const changes = describeChanges(a, b);
    if (changes.length === 0) diff.unchanged.push(b);
    else diff.changed.push({ name, old: a, new: b, changes });
  };
  for (const b of newer) {
    const name = normalizeName(b.name);
    const olds = og.get(name) ?? [];
    const news = ng.get(name)!;
    if (olds.length === 1 && news.length === 1) {
      compare(name, olds[0]!, b);
      continue;
    }
    const same = olds.find((a) =>
      !matched.has(a) && markerText(a) === markerText(b)
    );
    if (same) compare(name, same, b);
    else diff.added.push(b);
  }
  for (const a of older) {
    if (!matched.has(a)) diff.removed.push(a);
  }
  return diff;
}
