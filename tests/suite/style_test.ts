// The error-message style (../shared/STYLE.md, std's written rule), enforced over the source:
// every KitError / UsageError message written as a literal starts in sentence case (a capital
// letter, or a name that keeps its own case: a flag, a quoted value, a path, a tool) and has no
// trailing period.
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";

/** One message literal: where it is and its text (template holes kept as `${…}`). */
export interface MessageLiteral {
  file: string;
  line: number;
  text: string;
}

/** The literal first arguments of `new KitError(…)` / `new UsageError(…)` in `source`. */
export function messageLiterals(
  file: string,
  source: string,
): MessageLiteral[] {
  const found: MessageLiteral[] = [];
  const re = /new (?:KitError|UsageError)\(\s*(["'`])/g;
  for (const m of source.matchAll(re)) {
    const quote = m[1]!;
    const start = m.index! + m[0].length;
    let i = start;
    let depth = 0;
    while (i < source.length) {
      const c = source[i]!;
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (quote === "`" && c === "$" && source[i + 1] === "{") {
        depth++;
        i += 2;
        continue;
      }
      if (depth > 0) {
        if (c === "{") depth++;
        else if (c === "}") depth--;
        i++;
        continue;
      }
      if (c === quote) break;
      i++;
    }
    const line = source.slice(0, m.index!).split("\n").length;
    found.push({ file, line, text: source.slice(start, i) });
  }
  return found;
}

/** What is wrong with a message's style, or undefined. */
export function styleProblem(text: string): string | undefined {
  const first = /^[^\s:]*/.exec(text)![0];
  // A lowercase plain word starts the sentence; names (flags, values, paths, tools with a
  // dot, dash, slash or digit, `${…}` holes) keep their own case.
  if (/^[a-z][a-z']*$/.test(first) && !TOOLS.has(first)) {
    return "starts in lower case";
  }
  if (/[^.]\.$/.test(text)) return "ends with a period";
  return undefined;
}

/** Tools whose names are lower case by nature. */
const TOOLS = new Set([
  "uv",
  "pip",
  "git",
  "nix",
  "nixpkgs",
  "flox",
  "sh",
  "deno",
]);

/**
 * Messages in files other owners are rewriting, to be fixed after their branches merge (the
 * lead removes each line as it is fixed). "<file>:<first words>".
 */
const EXCEPTIONS = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}/${dir}`)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...sourceFiles(rel));
    else if (rel.endsWith(".ts")) out.push(rel);
  }
  return out.sort();
}

/** The key an exception is listed under. */
function key(m: MessageLiteral): string {
  return `${m.file}: ${m.text.replace(/\s+/g, " ").slice(0, 40)}`;
}

Deno.test("style: every KitError/UsageError message starts in sentence case and has no trailing period", () => {
  const problems: string[] = [];
  const excused = new Set<string>();
  let count = 0;
  for (const file of [...sourceFiles("lib"), ...sourceFiles("tasks")]) {
    const source = Deno.readTextFileSync(`${ROOT}/${file}`);
    for (const m of messageLiterals(file, source)) {
      count++;
      const why = styleProblem(m.text);
      if (!why) continue;
      if (EXCEPTIONS.has(key(m))) excused.add(key(m));
      else problems.push(`${m.file}:${m.line}: ${why}: ${m.text.slice(0, 70)}`);
    }
  }
  assert.ok(count > 100, `read ${count} messages`);
  assert.deepEqual(problems, [], problems.join("\n"));
  const stale = [...EXCEPTIONS].filter((e) => !excused.has(e));
  assert.deepEqual(stale, [], "exceptions that are fixed now: remove them");
});

Deno.test("styleProblem() knows sentence case, names and trailing periods", () => {
  assert.equal(styleProblem('No such file: "x"'), undefined);
  assert.equal(styleProblem('--root "x" does not exist'), undefined);
  assert.equal(styleProblem('"x" is not a file'), undefined);
  assert.equal(styleProblem("${name} is missing"), undefined);
  assert.equal(styleProblem(".flox/pkgs/x.nix: bad"), undefined);
  assert.equal(styleProblem("nix-instantiate not found"), undefined);
  assert.equal(styleProblem("uv not found on PATH"), undefined);
  assert.equal(styleProblem("Wait…"), undefined);
  assert.equal(styleProblem("choose one"), "starts in lower case");
  assert.equal(styleProblem("no write access: x"), "starts in lower case");
  assert.equal(styleProblem("It broke."), "ends with a period");
});

Deno.test("messageLiterals() reads string, template and multi-line messages", () => {
  const src = `throw new KitError("one");
throw new UsageError(
  \`two \${a ? "b" : \`c\${d}\`} e\`,
);
throw new KitError(message);
throw new KitError('three', 2);`;
  assert.deepEqual(messageLiterals("f.ts", src).map((m) => [m.line, m.text]), [
    [1, "one"],
    [2, 'two ${a ? "b" : `c${d}`} e'],
    [6, "three"],
  ]);
});
