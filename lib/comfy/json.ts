// JSON text from a file, with the one-line error every comfy reader gives.
import { KitError } from "../kit/errors.ts";

/** JSON.parse with a one-line KitError naming `file` ("<file>: invalid JSON: …"). */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new KitError(
      `${file}: invalid JSON: ${(e as Error).message.split("\n")[0]}`,
    );
  }
}
