// Rendering package files from templates/package.nix: a plain Nix file with `{{name}}`
// placeholders that users may edit. Rendering throws on an unknown or unfilled placeholder and
// is deterministic: the same PackageSpec gives the same bytes.
//
//   const text = renderPackage(spec, await Deno.readTextFile("templates/package.nix"));
//
// Pure functions, no I/O (the caller reads the template: DEFAULT_TEMPLATE is its path).
import { PACKAGE_TEMPLATE } from "../repo/paths.ts";
import { fileURLToPath } from "node:url";
import { KitError } from "../kit/errors.ts";
import { licenseNix } from "../python/license.ts";
import { quoteNixString } from "../nix/syntax.ts";

/** The shipped template. */
export const DEFAULT_TEMPLATE = fileURLToPath(
  new URL(`../../${PACKAGE_TEMPLATE}`, import.meta.url),
);

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Fills `{{name}}` placeholders. A value with several lines is indented like the placeholder's
 * line. Throws a KitError naming `templateName` and the line for a placeholder that is not in
 * `known`, one without a value, or a stray `{{`. Unused values are allowed (a user may drop
 * a placeholder from the template).
 */
export function renderTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  opts: { templateName?: string; known?: readonly string[] } = {},
): string {
  const name = opts.templateName ?? "template";
  const known = opts.known ?? Object.keys(values);
  const lineOf = (offset: number) =>
    template.slice(0, offset).split("\n").length;
  // `}}` can close two Nix attribute sets; only a `{{` that opens no placeholder is stray.
  const stray = /\{\{(?!\s*[A-Za-z][A-Za-z0-9_]*\s*\}\})/.exec(template);
  if (stray) {
    throw new KitError(
      `${name}:${
        lineOf(stray.index)
      }: malformed placeholder (expected {{name}})`,
    );
  }
  for (const m of template.matchAll(PLACEHOLDER)) {
    const key = m[1]!;
    if (!known.includes(key)) {
      throw new KitError(
        `${name}:${lineOf(m.index)}: unknown placeholder {{${key}}} (known: ${
          known.join(", ")
        })`,
      );
    }
    if (values[key] === undefined) {
      throw new KitError(
        `${name}:${lineOf(m.index)}: placeholder {{${key}}} has no value`,
      );
    }
  }
  // A placeholder alone on its line whose value is empty takes its line with it (an optional
  // attribute such as `changelog` leaves no blank line behind).
  const kept = template.replace(
    /^[ \t]*\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}[ \t]*\n/gm,
    (line, key: string) => values[key] === "" ? "" : line,
  );
  return kept.replace(PLACEHOLDER, (_all, key: string, offset: number) => {
    const lineStart = kept.lastIndexOf("\n", offset - 1) + 1;
    const indent = /^[ \t]*/.exec(kept.slice(lineStart))![0];
    return values[key]!.replace(/\n(?!\n|$)/g, `\n${indent}`);
  });
}

/** A dependency: a nixpkgs `python3.pkgs` attribute or a custom package argument. */
export interface DepSpec {
  attr: string;
  /** Nix systems it is limited to; absent = everywhere. */
  systems?: readonly string[];
}

/** Where the source comes from. */
export type SrcSpec =
  /** `src = ../../.flox/sources/<file>;` (vendored by fetch-source). */
  | { kind: "vendored"; file: string }
  /** `fetchPypi { … }`; `file` is the PyPI file name (its tags give the wheel attributes). */
  | { kind: "pypi"; file: string; sri: string }
  /** `fetchFromGitHub { owner; repo; tag; hash; }` (`rev` for a commit; `${version}` where it fits). */
  | { kind: "github"; owner: string; repo: string; rev: string; sri: string };

