// A scratch repository for bump-comfyui at 0.3.75 against a fake GitHub and PyPI on loopback:
// shared by the subprocess tests (tests/bump/bump_comfyui_test.ts) and the in-process workflow tests
// (tests/bump/bump_comfyui_flow_test.ts).
import { startServer } from "./server.ts";
import {
  fixtureNarHash,
  makeScratchRoot,
  mountComfyGithub,
  nixpkgsNames,
  REQUIREMENTS,
} from "./comfyui.ts";
import { pypiToNixAttr } from "../../lib/nix/nixpkgs_names.ts";
import { ROOT, runTaskProcess, tmp } from "../_helpers.ts";
import { addInputEdit } from "../../lib/bump/actions.ts";
import { readMainPackage } from "../../lib/repo/main_package.ts";
import {
  type FakePypi,
  type FakeRelease,
  mountPypi,
  wheelFile,
} from "./pypi.ts";

/** A scratch repository at 0.3.75 (hash = the fixture archive's), a fake GitHub, a cache. */
export async function setup(opts: { pageSize?: number } = {}) {
  const dir = await tmp();
  const server = await startServer();
  const gh = await mountComfyGithub(server, opts);
  const root = `${dir.path}/repo`;
  await makeScratchRoot(root);
  const nix = `${root}/.flox/pkgs/comfyui.nix`;
  const text = await Deno.readTextFile(nix);
  await Deno.writeTextFile(
    nix,
    text.replace(readMainPackage(text).hash, fixtureNarHash("0.3.75")),
  );
  await Deno.writeTextFile(`${root}/nixpkgs-index.json`, NIXPKGS_INDEX);
  mountReleases(server);
  const env = {
    COMFYKIT_GITHUB_URL: gh.url,
    COMFYKIT_GITHUB_API_URL: gh.apiUrl,
    COMFYKIT_PYPI_URL: server.url,
    COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
    NO_COLOR: "1",
  };
  const bump = (args: string[]) =>
    runTaskProcess("bump_comfyui.ts", ["--root", root, ...args], { env });
  return {
    root,
    server,
    gh,
    env,
    bump,
    read: (f: string) => Deno.readTextFile(`${root}/${f}`),
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** PyPI releases of the packages the 0.3.76 actions fetch or create. */
export function mountReleases(
  server: Awaited<ReturnType<typeof startServer>>,
  extra: FakeRelease[] = [],
): FakePypi {
  const spec = (name: string, version: string, pkg: string) => ({
    name,
    version,
    packages: [pkg],
    license: "MIT",
    classifiers: ["License :: OSI Approved :: MIT License"],
    summary: `${name} test wheel`,
  });
  return mountPypi(server, [
    ...extra,
    {
      name: "comfyui-frontend-package",
      version: "1.32.1",
      files: [
        wheelFile(
          spec(
            "comfyui-frontend-package",
            "1.32.1",
            "comfyui_frontend_package",
          ),
        ),
      ],
    },
    {
      name: "comfy-kitchen",
      version: "0.1.0",
      files: [wheelFile(spec("comfy-kitchen", "0.1.0", "comfy_kitchen"))],
    },
    {
      name: "av",
      version: "99.0.0",
      files: [wheelFile(spec("av", "99.0.0", "av"))],
    },
  ]);
}

/**
 * A small offline nixpkgs index: every non-ComfyUI requirement of the fixture releases at 1.0.0,
 * but av at 14.4.0 (too old for 0.3.76's `av>=99.0.0`) and numpy at 2.3.4.
 */
export const NIXPKGS_INDEX = JSON.stringify(
  {
    description: "bump-comfyui test index",
    nixpkgs: { rev: "0".repeat(40), date: "2025-11-20", channel: null },
    python3Packages: Object.fromEntries(
      [...new Set(Object.values(REQUIREMENTS).flatMap(nixpkgsNames))]
        .map((n): [string, string] => [pypiToNixAttr(n), "1.0.0"])
        .concat([["av", "14.4.0"], ["numpy", "2.3.4"]]),
    ),
  },
  null,
  2,
);

export const FRONTEND_PKG = `{ lib, python3 }:

python3.pkgs.buildPythonPackage rec {
  pname = "comfyui-frontend-package";
  version = "1.30.6";
  format = "wheel";

  src = ../sources/comfyui_frontend_package-1.30.6-py3-none-any.whl;

  doCheck = false;

  meta = with lib; {
    description = "ComfyUI frontend";
    license = licenses.gpl3Only;
  };
}
`;

/** Every file under `dir` with its contents (a snapshot to compare before and after). */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isSymlink) files.set(p, `-> ${await Deno.readLink(p)}`);
      else files.set(p, await Deno.readTextFile(p));
    }
  };
  await walk(dir);
  return files;
}

export const OLD_WHEEL = "comfyui_frontend_package-1.30.6-py3-none-any.whl";
export const NEW_WHEEL = "comfyui_frontend_package-1.32.1-py3-none-any.whl";
export const FE_NIX = ".flox/pkgs/comfyui-frontend-package.nix";

/**
 * The repository's own comfyui-frontend-package.nix (new-package's header included), wired
 * into comfyui.nix, with its 1.30.6 wheel vendored.
 */
export async function withFrontendPackage(
  s: { root: string },
): Promise<void> {
  await Deno.copyFile(`${ROOT}/${FE_NIX}`, `${s.root}/${FE_NIX}`);
  await Deno.writeFile(
    `${s.root}/.flox/sources/${OLD_WHEEL}`,
    new Uint8Array([0x50, 0x4b, 0, 0, 1, 2]),
  );
  const main = `${s.root}/.flox/pkgs/comfyui.nix`;
  await Deno.writeTextFile(
    main,
    addInputEdit("comfyui-frontend-package", true, undefined)(
      await Deno.readTextFile(main),
    ),
  );
}
