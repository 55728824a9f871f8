// Mirrors: `COMFYKIT_MIRRORS` rewrites URL prefixes (FROM=TO,...) so downloads can come from a
// local or corporate mirror.
import { KitError } from "../kit/errors.ts";
import { envGet, type EnvLike } from "../kit/env.ts";

/** A mirror rewrite: URLs starting with `from` are fetched from `to` + the rest. */
export interface Mirror {
  from: string;
  to: string;
}

/** Parses `COMFYKIT_MIRRORS`: comma-separated `FROM=TO` URL prefixes. */
export function parseMirrors(text: string | undefined): Mirror[] {
  if (!text?.trim()) return [];
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((pair) => {
    const i = pair.indexOf("=");
    const from = pair.slice(0, i).trim();
    const to = pair.slice(i + 1).trim();
    if (i <= 0 || !to || !isHttpUrl(from) || !isHttpUrl(to)) {
      throw new KitError(
        `COMFYKIT_MIRRORS: "${pair}" is not FROM=TO with two http(s) URL prefixes`,
      );
    }
    return { from, to };
  });
}

/** The mirrors configured in the environment. */
export function mirrorsFromEnv(env: EnvLike = Deno.env): Mirror[] {
  return parseMirrors(envGet(env, "COMFYKIT_MIRRORS"));
}

/** Applies the longest matching mirror prefix to `url` (unchanged when none matches). */
export function applyMirrors(url: string, mirrors: readonly Mirror[]): string {
  let best: Mirror | undefined;
  for (const m of mirrors) {
    if (url.startsWith(m.from) && (!best || m.from.length > best.from.length)) {
      best = m;
    }
  }
  return best ? best.to + url.slice(best.from.length) : url;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}
