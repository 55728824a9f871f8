// PEP 508 dependency specifiers: the grammar (requirements and markers parsed and printed) and
// requirement lists. Marker evaluation for a target Python and the translation of platform
// markers into Nix systems are lib/python/markers.ts (re-exported here).
//
//   const req = parseRequirement('torch>=2.1; sys_platform == "linux"');
//   evaluateMarker(req.marker!, markerEnvironment("3.12", "x86_64-linux")); // true
//   platformCondition(req.marker!, { python: "3.12" }); // ["aarch64-linux", "x86_64-linux"]
//
// Pure functions, no I/O. PEP 440 comparisons come from @renovatebot/pep440.
import { valid } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";

/** The marker variables of PEP 508 (legacy dotted aliases are normalised to these). */
const MARKER_VARIABLES = [
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
] as const;
type MarkerVariable = typeof MARKER_VARIABLES[number];

// Aliases that `packaging` still accepts (PEP 345 / setuptools spellings).
const ALIASES: Record<string, MarkerVariable> = {
  "os.name": "os_name",
  "sys.platform": "sys_platform",
  "platform.version": "platform_version",
  "platform.machine": "platform_machine",
  "platform.python_implementation": "platform_python_implementation",
  "python_implementation": "platform_python_implementation",
};

type VersionOp = "<=" | "<" | "!=" | "==" | ">=" | ">" | "~=" | "===";
export type MarkerOp = VersionOp | "in" | "not in";

export type MarkerValue =
  | { kind: "variable"; name: MarkerVariable }
  | { kind: "string"; value: string };

export type MarkerNode =
  | { kind: "compare"; left: MarkerValue; op: MarkerOp; right: MarkerValue }
  | { kind: "and" | "or"; left: MarkerNode; right: MarkerNode };

/** A parsed PEP 508 requirement. `specifier` is normalised ("" when none, e.g. ">=1.0,<2"). */
export interface Requirement {
  name: string;
  extras: string[];
  specifier: string;
  marker?: MarkerNode;
  url?: string;
}

/** Values of the marker variables for one interpreter on one machine. */
export type MarkerEnvironment = Record<MarkerVariable, string>;

