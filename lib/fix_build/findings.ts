// What went wrong, read from a build log: each recognised failure as a Finding, in log order,
// with the derivation (or package file) it is about when the log says. Pure: lines in, data out.
import { derivationName, type LogLine } from "./log.ts";
import { type Mismatch, parseMismatches } from "./hash.ts";

/** A failure fix-build recognises. `line` is the 1-based line of the log that reports it. */
export type Finding =
  | { kind: "hash-mismatch"; line: number; mismatch: Mismatch }
  | {
    kind: "missing-module";
    line: number;
    module: string;
    /** The derivation (or built package) whose build or run failed. */
    drv?: string | undefined;
    /** Lines of the log naming what the built package holds (`adding 'pkg/__init__.py'`). */
    holds: string[];
  }
  | {
    kind: "runtime-dep-missing";
    line: number;
    dist: string;
    /** The wheel whose dependencies were checked: `whispers-2.3.0`. */
    wheel?: string | undefined;
    drv?: string | undefined;
  }
  | {
    kind: "runtime-dep-version";
    line: number;
    dist: string;
    /** The requirement as the hook prints it: `lxml==5.2.2`. */
    requirement: string;
    /** The version the build has. */
    have: string;
    wheel?: string | undefined;
    drv?: string | undefined;
  }
  | {
    kind: "undefined-variable";
    line: number;
    name: string;
    /** `path:line` of the use, as Nix prints it. */
    at?: string | undefined;
  }
  | {
    kind: "missing-argument";
    line: number;
    name: string;
    at?: string | undefined;
    /** nixpkgs' "did you mean" names. */
    suggestions: string[];
  }
  | {
    kind: "unavailable" | "broken";
    line: number;
    /** The package's name as Nix prints it: `python3.12-triton-3.1.0`. */
    package: string;
    system?: string | undefined;
    platforms: string[];
    /** The derivation being evaluated that needs it (from `… while evaluating derivation`). */
    dependent?: string | undefined;
  };

/** Fails to compile when a switch over failure kinds misses one (a `never` default). */
export function unhandledKind(f: never): never {
  throw new Error(`unhandled failure kind ${(f as Finding).kind}`);
}

const MODULE =
  /(?:ModuleNotFoundError|ImportError): No module named (?:'([\w.]+)'|([\w.]+))/;
const WHEEL_CHECK =
  /Checking runtime dependencies for (\S+?)-(\S+?)-[^-\s]+-[^-\s]+-[^-\s]+\.whl/;
const NOT_INSTALLED = /^\s*- (\S+) not installed\s*$/;
const NOT_SATISFIED = /^\s*- (\S+?) not satisfied by version (\S+)\s*$/;
const UNDEFINED = /error: undefined variable ['‘"]([^'’"]+)['’"]/;
const MISSING_ARG =
  /called without required argument ['‘"]([^'’"]+)['’"](?: at (\S+?:\d+))?(?:, did you mean (.+?)\?)?/;
const AT = /^\s*at (\/\S+?:\d+)(?::\d+)?:?\s*$/;
const UNAVAILABLE =
  /(?:Package ['‘"]([^'’"]+)['’"] in \S+ is not available on the requested hostPlatform|Refusing to evaluate package ['‘"]([^'’"]+)['’"] in \S+ because it is not available on the requested hostPlatform)/;
const BROKEN = /Package ['‘"]([^'’"]+)['’"] in \S+ is marked as broken/;
const EVALUATING = /while evaluating derivation ['‘"]([^'’"]+)['’"]/;
const STORE_FILE = /File "\/nix\/store\/[0-9a-z]{32}-([^/"]+)\//;
const ADDING = /^adding '([A-Za-z_][\w]*)(?:\/__init__\.py|\.py)'$/;

/** The quoted names of nixpkgs' "did you mean "a", "b" or "c"" hint. */
function quoted(text: string | undefined): string[] {
  return [...(text ?? "").matchAll(/["'‘]([^"'’]+)["'’]/g)].map((m) => m[1]!);
}

/** The position Nix prints after an error (`at /path:12:5:`), within the next few lines. */
function positionAfter(lines: LogLine[], i: number): string | undefined {
  for (let j = i + 1; j < Math.min(lines.length, i + 5); j++) {
    const m = lines[j]!.text.match(AT);
    if (m) return m[1];
  }
  return undefined;
}

/** The platform report's `hostPlatform.system` and `package.meta.platforms` below line i. */
function platformsAfter(lines: LogLine[], i: number) {
  let system: string | undefined;
  const platforms: string[] = [];
  let inList = false;
  for (let j = i + 1; j < Math.min(lines.length, i + 80); j++) {
    const t = lines[j]!.text;
    const s = t.match(/hostPlatform\.system = "([^"]+)"/);
    if (s) system = s[1];
    if (/package\.meta\.platforms = \[/.test(t)) {
      inList = true;
      platforms.push(...quoted(t.split("[")[1]));
      if (t.includes("]")) inList = false;
      continue;
    }
    if (inList) {
      if (t.includes("]")) inList = false;
      platforms.push(...quoted(t.split("]")[0]));
    } else if (/^\s*error:/.test(t)) break;
  }
  return { system, platforms };
}