/** All answers that make one package file. */
export interface PackageSpec {
  pname: string;
  version: string;
  /** "wheel" installs a wheel; the others build from source (`pyproject = true`). */
  format: "wheel" | "pyproject" | "setuptools";
  src: SrcSpec;
  dependencies: readonly DepSpec[];
  /** The `[build-system] requires` (source builds; a wheel has none). */
  buildDependencies: readonly DepSpec[];
  /** Custom packages (from .flox/pkgs) among the dependencies: they become function arguments. */
  customArgs: readonly string[];
  importNames: readonly string[];
  description: string;
  homepage: string;
  /** The changelog URL, when the metadata names one. */
  changelog?: string;
  /** `lib.licenses` attributes. */
  license: readonly string[];
  /** A comment after the licence (where it came from, when not from the metadata). */
  licenseNote?: string;
  /** Comment lines above the licence: the evidence and why this licence was chosen. */
  licenseEvidence?: readonly string[];
  /** Comment lines at the top of the derivation (what a reader must know, e.g. Requires-Python). */
  notes?: readonly string[];
  /** Nix systems the package is limited to (a platform wheel); absent = the interpreter's. */
  platforms?: readonly string[];
}

/** The placeholders templates/package.nix may use. */
const PACKAGE_PLACEHOLDERS = [
  "header",
  "sourceNote",
  "formals",
  "notes",
  "pname",
  "version",
  "buildFormat",
  "src",
  "buildSystem",
  "dependencies",
  "pythonImportsCheck",
  "description",
  "homepage",
  "changelog",
  "licenseEvidence",
  "license",
  "licenseComment",
  "platforms",
] as const;

/** Renders a package file from `template` (the text of templates/package.nix). */
export function renderPackage(
  spec: PackageSpec,
  template: string,
  templateName = PACKAGE_TEMPLATE,
): string {
  return renderTemplate(template, packageValues(spec), {
    templateName,
    known: PACKAGE_PLACEHOLDERS,
  });
}

/**
 * The Nix source of each placeholder for a spec. Follows nixpkgs' Python manual: a source
 * build says `pyproject = true;` with its `build-system`, a wheel `format = "wheel";`, both
 * list runtime requirements in `dependencies`; `platforms` only for a platform wheel (a
 * pure-Python package takes the interpreter's).
 */
