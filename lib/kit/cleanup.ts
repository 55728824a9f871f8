// The one interrupt registry. Work that must not outlive an interrupt registers an action here:
// temp downloads, the manifest lock and spill directories register their removal
// (`removeOnInterrupt`), running child processes their kill (lib/kit/command.ts), and a
// Changeset that is applying registers its rollback (lib/kit/changeset.ts).
// While any action is registered, SIGINT/SIGTERM/SIGHUP run them newest first, each awaited
// before the next (the rollback of the files a flow wrote finishes before the lock it holds is
// removed; a child is killed before the directory it works in is removed), then exit 130 (the
// signal's usual status), so no half-applied change, temp file, stale lock or orphan process
// survives Ctrl-C. A second signal while they run is ignored: the cleanup is what stops the run.
// Normal exits clean up in `finally` blocks and unregister.

/** An interrupt action: may return a promise, which is awaited before older actions run. */
type InterruptAction = () => void | Promise<unknown>;

const actions = new Set<InterruptAction>();
const signals: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];
let listening = false;
let stopping = false;

async function onSignal(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const action of [...actions].reverse()) {
    try {
      await action();
    } catch {
      // best effort: the rest still runs
    }
  }
  actions.clear();
  Deno.exit(130);
}

/** Runs `action` if the process is interrupted; the returned function unregisters it. */
export function onInterrupt(action: InterruptAction): () => void {
  // A wrapper, so registering the same function twice gives two independent registrations.
  const entry = () => action();
  actions.add(entry);
  if (!listening) {
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    listening = true;
  }
  return () => {
    actions.delete(entry);
    // While the actions run, the listener stays: a second Ctrl-C must not kill the cleanup.
    if (actions.size === 0 && listening && !stopping) {
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