/** The derivation of the traceback above line i: the first `/nix/store/…-name/` file in it. */
function tracebackOwner(lines: LogLine[], i: number): string | undefined {
  for (let j = i - 1; j >= Math.max(0, i - 40); j--) {
    const t = lines[j]!.text;
    if (/^Traceback \(most recent call last\)/.test(t.trim())) break;
    const m = t.match(STORE_FILE);
    if (m && !/^python3[\d.]*-3\./.test(m[1]!) && !/^python3-/.test(m[1]!)) {
      // The outermost frame that is a package (not the interpreter) is the one that failed.
      let owner = m[1]!;
      for (let k = j - 1; k >= Math.max(0, i - 40); k--) {
        const o = lines[k]!.text.match(STORE_FILE);
        if (/^Traceback/.test(lines[k]!.text.trim())) break;
        if (o && !/^python3-/.test(o[1]!)) owner = o[1]!;
      }
      return owner;
    }
  }
  return undefined;
}

/** Every failure of a log fix-build recognises, in order (a repeated report counts once). */
export function findFailures(lines: LogLine[], rawLog: string): Finding[] {
  const out: Finding[] = parseMismatches(rawLog).map((m) => ({
    kind: "hash-mismatch",
    line: m.line,
    mismatch: m,
  }));
  const holds = lines.map((l) => l.text.match(ADDING)?.[1]).filter((
    x,
  ): x is string => !!x && !/^tests?$/.test(x));
  let wheel: string | undefined;
  let evaluating: string | undefined;
  lines.forEach((l, i) => {
    const t = l.text;
    const drv = l.drv ?? l.prefix;
    const ev = t.match(EVALUATING);
    if (ev) evaluating = ev[1];
    const w = t.match(WHEEL_CHECK);
    if (w) wheel = `${w[1]!.replace(/_/g, "-")}-${w[2]}`;
    let m: RegExpMatchArray | null;
    if ((m = t.match(MODULE))) {
      out.push({
        kind: "missing-module",
        line: l.line,
        module: (m[1] ?? m[2])!,
        drv: drv ?? tracebackOwner(lines, i),
        holds: [...new Set(holds)],
      });
    } else if (wheel && (m = t.match(NOT_INSTALLED))) {
      out.push({
        kind: "runtime-dep-missing",
        line: l.line,
        dist: m[1]!,
        wheel,
        drv,
      });
    } else if (wheel && (m = t.match(NOT_SATISFIED))) {
      const dist = m[1]!.match(/^[A-Za-z0-9][A-Za-z0-9._-]*/)?.[0] ?? m[1]!;
      out.push({
        kind: "runtime-dep-version",
        line: l.line,
        dist,
        requirement: m[1]!,
        have: m[2]!,
        wheel,
        drv,
      });
    } else if ((m = t.match(UNDEFINED))) {
      out.push({
        kind: "undefined-variable",
        line: l.line,
        name: m[1]!,
        at: positionAfter(lines, i),
      });
    } else if ((m = t.match(MISSING_ARG))) {
      out.push({
        kind: "missing-argument",
        line: l.line,
        name: m[1]!,
        at: m[2] ?? positionAfter(lines, i),
        suggestions: quoted(m[3]),
      });
    } else if ((m = t.match(UNAVAILABLE)) || (m = t.match(BROKEN))) {
      const broken = BROKEN.test(t);
      out.push({
        kind: broken ? "broken" : "unavailable",
        line: l.line,
        package: (m[1] ?? m[2])!,
        ...(broken ? { platforms: [] } : platformsAfter(lines, i)),
        dependent: evaluating,
      });
    }
  });
  return dedupe(withBuilders(out, lines));
}

const SOURCE_HINT =
  /^(?:Successfully built ([A-Za-z0-9_.]+-\d[^-\s]*)-|unpacking source archive \/nix\/store\/[0-9a-z]{32}-([^/\s]+?)(?:\.tar\.\w+|\.zip|\.tgz)?$)/;

/**
 * A failure printed without its derivation (plain `nix-build` output, `nix log`) belongs to the
 * first builder reported failing after it, else to the package the log was building (the wheel
 * it built, the source archive it unpacked).
 */
function withBuilders(findings: Finding[], lines: LogLine[]): Finding[] {
  const builders = lines.filter((l) => BUILDER_LINE.test(l.text));
  const hints = lines.flatMap((l) => {
    const m = l.text.trim().match(SOURCE_HINT);
    const name = m?.[1] ?? m?.[2];
    return name ? [{ line: l.line, name: name.replace(/_/g, "-") }] : [];
  });
  for (const f of findings) {
    if (
      (f.kind === "missing-module" || f.kind === "runtime-dep-missing" ||
        f.kind === "runtime-dep-version") && f.drv === undefined
    ) {
      f.drv = builders.find((b) => b.line > f.line)?.drv ??
        hints.filter((h) => h.line < f.line).pop()?.name;
    }
  }
  return findings;
}

const BUILDER_LINE = /builder for ['‘`"]?\/nix\/store\/[^'’`"\s]+\.drv/;

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const { line: _line, ...rest } = f;
    const key = JSON.stringify(
      rest,
      (k, v) => k === "mismatch" ? v.drvPath + v.got : v,
    );
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The package a derivation name is about: `python3.12-whispers-2.3.0` → whispers 2.3.0. */
export function packageOfDerivation(
  name: string,
): { pname: string; version?: string | undefined } {
  const bare = derivationName(name).replace(/^python[\d.]*-/, "")
    .replace(/-dist$/, "");
  const m = bare.match(/^(.+?)-(\d[\w.+]*(?:-\d[\w.]*)?)$/);
  return m ? { pname: m[1]!, version: m[2] } : { pname: bare };
}
