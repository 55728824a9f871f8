// PyPI project names → nixpkgs `python3Packages` attribute names, and the shape of a nixpkgs
// lookup (lib/nix/nixpkgs.ts opens one: Nix, flox or an offline index).
//
//   pypiToNixAttr(name) → attr            nixAttrCandidates(name) → attrs to try, best first
import { normalizeName } from "../python/names.ts";

/**
 * PyPI names whose nixpkgs `python3Packages` attribute is not their PEP 503 normalised name.
 * Keys are normalised. Since 2023 nixpkgs names Python attributes by the normalised PyPI name
 * (`huggingface-hub`, `typing-extensions`, `pillow`, `pyyaml`), so the exceptions are the
 * packages nixpkgs builds under another name: OpenCV's four wheels are all the one `opencv4`
 * binding (built from the C++ library with enablePython), and so on.
 */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  "opencv-python": "opencv4",
  "opencv-python-headless": "opencv4",
  "opencv-contrib-python": "opencv4",
  "opencv-contrib-python-headless": "opencv4",
  "pytorch": "torch",
  "torch-cpu": "torch",
  "tensorflow-cpu": "tensorflow",
  "tensorflow-gpu": "tensorflow",
  "onnxruntime-gpu": "onnxruntime",
  "faiss-cpu": "faiss",
  "faiss-gpu": "faiss",
  "psycopg2-binary": "psycopg2",
  "pygobject": "pygobject3",
  "msgpack-python": "msgpack",
  "discord-py": "discordpy",
  "bs4": "beautifulsoup4",
  "sklearn": "scikit-learn",
  "cupy-cuda11x": "cupy",
  "cupy-cuda12x": "cupy",
  "jax-cuda12-plugin": "jax-cuda12-plugin",
  "ruamel-yaml-clib": "ruamel-yaml-clib",
};

/**
 * Meta-packages recent nixpkgs has under the PyPI name itself (`mkPythonMetaPackage` over
 * `opencv4`). They are preferred when present: they carry the dist-info that nixpkgs' runtime
 * dependency check of a wheel looks for, which the bare `opencv4` binding does not.
 */
const META_PACKAGES: ReadonlySet<string> = new Set([
  "opencv-python",
  "opencv-python-headless",
]);

/** The nixpkgs `python3Packages` attribute for a PyPI project name. */
export function pypiToNixAttr(name: string): string {
  const n = normalizeName(name.trim());
  return Object.hasOwn(EXCEPTIONS, n) ? EXCEPTIONS[n]! : n;
}

/** Attributes to try for a PyPI name, best first (no duplicates). */
export function nixAttrCandidates(name: string): string[] {
  const n = normalizeName(name.trim());
  const meta = META_PACKAGES.has(n) ? [n] : [];
  return [...new Set([...meta, pypiToNixAttr(n), n])];
}

/** A package found in nixpkgs. */
export interface NixpkgsPackage {
  /** The `python3Packages` attribute. */
  attr: string;
  version: string;
}

/** A way to ask nixpkgs about Python packages. */
export interface NixpkgsLookup {
  /** "nix", "flox" or "index". */
  source: "nix" | "flox" | "index";
  /** Human-readable origin, e.g. `offline index nixpkgs-index.json (nixpkgs 1a2b3c4, 2025-11-20)`. */
  describe: string;
  /** The package for a PyPI name, or undefined when nixpkgs does not have it. */
  lookup(pypiName: string): Promise<NixpkgsPackage | undefined>;
  /** Several at once (one Nix evaluation); keys are the names as given. */
  lookupMany(
    pypiNames: readonly string[],
  ): Promise<Map<string, NixpkgsPackage | undefined>>;
  /** The version of an exact attribute, or undefined. */
  lookupAttr(attr: string): Promise<NixpkgsPackage | undefined>;
  /** The version of nixpkgs' `python3` (the interpreter packages build for), when known. */
  pythonVersion?(): Promise<string | undefined>;
}
