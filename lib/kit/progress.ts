// Download progress on stderr: on a terminal, one live bar per active download (redrawn in
// place); otherwise one line per finished file, so CI logs stay readable.
import { info, writeErr } from "./log.ts";

/** One download's progress. */
export interface ProgressBar {
  update(bytes: number): void;
  done(message: string): void;
  fail(): void;
}

/** Where downloads report progress. */
export interface ProgressSink {
  start(label: string, total?: number): ProgressBar;
  /** A one-line message for something that needed no transfer (a cache hit). */
  note(message: string): void;
}

/** The sink for this process: live bars when stderr is a terminal, plain lines otherwise. */
export function createProgress(
  tty = Deno.stderr.isTerminal(),
): ProgressSink {
  return tty ? new TerminalProgress() : new LineProgress();
}

class LineProgress implements ProgressSink {
  start(): ProgressBar {
    return {
      update() {},
      done(message) {
        info(`downloaded ${message}`);
      },
      fail() {},
    };
  }
  note(message: string): void {
    info(`restored ${message}`);
  }
}

interface Live {
  label: string;
  total?: number;
  bytes: number;
}

class TerminalProgress implements ProgressSink {
  #live: Live[] = [];
  #drawn = 0;
  #last = 0;

  start(label: string, total?: number): ProgressBar {
    const bar: Live = { label, bytes: 0, ...(total ? { total } : {}) };
    this.#live.push(bar);
    this.#draw(true);
    return {
      update: (bytes) => {
        bar.bytes = bytes;
        this.#draw(false);
      },
      done: (message) => this.#finish(bar, `downloaded ${message}`),
      fail: () => this.#finish(bar, undefined),
    };
  }

  note(message: string): void {
    this.#clear();
    info(`restored ${message}`);
    this.#draw(true);
  }

  #finish(bar: Live, message: string | undefined): void {
    this.#clear();
    this.#live = this.#live.filter((b) => b !== bar);
    if (message) info(message);
    this.#draw(true);
  }

  #clear(): void {
    if (this.#drawn) writeErr(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  #draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.#last < 80) return;
    this.#last = now;
    this.#clear();
    const width = Math.max(20, (safeColumns() ?? 80) - 1);
    let text = "";
    for (const b of this.#live) text += render(b, width) + "\n";
    writeErr(text);
    this.#drawn = this.#live.length;
  }
}

function render(b: Live, width: number): string {
  const amount = b.total
    ? `${formatBytes(b.bytes)}/${formatBytes(b.total)}`
    : formatBytes(b.bytes);
  const label = b.label.length > 40 ? b.label.slice(0, 39) + "…" : b.label;
  const room = width - label.length - amount.length - 4;
  if (!b.total || room < 10) return `${label} ${amount}`.slice(0, width);
  const filled = Math.round(Math.min(1, b.bytes / b.total) * room);
  return `${label} [${"#".repeat(filled)}${
    "-".repeat(room - filled)
  }] ${amount}`;
}

function safeColumns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

/** "1.2 MiB" style sizes for messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
