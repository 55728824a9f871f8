// Text-preserving edits of TOML files (Flox's .flox/env/manifest.toml): change one string value in
// place and keep every comment, blank line and layout byte-for-byte. smol-toml only parses, so a
// small scanner locates the value's span; the edit is proved by parsing before and after and
// checking that exactly the one value changed.
//
//   setTomlString(text, ["install", "comfyui", "version"], "0.3.76", "manifest.toml")
import { parse } from "smol-toml";
import { isDeepStrictEqual } from "node:util";
import { KitError } from "../kit/errors.ts";

/** Where a value sits in the text: `text.slice(start, end)` is its source. */
export interface TomlValueSpan {
  /** Full key path, table prefix included; array elements are indexed ("0", "1", …). */
  path: string[];
  start: number;
  end: number;
  /** The value's kind as written. */
  kind:
    | "basic"
    | "literal"
    | "ml-basic"
    | "ml-literal"
    | "array"
    | "table"
    | "scalar";
}

/** Parses TOML text with smol-toml; a syntax error becomes a KitError naming the file. */
export function parseToml(
  text: string,
  file = "TOML",
): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new KitError(`${file}: invalid TOML: ${msg}`);
  }
}

/** Lists the span of every key's value (tables, inline tables and arrays recursed into). */
export function scanTomlValues(text: string): TomlValueSpan[] {
  return new Scanner(text).scan();
}

/**
 * Sets the string value at `path` (e.g. `["install", "comfyui", "version"]`), keeping its quote
 * style where possible and everything else byte-for-byte. Throws a KitError when the key is
 * missing or not a string. Returns the text unchanged when the value is already `value`.
 */
export function setTomlString(
  text: string,
  path: readonly string[],
  value: string,
  file = "TOML",
): string {
  const before = parseToml(text, file);
  const spans = scanTomlValues(text).filter((s) => samePath(s.path, path));
  const key = path.join(".");
  if (spans.length === 0) {
    throw new KitError(`${file}: no key "${key}" to set`);
  }
  const span = spans[0]!;
  if (spans.length > 1 || !isStringKind(span.kind)) {
    throw new KitError(`${file}: "${key}" is not a single string value`);
  }
  if (getPath(before, path) === value) return text;
  const literal = span.kind === "literal" && !value.includes("'") &&
    ![...value].some(isControl);
  const encoded = literal ? `'${value}'` : encodeBasic(value);
  const next = text.slice(0, span.start) + encoded + text.slice(span.end);
  // Prove the edit: the new text parses, and equals the old document with only this value changed.
  const after = parseToml(next, file);
  const expected = structuredClone(before);
  setPath(expected, path, value);
  // structuredClone on both sides: smol-toml's tables have no prototype.
  if (!isDeepStrictEqual(structuredClone(after), expected)) {
    throw new Error(`toml_edit: editing "${key}" changed more than that value`);
  }
  return next;
}

/** A version pin of a package in a Flox manifest's `[install]` table. */
export interface FloxPin {
  /** The install id (the key under `[install]`). */
  id: string;
  pkgPath: string;
  /** The pin as written, e.g. "0.3.75" or "^0.3". */
  version: string;
  /** Key path of the version value, for setTomlString. */
  path: string[];
}

/**
 * Finds the `[install]` entries whose `pkg-path` is `pname` (or `<catalog>/<pname>`) and which
 * carry a string `version` pin.
 */
export function findFloxPins(
  text: string,
  pname: string,
  file = "manifest.toml",
): FloxPin[] {
  const doc = parseToml(text, file);
  const install = doc["install"];
  if (!isRecord(install)) return [];
  const pins: FloxPin[] = [];
  for (const [id, entry] of Object.entries(install)) {
    if (!isRecord(entry)) continue;
    const pkgPath = entry["pkg-path"];
    const version = entry["version"];
    if (typeof pkgPath !== "string" || typeof version !== "string") continue;
    if (pkgPath !== pname && !pkgPath.endsWith(`/${pname}`)) continue;
    pins.push({ id, pkgPath, version, path: ["install", id, "version"] });
  }
  return pins;
}

/**
 * The pin rewritten for `version`, keeping a range operator (`^`, `~`, `=`, `>=` …) when the old
 * pin had one: "0.3.75" → "0.3.76", "^0.3.75" → "^0.3.76".
 */
export function repin(oldPin: string, version: string): string {
  const op = /^\s*(\^|~|==|=|>=|<=|>|<)?\s*/.exec(oldPin)?.[1] ?? "";
  return `${op}${version}`;
}

function isControl(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return c < 0x20 || c === 0x7f;
}

function isStringKind(kind: TomlValueSpan["kind"]): boolean {
  return kind === "basic" || kind === "literal" || kind === "ml-basic" ||
    kind === "ml-literal";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Date);
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

