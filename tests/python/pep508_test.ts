import assert from "node:assert/strict";
import {
  markerToString,
  parseMarker,
  parseRequirement,
  requirementToString,
} from "../../lib/python/pep508.ts";
import {
  applicability,
  evaluateMarker,
  markerEnvironment,
  markerExtras,
  NIX_SYSTEMS,
  platformCondition,
} from "../../lib/python/markers.ts";
import { KitError } from "../../lib/kit/errors.ts";
import { haveTool, run } from "../_helpers.ts";

Deno.test("parseRequirement() parses names, extras, specifiers, URLs and markers", () => {
  const cases: [string, {
    name: string;
    extras?: string[];
    specifier?: string;
    url?: string;
    marker?: string;
  }][] = [
    ["numpy", { name: "numpy" }],
    ["  numpy  ", { name: "numpy" }],
    ["A", { name: "A" }],
    ["zope.interface", { name: "zope.interface" }],
    ["typing_extensions>=4.0", {
      name: "typing_extensions",
      specifier: ">=4.0",
    }],
    ["torch >= 2.1 , < 3", { name: "torch", specifier: ">=2.1,<3" }],
    ["requests[security,socks]==2.31.0", {
      name: "requests",
      extras: ["security", "socks"],
      specifier: "==2.31.0",
    }],
    ["requests [ security ] (>=2.0)", {
      name: "requests",
      extras: ["security"],
      specifier: ">=2.0",
    }],
    ["foo[]", { name: "foo" }],
    ["foo~=1.4.2", { name: "foo", specifier: "~=1.4.2" }],
    ["foo==1.*", { name: "foo", specifier: "==1.*" }],
    ["foo!=1.2.*", { name: "foo", specifier: "!=1.2.*" }],
    ["foo===weird-1", { name: "foo", specifier: "===weird-1" }],
    ["foo==1.0+local", { name: "foo", specifier: "==1.0+local" }],
    ["foo>=1.0rc1,!=1.1.post2", {
      name: "foo",
      specifier: ">=1.0rc1,!=1.1.post2",
    }],
    ["foo>=1!2.0", { name: "foo", specifier: ">=1!2.0" }],
    ['pywin32>=1.0; sys_platform == "win32"', {
      name: "pywin32",
      specifier: ">=1.0",
      marker: 'sys_platform == "win32"',
    }],
    ["pytest ; extra == 'test'", {
      name: "pytest",
      marker: 'extra == "test"',
    }],
    ["pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee", {
      name: "pip",
      url: "https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee",
    }],
    ['pip[x] @ file:///tmp/pip.whl ; python_version >= "3.8"', {
      name: "pip",
      extras: ["x"],
      url: "file:///tmp/pip.whl",
      marker: 'python_version >= "3.8"',
    }],
    [
      `name; (os_name=="a" or os_name=='b') and sys_platform!="c" or python_version<'3'`,
      {
        name: "name",
        marker:
          '(os_name == "a" or os_name == "b") and sys_platform != "c" or python_version < "3"',
      },
    ],
    ['foo; "linux" in sys_platform', {
      name: "foo",
      marker: '"linux" in sys_platform',
    }],
    ['foo; platform_machine not in "x86_64 aarch64"', {
      name: "foo",
      marker: 'platform_machine not in "x86_64 aarch64"',
    }],
    ['foo; os.name == "posix"', { name: "foo", marker: 'os_name == "posix"' }],
    [`foo; implementation_name == 'it"s'`, {
      name: "foo",
      marker: `implementation_name == 'it"s'`,
    }],
  ];
  for (const [text, want] of cases) {
    const r = parseRequirement(text);
    assert.equal(r.name, want.name, text);
    assert.deepEqual(r.extras, want.extras ?? [], text);
    assert.equal(r.specifier, want.specifier ?? "", text);
    assert.equal(r.url, want.url, text);
    assert.equal(
      r.marker ? markerToString(r.marker) : undefined,
      want.marker,
      text,
    );
  }
});

