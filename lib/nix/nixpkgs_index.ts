// The offline nixpkgs index (nixpkgs-index.json): its schema, reading, writing and lookups.
// Reading also accepts what a user may have at hand instead of the kit's format: a plain JSON map
// of attribute → version, or the output of `nix-env -qaP --json -A python3Packages`; the lookup
// then says which format was read (indexLookup).
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import {
  nixAttrCandidates,
  type NixpkgsLookup,
  type NixpkgsPackage,
} from "./nixpkgs_names.ts";

/** What an index file was read as. */
type IndexFormat = "kit" | "plain-map" | "nix-env";

/** How a format is named in messages. */
function describeIndexFormat(format: IndexFormat): string {
  return format === "kit"
    ? "the kit's index format"
    : format === "plain-map"
    ? "a plain JSON map of attribute → version"
    : "nix-env -qaP --json output";
}

const ATTR = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;

const commitSchema = z.string().regex(
  /^[0-9a-f]{40}$/,
  "expected a 40-hex commit",
);

/**
 * Where one version was read from: free text, or the nixpkgs file and the commit it was read
 * at (plus an optional note, e.g. when the version is inherited from another file).
 */
const provenanceSchema = z.union([
  z.string().min(1),
  z.strictObject({
    path: z.string().min(1),
    commit: commitSchema,
    note: z.string().min(1).optional(),
  }),
]);

const indexSchema = z.strictObject({
  description: z.string().min(1),
  nixpkgs: z.strictObject({
    /** null when the versions come from several commits (see `provenance`). */
    rev: commitSchema.nullable(),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")
      .nullable(),
    channel: z.string().nullable(),
  }),
  /** The version of nixpkgs' `python3` (major.minor at least). */
  python: z.string().regex(
    /^\d+\.\d+(\.\d+)?$/,
    "expected a Python version like 3.13",
  ).optional(),
  /** Where individual versions were read from, when not from one evaluation. */
  provenance: z.record(z.string(), provenanceSchema).optional(),
  python3Packages: z.record(
    z.string().regex(ATTR, "bad attribute name"),
    z.string().min(1),
  ),
});

/**
 * The offline nixpkgs index: attribute → version for one nixpkgs revision (or per-attribute
 * commits). `format` says what the file was, when it was not the kit's own format.
 */
export type NixpkgsIndex = z.infer<typeof indexSchema> & {
  format?: IndexFormat;
};

/** Where one version of the index was read from. */
type NixpkgsProvenance = z.infer<typeof provenanceSchema>;

/** Parses `nix-env -qaP --json -A python3Packages` output into attribute → version. */
export function parseNixEnvJson(text: string): Record<string, string> {
  return nixEnvVersions(JSON.parse(text) as Record<string, unknown>);
}

function nixEnvVersions(data: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [path, meta] of Object.entries(data)) {
    const attr = path.replace(/^python3\d*Packages\./, "");
    if (attr.includes(".")) continue;
    const version = (meta as { version?: unknown } | null)?.version;
    if (typeof version === "string" && version !== "") result[attr] = version;
  }
  return result;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Which format parsed JSON is in, or undefined when it is none of them. */
function formatOf(data: unknown): IndexFormat | undefined {
  if (!isObject(data)) return undefined;
  if ("python3Packages" in data || "nixpkgs" in data || "description" in data) {
    return "kit";
  }
  const values = Object.values(data);
  if (values.every((v) => typeof v === "string")) return "plain-map";
  if (values.every((v) => isObject(v) && ("version" in v || "pname" in v))) {
    return "nix-env";
  }
  return undefined;
}

/**
 * Validates index JSON text: the kit's format, a plain attribute → version map, or nix-env's
 * JSON (the last two become an index without a recorded revision). Errors name the file and the
 * field.
 */
