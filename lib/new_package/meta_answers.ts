// Answers that stand in for a distribution's metadata (new-package --from-manifest with the file
// absent) or replace what its metadata says (--summary, --homepage, --format, --requires,
// --no-deps, --build-requires), and the small answer syntaxes (import names, lists).
//
//   const meta = withAnswers(await readDistMetadata(path), { summary: "Spandrel" });
//
// withAnswers is pure; metaFromAnswers asks a Frontend for what the answers lack.
import { UsageError } from "../kit/errors.ts";
import type { DistMetadata } from "../python/dist_metadata.ts";
import { info } from "../kit/log.ts";
import type { SourceEntry } from "../repo/manifest.ts";
import { normalizeName } from "../python/names.ts";
import { requirementsProblem, splitRequirements } from "../python/pep508.ts";
import type { Frontend } from "../kit/prompt.ts";
import type { PackageSpec } from "./render.ts";

/** Answers for the root package's metadata; absent fields come from the file (or are asked). */
export interface MetaAnswers {
  summary?: string;
  homepage?: string;
  format?: PackageSpec["format"];
  /** Runtime requirements (PEP 508); `[]` is --no-deps. */
  requires?: string[];
  /** [build-system] requires (PEP 508). */
  buildRequires?: string[];
}

/** The `format` values a package file can have. */
const FORMATS = ["wheel", "pyproject", "setuptools"] as const;

/** An http(s) URL that is safe inside a Nix string (no spaces, quotes or backslashes). */
const HOMEPAGE = /^https?:\/\/[^\s"'\\]+$/;

/** "a, b c" → ["a", "b", "c"]: a list answer, commas or spaces between items. */
export function splitList(s: string): string[] {
  return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

/** A Python import name: dotted identifiers (`a`, `a.b`). */
export function isImportName(s: string): boolean {
  return s.split(".").every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p));
}

/**
 * The metadata answers among new-package's flags, validated (UsageError naming the flag):
 * a non-empty summary, an http(s) homepage, a known format, PEP 508 requirements (repeatable,
 * comma separated; `noDeps` is `requires: []`), no build requirements for a wheel.
 */
export function parseMetaAnswers(flags: {
  summary?: string | undefined;
  homepage?: string | undefined;
  format?: string | undefined;
  requires?: string[] | undefined;
  noDeps?: boolean | undefined;
  buildRequires?: string[] | undefined;
}): MetaAnswers {
  const a: MetaAnswers = {};
  if (flags.summary !== undefined) {
    if (!flags.summary.trim()) {
      throw new UsageError("--summary must not be empty");
    }
    a.summary = flags.summary.replace(/\s+/g, " ").trim();
  }
  if (flags.homepage !== undefined) {
    if (!HOMEPAGE.test(flags.homepage)) {
      throw new UsageError(
        `--homepage "${flags.homepage}" is not an http(s) URL`,
      );
    }
    a.homepage = flags.homepage;
  }
  if (flags.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(flags.format)) {
      throw new UsageError(
        `--format "${flags.format}" is not one of: ${FORMATS.join(", ")}`,
      );
    }
    a.format = flags.format as PackageSpec["format"];
  }
  if (flags.noDeps && flags.requires?.length) {
    throw new UsageError("Choose one of --requires and --no-deps");
  }
  if (flags.noDeps) a.requires = [];
  else if (flags.requires) {
    a.requires = requirementsFlag("--requires", flags.requires);
  }
  if (flags.buildRequires) {
    a.buildRequires = requirementsFlag("--build-requires", flags.buildRequires);
    if (a.format === "wheel" && a.buildRequires.length) {
      throw new UsageError(
        "--build-requires is for an sdist: a wheel has no build step",
      );
    }
  }
  return a;
}

/** The requirements of a repeatable, comma-separated flag, each checked as PEP 508. */
function requirementsFlag(flag: string, values: string[]): string[] {
  const reqs = values.flatMap(splitRequirements);
  const bad = requirementsProblem(reqs);
  if (bad) throw new UsageError(`${flag} ${bad}`);
  return reqs;
}

