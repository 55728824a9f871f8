// The official CycloneDX 1.6 JSON schema as the CycloneDX project publishes it in its npm
// package @cyclonedx/cyclonedx-library (res/schema/), compiled by ajv with the formats the
// schema uses (ajv-formats, ajv-formats-draft2019: iri-reference, idn-email). No hand-written
// validation: a document is valid when ajv says so.
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import addFormats2019 from "ajv-formats-draft2019";

const PACKAGE = import.meta.resolve(
  "@cyclonedx/cyclonedx-library/package.json",
);

async function schema(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(
    await Deno.readTextFile(new URL(`res/schema/${file}`, PACKAGE)),
  );
}

type Validate = ((doc: unknown) => boolean) & { errors?: unknown };
let compiled: Validate | undefined;

/** The ajv errors of `doc` against the CycloneDX 1.6 schema, or [] when it is valid. */
export async function cyclonedxErrors(doc: unknown): Promise<unknown[]> {
  if (!compiled) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    (addFormats2019 as unknown as (a: Ajv) => void)(ajv);
    // The main schema refers to these two by their published ids.
    ajv.addSchema(
      await schema("spdx.SNAPSHOT.schema.json"),
      "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
    );
    ajv.addSchema(
      await schema("jsf-0.82.SNAPSHOT.schema.json"),
      "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
    );
    compiled = ajv.compile(await schema("bom-1.6.SNAPSHOT.schema.json"));
  }
  return compiled(doc) ? [] : [...(compiled.errors as unknown[] ?? [])];
}
