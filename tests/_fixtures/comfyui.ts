// ComfyUI-like release archives for the bump-comfyui tests, and a scratch repository to bump.
// Three releases whose requirements.txt differ: 0.3.76 re-pins comfyui-frontend-package, adds a
// marker-conditional package and a nixpkgs one, drops spandrel and raises av's floor; 0.3.100
// (newer than 0.3.76 by version, older by string) adds one more. Plus filler tags so the tags API
// needs several pages, and non-version tags that must be ignored.
import { ROOT, SEED_MAIN } from "../_helpers.ts";
import { narHashTree, type NarTree } from "../../lib/hash/nar_format.ts";
import { toSri } from "../../lib/hash/sha256.ts";
import { parseRequirementsTxt } from "../../lib/python/requirements.ts";
import { buildTarGz, type FileSpec } from "./build.ts";
import type { FixtureServer } from "./server.ts";
import { fakeCommit, type FakeGithub, mountGithub } from "./github.ts";

/** ComfyUI 0.3.75's requirements.txt (its real shape: pins, bare names, a comment block). */
export const REQUIREMENTS_0_3_75 = `comfyui-frontend-package==1.30.6
comfyui-workflow-templates==0.7.20
comfyui-embedded-docs==0.3.1
torch
torchsde
torchvision
torchaudio
numpy>=1.25.0
einops
transformers>=4.50.3
tokenizers>=0.13.3
sentencepiece
safetensors>=0.4.2
aiohttp>=3.11.8
yarl>=1.18.0
pyyaml
Pillow
scipy
tqdm
psutil
alembic
SQLAlchemy
av>=14.2.0

#non essential dependencies:
kornia>=0.7.1
spandrel
pydantic~=2.0
pydantic-settings~=2.0
`;

/** `text` with each `[from, to]` line replaced (exactly once each: a typo fails loudly). */
function editLines(text: string, edits: [string, string][]): string {
  for (const [from, to] of edits) {
    const i = text.indexOf(`${from}\n`);
    if (i < 0 || text.indexOf(`${from}\n`, i + 1) >= 0) {
      throw new Error(`fixture edit: "${from}" is not one line of the text`);
    }
    text = text.slice(0, i) + (to ? `${to}\n` : "") +
      text.slice(i + from.length + 1);
  }
  return text;
}

/** The requirements.txt of each fixture release. */
export const REQUIREMENTS: Readonly<Record<string, string>> = {
  "0.3.75": REQUIREMENTS_0_3_75,
  "0.3.76": editLines(REQUIREMENTS_0_3_75, [
    ["comfyui-frontend-package==1.30.6", "comfyui-frontend-package==1.32.1"],
    [
      "av>=14.2.0",
      'av>=99.0.0\nblake3\ncomfy-kitchen>=0.1.0; sys_platform == "linux"',
    ],
    ["spandrel", ""],
  ]),
  "0.3.100": editLines(REQUIREMENTS_0_3_75, [
    ["comfyui-frontend-package==1.30.6", "comfyui-frontend-package==1.33.0"],
    ["av>=14.2.0", "av>=14.2.0\nblake3\nrequests"],
    ["spandrel", ""],
  ]),
};

/**
 * The PyPI names a requirements text asks nixpkgs for: all but ComfyUI's own packages
 * (`comfyui-frontend-package`, `comfy-kitchen`, … which nixpkgs lacks), in file order.
 */
export function nixpkgsNames(requirementsTxt: string): string[] {
  return parseRequirementsTxt(requirementsTxt, "requirements.txt")
    .map((r) => r.name)
    .filter((n) => !/^comfy/i.test(n));
}

/** The files of a ComfyUI-like source tree for `version` (paths relative to its top folder). */
export function comfyFiles(version: string): FileSpec[] {
  const req = REQUIREMENTS[version];
  if (req === undefined) throw new Error(`no fixture for ComfyUI ${version}`);
  return [
    { path: "requirements.txt", content: req },
    {
      path: "main.py",
      content:
        `#!/usr/bin/env python3\n# ComfyUI ${version} (test fixture)\nprint("ComfyUI")\n`,
      mode: 0o755,
    },
    { path: "comfyui_version.py", content: `__version__ = "${version}"\n` },
    { path: "comfy/__init__.py", content: "" },
    {
      path: "comfy/model_management.py",
      content: "def get_torch_device():\n    pass\n",
    },
    {
      path: "comfy_extras/nodes_mask.py",
      content: "NODE_CLASS_MAPPINGS = {}\n",
    },
    { path: "custom_nodes/example_node.py.example", content: "# example\n" },
    { path: "models/checkpoints/put_checkpoints_here", content: "" },
    { path: "web", symlink: "comfy/web_directory" },
  ];
}