/** A wheel is built as "wheel"; an sdist is not. UsageError naming --format otherwise. */
function checkFormat(format: PackageSpec["format"], file: string): void {
  if ((format === "wheel") !== file.endsWith(".whl")) {
    throw new UsageError(
      `--format ${format} does not fit ${file}: a .whl is format wheel, an sdist pyproject or setuptools`,
    );
  }
}

/** The metadata with the answers in place of the file's (and a note where they differ). */
export function withAnswers(meta: DistMetadata, a: MetaAnswers): DistMetadata {
  const m: DistMetadata = { ...meta };
  const note = (flag: string, from: unknown, to: unknown) => {
    if (JSON.stringify(from) !== JSON.stringify(to)) {
      info(
        `${flag} replaces what ${meta.file} says (${
          JSON.stringify(from) ?? "nothing"
        })`,
      );
    }
  };
  if (a.summary !== undefined) {
    note("--summary", meta.summary, a.summary);
    m.summary = a.summary;
  }
  if (a.homepage !== undefined) {
    note("--homepage", meta.homepage, a.homepage);
    m.homepage = a.homepage;
  }
  if (a.format !== undefined) {
    checkFormat(a.format, meta.file);
    note("--format", meta.format, a.format);
    m.format = a.format;
  }
  if (a.requires !== undefined) {
    note(
      a.requires.length ? "--requires" : "--no-deps",
      meta.requiresDist,
      a.requires,
    );
    m.requiresDist = a.requires;
  }
  if (a.buildRequires !== undefined) {
    if (m.format === "wheel") {
      throw new UsageError(
        "--build-requires is for an sdist: a wheel has no build step",
      );
    }
    note("--build-requires", meta.buildRequires, a.buildRequires);
    m.buildRequires = a.buildRequires;
  }
  return m;
}

/**
 * Metadata for a recorded distribution whose file cannot be read: the answers, and questions
 * (through `fe`) for what they lack.
 */
export async function metaFromAnswers(
  fe: Frontend,
  a: MetaAnswers,
  name: string,
  entry: SourceEntry,
): Promise<DistMetadata> {
  const wheel = entry.file.endsWith(".whl");
  const format = a.format ?? (wheel ? "wheel" : await fe.select<
    "pyproject" | "setuptools"
  >({
    key: "format",
    flag: "--format",
    message: `How is ${entry.file} built?`,
    choices: [
      { value: "pyproject", name: "pyproject: PEP 517 [build-system]" },
      { value: "setuptools", name: "setuptools: setup.py only" },
    ],
  }));
  checkFormat(format, entry.file);
  const summary = a.summary ?? (await fe.input({
    key: "summary",
    flag: "--summary",
    message: `Summary of ${name} (meta.description):`,
    validate: (v) => v.trim() ? true : "must not be empty",
  })).replace(/\s+/g, " ").trim();
  const homepage = a.homepage ?? await fe.input({
    key: "homepage",
    flag: "--homepage",
    message: `Homepage of ${name}:`,
    default: `https://pypi.org/project/${normalizeName(name)}/`,
    validate: (v) => HOMEPAGE.test(v) || "not an http(s) URL",
  });
  const requires = a.requires ?? splitRequirements(
    await fe.input({
      key: "requires",
      flag: "--requires or --no-deps",
      message:
        `Runtime requirements of ${name} (PEP 508, comma separated; empty for none):`,
      validate: (v) => requirementsProblem(splitRequirements(v)) ?? true,
    }),
  );
  const buildRequires = format === "wheel"
    ? []
    : a.buildRequires ?? splitRequirements(
      await fe.input({
        key: "build-requires",
        flag: "--build-requires",
        message: `[build-system] requires of ${entry.file} (comma separated):`,
        ...(format === "setuptools" ? { default: "setuptools" } : {}),
        validate: (v) => requirementsProblem(splitRequirements(v)) ?? true,
      }),
    );
  return {
    file: entry.file,
    kind: wheel ? "wheel" : "sdist",
    name,
    version: entry.version,
    summary,
    homepage,
    projectUrls: {},
    classifiers: [],
    requiresDist: requires,
    providesExtra: [],
    format,
    buildRequires,
    importNames: [],
    wheelTags: wheel
      ? [entry.file.replace(/\.whl$/, "").split("-").slice(-3).join("-")]
      : [],
    licenseFiles: [],
  };
}
