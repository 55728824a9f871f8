// A distribution's licence: what its metadata says (detectLicense) weighed against the licence
// texts it ships (recogniseText). Pure functions, no I/O.
//
//   weighLicense(meta, [{ path: "LICENSE", text }]) // → { kind: "found", attrs: ["mit"], evidence, why }
import {
  detectLicense,
  type LicenseDecision,
  licenseFamily,
  type LicenseFields,
  recogniseText,
} from "./license.ts";
import type { RecognisedText } from "./license_text.ts";

/** A licence file a distribution ships: its path in the archive and its text. */
export interface ShippedLicense {
  path: string;
  text: string;
}

/** detectLicense() weighed against the licence texts the distribution ships. */
type LicenseVerdict =
  & (
    | LicenseDecision
    /** The metadata and a shipped text name different licences: ask, never guess. */
    | { kind: "conflict"; candidates: string[]; source: string; reason: string }
  )
  & {
    /** One line per piece of evidence, for the package file's comment. */
    evidence: string[];
    /** Why a "found" licence follows from the evidence, when texts were weighed. */
    why?: string;
  };

/**
 * What the metadata says (detectLicense) checked against each shipped licence text
 * (licenseFromText). Agreement keeps the metadata's attributes (it alone can say "or later");
 * a text settles an ambiguous or missing field when it fits; a text of another licence is a
 * conflict, naming both pieces of evidence.
 */
export function weighLicense(
  fields: LicenseFields,
  shipped: readonly ShippedLicense[],
): LicenseVerdict {
  const m = detectLicense(fields);
  const files = shipped.map((f) => ({
    path: f.path,
    r: recogniseText(f.text),
  }));
  const evidence = shipped.length ? [evidenceLine(m, files)] : [];
  const known = files.filter((f) => f.r);
  const texts = [...new Set(known.map((f) => f.r!.attr))].sort();
  if (!texts.length) return { ...m, evidence };
  const textSource = known.map((f) => `${f.path} (${f.r!.name} text)`).join(
    ", ",
  );
  if (m.kind === "found") return weighFound(m, texts, textSource, evidence);
  if (m.kind === "ambiguous") {
    return weighAmbiguous(m, texts, textSource, evidence);
  }
  return texts.length === 1
    ? {
      kind: "found",
      attrs: texts,
      source: textSource,
      evidence,
      why: "the shipped text; the metadata declares none it can be read as",
    }
    : {
      kind: "ambiguous",
      candidates: texts,
      source: textSource,
      reason: `${textSource} name several licences`,
      evidence,
    };
}

/** The evidence line: the metadata's source, then what each shipped file is. */
function evidenceLine(
  m: LicenseDecision,
  files: readonly { path: string; r: RecognisedText | undefined }[],
): string {
  return `licence evidence: ${
    m.source ?? "the metadata declares no licence"
  }; ${
    files.map((f) =>
      `${f.path} ${
        f.r ? `is the ${f.r.name} text` : "is not a text this tool recognises"
      }`
    ).join("; ")
  }`;
}

/** A licence the metadata is certain of: kept when every shipped text agrees, else a conflict. */
function weighFound(
  m: Extract<LicenseDecision, { kind: "found" }>,
  texts: readonly string[],
  textSource: string,
  evidence: string[],
): LicenseVerdict {
  const mine = new Set(m.attrs.map(licenseFamily));
  if (texts.every((t) => mine.has(licenseFamily(t)))) {
    return { ...m, evidence, why: "the metadata and the shipped text agree" };
  }
  return {
    kind: "conflict",
    candidates: [...new Set([...m.attrs, ...texts])].sort(),
    source: `${m.source} vs ${textSource}`,
    reason: `${m.source} says ${
      m.attrs.map((a) => `licenses.${a}`).join(", ")
    }, but ${textSource} says otherwise`,
    evidence,
  };
}

/** An ambiguous licence: settled when one candidate fits the texts, a conflict when none does. */
function weighAmbiguous(
  m: Extract<LicenseDecision, { kind: "ambiguous" }>,
  texts: readonly string[],
  textSource: string,
  evidence: string[],
): LicenseVerdict {
  const fit = m.candidates.filter((c) =>
    texts.some((t) => licenseFamily(t) === licenseFamily(c))
  );
  if (fit.length === 1) {
    return {
      kind: "found",
      attrs: fit,
      source: `${m.source}, settled by ${textSource}`,
      evidence,
      why: "the shipped text settles what the metadata leaves open",
    };
  }
  if (!fit.length) {
    return {
      kind: "conflict",
      candidates: [...new Set([...m.candidates, ...texts])].sort(),
      source: `${m.source} vs ${textSource}`,
      reason: `${m.source} does not fit ${textSource}`,
      evidence,
    };
  }
  return { ...m, candidates: fit, evidence };
}
