// Every source kind (lib/repo/source_kinds/all.ts) through the same tests: a kind that misses a
// part — its spec, its entry's fields in the manifest, how verify sees a package file use it,
// where outdated asks for newer versions — fails here, so adding a kind is one file, one line
// in the list and its example.
import assert from "node:assert/strict";
import { parseNix } from "../../lib/nix/parse.ts";
import { readPackage } from "../../lib/nix/query.ts";
import {
  parseManifest,
  serializeManifest,
  type SourceEntry,
  validateManifest,
} from "../../lib/repo/manifest.ts";
import {
  fieldOrder,
  kindForSpec,
  kindOf,
  SOURCE_KINDS,
} from "../../lib/repo/source_kinds/all.ts";
import { COMMON_FIELDS } from "../../lib/repo/source_kinds/fields.ts";
import type { SourceKind } from "../../lib/repo/source_kinds/kind.ts";
import { usedFiles } from "../../lib/verify/pinned.ts";
import type { PkgFile } from "../../lib/verify/types.ts";

const KINDS = SOURCE_KINDS as readonly SourceKind[];
const COMMON = [...Object.keys(COMMON_FIELDS), "kind"];

function entryOf(k: SourceKind): SourceEntry {
  return k.example.entry as SourceEntry;
}

/** A package file whose src is the kind's example fetcher call. */
function packageWith(src: string): PkgFile {
  const text =
    `{ lib, python3, fetchurl, fetchPypi, fetchFromGitHub }:\npython3.pkgs.buildPythonPackage rec {\n  pname = "x";\n  version = "1";\n  src = ${src};\n}\n`;
  const file = parseNix(text, ".flox/pkgs/x.nix");
  return {
    rel: ".flox/pkgs/x.nix",
    abs: "/r/.flox/pkgs/x.nix",
    at: ".flox/pkgs/x.nix",
    name: "x",
    file,
    info: readPackage(file),
  };
}

for (const k of KINDS) {
  const e = entryOf(k);
  const name = k.kinds.join("/");

  Deno.test(`source kind ${name}: its example entry uses every field and survives the manifest`, () => {
    assert.ok(k.kinds.includes(e.kind), `example kind ${e.kind}`);
    // Every field of the schema is exercised, optional ones too.
    assert.deepEqual(
      Object.keys(e).sort(),
      Object.keys(k.schema.shape).sort(),
    );
    const m = { version: 1 as const, sources: [e] };
    assert.deepEqual(validateManifest(m).sources[0], e);
    const text = serializeManifest(m);
    assert.deepEqual(parseManifest(text).sources[0], e);
    // Written in the declared order: the common fields first, then the kind's own.
    const written = Object.keys(JSON.parse(text).sources[0]);
    assert.deepEqual(written, fieldOrder(e).filter((f) => f in e));
    assert.deepEqual(written.slice(0, COMMON.length).sort(), COMMON.sort());
  });

  Deno.test(`source kind ${name}: its spec is its own, and it records what it planned`, () => {
    assert.equal(kindForSpec(k.example.spec), k);
    for (const other of KINDS) {
      if (other !== k) assert.ok(!other.matches(k.example.spec));
    }
    // A plan carrying the entry's own fields gives back the same entry.
    const fields = Object.fromEntries(
      Object.entries(e).filter(([f, v]) =>
        !COMMON.includes(f) && f !== "nar" && typeof v === "string"
      ),
    ) as Record<string, string>;
    const plan = {
      kind: e.kind,
      name: e.name,
      version: e.version,
      file: e.file,
      url: e.url,
      ...(Object.keys(fields).length ? { fields } : {}),
    };
    const nar = "nar" in e ? { nar: e.nar } : {};
    assert.equal(k.recordsNar, "nar" in e);
    assert.deepEqual(
      k.entry(plan, { sha256: e.sha256, size: e.size!, ...nar }),
      e,
    );
    assert.ok(k.sameOrigin(e, plan));
    assert.match(k.origin(e), /^https?:\/\//);
    assert.deepEqual(k.problems(e), []);
    assert.equal(typeof k.describe(e), "string");
  });

  Deno.test(`source kind ${name}: verify sees a package file fetch it, outdated knows where to ask`, () => {
    if (k.example.src !== undefined) {
      const p = packageWith(k.example.src);
      const byFile = new Map([[e.file, e]]);
      assert.deepEqual([...usedFiles("/r", [p], byFile)], [e.file]);
      // Another release of it is not this entry.
      const other = {
        ...e,
        version: "9.9.9",
        url: e.url.replaceAll(e.version, "9.9.9"),
        rev: "v9.9.9",
        commit: undefined,
      };
      const call = {
        fetcher: p.info!.src!.fetcher,
        attr: (a: string) => p.info!.src!.attrs.get(a)?.value,
      };
      assert.ok(kindOf(e).fetchedBy(call, e));
      assert.ok(!kindOf(e).fetchedBy(call, other as SourceEntry));
    }
    const up = k.upstream(e);
    if (up) assert.ok(up.kind === "pypi" || up.kind === "github");
  });
}

Deno.test("every manifest kind has one adapter, and the manifest refuses a kind none has", () => {
  const all = KINDS.flatMap((k) => k.kinds);
  assert.deepEqual([...new Set(all)], all);
  for (const kind of all) assert.ok(kindOf({ kind }).kinds.includes(kind));
  assert.throws(
    () =>
      validateManifest({
        version: 1,
        sources: [{ ...entryOf(KINDS[0]!), kind: "huggingface" }],
      }),
    /sources\[0\] \(spandrel\)\.kind/,
  );
});

Deno.test("serializeManifest() never drops a field its kind's schema has", () => {
  const gh = entryOf(KINDS.find((k) => k.kinds.includes("github"))!);
  const text = serializeManifest({ version: 1, sources: [gh] });
  for (const [f, v] of Object.entries(gh)) {
    assert.ok(text.includes(`"${f}": ${JSON.stringify(v)}`), f);
  }
});

Deno.test("the repository's own manifest is written back byte for byte", async () => {
  const text = await Deno.readTextFile(
    new URL("../../sources-manifest.json", import.meta.url),
  );
  assert.equal(serializeManifest(parseManifest(text)), text);
});
