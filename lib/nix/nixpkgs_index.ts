// The offline nixpkgs index (nixpkgs-index.json): its schema, reading, writing and lookups.
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import {
  nixAttrCandidates,
  type NixpkgsLookup,
  type NixpkgsPackage,
} from "./nixpkgs.ts";
// ---------------------------------------------------------------------------------------------
// Offline index

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
    z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/, "bad attribute name"),
    z.string().min(1),
  ),
});

/** The offline nixpkgs index: attribute → version for one nixpkgs revision (or per-attribute commits). */
export type NixpkgsIndex = z.infer<typeof indexSchema>;

/** Where one version of the index was read from. */
export type NixpkgsProvenance = z.infer<typeof provenanceSchema>;

/** Validates index JSON text; errors name the file and the field. */
export function parseNixpkgsIndex(text: string, where: string): NixpkgsIndex {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KitError(
      `${where}: not valid JSON: ${(e as Error).message}`,
    );
  }
  const r = indexSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String).join(".") || "(top level)";
    throw new KitError(`${where}: ${path}: ${issue.message}`);
  }
  return r.data;
}

/** Reads and validates an index file. */
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

/** Serialises an index deterministically (attributes sorted, two-space JSON, final newline). */
export function serializeNixpkgsIndex(index: NixpkgsIndex): string {
  const sorted = <T>(r: Record<string, T>) =>
    Object.fromEntries(
      Object.entries(r).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
    );
  const out: NixpkgsIndex = {
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
    describe: `offline index ${where} (nixpkgs ${
      index.nixpkgs.rev?.slice(0, 12) ?? "per-attribute commits"
    }${index.nixpkgs.date ? `, ${index.nixpkgs.date}` : ""})`,
    lookup: (name) => Promise.resolve(one(name)),
    lookupMany: (names) =>
      Promise.resolve(new Map(names.map((n) => [n, one(n)]))),
    lookupAttr: (a) => Promise.resolve(attr(a)),
    pythonVersion: () => Promise.resolve(index.python),
  };
}
