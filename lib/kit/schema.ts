// zod validation with one-line errors that name the field: shared by the manifest and the
// PyPI / GitHub API response checks.
import type { z } from "zod";
import { KitError } from "./errors.ts";

/** A zod issue path as a field label (`sources[2].sha256`); "(top level)" when empty. */
export function fieldOf(path: readonly PropertyKey[]): string {
  return path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`)
    .join("").replace(/^\./, "") || "(top level)";
}

/** Validates `data`; the first issue becomes a KitError "`prefix`: <field>: <message>". */
export function parseWith<T>(
  schema: z.ZodType<T>,
  data: unknown,
  prefix: string,
): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new KitError(`${prefix}: ${fieldOf(issue.path)}: ${issue.message}`);
}
