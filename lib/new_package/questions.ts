// The walkthrough's questions about one package whose answers are not in its dependencies:
// the source (vendored / fetchPypi / fetchFromGitHub), the import names for
// pythonImportsCheck and the licence. Each takes its flag's value when given, else asks
// through the Frontend (a ScriptedFrontend exits 2 naming the flag when it has no answer).
//
//   const license = await chooseLicense(fe, meta, undefined);
import type { DistMetadata } from "../python/dist_metadata.ts";
import { parseLicenseFlag } from "../python/license.ts";
import { weighLicense } from "../python/license_weigh.ts";
import { info, warn } from "../kit/log.ts";
import { isImportName, splitList } from "./meta_answers.ts";
import type { Frontend } from "../kit/prompt.ts";
import type { SrcSpec } from "./render.ts";

/** The source options (default vendored: the seed requires vendoring PyPI sources). */
export async function chooseSource(
  fe: Frontend,
  a: {
    given?: SrcSpec["kind"] | undefined;
    fileName: string;
    /** The GitHub repository, when one is known and fetchFromGitHub is possible. */
    repo?: { owner: string; repo: string } | undefined;
  },
): Promise<SrcSpec["kind"]> {
  return a.given ?? await fe.select({
    key: "source",
    flag: "--source",
    message: "Source?",
    choices: [
      {
        value: "vendored" as const,
        name: `vendored into .flox/sources/${a.fileName} (recommended)`,
      },
      { value: "pypi" as const, name: `fetchPypi (${a.fileName})` },
      ...(a.repo
        ? [{
          value: "github" as const,
          name: `fetchFromGitHub (${a.repo.owner}/${a.repo.repo})`,
        }]
        : []),
    ],
    default: "vendored",
  });
}

/** Import names: `given` (--import), else asked with `proposed` as the default (none: no default). */
export async function chooseImports(
  fe: Frontend,
  given: string[] | undefined,
  proposed: readonly string[] | undefined,
): Promise<string[]> {
  return given ?? splitList(
    await fe.input({
      key: "import",
      flag: "--import",
      message: "Import names for pythonImportsCheck (comma separated):",
      ...(proposed ? { default: proposed.join(",") } : {}),
      validate: (v) =>
        splitList(v).every(isImportName) ||
        "names must be Python import names (a, a.b), comma separated",
    }),
  );
}

/** The licence chosen, and the evidence behind it for the package file's comment. */
export interface LicenseChoice {
  attrs: string[];
  /** Comment lines (empty when the metadata alone decided and the distribution ships no text). */
  evidence: string[];
}

/**
 * The `lib.licenses` attributes: `given` (--license), else what the metadata and the licence
 * texts the distribution ships say together, else a choice among the candidates (ambiguous
 * or conflicting evidence: the question names both pieces) or a typed answer (unknown);
 * never a guess.
 */
export async function chooseLicense(
  fe: Frontend,
  meta: DistMetadata,
  given: string[] | undefined,
): Promise<LicenseChoice> {
  const d = weighLicense(meta, meta.licenseFiles ?? []);
  const chosen = (attrs: string[], how: string): LicenseChoice => ({
    attrs,
    evidence: d.evidence.length || d.kind === "conflict"
      ? [...d.evidence, `chosen: ${attrs.join(", ")} (${how})`]
      : [],
  });
  if (given) return chosen(given, "--license");
  if (d.kind === "found") {
    info(`licence: ${d.attrs.join(", ")} (from ${d.source})`);
    return chosen(d.attrs, d.why ?? `from ${d.source}`);
  }
  if (d.kind === "ambiguous" || d.kind === "conflict") {
    warn(`licence: ${d.reason}`);
    const pick = await fe.select({
      key: "license",
      flag: "--license",
      message: `Licence of ${meta.name} (${d.source})?`,
      choices: d.candidates.map((c) => ({ value: c, name: `licenses.${c}` })),
    });
    return chosen([pick], fe.interactive ? "asked" : "--license");
  }
  warn(`licence: ${d.reason}`);
  const answer = await fe.input({
    key: "license",
    flag: "--license",
    message:
      `Licence of ${meta.name} (lib.licenses attribute or SPDX expression):`,
    validate: (v) =>
      parseLicenseFlag(v)
        ? true
        : "not a known lib.licenses attribute or SPDX expression",
  });
  return chosen(
    parseLicenseFlag(answer)!,
    fe.interactive ? "asked" : "--license",
  );
}
