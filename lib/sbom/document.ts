// A Bill as a CycloneDX 1.6 JSON document: components sorted by bom-ref, dependencies sorted,
// no timestamp unless asked, and a serialNumber derived from the content, so two runs on the
// same tree print the same bytes. Pure.
import { sha256Bytes, toHex } from "../hash/sha256.ts";
import { isDenied, type License, licenseLabel } from "./licenses.ts";
import type { Bill, Part } from "./model.ts";

/** The spec version written. */
const SPEC_VERSION = "1.6";

function component(p: Part) {
  const props = Object.entries(p.properties)
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([name, value]) => ({ name, value }));
  const refs = [
    ...(p.website ? [{ type: "website", url: p.website }] : []),
    ...(p.vcs ? [{ type: "vcs", url: p.vcs }] : []),
    ...(p.distribution
      ? [{
        type: "distribution",
        url: p.distribution,
        ...(p.sha256
          ? { hashes: [{ alg: "SHA-256", content: p.sha256 }] }
          : {}),
      }]
      : []),
  ];
  return {
    type: p.type,
    "bom-ref": p.ref,
    name: p.name,
    ...(p.version !== undefined ? { version: p.version } : {}),
    ...(p.description ? { description: p.description } : {}),
    ...(p.buildOnly ? { scope: "excluded" } : {}),
    ...(p.sha256 ? { hashes: [{ alg: "SHA-256", content: p.sha256 }] } : {}),
    ...(p.licenses.length > 0 ? { licenses: licenseChoices(p.licenses) } : {}),
    ...(p.purl ? { purl: p.purl } : {}),
    ...(refs.length > 0 ? { externalReferences: refs } : {}),
    ...(props.length > 0 ? { properties: props } : {}),
  };
}

/** CycloneDX allows one expression, or any number of ids/names, per component. */
function licenseChoices(ls: License[]) {
  const expr = ls.filter((l) => "expression" in l);
  if (expr.length > 0) {
    return [{
      expression: ls.map((l) =>
        "name" in l
          ? `LicenseRef-${l.name.replace(/[^A-Za-z0-9.-]/g, "-")}`
          : licenseLabel(l)
      ).join(" OR "),
    }];
  }
  return ls.map((l) => ({ license: l }));
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Options of the document: a timestamp (ISO 8601) only when asked. */
interface DocumentOptions {
  timestamp?: string | undefined;
  /** The tool's name and version for metadata.tools. */
  tool: { name: string; version?: string };
  /** Extra metadata properties (nixpkgs:rev …). */
  properties?: Record<string, string>;
}

/** An RFC 4122 UUID (version 5 layout) from the first bytes of a SHA-256. */
function uuidOf(text: string): string {
  const h = sha256Bytes(text).slice(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = toHex(h);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${
    x.slice(16, 20)
  }-${x.slice(20)}`;
}

/** The CycloneDX document of `bill`, as text (2-space JSON, final newline). */
export function renderBom(bill: Bill, opts: DocumentOptions): string {
  const parts = [...bill.parts].sort((a, b) => byString(a.ref, b.ref));
  const known = new Set([bill.root.ref, ...parts.map((p) => p.ref)]);
  const deps = [bill.root, ...parts].map((p) => ({
    ref: p.ref,
    dependsOn: [...(bill.edges.get(p.ref) ?? [])].filter((r) => known.has(r))
      .sort(byString),
  })).sort((a, b) => byString(a.ref, b.ref));
  const metaProps = Object.entries(opts.properties ?? {}).sort(([a], [b]) =>
    byString(a, b)
  ).map(([name, value]) => ({ name, value }));
  const body = {
    metadata: {
      ...(opts.timestamp ? { timestamp: opts.timestamp } : {}),
      tools: {
        components: [{
          type: "application",
          name: opts.tool.name,
          ...(opts.tool.version ? { version: opts.tool.version } : {}),
        }],
      },
      component: component(bill.root),
      ...(metaProps.length > 0 ? { properties: metaProps } : {}),
    },
    components: parts.map(component),
    dependencies: deps,
  };
  // The serial number names the content (timestamp aside): same tree, same number.
  const { timestamp: _, ...stable } = body.metadata;
  const serial = `urn:uuid:${
    uuidOf(JSON.stringify({ ...body, metadata: stable }))
  }`;
  const doc = {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: SPEC_VERSION,
    serialNumber: serial,
    version: 1,
    ...body,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** The components (root included) with a licence in `denied`, as "name version (ref): licence". */
export function deniedParts(bill: Bill, denied: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of [bill.root, ...bill.parts]) {
    const hits = p.licenses.filter((l) => isDenied(l, denied));
    if (hits.length === 0) continue;
    out.push(
      `${p.name}${p.version ? ` ${p.version}` : ""} (${p.ref}): ${
        hits.map(licenseLabel).join(", ")
      }`,
    );
  }
  return out.sort(byString);
}
