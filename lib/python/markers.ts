// PEP 508 markers at work: the marker environment of CPython on each Nix system, evaluation
// (as packaging.markers does), the variables and extras a marker names, and the translation of
// platform markers into the Nix systems a `lib.optionals` block lists. The grammar (parsing,
// printing) is lib/python/pep508.ts. Pure functions, no I/O.
import { satisfies, valid } from "@renovatebot/pep440";
import { KitError } from "../kit/errors.ts";
import type {
  MarkerEnvironment,
  MarkerNode,
  MarkerOp,
  MarkerValue,
  Requirement,
} from "./pep508.ts";
import { validSpecVersion } from "./pep508.ts";

/** The Nix systems new-package writes conditionals for. */
export const NIX_SYSTEMS = [
  "aarch64-darwin",
  "aarch64-linux",
  "x86_64-darwin",
  "x86_64-linux",
] as const;
export type NixSystem = typeof NIX_SYSTEMS[number];

// What CPython reports on each Nix system (platform.machine() is "arm64" on Apple silicon).
const SYSTEM_ENV: Record<
  NixSystem,
  Pick<
    MarkerEnvironment,
    "os_name" | "sys_platform" | "platform_system" | "platform_machine"
  >
> = {
  "x86_64-linux": {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_machine: "x86_64",
  },
  "aarch64-linux": {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_machine: "aarch64",
  },
  "x86_64-darwin": {
    os_name: "posix",
    sys_platform: "darwin",
    platform_system: "Darwin",
    platform_machine: "x86_64",
  },
  "aarch64-darwin": {
    os_name: "posix",
    sys_platform: "darwin",
    platform_system: "Darwin",
    platform_machine: "arm64",
  },
};

/**
 * The marker environment of CPython `pythonVersion` ("3.12" or "3.12.4") on a Nix system
 * (default x86_64-linux). A two-part version gets full version "X.Y.0".
 */
export function markerEnvironment(
  pythonVersion: string,
  system: NixSystem = "x86_64-linux",
  extra = "",
): MarkerEnvironment {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(pythonVersion.trim());
  if (!m) {
    throw new KitError(
      `Invalid Python version "${pythonVersion}": expected X.Y or X.Y.Z, e.g. --python 3.12`,
      2,
    );
  }
  const full = `${m[1]}.${m[2]}.${m[3] ?? "0"}`;
  return {
    python_version: `${m[1]}.${m[2]}`,
    python_full_version: full,
    implementation_name: "cpython",
    implementation_version: full,
    platform_python_implementation: "CPython",
    platform_release: "",
    platform_version: "",
    ...SYSTEM_ENV[system],
    extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

/** Evaluates a marker in an environment, as `packaging.markers.Marker.evaluate` does. */
export function evaluateMarker(
  node: MarkerNode,
  env: MarkerEnvironment,
): boolean {
  switch (node.kind) {
    case "and":
      return evaluateMarker(node.left, env) && evaluateMarker(node.right, env);
    case "or":
      return evaluateMarker(node.left, env) || evaluateMarker(node.right, env);
    case "compare": {
      const isExtra = (v: MarkerValue) =>
        v.kind === "variable" && v.name === "extra";
      const extra = isExtra(node.left) || isExtra(node.right);
      const value = (v: MarkerValue) => {
        const s = v.kind === "variable" ? env[v.name] : v.value;
        // Extras compare by their normalised names (PEP 685).
        return extra ? normalizeExtra(s) : s;
      };
      return compare(value(node.left), node.op, value(node.right));
    }
  }
}

function normalizeExtra(s: string): string {
  return s.toLowerCase().replace(/[-_.]+/g, "-");
}

function compare(lhs: string, op: MarkerOp, rhs: string): boolean {
  switch (op) {
    case "in":
      return rhs.includes(lhs);
    case "not in":
      return !rhs.includes(lhs);
    case "===":
      return lhs === rhs;
  }
  // PEP 440 when both sides are versions (the right side being a valid specifier), else strings.
  if (valid(lhs) !== null && validSpecVersion(op, rhs)) {
    return satisfies(lhs, `${op}${rhs}`, { prereleases: true });
  }
  switch (op) {
    case "==":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
    case "<":
      return lhs < rhs;
    case "<=":
      return lhs <= rhs;
    case ">":
      return lhs > rhs;
    case ">=":
      return lhs >= rhs;
    default:
      // "~=" on something that is not a version: packaging raises; nothing can match.
      return false;
  }
}

/** The extras a marker tests (`extra == "x"`), normalised, sorted, unique. */
export function markerExtras(node: MarkerNode): string[] {
  const found = new Set<string>();
  const walk = (n: MarkerNode) => {
    if (n.kind !== "compare") {
      walk(n.left);
      walk(n.right);
      return;
    }
    const [a, b] = [n.left, n.right];
    if (a.kind === "variable" && a.name === "extra" && b.kind === "string") {
      found.add(normalizeExtra(b.value));
    }
    if (b.kind === "variable" && b.name === "extra" && a.kind === "string") {
      found.add(normalizeExtra(a.value));
    }
  };
  walk(node);
  return [...found].sort();
}

/**
 * The Nix systems on which a marker holds for CPython `python` with `extras` selected: the
 * marker is evaluated once per system of NIX_SYSTEMS. All four → the requirement is
 * unconditional; none → it does not apply (e.g. Windows only); otherwise the list goes into
 * `lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ … ]) [ … ]`. Sorted.
 */
export function platformCondition(
  marker: MarkerNode | undefined,
  opts: { python: string; extras?: readonly string[] },
): NixSystem[] {
  if (!marker) return [...NIX_SYSTEMS];
  const extras = opts.extras?.length ? opts.extras : [""];
  return NIX_SYSTEMS.filter((system) =>
    extras.some((extra) =>
      evaluateMarker(marker, markerEnvironment(opts.python, system, extra))
    )
  );
}

/** How a requirement applies to the target: not at all, everywhere, or on some systems. */
type Applicability =
  | { kind: "never" }
  | { kind: "always" }
  | { kind: "systems"; systems: NixSystem[] };

/**
 * Whether `req` is needed for CPython `python` with `extras` chosen, and where. A requirement
 * guarded by `extra == "x"` applies only when "x" is among `extras`.
 */
export function applicability(
  req: Requirement,
  opts: { python: string; extras?: readonly string[] },
): Applicability {
  const systems = platformCondition(req.marker, opts);
  if (systems.length === 0) return { kind: "never" };
  if (systems.length === NIX_SYSTEMS.length) return { kind: "always" };
  return { kind: "systems", systems };
}