export function parseNixpkgsIndex(text: string, where: string): NixpkgsIndex {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new KitError(
      `${where}: not valid JSON: ${(e as Error).message}`,
    );
  }
  const format = formatOf(data);
  if (format === undefined) {
    throw new KitError(
      `${where}: not a nixpkgs index: expected the kit's format ({description, nixpkgs, python3Packages}), a JSON map of attribute → version, or the output of "nix-env -qaP --json -A python3Packages"`,
    );
  }
  if (format === "kit") {
    const r = indexSchema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const path = issue.path.map(String).join(".") || "(top level)";
      throw new KitError(`${where}: ${path}: ${issue.message}`);
    }
    return r.data;
  }
  const versions = format === "plain-map"
    ? data as Record<string, string>
    : nixEnvVersions(data as Record<string, unknown>);
  for (const [attr, version] of Object.entries(versions)) {
    if (!ATTR.test(attr)) {
      throw new KitError(
        `${where}: "${attr}": not a python3Packages attribute name`,
      );
    }
    if (version === "") throw new KitError(`${where}: ${attr}: empty version`);
  }
  return {
    description: `${describeIndexFormat(format)}, read from ${where}`,
    nixpkgs: { rev: null, date: null, channel: null },
    python3Packages: versions,
    format,
  };
}

/** Reads and validates an index file (any format parseNixpkgsIndex reads). */
export async function readNixpkgsIndex(path: string): Promise<NixpkgsIndex> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KitError(
        `nixpkgs index "${path}" not found: pass --nixpkgs-index FILE or run "deno task update-nixpkgs-index"`,
      );
    }
    throw e;
  }
  return parseNixpkgsIndex(text, path);
}

/**
 * Why a regenerated index should not replace the old one without --force: it drops most of the
 * old attributes (a nixpkgs where evaluation failed). Undefined when it is fine.
 */
export function shrinkProblem(
  before: Record<string, string>,
  after: Record<string, string>,
): string | undefined {
  const old = Object.keys(before);
  const dropped = old.filter((a) => !Object.hasOwn(after, a));
  if (old.length === 0 || dropped.length * 2 <= old.length) return undefined;
  return `the new index drops ${dropped.length} of ${old.length} attributes (keeps ${
    old.length - dropped.length
  }): was the right nixpkgs evaluated? Rerun with --force to write it anyway`;
}

/** Serialises an index deterministically (attributes sorted, two-space JSON, final newline). */
export function serializeNixpkgsIndex(index: NixpkgsIndex): string {
  const sorted = <T>(r: Record<string, T>) =>
    Object.fromEntries(
      Object.entries(r).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
    );
  const out: z.infer<typeof indexSchema> = {
    description: index.description,
    nixpkgs: index.nixpkgs,
    ...(index.python !== undefined ? { python: index.python } : {}),
    ...(index.provenance ? { provenance: sorted(index.provenance) } : {}),
    python3Packages: sorted(index.python3Packages),
  };
  return JSON.stringify(out, null, 2) + "\n";
}

/** A lookup over a loaded index. */
export function indexLookup(index: NixpkgsIndex, where: string): NixpkgsLookup {
  const pkgs = index.python3Packages;
  const attr = (a: string): NixpkgsPackage | undefined =>
    Object.hasOwn(pkgs, a) ? { attr: a, version: pkgs[a]! } : undefined;
  const one = (name: string) => {
    for (const c of nixAttrCandidates(name)) {
      const hit = attr(c);
      if (hit) return hit;
    }
    return undefined;
  };
  return {
    source: "index",
    describe: index.format && index.format !== "kit"
      ? `offline index ${where} (read as ${
        describeIndexFormat(index.format)
      }: ${Object.keys(pkgs).length} attributes, no nixpkgs revision recorded)`
      : `offline index ${where} (nixpkgs ${
        index.nixpkgs.rev?.slice(0, 12) ?? "per-attribute commits"
      }${index.nixpkgs.date ? `, ${index.nixpkgs.date}` : ""})`,
    lookup: (name) => Promise.resolve(one(name)),
    lookupMany: (names) =>
      Promise.resolve(new Map(names.map((n) => [n, one(n)]))),
    lookupAttr: (a) => Promise.resolve(attr(a)),
    pythonVersion: () => Promise.resolve(index.python),
  };
}