// ---------------------------------------------------------------------------------------------
// Parser: a hand-written recursive descent over PEP 508's grammar.

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new KitError(
      `Invalid PEP 508 requirement "${this.text}": ${message} at column ${
        this.pos + 1
      }`,
    );
  }
  ws(): void {
    while (this.pos < this.text.length && /[ \t]/.test(this.text[this.pos]!)) {
      this.pos++;
    }
  }
  peek(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  eat(s: string): boolean {
    if (!this.peek(s)) return false;
    this.pos += s.length;
    return true;
  }
  match(re: RegExp): string | undefined {
    const sticky = new RegExp(re.source, "y");
    sticky.lastIndex = this.pos;
    const m = sticky.exec(this.text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
}

const NAME_RE = /[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const VERSION_OPS: VersionOp[] = [
  "===",
  "~=",
  "==",
  "!=",
  "<=",
  ">=",
  "<",
  ">",
];

/**
 * Parses one PEP 508 requirement ("name[extra]>=1,<2; python_version < '3.11'", or a URL
 * requirement "name @ https://…"). Throws a KitError naming the text and column on bad input.
 */
export function parseRequirement(text: string): Requirement {
  const p: Parser = new Parser(text.trim());
  if (p.atEnd()) p.fail("empty requirement");
  const name = p.match(NAME_RE);
  if (!name) p.fail("expected a project name");
  p.ws();
  const extras = p.peek("[") ? parseExtras(p) : [];
  p.ws();
  const req: Requirement = { name, extras, specifier: "" };
  if (p.eat("@")) {
    p.ws();
    const url = p.match(/[^ \t;]+/);
    if (!url || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) {
      p.fail('expected a URL after "@"');
    }
    req.url = url;
    const before = p.pos;
    p.ws();
    if (!p.atEnd()) {
      // A URL swallows a ';' glued to it, so the marker needs whitespace first (PEP 508).
      if (p.pos === before) p.fail("expected whitespace after the URL");
      if (!p.eat(";")) p.fail('expected ";" before a marker');
      req.marker = parseMarkerAt(p);
    }
  } else {
    if (p.peek("(")) {
      p.eat("(");
      p.ws();
      req.specifier = parseVersionMany(p);
      p.ws();
      if (!p.eat(")")) p.fail('expected ")"');
    } else if (/[<>=!~]/.test(p.text[p.pos] ?? "")) {
      req.specifier = parseVersionMany(p);
    }
    p.ws();
    if (p.eat(";")) req.marker = parseMarkerAt(p);
  }
  p.ws();
  if (!p.atEnd()) p.fail(`unexpected "${p.text.slice(p.pos)}"`);
  return req;
}

function parseExtras(p: Parser): string[] {
  p.eat("[");
  const extras: string[] = [];
  p.ws();
  if (p.eat("]")) return extras;
  for (;;) {
    p.ws();
    const e = p.match(NAME_RE);
    if (!e) p.fail("expected an extra name");
    extras.push(e);
    p.ws();
    if (p.eat("]")) return extras;
    if (!p.eat(",")) p.fail('expected "," or "]" in extras');
  }
}

function parseVersionMany(p: Parser): string {
  const parts: string[] = [];
  for (;;) {
    p.ws();
    const op = VERSION_OPS.find((o) => p.eat(o));
    if (!op) p.fail("expected a version operator");
    p.ws();
    const start = p.pos;
    const version = p.match(/[A-Za-z0-9_.*+!-]+/);
    if (!version) p.fail("expected a version");
    if (!validSpecVersion(op, version)) {
      p.pos = start;
      p.fail(`invalid version "${version}" for "${op}"`);
    }
    parts.push(`${op}${version}`);
    p.ws();
    if (!p.eat(",")) return parts.join(",");
  }
}

/** Parses a marker expression on its own (the part after ";"). */
export function parseMarker(text: string): MarkerNode {
  const p: Parser = new Parser(text.trim());
  const node = parseOr(p);
  p.ws();
  if (!p.atEnd()) p.fail(`unexpected "${p.text.slice(p.pos)}"`);
  return node;
}

function parseMarkerAt(p: Parser): MarkerNode {
  p.ws();
  if (p.atEnd()) p.fail('expected a marker after ";"');
  return parseOr(p);
}

function keyword(p: Parser, word: string): boolean {
  p.ws();
  const save = p.pos;
  if (p.eat(word) && !/[A-Za-z0-9_.]/.test(p.text[p.pos] ?? "")) return true;
  p.pos = save;
  return false;
}

function parseOr(p: Parser): MarkerNode {
  let left = parseAnd(p);
  while (keyword(p, "or")) left = { kind: "or", left, right: parseAnd(p) };
  return left;
}

function parseAnd(p: Parser): MarkerNode {
  let left = parseExpr(p);
  while (keyword(p, "and")) left = { kind: "and", left, right: parseExpr(p) };
  return left;
}

function parseExpr(p: Parser): MarkerNode {
  p.ws();
  if (p.eat("(")) {
    const node = parseOr(p);
    p.ws();
    if (!p.eat(")")) p.fail('expected ")" in marker');
    return node;
  }
  const left = parseMarkerValue(p);
  const op = parseMarkerOp(p);
  const right = parseMarkerValue(p);
  if (left.kind === "string" && right.kind === "string") {
    p.fail("a marker comparison needs a variable on one side");
  }
  return { kind: "compare", left, op, right };
}

function parseMarkerValue(p: Parser): MarkerValue {
  p.ws();
  const q = p.text[p.pos];
  if (q === "'" || q === '"') {
    const end = p.text.indexOf(q, p.pos + 1);
    if (end < 0) p.fail("unterminated string in marker");
    const value = p.text.slice(p.pos + 1, end);
    p.pos = end + 1;
    return { kind: "string", value };
  }
  const word = p.match(/[A-Za-z_][A-Za-z0-9_.]*/);
  if (word) {
    const name = (MARKER_VARIABLES as readonly string[]).includes(word)
      ? word as MarkerVariable
      : ALIASES[word];
    if (name) return { kind: "variable", name };
    p.pos -= word.length;
    p.fail(`unknown marker variable "${word}"`);
  }
  p.fail("expected a marker variable or a quoted string");
}

function parseMarkerOp(p: Parser): MarkerOp {
  p.ws();
  const op = VERSION_OPS.find((o) => p.eat(o));
  if (op) return op;
  if (keyword(p, "in")) return "in";
  const save = p.pos;
  if (keyword(p, "not")) {
    if (keyword(p, "in")) return "not in";
  }
  p.pos = save;
  p.fail("expected a marker operator");
}

// ---------------------------------------------------------------------------------------------
// Printing.

/** The marker back as PEP 508 text, double-quoted, parenthesised only where needed. */
export function markerToString(node: MarkerNode): string {
  if (node.kind === "compare") {
    return `${valueToString(node.left)} ${node.op} ${
      valueToString(node.right)
    }`;
  }
  const side = (n: MarkerNode) =>
    n.kind === "or" && node.kind === "and"
      ? `(${markerToString(n)})`
      : markerToString(n);
  return `${side(node.left)} ${node.kind} ${side(node.right)}`;
}

function valueToString(v: MarkerValue): string {
  if (v.kind === "variable") return v.name;
  return v.value.includes('"') ? `'${v.value}'` : `"${v.value}"`;
}

/** The requirement back as normalised PEP 508 text. */
export function requirementToString(req: Requirement): string {
  let s = req.name;
  if (req.extras.length) s += `[${req.extras.join(",")}]`;
  if (req.url) s += ` @ ${req.url}`;
  else s += req.specifier;
  if (req.marker) s += `${req.url ? " " : ""}; ${markerToString(req.marker)}`;
  return s;
}

/**
 * Splits "numpy>=1.25,<3, torch; sys_platform == 'linux'" into requirements: a comma starts a
 * new one unless what follows is another version clause (it starts with an operator) or the
 * comma is inside brackets (extras, a parenthesised specifier) or a quoted marker value.
 */
export function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let depth = 0;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[" || ch === "(") depth++;
    else if ((ch === "]" || ch === ")") && depth > 0) depth--;
    else if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  const reqs: string[] = [];
  for (const p of parts.map((x) => x.trim())) {
    if (!p) continue;
    if (/^[<>=!~]/.test(p) && reqs.length) reqs[reqs.length - 1] += `,${p}`;
    else reqs.push(p);
  }
  return reqs;
}

/** Why a requirement list is not PEP 508 (`"text": reason`), or undefined when it is. */
export function requirementsProblem(
  reqs: readonly string[],
): string | undefined {
  for (const r of reqs) {
    try {
      parseRequirement(r);
    } catch (e) {
      return `"${r}": ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** True when `version` may follow `op` in a version specifier (PEP 440's rules). */
export function validSpecVersion(op: VersionOp, version: string): boolean {
  if (op === "===") return true;
  if (version.endsWith(".*")) {
    return (op === "==" || op === "!=") &&
      valid(version.slice(0, -2)) !== null && !version.includes("+");
  }
  if (version.includes("*")) return false;
  if (valid(version) === null) return false;
  if (op === "~=") return /^(?:\d+!)?\d+\.\d+/.test(version.replace(/^v/, ""));
  if (version.includes("+")) return op === "==" || op === "!=";
  return true;
}