Deno.test("parseRequirement() rejects malformed requirements with a one-line KitError", () => {
  const bad = [
    "",
    ">=1.0",
    "-foo",
    "foo-",
    "foo[bar",
    "foo[bar,]",
    "foo>=",
    "foo>=1.0,",
    "foo=>1.0",
    "foo==1.0 bar",
    "foo (>=1.0",
    "foo~=1",
    "foo>=1.*",
    "foo>=1.0+local",
    "foo==not a version",
    "foo; ",
    "foo; python_version",
    "foo; python_version >= '3.8",
    "foo; python_version >= 3.8",
    "foo; pyton_version >= '3.8'",
    "foo; 'a' == 'b'",
    "foo; (python_version >= '3.8'",
    "foo; python_version >= '3.8' and",
    "foo; python_version >= '3.8' andsys_platform == 'x'",
    "foo @ ",
    "foo @ not-a-url",
    "foo @ https://x/y.whl; python_version > '3'",
  ];
  for (const text of bad) {
    assert.throws(() => parseRequirement(text), (e: unknown) => {
      assert.ok(e instanceof KitError, text);
      assert.match(e.message, /^Invalid PEP 508 requirement ".*": .+/, text);
      assert.ok(!e.message.includes("\n"), text);
      return true;
    });
  }
});

Deno.test("requirementToString() round-trips a normalised requirement", () => {
  for (
    const text of [
      "numpy",
      "requests[security,socks]>=2.0,<3",
      'torch>=2.1; sys_platform == "linux" and platform_machine == "x86_64"',
      'pip @ https://x.org/pip.whl ; python_version >= "3.8"',
    ]
  ) {
    assert.equal(requirementToString(parseRequirement(text)), text);
  }
});

Deno.test("evaluateMarker() follows PEP 508 and PEP 440 semantics", () => {
  const py312 = markerEnvironment("3.12");
  const py39 = markerEnvironment("3.9.7", "aarch64-darwin");
  const cases: [string, boolean, boolean][] = [
    // marker, on 3.12/x86_64-linux, on 3.9.7/aarch64-darwin
    ['python_version >= "3.10"', true, false],
    ['python_version < "3.10"', false, true],
    ['python_version > "3.9"', true, false],
    ['python_version == "3.12"', true, false],
    ['python_version == "3.*"', true, true],
    ['python_version ~= "3.10"', true, false],
    ['python_version != "3.9"', true, false],
    ['python_full_version >= "3.9.8"', true, false],
    ['python_full_version < "3.12.1"', true, true],
    ['"3.10" <= python_version', true, false],
    ['python_version in "3.11 3.12"', true, false],
    ['implementation_name == "cpython"', true, true],
    ['implementation_name == "pypy"', false, false],
    ['platform_python_implementation != "PyPy"', true, true],
    ['sys_platform == "linux"', true, false],
    ['sys_platform == "darwin"', false, true],
    ['sys_platform == "win32"', false, false],
    ['sys_platform != "win32"', true, true],
    ['"linux" in sys_platform', true, false],
    ['platform_system == "Darwin"', false, true],
    ['platform_system == "Windows"', false, false],
    ['platform_machine == "x86_64"', true, false],
    ['platform_machine == "arm64"', false, true],
    ['platform_machine in "arm64 aarch64"', false, true],
    ['os_name == "nt"', false, false],
    [
      'sys_platform == "linux" and platform_machine == "x86_64" or sys_platform == "darwin"',
      true,
      true,
    ],
    [
      'sys_platform == "linux" and (platform_machine == "aarch64" or python_version < "3")',
      false,
      false,
    ],
    ['extra == "dev"', false, false],
  ];
  for (const [text, a, b] of cases) {
    const m = parseMarker(text);
    assert.equal(evaluateMarker(m, py312), a, `${text} on 3.12 linux`);
    assert.equal(evaluateMarker(m, py39), b, `${text} on 3.9 darwin`);
  }
});

Deno.test("evaluateMarker() compares extras by normalised name", () => {
  const m = parseMarker('extra == "Dev_Tools"');
  assert.equal(
    evaluateMarker(m, markerEnvironment("3.12", "x86_64-linux", "dev-tools")),
    true,
  );
  assert.equal(
    evaluateMarker(m, markerEnvironment("3.12", "x86_64-linux", "dev")),
    false,
  );
});

Deno.test("markerEnvironment() rejects a malformed Python version", () => {
  assert.throws(() => markerEnvironment("three"), KitError);
  assert.equal(markerEnvironment("3.11").python_full_version, "3.11.0");
  assert.equal(markerEnvironment("3.11.4").python_version, "3.11");
});

