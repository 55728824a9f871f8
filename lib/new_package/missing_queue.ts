// The queue of dependencies nixpkgs lacks that new-package packages one after another
// (--missing create), and the dependency cycles it cannot express as package-file arguments.
//
//   const cycle = findCycle(["a", "b"], "a"); // ["a", "b", "a"]
//   warn(cycleAdvice(cycle!, "a", "b"));
import { parseRequirement } from "../python/pep508.ts";

/** A package waiting to be packaged; `chain` is who needs it (normalised names, root first). */
export interface QueueItem {
  name: string;
  version?: string;
  chain: string[];
}

/** The queue entries for missing requirements of the package at the end of `chain`. */
export function queueItems(
  missing: readonly { name: string; requirement: string }[],
  chain: string[],
): QueueItem[] {
  return missing.map((d) => {
    // An exact pin (==X) is packaged at that version; anything looser takes the latest.
    const pin = /^==([^,*]+)$/.exec(parseRequirement(d.requirement).specifier)
      ?.[1];
    return { name: d.name, ...(pin ? { version: pin } : {}), chain };
  });
}

/** NAME==VERSION or NAME: the target new-package walks for an item. */
export function queueTarget(item: QueueItem): string {
  return item.version ? `${item.name}==${item.version}` : item.name;
}

/**
 * The cycle a dependency on `name` (normalised) closes in `chain`, from its first occurrence
 * back to `name` ("a -> b -> a"), or undefined when it closes none.
 */
export function findCycle(
  chain: readonly string[],
  name: string,
): string[] | undefined {
  const at = chain.indexOf(name);
  return at < 0 ? undefined : [...chain.slice(at), name];
}

/** Why a cycle's last edge is left out of `dependent`, and how to keep both packages. */
export function cycleAdvice(
  cycle: readonly string[],
  attr: string,
  dependent: string,
): string {
  return `dependency cycle: ${cycle.join(" -> ")}. Package files cannot take ` +
    `each other as arguments, so "${attr}" is left out of ${dependent}'s dependencies. To keep both, ` +
    `define them together in one python3.pkgs scope with pythonPackagesExtensions ` +
    `(an overlay: python3.pkgs.${attr} = self.callPackage ./${attr}.nix { }) and drop the arguments`;
}
