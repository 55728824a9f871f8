// The Comfy Registry (api.comfy.org): a node pack's install record (`GET /nodes/{id}/install`,
// the `node.zip` to download) and its published versions, with the base URL from
// COMFYKIT_REGISTRY_URL so tests point it at a loopback fixture.
import { z } from "zod";
import { KitError } from "../kit/errors.ts";
import { baseUrlFrom, type EnvLike } from "../kit/env.ts";
import { parseWith } from "../kit/schema.ts";
import { fetchJson, HttpStatusError, type RequestOptions } from "./http.ts";

/** The Registry's public API. */
const DEFAULT_REGISTRY_URL = "https://api.comfy.org";

/** The Registry's base: `COMFYKIT_REGISTRY_URL` or https://api.comfy.org. */
export function registryUrl(env: EnvLike = Deno.env): string {
  try {
    return baseUrlFrom(env, "COMFYKIT_REGISTRY_URL", DEFAULT_REGISTRY_URL);
  } catch (e) {
    throw new KitError((e as Error).message);
  }
}

/** A Registry node id: lower-case letters, digits, `-`, `_` and `.` (as the Registry issues them). */
export function isRegistryId(id: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{0,99}$/i.test(id);
}

const installSchema = z.object({
  id: z.string().optional(),
  version: z.string().min(1),
  downloadUrl: z.string().url(),
  deprecated: z.boolean().optional(),
  dependencies: z.array(z.string()).nullish(),
}).passthrough();

/** What `/nodes/{id}/install` answers (the fields the kit reads). */
type RegistryInstall = z.infer<typeof installSchema>;

/** The install record of `id` at `version` (the latest without one); a 404 names the pack. */
export async function fetchInstall(
  base: string,
  id: string,
  version: string | undefined,
  opts: RequestOptions = {},
): Promise<RegistryInstall> {
  const url = `${base}/nodes/${encodeURIComponent(id)}/install${
    version ? `?version=${encodeURIComponent(version)}` : ""
  }`;
  try {
    const { data } = await fetchJson(url, opts);
    return parseWith(installSchema, data, url);
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) {
      throw new KitError(
        `The Comfy Registry has no node "${id}"${
          version ? ` at version ${version}` : ""
        } (${url})`,
      );
    }
    throw e;
  }
}

const versionsSchema = z.array(
  z.object({
    version: z.string().min(1),
    deprecated: z.boolean().optional(),
    createdAt: z.string().optional(),
  }).passthrough(),
);

/** The published versions of `id`, as `/nodes/{id}/versions` lists them (newest first). */
export async function fetchVersions(
  base: string,
  id: string,
  opts: RequestOptions = {},
): Promise<{ version: string; deprecated: boolean }[]> {
  const url = `${base}/nodes/${encodeURIComponent(id)}/versions`;
  const { data } = await fetchJson(url, opts);
  return parseWith(versionsSchema, data, url).map((v) => ({
    version: v.version,
    deprecated: v.deprecated ?? false,
  }));
}

const nodeSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  repository: z.string().optional(),
  latest_version: z.object({ version: z.string() }).passthrough().nullish(),
}).passthrough();

/** What `/nodes/{id}` says about a node (its repository, its latest version). */
type RegistryNode = z.infer<typeof nodeSchema>;

/** The node record of `id`; a 404 names the pack. */
export async function fetchNode(
  base: string,
  id: string,
  opts: RequestOptions = {},
): Promise<RegistryNode> {
  const url = `${base}/nodes/${encodeURIComponent(id)}`;
  try {
    const { data } = await fetchJson(url, opts);
    return parseWith(nodeSchema, data, url);
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) {
      throw new KitError(`The Comfy Registry has no node "${id}" (${url})`);
    }
    throw e;
  }
}
