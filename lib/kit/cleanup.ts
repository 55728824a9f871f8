// The one cleanup-on-signal mechanism. Work that must not outlive an interrupt registers an
// action here: temp downloads, the manifest lock and spill directories register their removal
// (`removeOnInterrupt`), running child processes register their kill (lib/kit/command.ts).
// While any action is registered, SIGINT/SIGTERM/SIGHUP run them, newest first (a child is
// killed before the directory it works in is removed), and exit 130 (the signal's usual status),
// so no temp file, stale lock or orphan process survives Ctrl-C. Normal exits clean up in
// `finally` blocks and unregister.

const actions = new Set<() => void>();
const signals: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];
let listening = false;

function onSignal(): void {
  for (const action of [...actions].reverse()) {
    try {
      action();
    } catch {
      // best effort: the rest still runs
    }
  }
  actions.clear();
  Deno.exit(130);
}

/** Runs `action` if the process is interrupted; the returned function unregisters it. */
export function onInterrupt(action: () => void): () => void {
  // A wrapper, so registering the same function twice gives two independent registrations.
  const entry = () => action();
  actions.add(entry);
  if (!listening) {
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    listening = true;
  }
  return () => {
    actions.delete(entry);
    if (actions.size === 0 && listening) {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      listening = false;
    }
  };
}

/** Registers `path` for removal on interrupt; the returned function unregisters it. */
export function removeOnInterrupt(path: string): () => void {
  return onInterrupt(() => {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // already gone
    }
  });
}
