// The default requirements of freeze-deps: the main package's requirements.txt.
import { KitError } from "./errors.ts";

/** The requirements of the repository's main package (ComfyUI's requirements.txt). */
export function mainPackageRequirements(
  _root: string,
): Promise<{ requirements: string[]; label: string; source: string }> {
  return Promise.reject(new KitError("not implemented yet"));
}
