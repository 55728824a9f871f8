// What the fix-build and fix-hash tests share: package files, an offline index, a repository,
// a stand-in flox.
import { mkdir } from "node:fs/promises";
import { SEED_MAIN } from "../_helpers.ts";

/** A Python package file in the layout new-package writes. */
export function pkg(pname: string, version: string, extra = "") {
  return `{ lib, python3, fetchPypi }:

python3.pkgs.buildPythonPackage rec {
  pname = "${pname}";
  version = "${version}";
  pyproject = true;

  src = fetchPypi {
    inherit pname version;
    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
  };

  build-system = with python3.pkgs; [ setuptools ];

  dependencies = with python3.pkgs; [
    numpy
  ];
${extra}
  pythonImportsCheck = [ "${pname.replace(/-/g, "_")}" ];

  meta.license = lib.licenses.mit;
}
`;
}

/** An offline nixpkgs index in the kit's format. */
export const INDEX = JSON.stringify({
  description: "test index",
  nixpkgs: { rev: null, date: null, channel: null },
  python3Packages: {
    "python-magic": "0.4.27",
    wrapt: "1.16.0",
    "zope-interface": "7.1.1",
    lxml: "5.3.0",
    pyyaml: "6.0.2",
    opencv4: "4.10.0",
    numpy: "2.1.3",
    spandrel: "0.4.0",
  },
});

/** A repository: comfyui.nix (the seed) plus the given package files. */
export async function makeRepo(
  dir: string,
  files: Record<string, string> = {},
) {
  await mkdir(`${dir}/.flox/pkgs`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/.flox/pkgs/comfyui.nix`,
    await Deno.readTextFile(SEED_MAIN),
  );
  for (const [n, t] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/.flox/pkgs/${n}`, t);
  }
  await Deno.writeTextFile(`${dir}/index.json`, INDEX);
  return dir;
}

/**
 * A stand-in `flox` on PATH: records its arguments in flox-args, then "builds" by printing
 * flox-log.N (N = the call number; the last one is reused) and exiting 1, or exits 0 once the
 * package file holds `passWhen`.
 */
export async function standInFlox(
  root: string,
  logs: string[],
  passWhen: string,
) {
  const bin = `${root}/bin`;
  await mkdir(bin);
  for (const [i, l] of logs.entries()) {
    await Deno.writeTextFile(`${root}/flox-log.${i + 1}`, l);
  }
  await Deno.writeTextFile(
    `${bin}/flox`,
    `#!/bin/sh
echo "$@" >> "${root}/flox-args"
n=$(wc -l < "${root}/flox-args")
if grep -rqF -- '${passWhen}' "${root}/.flox/pkgs"; then echo "Built successfully"; exit 0; fi
f="${root}/flox-log.$n"; [ -f "$f" ] || f="${root}/flox-log.${logs.length}"
cat "$f" >&2
exit 1
`,
  );
  await Deno.chmod(`${bin}/flox`, 0o755);
  return { PATH: `${bin}:${Deno.env.get("PATH")}` };
}
