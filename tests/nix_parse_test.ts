import assert from "node:assert/strict";
import { KitError } from "../lib/errors.ts";
import {
  detectIndent,
  parseNix,
  quoteNixString,
  stringValue,
  tryParseNix,
} from "../lib/nix_parse.ts";
import { haveTool, ROOT, run, tmp } from "./_helpers.ts";

const COMFYUI = await Deno.readTextFile(`${ROOT}/.flox/pkgs/comfyui.nix`);

function firstExpr(text: string) {
  const file = parseNix(text, "t.nix");
  return { file, node: file.root.firstChild! };
}

Deno.test("parseNix() parses comfyui.nix and maps offsets to line:col", () => {
  const file = parseNix(COMFYUI, ".flox/pkgs/comfyui.nix");
  const at = COMFYUI.indexOf('version = "0.3.75"');
  const before = COMFYUI.slice(0, at).split("\n");
  assert.deepEqual(file.lineCol(at), {
    line: before.length,
    col: before[before.length - 1]!.length + 1,
  });
  assert.equal(file.where(at), `.flox/pkgs/comfyui.nix:${before.length}:3`);
  assert.equal(file.lineCol(0).line, 1);
});

// Each case: source, then the "line:col: syntax error: …" expected.
const SYNTAX_ERRORS: [string, string][] = [
  ["{ a = 1 }", '1:9: syntax error: unexpected "}"'],
  ["{ a = ; b = 2; }", '1:7: syntax error: unexpected ";"'],
  ["{\n  a = 1;\n", "3:1: syntax error: unexpected end of file"],
  ["[ 1 2", "1:6: syntax error: unexpected end of file"],
  ['{ lib }:\n{\n  x = "a" "b" ];\n}', '3:15: syntax error: unexpected "]"'],
  ["let a = 1 in a", '1:11: syntax error: unexpected "in"'],
];

for (const [src, want] of SYNTAX_ERRORS) {
  Deno.test(`parseNix() reports ${JSON.stringify(src)} as file:line:col`, () => {
    assert.throws(
      () => parseNix(src, "pkgs/x.nix"),
      (e: unknown) => {
        assert.ok(e instanceof KitError);
        assert.equal(e.message, `pkgs/x.nix:${want}`);
        return true;
      },
    );
  });
}

Deno.test("tryParseNix() returns the error instead of throwing", () => {
  const r = tryParseNix("{ a = ; }", "y.nix");
  assert.ok(r instanceof KitError);
  assert.match(r.message, /^y\.nix:1:7: /);
  assert.ok(!(tryParseNix("{ a = 1; }") instanceof KitError));
});

// Strings whose escapes the upstream grammar's tokenizers got wrong; Nix's values beside them.
const STRINGS: [string, string | undefined][] = [
  [`"plain"`, "plain"],
  [`"a\\"b\\\\c\\n"`, 'a"b\\c\n'],
  [`"cost: $$5 and \\\${x}"`, "cost: $$5 and ${x}"],
  [`"$\${notinterp}"`, "$${notinterp}"],
  [`"v\${version}"`, undefined],
  [`''\n  line one\n    two ''$ three\n''`, "line one\n  two $ three\n"],
  [`''a ''' b''`, "a '' b"],
  [`''tab''\\there''`, "tab\there"],
  [`''\n  make ''\${x} $out\n''`, "make ${x} $out\n"],
];

for (const [src, want] of STRINGS) {
  Deno.test(`stringValue() decodes ${JSON.stringify(src)} as Nix does`, () => {
    const { file, node } = firstExpr(src);
    assert.match(node.name, /String$/);
    assert.equal(node.to, src.length, "the literal spans the whole text");
    assert.equal(stringValue(file, node).value, want);
  });
}

Deno.test("stringValue() lists interpolations with their source", () => {
  const { file, node } = firstExpr(`"https://x/\${pname}/v\${version}.tar.gz"`);
  const { value, parts } = stringValue(file, node);
  assert.equal(value, undefined);
  assert.deepEqual(
    parts.map((p) => p.kind === "text" ? p.value : `<${p.text}>`),
    ["https://x/", "<pname>", "/v", "<version>", ".tar.gz"],
  );
});

Deno.test("stringValue() agrees with nix-instantiate --eval on every case", async () => {
  if (!haveTool("nix-instantiate")) return;
  for (const [src, want] of STRINGS) {
    if (want === undefined) continue;
    const r = await run("nix-instantiate", ["--eval", "--json", "-E", src]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), want, src);
  }
});

Deno.test("quoteNixString() round-trips through the parser (and Nix in CI)", async () => {
  const samples = ['a"b', "back\\slash", "${not}", "$${x}", "tab\tnl\n", "ünï"];
  const nix = haveTool("nix-instantiate");
  for (const s of samples) {
    const q = quoteNixString(s);
    const { file, node } = firstExpr(q);
    assert.equal(stringValue(file, node).value, s, q);
    if (nix) {
      const r = await run("nix-instantiate", ["--eval", "--json", "-E", q]);
      assert.equal(JSON.parse(r.stdout), s, q);
    }
  }
});

Deno.test("detectIndent() finds 2, 4 spaces and tabs", () => {
  assert.equal(detectIndent(COMFYUI), "  ");
  assert.equal(
    detectIndent("{\n    a = {\n        b = 1;\n    };\n}\n"),
    "    ",
  );
  assert.equal(detectIndent("{\n\ta = {\n\t\tb = 1;\n\t};\n}\n"), "\t");
  assert.equal(detectIndent("x"), "  ");
});

Deno.test("parseNix() accepts the Nix constructs package files use", async () => {
  const src = `{ lib, stdenv ? null, ... }@args:
let
  inherit (lib) optionals;
  v = "1.0";
in
assert v != "";
with lib;
rec {
  a.b.c = 1;
  "quoted-name" = -2.5e3;
  \${"dyn"} = ./rel/path.nix;
  home = ~/x;
  chan = <nixpkgs>;
  url = https://example.org/x;
  s = builtins.toString (x: x + 1);
  o = a.b or null;
  h = { } ? a;
  l = [ (import ./x.nix { }) true false null ];
  i = if a == b then c // d else !e && f || g -> h;
  m = ''
    echo ''\${literal} \${toString v}
  '';
  /* block */ # line
}`;
  parseNix(src, "many.nix");
  if (haveTool("nix-instantiate")) {
    await using dir = await tmp();
    await Deno.writeTextFile(`${dir.path}/many.nix`, src);
    const r = await run("nix-instantiate", ["--parse", `${dir.path}/many.nix`]);
    assert.equal(r.code, 0, r.stderr);
  }
});

Deno.test("parseNix() accepts a trailing comma in formals, and only there", () => {
  const file = parseNix("{\n  lib,\n  python3, # last\n}:\nlib", "t.nix");
  assert.equal(file.text, "{\n  lib,\n  python3, # last\n}:\nlib");
  assert.throws(
    () => parseNix("{ a = 1, }", "t.nix"),
    /t\.nix:1:8: syntax error/,
  );
  assert.throws(() => parseNix("{ a, , }: a", "t.nix"), /syntax error/);
});
