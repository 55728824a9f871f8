// Where each value of a TOML file (Flox's .flox/env/manifest.toml) sits in its text: a small
// scanner, since smol-toml only parses; verify reads the spans to name a line.

/** Where a value sits in the text: `text.slice(start, end)` is its source. */
interface TomlValueSpan {
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

/** Lists the span of every key's value (tables, inline tables and arrays recursed into). */
export function scanTomlValues(text: string): TomlValueSpan[] {
  return new Scanner(text).scan();
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
