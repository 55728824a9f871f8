// Progress of a resolver run on stderr: on a terminal one line redrawn in place with the
// elapsed time and what the resolver is doing; otherwise the resolver's progress lines as they
// come, so CI logs stay readable.
import { info, useColor, writeErr } from "../kit/log.ts";

/** A one-line progress display on a terminal; plain lines otherwise. */
export function progressLine(): { line(l: string): void; clear(): void } {
  const tty = Deno.stderr.isTerminal();
  let shown = false;
  const start = performance.now();
  return {
    line(l: string) {
      const text = l.trim();
      if (
        !/^(Collecting|Processing|Downloading|Using cached|Resolved|Prepared|Obtaining|Looking in)/
          .test(text)
      ) {
        return;
      }
      if (tty) {
        const secs = ((performance.now() - start) / 1000).toFixed(0);
        const cols = Deno.consoleSize?.().columns ?? 80;
        const msg = `resolving (${secs}s) ${text}`.slice(0, cols - 1);
        writeErr(`\r\x1b[K${useColor() ? `\x1b[2m${msg}\x1b[0m` : msg}`);
        shown = true;
      } else {
        info(`  ${text}`);
      }
    },
    clear() {
      if (tty && shown) writeErr("\r\x1b[K");
      shown = false;
    },
  };
}
