// Python package names: PEP 503 normalisation and validity.

/** PEP 503 normalised name: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

const VALID = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;

/** True for a valid PyPI project name (PEP 508 `identifier`). */
export function isValidProjectName(name: string): boolean {
  return name.length <= 200 && VALID.test(name);
}
