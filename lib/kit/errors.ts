/** A user-facing failure: printed as `error: <message>` without a stack, exiting with `exitCode`. */
export class KitError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "KitError";
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage (exit code 2). */
export class UsageError extends KitError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** The user cancelled an interactive prompt (exit code 130). */
export class CancelledError extends KitError {
  constructor(message = "Cancelled") {
    super(message, 130);
    this.name = "CancelledError";
  }
}
