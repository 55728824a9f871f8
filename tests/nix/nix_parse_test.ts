import assert from "node:assert/strict";
import { KitError } from "../../lib/kit/errors.ts";
import type { SyntaxNode } from "@lezer/common";
import { parseNix, tryParseNix } from "../../lib/nix/parse.ts";
import {
  detectIndent,
  pathParts,
  quoteNixString,
  stringValue,
} from "../../lib/nix/syntax.ts";
import { haveTool, ROOT, run, tmp } from "../_helpers.ts";

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

// Tricky but valid Nix: each must parse with our parser, and (in CI) with nix-instantiate --parse.
const VALID = [
  `{ version }: { src = ../sources/foo-\${version}-py3-none-any.whl; }`,
  `x: ./foo/\${x}`,
  `{ x, y }: ./a/\${x}\${y}/c.nix`,
  `x: ~/\${x}`,
  `x: ~/foo\${x}/bar`,
  `x: a/\${x}`,
  `x: /\${x}`,
  `x: ./a\${x}`,
  `{ x, y }: y < a/\${x}`,
  `x: ./a/\${"b"}.nix`,
  `x: ./a/\${ "}" + x }`,
  `x: ./a/\${./b/\${x}}`,
  `x: import ./pkgs/\${x}.nix { }`,
  `x: [ ./a/\${x} "./b/\${x}" ''./c/\${x}'' ] # ./d/\${x}`,
  `x: "\${./a/\${x}}"`,
  `x: { p = ./a/\${x}; q = x/\${x}; r = 1 / 2; }`,
  `''\n  a ''\${x} ''' b ''\\n c $ d $$ e\n''`,
  `''''`,
  `''\${"a"}''$''`,
  `"a \\" \\\\ \\\${x} $$ $ \${"b"} \\n"`,
  `"\${"\${"a"}"}"`,
  `let x = { a = 1; b = 2; }; in { inherit (x) a b; }`,
  `let x = { a = 1; "c d" = 2; }; in { inherit (x) a "c d"; }`,
  `let a = 1; in { inherit a; }`,
  `rec { a = 1; b = a; }`,
  `let a = 1; b = a; in b`,
  `let in 1`,
  `assert true; 1`,
  `assert 1 == 1; assert true; 2`,
  `with { a = 1; }; a`,
  `with builtins; with { }; map`,
  `{ a = { }; }.a.b or 3`,
  `x: x.a.b or x.c`,
  `x: x.y or (throw "z")`,
  `{ a = 1; } ? a`,
  `x: x ? "a" && x ? a.b`,
  `x: x ? \${"a"}`,
  `{ a, b, }: a`,
  `{ a, b ? 1, ... }: a`,
  `{ a, }@args: a`,
  `{ a ? 1, b ? a, }: b`,
  `/* c */ { /* c */ a /* c */ , # c\n b }: # c\n a /* c */ + b # end`,
  `# only a comment\n1`,
  `{ a = 1; /* c */ b = 2; # c\n}`,
  `[ # c\n 1 /* c */ 2 ]`,
  `{ u = https://example.org/a?b=c&d=e; }`,
  `[ http://x.y/z mirror://pypi/f/foo.tar.gz ]`,
  `args@{ a, ... }: args`,
  `{ a, ... }@args: a`,
  `{ ... }: 1`,
  `{ }: 1`,
  `x: y: x`,
  `{ \${"a"} = 1; "b" = 2; }.\${"a"}`,
  `x: { inherit x; }.x`,
  `[ (if true then 1 else 2) (-1) 1.5 .5 ]`,
  `1 + 2 * 3 - 4 / 5`,
  `[ 1 ] ++ [ 2 ] ++ [ ]`,
  `!true || false && true -> false`,
  `-(1) < 2 == true`,
  `[ ./foo <nixpkgs> <nixpkgs/lib> ~/foo ]`,
  `{ a.b.c = 1; a.d = 2; }`,
  `{ a = 1;\r\n\tb = 2; }`,
  `let f = x: x; in f f 1`,
  `x: x.a or null`,
];

