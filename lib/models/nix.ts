// models nix: the lock's models as a Nix file of `fetchurl { url; hash; }` entries, keyed by their
// place under ComfyUI's models/ folder, for people who want models in the Nix store. Pure.
import { Buffer } from "node:buffer";
import { modelPath, type WorkflowLock } from "../comfy/lock_file.ts";

/** A string as a Nix string literal (`${` and `\` escaped). */
export function nixString(s: string): string {
  return `"${
    s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\$\{/g, "\\${")
      .replace(/\n/g, "\\n")
  }"`;
}

/** A valid store-path name for a file name (Nix allows `[A-Za-z0-9+._?=-]`, not a leading dot). */
export function storeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  const clean = base.replace(/[^A-Za-z0-9+._?=-]/g, "_").replace(/^\.+/, "");
  return clean === "" ? "model" : clean.slice(0, 200);
}

/** The SRI form of a hex sha256. */
export function sriOf(hex: string): string {
  return `sha256-${Buffer.from(hex, "hex").toString("base64")}`;
}

/** The Nix file: `{ fetchurl }: { "<dir>/<name>" = fetchurl { name; url; hash; }; … }`. */
export function renderNix(lock: WorkflowLock, lockName: string): string {
  const lines = [
    `# The models of ${lock.workflow}, from ${lockName} (deno task models nix).`,
    '# Each is fixed by its hash; a URL marked "not immutable" may stop serving these bytes.',
    "{ fetchurl }:",
    "{",
  ];
  for (
    const m of [...lock.models].sort((a, b) =>
      modelPath(a) < modelPath(b) ? -1 : 1
    )
  ) {
    if (!m.immutable) {
      lines.push("  # not immutable: not a Hugging Face commit URL");
    }
    lines.push(
      `  ${nixString(modelPath(m))} = fetchurl {`,
      `    name = ${nixString(storeName(m.name))};`,
      `    url = ${nixString(m.url)};`,
      `    hash = ${nixString(sriOf(m.sha256))};`,
      "  };",
    );
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