/** A GitHub-style archive: everything under `ComfyUI-<version>/` (GitHub drops the tag's `v`). */
export async function buildComfyArchive(version: string): Promise<Uint8Array> {
  return await buildTarGz(
    comfyFiles(version).map((f) => ({
      ...f,
      path: `ComfyUI-${version}/${f.path}`,
    })),
  );
}

/** The fixture's releases that have archives. */
export const RELEASES = ["0.3.75", "0.3.76", "0.3.100"] as const;

/**
 * All tag names of the fake repository, in the order GitHub returns them (roughly by date, not
 * by version): the releases, a pre-release, non-version tags and old filler releases.
 */
export function tagNames(): string[] {
  const tags = [
    "v0.4.0rc1",
    "v0.3.100",
    "latest",
    "v0.3.76",
    "v0.3.75",
    "nightly",
  ];
  for (let i = 74; i >= 0; i--) tags.push(`v0.3.${i}`);
  for (let i = 30; i >= 0; i--) tags.push(`v0.2.${i}`);
  return tags;
}

/** The repository files bump-comfyui reads and writes, copied into a scratch root. */
export const ROOT_FILES = [
  ".flox/pkgs/comfyui.nix",
  ".flox/env/manifest.toml",
  "sources-manifest.json",
  ".flox/sources/SHA256SUMS.txt",
] as const;

/** Copies the repository's package files into `dir` (a scratch root for one test). */
export async function makeScratchRoot(dir: string): Promise<void> {
  for (const f of ROOT_FILES) {
    const dest = `${dir}/${f}`;
    await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
    // comfyui.nix as the seed had it: the repository's own wiring is not these tests' input.
    await Deno.copyFile(
      f === ".flox/pkgs/comfyui.nix" ? SEED_MAIN : `${ROOT}/${f}`,
      dest,
    );
  }
}

/**
 * Mounts the fake ComfyUI repository on the fake GitHub (tests/_fixtures/github.ts): every tag of
 * tagNames(), archives for RELEASES, the tags API paginated `pageSize` at a time.
 */
export async function mountComfyGithub(
  server: FixtureServer,
  opts: { pageSize?: number } = {},
): Promise<FakeGithub> {
  const archives: Record<string, Uint8Array> = {};
  for (const v of RELEASES) archives[`v${v}`] = await buildComfyArchive(v);
  const tags = tagNames().map((name) => ({ name, commit: fakeCommit(name) }));
  // Under the repository's owner today and the old name GitHub redirects from (the test seed
  // comfyui_seed.nix still names comfyanonymous; .flox/pkgs/comfyui.nix names Comfy-Org).
  return mountGithub(
    server,
    ["comfyanonymous", "Comfy-Org"].map((owner) => ({
      owner,
      repo: "ComfyUI",
      tags,
      archives,
    })),
    { pageSize: opts.pageSize ?? 30 },
  );
}

/**
 * The NAR hash (SRI) of a release's unpacked tree, computed from the file list (not from the
 * archive), to seed a scratch comfyui.nix with the hash its fixture archive really has.
 */
export function fixtureNarHash(version: string): string {
  const root: NarTree = { type: "directory", entries: new Map() };
  const enc = new TextEncoder();
  for (const f of comfyFiles(version)) {
    const parts = f.path.split("/");
    let dir = root;
    for (const p of parts.slice(0, -1)) {
      let next = dir.entries.get(p);
      if (!next) {
        dir.entries.set(p, next = { type: "directory", entries: new Map() });
      }
      if (next.type !== "directory") {
        throw new Error(`${f.path}: not a directory`);
      }
      dir = next;
    }
    const leaf: NarTree = f.symlink !== undefined
      ? { type: "symlink", target: f.symlink }
      : {
        type: "regular",
        executable: ((f.mode ?? 0o644) & 0o100) !== 0,
        contents: typeof f.content === "string"
          ? enc.encode(f.content)
          : f.content ?? new Uint8Array(),
      };
    dir.entries.set(parts[parts.length - 1]!, leaf);
  }
  return toSri(narHashTree(root));
}