// Invalid Nix both parsers must reject.
const INVALID = [
  `{ a = 1 }`,
  `./foo/`,
  `x: ./a/\${x}/`,
  `x: <nixpkgs/\${x}>`,
  `x: ./a/ \${x}`,
  `{ a, , b }: a`,
  `let a = 1 in a`,
  `x: ./a/\${ 1 + }`,
  `x: ./a/\${}`,
  `x: ./a/\${x`,
  `"unterminated`,
  `{ a b }: a`,
  `[ 1 -1 ]`,
];

Deno.test("parseNix() accepts tricky valid Nix and rejects invalid Nix", () => {
  for (const src of VALID) {
    const r = tryParseNix(src, "t.nix");
    assert.ok(!(r instanceof KitError), `${src}\n→ ${r}`);
  }
  for (const src of INVALID) {
    assert.ok(tryParseNix(src, "t.nix") instanceof KitError, src);
  }
});

Deno.test("parseNix() accepts exactly what nix-instantiate --parse accepts", async () => {
  if (!haveTool("nix-instantiate")) return;
  await using dir = await tmp();
  const write = (src: string, i: number) => {
    const file = `${dir.path}/case${i}.nix`;
    Deno.writeTextFileSync(file, src);
    return file;
  };
  const valid = VALID.map(write);
  const invalid = INVALID.map((src, i) => write(src, VALID.length + i));
  // One run for the valid cases (Nix stops at the first failure: then one by one, to name it).
  const all = await run("nix-instantiate", ["--parse", ...valid]);
  if (all.code !== 0) {
    for (const [i, file] of valid.entries()) {
      const r = await run("nix-instantiate", ["--parse", file]);
      assert.equal(r.code, 0, `Nix rejects ${VALID[i]}: ${r.stderr}`);
    }
  }
  const rejected = await Promise.all(
    invalid.map((file) => run("nix-instantiate", ["--parse", file])),
  );
  rejected.forEach((r, i) => {
    assert.notEqual(r.code, 0, `Nix accepts ${INVALID[i]}`);
    assert.match(r.stderr, /error:/);
  });
  // Ours, on the same texts.
  for (const src of VALID) assert.ok(!(tryParseNix(src) instanceof KitError));
  for (const src of INVALID) assert.ok(tryParseNix(src) instanceof KitError);
});

Deno.test("parseNix() names the place of errors in path interpolations", () => {
  const at = (src: string) => {
    const r = tryParseNix(src, "p.nix");
    return r instanceof KitError ? r.message : "accepted";
  };
  assert.equal(
    at("x:\n  ./a/${ 1 + }"),
    'p.nix:2:14: syntax error: unexpected "}"',
  );
  assert.equal(
    at("x: ./a/${x}/"),
    "p.nix:1:4: syntax error: path has a trailing slash",
  );
  assert.equal(
    at("x: <nixpkgs/${x}>"),
    'p.nix:1:13: syntax error: unexpected "${"',
  );
});

Deno.test("pathParts() splits an interpolated path; positions are the file's", () => {
  const src =
    `{ version }:\n{\n  src = ../sources/foo-\${version}-py3-\${ "none" }-any.whl;\n}`;
  const file = parseNix(src, "t.nix");
  let path: SyntaxNode | undefined;
  file.tree.iterate({
    enter(n) {
      if (n.name === "Path") path = n.node;
    },
  });
  assert.ok(path);
  assert.equal(
    file.slice(path),
    '../sources/foo-${version}-py3-${ "none" }-any.whl',
  );
  assert.deepEqual(
    pathParts(file, path).map((p) =>
      p.kind === "text" ? p.value : `<${p.text}>`
    ),
    ["../sources/foo-", "<version>", "-py3-", '<"none">', "-any.whl"],
  );
  const [, second] = file.pathInterpolations;
  assert.equal(second!.node.name, "String");
  assert.equal(file.slice(second!.node), '"none"');
  assert.equal(file.line(second!.node.from), 3);
});
