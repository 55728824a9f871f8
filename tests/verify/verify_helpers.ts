// Stub repositories for the verify tests: a good one by default (the seed's comfyui.nix with
// foo wired in, foo's wheel vendored and listed, a Flox environment, all committed to git), and
// the finding filters the tests use.
import { mkdir } from "node:fs/promises";
import { strToU8, zipSync } from "fflate";
import { sha256Bytes, toHex } from "../../lib/hash/sha256.ts";
import {
  type Manifest,
  renderSha256Sums,
  serializeManifest,
  type SourceEntry,
} from "../../lib/repo/manifest.ts";
import {
  type Finding,
  type RunCommand,
  SECTIONS,
} from "../../lib/verify/run.ts";
import type { Add } from "../../lib/verify/types.ts";
import { run, SEED_MAIN } from "../_helpers.ts";
import { PACKAGE } from "../_fixtures/nix_files.ts";

export const COMFYUI = await Deno.readTextFile(SEED_MAIN);
/** A minimal real wheel of foo 1.2.3 (verify reads the metadata of vendored files). */
export const WHEEL = wheel("foo", "1.2.3");

/** The main package with `foo` wired in (argument + dependency). */
export const MAIN_WITH_FOO = COMFYUI.replace(
  ", makeWrapper\n",
  ", makeWrapper\n, foo\n",
)
  .replace("    pydantic-settings\n", "    pydantic-settings\n    foo\n");

/** foo's own custom dependency, so that foo's arguments all have package files. */
export const CORE = PACKAGE.replace(
  ", comfyui-workflow-templates-core   # custom packages from .flox/pkgs are function arguments\n",
  "",
).replace("    comfyui-workflow-templates-core\n", "")
  .replace('pname = "foo"', 'pname = "comfyui-workflow-templates-core"')
  .replace('[ "foo" ]', '[ "comfyui_workflow_templates_core" ]');

