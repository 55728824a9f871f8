// Every kind of source the kit vendors, in one list: a new kind is one file in this folder
// (see kind.ts for what it must provide) and one line here. tests/repo/source_kinds_test.ts runs
// every kind through the same tests, so a kind missing a part fails them.
import { github } from "./github.ts";
import type { CommonEntry, SourceKind } from "./kind.ts";
import { pypi } from "./pypi.ts";
import { url } from "./url.ts";

/** The source kinds, in the order fetch-source tries their specs (the URL form last). */
export const SOURCE_KINDS = [pypi, github, url] as const;

/** The schemas of a tuple of kinds, as a tuple (what z.discriminatedUnion takes). */
type SchemasOf<T extends readonly unknown[]> = {
  -readonly [I in keyof T]: T[I] extends { schema: infer S } ? S : never;
};
/** Each kind's manifest entry schema, in SOURCE_KINDS order. */
type EntrySchemas = SchemasOf<typeof SOURCE_KINDS>;
/** The schemas as a tuple. */
export const ENTRY_SCHEMAS = SOURCE_KINDS.map((k) =>
  k.schema
) as unknown as EntrySchemas;

// Checked once here: two adapters claiming one manifest kind would make lookups ambiguous.
const BY_KIND = new Map<string, SourceKind>();
for (const k of SOURCE_KINDS as readonly SourceKind[]) {
  for (const name of k.kinds) {
    if (BY_KIND.has(name)) throw new Error(`source kind "${name}" twice`);
    BY_KIND.set(name, k);
  }
}

/** The adapter of a manifest entry's kind. */
export function kindOf(entry: Pick<CommonEntry, "kind">): SourceKind {
  const k = BY_KIND.get(entry.kind);
  if (!k) throw new Error(`no source kind "${entry.kind}"`);
  return k;
}

/** The adapter whose fetch-source spec this is, if any. */
export function kindForSpec(spec: string): SourceKind | undefined {
  return (SOURCE_KINDS as readonly SourceKind[]).find((k) => k.matches(spec));
}

/** The keys of an entry's kind in the order the manifest writes them. */
export function fieldOrder(entry: Pick<CommonEntry, "kind">): string[] {
  const shape = Object.keys(kindOf(entry).schema.shape);
  const head = ["name", "version", "kind", "file", "url", "sha256", "size"];
  return [...head, ...shape.filter((k) => !head.includes(k))];
}
