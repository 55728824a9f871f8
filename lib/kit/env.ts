// Environment access for the fetch-source modules: endpoints and directories come from variables,
// passed in (a plain record in tests, `Deno.env` in tasks) so nothing reads the process env hidden.

/** Anything with a `get(key)`, such as `Deno.env`, or a plain record of variables. */
export type EnvLike =
  | { get(key: string): string | undefined }
  | Record<string, string | undefined>;

/** Reads one variable; an empty value counts as unset. */
export function envGet(env: EnvLike, key: string): string | undefined {
  const v = typeof env.get === "function"
    ? (env as { get(key: string): string | undefined }).get(key)
    : (env as Record<string, string | undefined>)[key];
  return v === undefined || v === "" ? undefined : v;
}

/** A base URL from a variable (or the default), validated and without a trailing slash. */
export function baseUrlFrom(
  env: EnvLike,
  key: string,
  fallback: string,
): string {
  const raw = envGet(env, key) ?? fallback;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError(`${key}="${raw}" is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new TypeError(`${key}="${raw}" must be an http(s) URL`);
  }
  return raw.replace(/\/+$/, "");
}