export const runCommand: RunCommand = async (cmd, args, cwd) => {
  try {
    return await run(cmd, args, { cwd });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
};

export function entry(
  file: string,
  bytes: Uint8Array,
  name = "foo",
): SourceEntry {
  return {
    name,
    version: "1.2.3",
    kind: "pypi-wheel",
    file,
    url: `https://files.pythonhosted.org/packages/py3/f/${name}/${file}`,
    sha256: toHex(sha256Bytes(bytes)),
  };
}

export interface Repo {
  pkgs?: Record<string, string>;
  sources?: Record<string, Uint8Array>;
  entries?: SourceEntry[];
  sums?: string;
  floxManifest?: string;
  /** `.flox/env.json` (default: Flox's form); null: no file. */
  envJson?: string | null;
  /** Write `.flox/env/manifest.lock` (default true). */
  lock?: boolean;
  /** git init and commit everything (default true). */
  git?: boolean;
  /** nixpkgs-index.json's content (default: none). */
  index?: unknown;
}

/** A good Flox manifest: maintainer tools in the toplevel group. */
export const FLOX_MANIFEST =
  'version = 1\n\n[install]\ndeno.pkg-path = "deno"\npython3.pkg-path = "python3"\n';

const NIXPKGS_REV = "64c08a7ca051951c8eae34e3e3cb1e202fe36786";

/** A Flox lock in the form Flox writes (trimmed): FLOX_MANIFEST's packages, locked. */
export const FLOX_LOCK = JSON.stringify(
  {
    "lockfile-version": 1,
    manifest: {
      version: 1,
      install: {
        deno: { "pkg-path": "deno" },
        python3: { "pkg-path": "python3" },
      },
    },
    packages: ["deno", "python3"].map((id) => ({
      attr_path: id,
      install_id: id,
      group: "toplevel",
      system: "x86_64-linux",
      rev: NIXPKGS_REV,
      locked_url: `https://github.com/flox/nixpkgs?rev=${NIXPKGS_REV}`,
    })),
  },
  null,
  2,
) + "\n";

/** A stub repository: a good one by default (main + foo, vendored and listed). */
export async function makeRepo(dir: string, r: Repo = {}): Promise<string> {
  const pkgs = {
    "comfyui-workflow-templates-core": CORE,
    ...(r.pkgs ?? { comfyui: MAIN_WITH_FOO, foo: PACKAGE }),
  };
  const file = "foo-1.2.3-py3-none-any.whl";
  const sources = r.sources ?? { [file]: WHEEL };
  const m: Manifest = {
    version: 1,
    sources: r.entries ?? [entry(file, WHEEL)],
  };
  await mkdir(`${dir}/.flox/pkgs`, { recursive: true });
  await mkdir(`${dir}/.flox/sources`, { recursive: true });
  await mkdir(`${dir}/.flox/env`, { recursive: true });
  for (const [n, t] of Object.entries(pkgs)) {
    await Deno.writeTextFile(`${dir}/.flox/pkgs/${n}.nix`, t);
  }
  for (const [n, b] of Object.entries(sources)) {
    await Deno.writeFile(`${dir}/.flox/sources/${n}`, b);
  }
  await Deno.writeTextFile(
    `${dir}/sources-manifest.json`,
    serializeManifest(m),
  );
  await Deno.writeTextFile(
    `${dir}/.flox/sources/SHA256SUMS.txt`,
    r.sums ?? renderSha256Sums(m),
  );
  await Deno.writeTextFile(
    `${dir}/.flox/env/manifest.toml`,
    r.floxManifest ?? FLOX_MANIFEST,
  );
  if (r.envJson !== null) {
    await Deno.writeTextFile(
      `${dir}/.flox/env.json`,
      r.envJson ?? '{\n  "name": "comfyui",\n  "version": 1\n}\n',
    );
  }
  if (r.lock !== false) {
    await Deno.writeTextFile(`${dir}/.flox/env/manifest.lock`, FLOX_LOCK);
  }
  if (r.index !== undefined) {
    await Deno.writeTextFile(
      `${dir}/nixpkgs-index.json`,
      JSON.stringify(r.index, null, 2),
    );
  }
  if (r.git !== false) await gitCommitAll(dir);
  return dir;
}

/** git init, add everything, commit (a repository as Flox builds see it). */
export async function gitCommitAll(dir: string): Promise<void> {
  const git = (...a: string[]) =>
    run("git", ["-c", "user.name=t", "-c", "user.email=t@e", ...a], {
      cwd: dir,
    });
  await git("init", "-q");
  await git("add", "-A");
  await git("commit", "-qm", "init");
}

/** A wheel with just its METADATA (and more core metadata fields when given). */
export function wheel(
  name: string,
  version: string,
  extra = "",
  files: Record<string, string> = {},
): Uint8Array {
  const di = `${name}-${version}.dist-info`;
  return zipSync({
    ...Object.fromEntries(
      Object.entries(files).map((
        [k, v],
      ) => [k.replace("{di}", di), strToU8(v)]),
    ),
    [`${di}/METADATA`]: strToU8(
      `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n${extra}`,
    ),
    [`${di}/WHEEL`]: strToU8("Wheel-Version: 1.0\nTag: py3-none-any\n"),
    [`${name}/__init__.py`]: strToU8(""),
  });
}

export function pick(
  fs: Finding[],
  level: Finding["level"],
  re: RegExp,
): Finding[] {
  return fs.filter((f) =>
    f.level === level && re.test(`${f.where ?? ""} ${f.message}`)
  );
}

export function errors(fs: Finding[]): string[] {
  return fs.filter((f) => f.level === "error").map((f) =>
    `${f.where}: ${f.message}`
  );
}

/** A collector: `add` appends, `sorted()` returns the findings in section order. */
export function collector(): { add: Add; out: Finding[]; sorted(): Finding[] } {
  const out: Finding[] = [];
  const add: Add = (section, level, message, where, fix) =>
    out.push({ section, level, message, where, fix });
  const order = new Map(SECTIONS.map((s, i) => [s, i]));
  const sorted = () =>
    out.map((f, i) => ({ f, i })).sort((a, b) =>
      order.get(a.f.section)! - order.get(b.f.section)! || a.i - b.i
    ).map((x) => x.f);
  return { add, out, sorted };
}
