// Paths to remove if the process is interrupted: temp downloads, the manifest lock and the
// private directory an archive too large for memory is unpacked into. While any
// path is registered, SIGINT/SIGTERM/SIGHUP remove them and exit 130 (the signal's usual status),
// so no temp file or stale lock survives Ctrl-C. Normal exits clean up in `finally` blocks.

const paths = new Set<string>();
const signals: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];
let listening = false;

function onSignal(): void {
  for (const p of paths) {
    try {
      Deno.removeSync(p, { recursive: true });
    } catch {
      // already gone
    }
  }
  paths.clear();
  Deno.exit(130);
}

/** Registers `path` for removal on interrupt; the returned function unregisters it. */
export function removeOnInterrupt(path: string): () => void {
  paths.add(path);
  if (!listening) {
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    listening = true;
  }
  return () => {
    paths.delete(path);
    if (paths.size === 0 && listening) {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      listening = false;
    }
  };
}
