// Import names of a distribution: from the files it installs (a wheel's RECORD, an sdist's
// tree) or from setuptools' top_level.txt, for nixpkgs' pythonImportsCheck.
//
//   importNamesFromPaths(["spandrel/__init__.py", "tests/x.py"]) // ["spandrel"]
//
// Pure functions, no I/O.

const NOT_IMPORTS = new Set([
  "test",
  "tests",
  "testing",
  "doc",
  "docs",
  "example",
  "examples",
  "benchmark",
  "benchmarks",
  "scripts",
  "tools",
  "build",
  "dist",
  "setup",
  "conftest",
]);

function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !NOT_IMPORTS.has(s);
}

/**
 * Import names from a list of file paths relative to the install root (a wheel's RECORD, or an
 * sdist's package directory): top-level packages (a directory with `__init__.py`, or a
 * namespace directory's sub-packages as "ns.sub"); top-level modules only when there is no
 * package. Test, docs and example directories are not import names. Sorted.
 */
export function importNamesFromPaths(paths: readonly string[]): string[] {
  const files = new Set(paths);
  const packages = new Set<string>();
  const modules = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/");
    if (parts.length === 1) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\.py$/.exec(p);
      if (m && isIdentifier(m[1]!)) modules.add(m[1]!);
      continue;
    }
    const top = parts[0]!;
    if (!isIdentifier(top) || !/\.(py|so|pyd|pyi)$/.test(p)) continue;
    if (files.has(`${top}/__init__.py`)) packages.add(top);
    else if (
      parts.length >= 3 && isIdentifier(parts[1]!) &&
      files.has(`${top}/${parts[1]}/__init__.py`)
    ) packages.add(`${top}.${parts[1]}`);
  }
  const list = packages.size ? packages : modules;
  return [...list].sort();
}

/** Names from a top_level.txt (one per line), without test directories. Sorted. */
export function importNamesFromTopLevel(text: string): string[] {
  return [
    ...new Set(
      text.split(/\r?\n/).map((l) => l.trim().replace(/\//g, ".")).filter((l) =>
        l && l.split(".").every(isIdentifier)
      ),
    ),
  ].sort();
}

/**
 * Splits top_level.txt names into those the wheel really installs (a package directory with
 * Python files or extensions, or a module `name.py` / `name*.so` / `name*.pyd`) and those it
 * does not (real top_level.txt files name leftovers, and pythonImportsCheck would fail on them).
 */
export function checkImportNames(
  names: readonly string[],
  paths: readonly string[],
): { kept: string[]; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const name of names) {
    const base = name.replace(/\./g, "/");
    const leaf = base.split("/").at(-1)!;
    const dir = base.slice(0, base.length - leaf.length);
    const present = paths.some((p) =>
      (p.startsWith(`${base}/`) && /\.(py|so|pyd)$/.test(p)) ||
      p === `${base}.py` ||
      (p.startsWith(`${dir}${leaf}.`) && !p.slice(dir.length).includes("/") &&
        /\.(so|pyd)$/.test(p))
    );
    (present ? kept : dropped).push(name);
  }
  return { kept, dropped };
}
