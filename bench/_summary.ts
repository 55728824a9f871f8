// The closing line of each `deno test` run in a test log ("ok | 576 passed (48 steps) | 0 failed |
// 3 ignored (1m24s)"), colours stripped: what bench-suite prints per run.

/** One `deno test` run's counts and Deno's own duration text. */
export interface Summary {
  passed: number;
  failed: number;
  ignored: number;
  duration: string;
}

/** Every `deno test` summary line in `log`, in order. */
export function parseSummaries(log: string): Summary[] {
  // deno-lint-ignore no-control-regex
  const plain = log.replace(/\x1b\[[0-9;]*m/g, "");
  const out: Summary[] = [];
  for (const line of plain.split("\n")) {
    const m = /^(?:ok|FAILED) \| (\d+) passed[^|]*\| (\d+) failed(.*)$/.exec(
      line.trim(),
    );
    if (!m) continue;
    const ignored = /\| (\d+) ignored/.exec(m[3]!);
    out.push({
      passed: Number(m[1]),
      failed: Number(m[2]),
      ignored: ignored ? Number(ignored[1]) : 0,
      duration: /\(([^()]+)\)\s*$/.exec(m[3]!)?.[1] ?? "?",
    });
  }
  return out;
}
