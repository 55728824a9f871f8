// A pack's licence by new-package's evidence rules (lib/python/license_weigh.ts): what
// pyproject.toml declares weighed against the licence texts the pack ships; asked (or --license)
// when they are missing, ambiguous or in conflict, never guessed.
import { info, warn } from "../kit/log.ts";
import type { Frontend } from "../kit/prompt.ts";
import { parseLicenseFlag } from "../python/license.ts";
import { weighLicense } from "../python/license_weigh.ts";
import type { PackMeta } from "./metadata.ts";

/** The chosen attributes and the evidence lines for the file's comment. */
export async function chooseNodeLicense(
  fe: Frontend,
  name: string,
  meta: PackMeta,
  given: string[] | undefined,
): Promise<{ attrs: string[]; evidence: string[] }> {
  const d = weighLicense(meta.license, meta.licenseFiles);
  const chosen = (attrs: string[], how: string) => ({
    attrs,
    evidence: [...d.evidence, `chosen: ${attrs.join(", ")} (${how})`],
  });
  if (given) return chosen(given, "--license");
  if (d.kind === "found") {
    info(`licence: ${d.attrs.join(", ")} (from ${d.source})`);
    return chosen(d.attrs, d.why ?? `from ${d.source}`);
  }
  warn(`licence: ${d.reason}`);
  if (d.kind === "ambiguous" || d.kind === "conflict") {
    const pick = await fe.select({
      key: "license",
      flag: "--license",
      message: `Licence of ${name} (${d.source})?`,
      choices: d.candidates.map((c) => ({ value: c, name: `licenses.${c}` })),
    });
    return chosen([pick], fe.interactive ? "asked" : "--license");
  }
  const answer = await fe.input({
    key: "license",
    flag: "--license",
    message: `Licence of ${name} (lib.licenses attribute or SPDX expression):`,
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
