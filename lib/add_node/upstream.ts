// A node pack's upstream for the other tasks: the Registry versions of a pack added from the
// Comfy Registry (outdated; GitHub packs are asked for their tags like any fetchFromGitHub
// source), and the requirements a pack states (outdated's and freeze-deps' inputs), both read
// from the header add-node writes.
import type { EnvLike } from "../kit/env.ts";
import type { RequestOptions } from "../net/http.ts";
import { fetchVersions, registryUrl } from "../net/registry.ts";
import { readNodeHeader, registryIdOf } from "./header.ts";

/** True for a node pack's attribute (`comfyui-node-<id>`). */
export function isNodePack(attr: string): boolean {
  return attr.startsWith("comfyui-node-");
}

/**
 * The Registry's versions of a pack added from the Registry (deprecated ones marked yanked),
 * or undefined when the pack did not come from the Registry.
 */
export async function registryCandidates(
  text: string,
  env: EnvLike,
  request: RequestOptions = {},
): Promise<{ version: string; yanked?: boolean }[] | undefined> {
  const id = registryIdOf(readNodeHeader(text));
  if (!id) return undefined;
  const versions = await fetchVersions(registryUrl(env), id, request);
  return versions.map((v) =>
    v.deprecated ? { version: v.version, yanked: true } : { version: v.version }
  );
}

/** The requirements (PEP 508) the pack states, as add-node recorded them. */
export function nodeRequirements(text: string): string[] {
  return readNodeHeader(text).requirements.map((r) => r.text);
}

/** Every node pack under `pkgsDir` with the requirements it states (files in name order). */
export async function packsRequirements(
  pkgsDir: string,
): Promise<{ attr: string; requirements: string[] }[]> {
  const out: { attr: string; requirements: string[] }[] = [];
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(pkgsDir)) {
      if (e.isFile && /^comfyui-node-.+\.nix$/.test(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const name of names.sort()) {
    const text = await Deno.readTextFile(`${pkgsDir}/${name}`);
    out.push({ attr: name.slice(0, -4), requirements: nodeRequirements(text) });
  }
  return out;
}
