// sources-manifest.json: the single source of truth for vendored sources, and the
// SHA256SUMS.txt generated from it.
import { SOURCES_MANIFEST } from "./paths.ts";
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import { plainFileNameProblem, readTextIfExists } from "../kit/fsutil.ts";
import { isValidProjectName, normalizeName } from "../python/names.ts";
import { fieldOf } from "../kit/schema.ts";

/** Names in `.flox/sources/` the kit itself writes: never a vendored file. */
const RESERVED_NAMES: readonly string[] = ["SHA256SUMS.txt"];

/**
 * Why `name` cannot be a vendored file under `.flox/sources/`, or undefined when it can: not a
 * name the kit writes (SHA256SUMS.txt), and one plain file name (lib/kit/fsutil.ts).
 */
export function fileNameProblem(name: string): string | undefined {
  if (RESERVED_NAMES.includes(name)) {
    return `"${name}" is reserved: the kit generates it from sources-manifest.json`;
  }
  return plainFileNameProblem(name);
}

/** True for a file name safe to write under `.flox/sources/` (see fileNameProblem). */
export function isSafeFileName(name: string): boolean {
  return fileNameProblem(name) === undefined;
}

const hex64 = z.string().regex(
  /^[0-9a-f]{64}$/,
  "expected 64 lowercase hex characters",
);
const sri = z.string().regex(
  /^sha256-[A-Za-z0-9+/]{43}=$/,
  "expected an SRI hash sha256-<base64>",
);
const fileName = z.string().superRefine((v, ctx) => {
  const why = fileNameProblem(v);
  if (why) {
    ctx.addIssue({
      code: "custom",
      message: `not a vendored file name: ${why}`,
    });
  }
});
const url = z.string().regex(/^https?:\/\/\S+$/, "expected an http(s) URL");
const nonEmpty = z.string().min(1, "must not be empty");
const projectName = z.string().refine(
  isValidProjectName,
  "expected a project name (letters, digits, '.', '_', '-'; starting and ending with a letter or digit)",
);
const versionText = z.string().regex(
  /^[\x21-\x7e]{1,128}$/,
  "expected a version without spaces or control characters",
);

const common = {
  name: projectName,
  version: versionText,
  file: fileName,
  url,
  sha256: hex64,
  size: z.number().int().nonnegative().optional(),
};

const pypiEntry = z.strictObject({
  ...common,
  kind: z.enum(["pypi-wheel", "pypi-sdist"]),
});
const urlEntry = z.strictObject({ ...common, kind: z.literal("url") });
const githubEntry = z.strictObject({
  ...common,
  kind: z.literal("github"),
  owner: nonEmpty,
  repo: nonEmpty,
  rev: nonEmpty,
  commit: z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-hex commit")
    .optional(),
  nar: sri,
});

const entrySchema = z.discriminatedUnion("kind", [
  pypiEntry,
  urlEntry,
  githubEntry,
]);
const manifestSchema = z.strictObject({
  version: z.literal(1),
  sources: z.array(entrySchema),
});

/** One vendored source. */
export type SourceEntry = z.infer<typeof entrySchema>;
/** The whole manifest. */
export type Manifest = z.infer<typeof manifestSchema>;
/** The kinds of source. */
export type SourceKind = SourceEntry["kind"];

/** An empty manifest. */
export function emptyManifest(): Manifest {
  return { version: 1, sources: [] };
}

/**
 * Validates parsed JSON as a manifest; the error names the file, the entry and the field
 * (`sources-manifest.json: sources[2] (spandrel).sha256: expected 64 lowercase hex characters`).
 */
export function validateManifest(
  data: unknown,
  where = SOURCES_MANIFEST,
): Manifest {
  const result = manifestSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path;
    let label = fieldOf(path);
    if (path[0] === "sources" && typeof path[1] === "number") {
      const raw = (data as { sources?: unknown[] }).sources?.[path[1]] as {
        name?: unknown;
      };
      if (typeof raw?.name === "string") {
        label = label.replace(
          `sources[${path[1]}]`,
          `sources[${path[1]}] (${raw.name})`,
        );
      }
    }
    throw new KitError(`${where}: ${label}: ${issue.message}`);
  }
  const m = result.data;
  const seen = new Map<string, number>();
  m.sources.forEach((e, i) => {
    const prev = seen.get(e.file);
    if (prev !== undefined) {
      throw new KitError(
        `${where}: sources[${i}] (${e.name}).file: "${e.file}" is also used by sources[${prev}]`,
      );
    }
    seen.set(e.file, i);
  });
  return m;
}

/** Parses manifest text; a JSON syntax error names the file. */
export function parseManifest(
  text: string,
  where = SOURCES_MANIFEST,
): Manifest {
  let data: unknown;
  try {
    // A byte-order mark (some editors add one) is not JSON, but not an error in the manifest.
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new KitError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  return validateManifest(data, where);
}

/** Reads and validates the manifest; a missing file is an empty manifest. */
export async function readManifest(path: string): Promise<Manifest> {
  const text = await readTextIfExists(path);
  return text === undefined ? emptyManifest() : parseManifest(text, path);
}

function compareEntries(a: SourceEntry, b: SourceEntry): number {
  return cmp(normalizeName(a.name), normalizeName(b.name)) ||
    cmp(a.version, b.version) ||
    cmp(a.file, b.file);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deterministic text: entries sorted by name then version, keys in a fixed order, 2-space JSON. */
export function serializeManifest(m: Manifest): string {
  const order = [
    "name",
    "version",
    "kind",
    "file",
    "url",
    "sha256",
    "size",
    "owner",
    "repo",
    "rev",
    "commit",
    "nar",
  ];
  const sources = [...m.sources].sort(compareEntries).map((e) => {
    const o: Record<string, unknown> = {};
    for (const k of order) {
      const v = (e as Record<string, unknown>)[k];
      if (v !== undefined) o[k] = v;
    }
    return o;
  });
  return JSON.stringify({ version: 1, sources }, null, 2) + "\n";
}

/** SHA256SUMS.txt text for the manifest: `<hex>  <file>`, sorted by file name. */
export function renderSha256Sums(m: Manifest): string {
  const lines = [...m.sources].sort((a, b) => cmp(a.file, b.file)).map((e) =>
    `${e.sha256}  ${e.file}`
  );
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** Replaces the entry with the same file name, or adds it. */
export function upsertEntry(m: Manifest, entry: SourceEntry): Manifest {
  return {
    version: 1,
    sources: [...m.sources.filter((e) => e.file !== entry.file), entry],
  };
}