function getPath(doc: unknown, path: readonly string[]): unknown {
  let cur = doc;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function setPath(
  doc: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
) {
  let cur: Record<string, unknown> = doc;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[path[path.length - 1]!] = value;
}

function encodeBasic(value: string): string {
  let s = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') s += '\\"';
    else if (ch === "\\") s += "\\\\";
    else if (ch === "\n") s += "\\n";
    else if (ch === "\t") s += "\\t";
    else if (ch === "\r") s += "\\r";
    else if (c < 0x20 || c === 0x7f) {
      s += `\\u${c.toString(16).padStart(4, "0")}`;
    } else s += ch;
  }
  return s + '"';
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/** A scanner over already-valid TOML (callers parse with smol-toml first). */
class Scanner {
  #t: string;
  #i = 0;
  #spans: TomlValueSpan[] = [];
  #arrayTables = new Map<string, number>();
  constructor(text: string) {
    this.#t = text;
  }

  scan(): TomlValueSpan[] {
    let prefix: string[] = [];
    const t = this.#t;
    while (this.#i < t.length) {
      this.#skipWsCommentsNewlines();
      if (this.#i >= t.length) break;
      if (t.startsWith("[[", this.#i)) {
        this.#i += 2;
        const keys = this.#key();
        this.#expect("]]");
        const id = keys.join("\0");
        const n = this.#arrayTables.get(id) ?? 0;
        this.#arrayTables.set(id, n + 1);
        prefix = [...keys, String(n)];
      } else if (t[this.#i] === "[") {
        this.#i++;
        prefix = this.#key();
        this.#expect("]");
      } else {
        const keys = this.#key();
        this.#expect("=");
        this.#value([...prefix, ...keys]);
      }
    }
    return this.#spans;
  }

  #skipWs() {
    while (this.#t[this.#i] === " " || this.#t[this.#i] === "\t") this.#i++;
  }

  #skipWsCommentsNewlines() {
    const t = this.#t;
    while (this.#i < t.length) {
      const c = t[this.#i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.#i++;
      else if (c === "#") {
        while (this.#i < t.length && t[this.#i] !== "\n") this.#i++;
      } else break;
    }
  }

  #expect(s: string) {
    this.#skipWs();
    if (!this.#t.startsWith(s, this.#i)) {
      throw new Error(`toml_edit: expected "${s}" at offset ${this.#i}`);
    }
    this.#i += s.length;
  }

  #key(): string[] {
    const keys: string[] = [];
    const t = this.#t;
    for (;;) {
      this.#skipWs();
      const c = t[this.#i];
      if (c === '"') {
        const start = this.#i;
        this.#basicString();
        keys.push(JSON.parse(t.slice(start, this.#i)) as string);
      } else if (c === "'") {
        const start = this.#i;
        this.#literalString();
        keys.push(t.slice(start + 1, this.#i - 1));
      } else {
        const start = this.#i;
        while (this.#i < t.length && BARE_KEY.test(t[this.#i]!)) this.#i++;
        if (start === this.#i) {
          throw new Error(`toml_edit: expected a key at offset ${start}`);
        }
        keys.push(t.slice(start, this.#i));
      }
      this.#skipWs();
      if (t[this.#i] !== ".") return keys;
      this.#i++;
    }
  }

  #basicString() {
    const t = this.#t;
    this.#i++;
    while (this.#i < t.length && t[this.#i] !== '"') {
      this.#i += t[this.#i] === "\\" ? 2 : 1;
    }
    this.#i++;
  }

  #literalString() {
    const end = this.#t.indexOf("'", this.#i + 1);
    this.#i = end + 1;
  }

  #multiline(delim: string, escapes: boolean) {
    const t = this.#t;
    this.#i += 3;
    while (this.#i < t.length) {
      if (escapes && t[this.#i] === "\\") {
        this.#i += 2;
        continue;
      }
      if (t.startsWith(delim, this.#i)) {
        this.#i += 3;
        // Up to two quotes may sit right before the closing delimiter.
        let extra = 0;
        while (extra < 2 && t[this.#i] === delim[0]) {
          this.#i++;
          extra++;
        }
        return;
      }
      this.#i++;
    }
  }

  #value(path: string[]) {
    this.#skipWs();
    const t = this.#t;
    const start = this.#i;
    let kind: TomlValueSpan["kind"];
    if (t.startsWith('"""', start)) {
      this.#multiline('"""', true);
      kind = "ml-basic";
    } else if (t.startsWith("'''", start)) {
      this.#multiline("'''", false);
      kind = "ml-literal";
    } else if (t[start] === '"') {
      this.#basicString();
      kind = "basic";
    } else if (t[start] === "'") {
      this.#literalString();
      kind = "literal";
    } else if (t[start] === "[") {
      this.#i++;
      for (let n = 0;; n++) {
        this.#skipWsCommentsNewlines();
        if (t[this.#i] === "]") break;
        this.#value([...path, String(n)]);
        this.#skipWsCommentsNewlines();
        if (t[this.#i] === ",") this.#i++;
      }
      this.#i++;
      kind = "array";
    } else if (t[start] === "{") {
      this.#i++;
      for (;;) {
        this.#skipWs();
        if (t[this.#i] === "}") break;
        const keys = this.#key();
        this.#expect("=");
        this.#value([...path, ...keys]);
        this.#skipWs();
        if (t[this.#i] === ",") this.#i++;
      }
      this.#i++;
      kind = "table";
    } else {
      while (this.#i < t.length && !/[,\]}#\r\n]/.test(t[this.#i]!)) this.#i++;
      let end = this.#i;
      while (end > start && /[ \t]/.test(t[end - 1]!)) end--;
      this.#spans.push({ path, start, end, kind: "scalar" });
      return;
    }
    this.#spans.push({ path, start, end: this.#i, kind });
  }
}
