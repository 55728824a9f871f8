import assert from "node:assert/strict";
import { join } from "node:path";
import { readDistMetadata } from "../../lib/python/dist_metadata.ts";
import { apiDisagreements, parseTarget } from "../../lib/new_package/source.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { REAL_SOURCES, realSourcesTest } from "../_helpers.ts";

const WHEEL = join(REAL_SOURCES, "controlnet_aux-0.0.10-py3-none-any.whl");

realSourcesTest(
  "apiDisagreements() is empty when the JSON API agrees with the real file or says nothing",
  async () => {
    const meta = await readDistMetadata(WHEEL);
    assert.deepEqual(
      apiDisagreements({
        name: "controlnet_aux",
        version: "0.0.10",
        summary: "Auxillary  models for controlnet",
        license: "Apache",
        requires_dist: [...meta.requiresDist].reverse(),
      }, meta),
      [],
    );
    assert.deepEqual(
      apiDisagreements({
        name: "controlnet_aux",
        version: "0.0.10",
        requires_dist: null,
      }, meta),
      [],
    );
  },
);

realSourcesTest(
  "apiDisagreements() names each field where the JSON API's stale info differs",
  async () => {
    const meta = await readDistMetadata(WHEEL);
    const fields = apiDisagreements({
      name: "controlnet_aux",
      version: "0.0.10",
      summary: "Old summary",
      license_expression: "MIT",
      requires_dist: ["torch"],
    }, meta);
    assert.deepEqual(fields, [
      'the summary ("Old summary" vs "Auxillary models for controlnet")',
      'the licence ("MIT" vs "Apache")',
      "the requirements (Requires-Dist)",
    ]);
  },
);

Deno.test("parseTarget() refuses a version that is not PEP 440 before anything is looked up", () => {
  assert.deepEqual(parseTarget("spandrel==0.4.0", undefined), {
    name: "spandrel",
    version: "0.4.0",
  });
  assert.deepEqual(parseTarget("spandrel", "v1.0rc1"), {
    name: "spandrel",
    version: "v1.0rc1",
  });
  for (
    const [target, flag] of [
      ["spandrel==notaversion", undefined],
      ["spandrel==1.0;", undefined],
      ["spandrel", "latest"],
    ] as const
  ) {
    assert.throws(
      () => parseTarget(target, flag),
      (e) =>
        e instanceof KitError && e.exitCode === 1 &&
        /is not a valid PEP 440 version/.test(e.message),
      `${target} ${flag}`,
    );
  }
});
