// sources-manifest.json: the single source of truth for vendored sources, and the
// SHA256SUMS.txt generated from it.
import { SOURCES_MANIFEST } from "./paths.ts";
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import { readTextIfExists } from "../kit/fsutil.ts";
import { normalizeName } from "../python/names.ts";
import { ENTRY_SCHEMAS, fieldOrder } from "./source_kinds/all.ts";
import { fieldOf } from "../kit/schema.ts";

// The rules every entry's common fields follow, re-exported: the manifest is where callers look.
export {
  FILE_SIZE_FIX,
  fileNameProblem,
  fileSizeProblem,
  isSafeFileName,
} from "./source_kinds/fields.ts";

// One schema per source kind (lib/repo/source_kinds/), told apart by `kind`.
const entrySchema = z.discriminatedUnion("kind", ENTRY_SCHEMAS);
const manifestSchema = z.strictObject({
  version: z.literal(1),
  sources: z.array(entrySchema),
});

/** One vendored source. */
export type SourceEntry = z.infer<typeof entrySchema>;
/** The whole manifest. */
export type Manifest = z.infer<typeof manifestSchema>;

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

/**
 * Deterministic text: entries sorted by name then version, keys in the order of their kind's
 * schema (lib/repo/source_kinds/), 2-space JSON. No field is ever dropped.
 */
export function serializeManifest(m: Manifest): string {
  const sources = [...m.sources].sort(compareEntries).map((e) => {
    const fields = e as Record<string, unknown>;
    const order = fieldOrder(e);
    const o: Record<string, unknown> = {};
    for (const k of [...order, ...Object.keys(fields).sort()]) {
      if (fields[k] !== undefined && !(k in o)) o[k] = fields[k];
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