function packageValues(
  spec: PackageSpec,
): Record<typeof PACKAGE_PLACEHOLDERS[number], string> {
  const formals = [...new Set([...srcFormals(spec.src), ...spec.customArgs])];
  const wheel = spec.format === "wheel";
  return {
    header: oneLine(
      `${spec.pname} ${spec.version}: ${spec.description || "Python package"}`,
    ),
    sourceNote: sourceNote(spec.src),
    formals: formals.map((f) => `, ${f}\n`).join(""),
    notes: (spec.notes ?? []).map((l) => `# ${oneLine(l)}`).join("\n"),
    pname: quoteNixString(spec.pname),
    version: quoteNixString(spec.version),
    buildFormat: wheel ? `format = "wheel";` : "pyproject = true;",
    src: renderSrc(spec),
    buildSystem: wheel
      ? ""
      : `build-system = ${renderDeps(spec.buildDependencies)};\n`,
    dependencies: renderDeps(spec.dependencies),
    pythonImportsCheck: spec.importNames.length
      ? `[ ${[...spec.importNames].sort().map(quoteNixString).join(" ")} ]`
      : "[ ]",
    description: quoteNixString(oneLine(spec.description)),
    homepage: quoteNixString(spec.homepage),
    changelog: spec.changelog
      ? `changelog = ${quoteNixString(spec.changelog)};`
      : "",
    licenseEvidence: (spec.licenseEvidence ?? []).map((l) => `# ${oneLine(l)}`)
      .join("\n"),
    license: licenseNix(spec.license),
    licenseComment: spec.licenseNote ? ` # ${oneLine(spec.licenseNote)}` : "",
    platforms: spec.platforms
      ? `platforms = [ ${
        [...spec.platforms].sort().map(quoteNixString).join(" ")
      } ];`
      : "",
  };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

function srcFormals(src: SrcSpec): string[] {
  if (src.kind === "pypi") return ["fetchPypi"];
  if (src.kind === "github") return ["fetchFromGitHub"];
  return [];
}

function sourceNote(src: SrcSpec): string {
  switch (src.kind) {
    case "vendored":
      return `vendored .flox/sources/${src.file} (sources-manifest.json)`;
    case "pypi":
      return `PyPI file ${src.file}`;
    case "github":
      return `GitHub ${src.owner}/${src.repo} at ${src.rev}`;
  }
}

function renderSrc(spec: PackageSpec): string {
  const src = spec.src;
  switch (src.kind) {
    case "vendored":
      if (!/^[\w.+-]+$/.test(src.file)) {
        throw new KitError(
          `Cannot use "${src.file}" as a Nix path literal: rename the file`,
        );
      }
      return `../../.flox/sources/${src.file}`;
    case "pypi": {
      const lines: string[] = [];
      const wheel = /^(.+?)-([^-]+)(?:-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl$/
        .exec(src.file);
      const sdist = /^(.+)-([^-]+)\.(tar\.gz|zip)$/.exec(src.file);
      const filePname = wheel?.[1] ?? sdist?.[1];
      const fileVersion = wheel?.[2] ?? sdist?.[2];
      if (!filePname || fileVersion !== spec.version) {
        throw new KitError(
          `Cannot express "${src.file}" with fetchPypi: it is not ${spec.pname} ${spec.version}`,
        );
      }
      lines.push(
        filePname === spec.pname
          ? "inherit pname version;"
          : `pname = ${quoteNixString(filePname)};`,
      );
      if (filePname !== spec.pname) lines.push("inherit version;");
      if (wheel) {
        lines.push(
          `format = "wheel";`,
          `dist = ${quoteNixString(wheel[3]!)};`,
          `python = ${quoteNixString(wheel[3]!)};`,
          `abi = ${quoteNixString(wheel[4]!)};`,
          `platform = ${quoteNixString(wheel[5]!)};`,
        );
      } else if (sdist?.[3] === "zip") lines.push(`extension = "zip";`);
      lines.push(`hash = ${quoteNixString(src.sri)};`);
      return `fetchPypi {\n${lines.map((l) => `  ${l}`).join("\n")}\n}`;
    }
    case "github": {
      // nixpkgs: `tag = …` for a tag (fetchFromGitHub then fetches refs/tags/…), `rev` for a commit.
      const commit = /^[0-9a-f]{40}$/.test(src.rev);
      const ref = src.rev === spec.version
        ? "version"
        : src.rev.endsWith(spec.version)
        ? quoteNixString(
          `${src.rev.slice(0, -spec.version.length)}\${version}`,
        ).replace("\\${version}", "${version}")
        : quoteNixString(src.rev);
      return [
        "fetchFromGitHub {",
        `  owner = ${quoteNixString(src.owner)};`,
        `  repo = ${quoteNixString(src.repo)};`,
        `  ${commit ? "rev" : "tag"} = ${ref};`,
        `  hash = ${quoteNixString(src.sri)};`,
        "}",
      ].join("\n");
    }
  }
}

/**
 * A dependency list: `with python3.pkgs; [ … ]` with the unconditional attributes, then one
 * `++ lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ … ]) [ … ]` block per system
 * set. Attributes sorted, blocks ordered by their system lists.
 */
export function renderDeps(deps: readonly DepSpec[]): string {
  const always = new Set<string>();
  const bySystems = new Map<string, Set<string>>();
  for (const d of deps) {
    if (!/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(d.attr)) {
      throw new KitError(`Not a Nix attribute name: "${d.attr}"`);
    }
    if (!d.systems) {
      always.add(d.attr);
      continue;
    }
    const key = [...new Set(d.systems)].sort().map(quoteNixString).join(" ");
    if (!bySystems.has(key)) bySystems.set(key, new Set());
    bySystems.get(key)!.add(d.attr);
  }
  // Something needed everywhere does not also need a conditional block.
  for (const set of bySystems.values()) {
    for (const a of always) set.delete(a);
  }
  const list = (items: Set<string>) =>
    items.size
      ? `[\n${[...items].sort().map((a) => `  ${a}\n`).join("")}]`
      : "[ ]";
  if (!always.size && ![...bySystems.values()].some((s) => s.size)) {
    return "[ ]";
  }
  let text = `with python3.pkgs; ${list(always)}`;
  for (const key of [...bySystems.keys()].sort()) {
    const items = bySystems.get(key)!;
    if (!items.size) continue;
    text +=
      ` ++ lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ ${key} ]) ${
        list(items)
      }`;
  }
  return text;
}
