// What cannot work from a read-only store, found by a static read of a pack's Python files:
// install scripts ComfyUI-Manager runs, pip run from code, downloads at import time, writes next
// to __file__ / into the pack's folder. Line-based on purpose: it reports file:line for a person
// to judge, it does not execute or fully parse Python. Pure: files in, findings out.
import type { PackFiles } from "./pack.ts";

/** One finding. */
export interface Hazard {
  kind: "install-script" | "pip" | "download" | "writes-pack";
  file: string;
  line: number;
  /** The line, trimmed and shortened. */
  code: string;
  why: string;
}

const WHY: Record<Hazard["kind"], string> = {
  "install-script":
    "run by ComfyUI-Manager / at start-up to set the pack up; nothing runs it from the store",
  "pip":
    "installs Python packages at run time; ComfyUI's environment is closed and read-only",
  "download":
    "downloads at import time; the store is read-only and builds have no network",
  "writes-pack":
    "writes into the pack's own folder, which is read-only in the store",
};

const PIP = [
  /\bpip\.main\s*\(/,
  /-m["',\s]+pip\b/,
  /["'\s]pip3?["']?\s*,\s*["']install["']/,
  /\bpip3?\s+install\b/,
  /\bpip\._internal\b/,
];
const DOWNLOAD =
  /\b(urlretrieve|urlopen|requests\.(get|post)|httpx\.get|hf_hub_download|snapshot_download|download_url_to_file|load_file_from_url|wget\.download)\s*\(/;
const WRITE =
  /\bopen\s*\(.*,\s*(mode\s*=\s*)?["'][wax]b?\+?["']|\.(write_text|write_bytes|mkdir|touch)\s*\(|\bos\.(makedirs|mkdir|rename|replace|remove)\s*\(|\bshutil\.(copy\w*|move|rmtree)\s*\(|\bjson\.dump\s*\(|\bzipfile\.ZipFile\s*\([^)]*["']w["']/;

function short(line: string): string {
  const t = line.trim();
  return t.length > 100 ? `${t.slice(0, 97)}...` : t;
}

/** Every finding in the pack's Python files, sorted by file and line. */
export function scanHazards(files: PackFiles): Hazard[] {
  const found: Hazard[] = [];
  const add = (
    kind: Hazard["kind"],
    file: string,
    line: number,
    code: string,
  ) => found.push({ kind, file, line, code: short(code), why: WHY[kind] });
  for (const [path, bytes] of files) {
    if (!path.endsWith(".py")) continue;
    const lines = new TextDecoder().decode(bytes).split(/\r?\n/);
    const base = path.split("/").pop()!;
    if (
      !path.includes("/") &&
      (base === "install.py" || base === "prestartup_script.py")
    ) {
      add("install-script", path, 1, `${base} (the whole file)`);
    }
    scanLines(path, lines, add);
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function scanLines(
  path: string,
  lines: string[],
  add: (kind: Hazard["kind"], file: string, line: number, code: string) => void,
): void {
  // Names bound to a path derived from __file__ (`here = os.path.dirname(__file__)`), with the
  // indentation they were bound at: a write through one is a write into the pack. A binding
  // inside a function ends with it; a function's parameters hide outer names of the same
  // spelling while it lasts (a line-based approximation of Python's scopes).
  const packPaths = new Map<string, number>();
  const hidden: { indent: number; names: Set<string> }[] = [];
  const mentions = (code: string) =>
    /__file__/.test(code) ||
    [...packPaths.keys()].some((p) =>
      !hidden.some((h) => h.names.has(p)) &&
      new RegExp(`(?<![.\\w])${p}\\b`).test(code)
    );
  let inString: string | undefined;
  lines.forEach((raw, i) => {
    const n = i + 1;
    const code = stripComment(raw);
    // Skip docstring bodies: a line-based read must not flag prose.
    const triple = code.match(/("""|''')/g);
    if (inString) {
      if (triple?.includes(inString)) inString = undefined;
      return;
    }
    if (triple && triple.length % 2 === 1) inString = triple[0];
    if (!code.trim()) return;
    const indent = code.match(/^\s*/)![0].length;
    while (hidden.length && indent <= hidden.at(-1)!.indent) hidden.pop();
    const def = code.match(
      /^\s*(?:async\s+)?(def|class)\s+\w+\s*(?:\(([^)]*)\))?/,
    );
    if (def) {
      for (const [name, at] of packPaths) {
        if (at > indent) packPaths.delete(name);
      }
      const params = (def[2] ?? "").split(",").map((x) =>
        x.trim().replace(/^\*+/, "").split(/[:=\s]/)[0]!
      ).filter(Boolean);
      hidden.push({ indent, names: new Set(params) });
      return;
    }
    const assign = code.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/);
    if (assign) {
      const [, name, value] = assign as unknown as [string, string, string];
      if (mentions(value)) packPaths.set(name, indent);
      else packPaths.delete(name);
      hidden.at(-1)?.names.delete(name);
    }
    // A message telling the user to run pip is advice, not a hazard.
    const advice = /\b(print|logging\.\w+|logger\.\w+|warn\w*|raise \w+)\s*\(/
      .test(code);
    if (PIP.some((re) => re.test(code)) && !advice) {
      add("pip", path, n, raw);
      return;
    }
    if (indent === 0 && !/^@/.test(code) && DOWNLOAD.test(code)) {
      add("download", path, n, raw);
      return;
    }
    if (WRITE.test(code) && mentions(code)) add("writes-pack", path, n, raw);
  });
}

/** The line without a trailing `# comment` (a `#` inside quotes is kept). */
function stripComment(line: string): string {
  let q: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = undefined;
    } else if (c === '"' || c === "'") q = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

/** One line per finding: `file:line: why: code`. */
export function formatHazard(h: Hazard): string {
  return `${h.file}:${h.line}: ${h.kind}: ${h.code}`;
}
