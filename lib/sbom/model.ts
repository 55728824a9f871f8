// What the SBOM describes, before it becomes CycloneDX: the parts the repository ships and the
// edges between them. lib/sbom/collect.ts reads them from a repository, lib/sbom/document.ts
// writes them as CycloneDX 1.6.
import type { License } from "./licenses.ts";

/** A CycloneDX component type the SBOM uses. */
type PartType =
  | "application"
  | "library"
  | "framework"
  | "machine-learning-model"
  | "file";

/** One shipped thing. `ref` is its bom-ref: unique, stable across runs. */
export interface Part {
  ref: string;
  type: PartType;
  name: string;
  version?: string | undefined;
  description?: string | undefined;
  purl?: string | undefined;
  licenses: License[];
  /** SHA-256 of a file (hex), e.g. a vendored wheel or a model. */
  sha256?: string | undefined;
  /** Where it is downloaded from, and its source repository. */
  distribution?: string | undefined;
  vcs?: string | undefined;
  website?: string | undefined;
  /** Build-time only (build-system, nativeBuildInputs): not in the shipped closure. */
  buildOnly?: boolean;
  /** Extra facts: comfykit:nar-hash, nixpkgs:rev, comfykit:file … (sorted on output). */
  properties: Record<string, string>;
}

/** The whole bill: its root (ComfyUI), every part, and who depends on whom. */
export interface Bill {
  root: Part;
  parts: Part[];
  /** ref → refs it depends on. */
  edges: Map<string, Set<string>>;
  /** Things the reader could not use, one line each (printed as warnings). */
  notes: string[];
}

/** Adds an edge `from` → `to`. */
export function addEdge(bill: Bill, from: string, to: string): void {
  let s = bill.edges.get(from);
  if (!s) bill.edges.set(from, s = new Set());
  s.add(to);
}