Deno.test("platformCondition() maps platform markers to Nix systems", () => {
  const cases: [string | undefined, string[]][] = [
    [undefined, [
      "aarch64-darwin",
      "aarch64-linux",
      "x86_64-darwin",
      "x86_64-linux",
    ]],
    ['sys_platform == "linux"', ["aarch64-linux", "x86_64-linux"]],
    ['platform_system == "Linux"', ["aarch64-linux", "x86_64-linux"]],
    ['sys_platform == "darwin"', ["aarch64-darwin", "x86_64-darwin"]],
    ['sys_platform == "win32"', []],
    ['platform_system != "Darwin"', ["aarch64-linux", "x86_64-linux"]],
    ['platform_machine == "x86_64"', ["x86_64-darwin", "x86_64-linux"]],
    ['platform_machine == "arm64" or platform_machine == "aarch64"', [
      "aarch64-darwin",
      "aarch64-linux",
    ]],
    ['sys_platform == "linux" and platform_machine == "x86_64"', [
      "x86_64-linux",
    ]],
    ['sys_platform != "darwin" and python_version >= "3.10"', [
      "aarch64-linux",
      "x86_64-linux",
    ]],
    ['sys_platform != "darwin" and python_version < "3.10"', []],
    ['python_version >= "3.8"', [
      "aarch64-darwin",
      "aarch64-linux",
      "x86_64-darwin",
      "x86_64-linux",
    ]],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(
      platformCondition(text ? parseMarker(text) : undefined, {
        python: "3.12",
      }),
      want,
      text,
    );
  }
});

Deno.test("applicability() drops extras unless chosen and unsupported platforms", () => {
  const opts = { python: "3.12" };
  const r = (t: string) => parseRequirement(t);
  assert.deepEqual(applicability(r("numpy"), opts), { kind: "always" });
  assert.deepEqual(applicability(r("pytest; extra == 'test'"), opts), {
    kind: "never",
  });
  assert.deepEqual(
    applicability(r("pytest; extra == 'test'"), {
      ...opts,
      extras: ["test"],
    }),
    { kind: "always" },
  );
  assert.deepEqual(
    applicability(
      r("triton; extra == 'gpu' and sys_platform == 'linux'"),
      { ...opts, extras: ["docs", "gpu"] },
    ),
    { kind: "systems", systems: ["aarch64-linux", "x86_64-linux"] },
  );
  assert.deepEqual(applicability(r("tomli; python_version < '3.11'"), opts), {
    kind: "never",
  });
  assert.deepEqual(applicability(r("pywin32; os_name == 'nt'"), opts), {
    kind: "never",
  });
});

Deno.test("markerExtras() lists the extras a marker uses", () => {
  const m = parseMarker(
    `(extra == "GPU" or extra == 'docs') and sys_platform == "linux"`,
  );
  assert.deepEqual(markerExtras(m), ["docs", "gpu"]);
});

Deno.test("evaluateMarker() agrees with pip's packaging.markers on every system", async () => {
  if (!haveTool("python3")) return;
  const markers = [
    'python_version >= "3.10"',
    'python_version < "3.10"',
    'python_version == "3.*"',
    'python_version ~= "3.10"',
    'python_full_version >= "3.9.8"',
    '"3.10" <= python_version',
    'python_version in "3.11 3.12"',
    'implementation_name == "cpython"',
    'platform_python_implementation != "PyPy"',
    'sys_platform == "linux"',
    'sys_platform != "win32"',
    '"linux" in sys_platform',
    'platform_system == "Darwin"',
    'platform_machine == "x86_64"',
    'platform_machine in "arm64 aarch64"',
    'os_name == "nt"',
    'sys_platform == "linux" and platform_machine == "x86_64" or sys_platform == "darwin"',
    'sys_platform == "linux" and (platform_machine == "aarch64" or python_version < "3")',
    'extra == "dev"',
  ];
  const envs = NIX_SYSTEMS.flatMap((s) =>
    ["3.9.7", "3.12"].map((py) => markerEnvironment(py, s, "dev"))
  );
  const script = `
import json, sys
from pip._vendor.packaging.markers import Marker
data = json.load(sys.stdin)
print(json.dumps([[Marker(m).evaluate(e) for e in data["envs"]] for m in data["markers"]]))
`;
  const r = await run("python3", ["-c", script], {
    stdin: JSON.stringify({ markers, envs }),
  });
  assert.equal(r.code, 0, r.stderr);
  const want = JSON.parse(r.stdout) as boolean[][];
  markers.forEach((m, i) => {
    assert.deepEqual(
      envs.map((e) => evaluateMarker(parseMarker(m), e)),
      want[i],
      m,
    );
  });
});
