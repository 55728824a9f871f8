// Start-up, issue 23's row: `deno task NAME --help` for every task in deno.json, and a usage
// error (`--no-such-option`), each run ROUNDS times interleaved with Deno's own floor: `deno task`
// running `deno eval ""` (bench/_floor.json), what any task costs before its first line. Medians
// are printed beside the 150 ms target and as the time over that floor, which is what the kit
// controls (the floor itself moves with the machine's load).
//
//   deno task bench-startup          # ROUNDS=9; BENCH_ROUNDS=n
//   BENCH_COMPARE=/path/to/other/checkout deno task bench-startup   # also time its --help
//   BENCH_TASKS=checksum,sbom deno task bench-startup                 # only these tasks
//
// Permissions: --allow-read (deno.json), --allow-run=deno, --allow-env=BENCH_ROUNDS,
// BENCH_COMPARE,BENCH_TASKS, --allow-sys=loadavg.
import { fileURLToPath } from "node:url";
import { out } from "../lib/kit/log.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 9);
const TARGET_MS = 150;

const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
/** BENCH_TASKS=a,b: only these tasks (tests/suite/bench_test.ts runs a short one). */
const only = Deno.env.get("BENCH_TASKS")?.split(",");
const tasks = Object.keys(config.tasks as Record<string, unknown>).filter((t) =>
  t !== "test" && t !== "update-golden" && !t.startsWith("bench") &&
  (!only || only.includes(t))
);

/** Another checkout whose tasks' --help is timed in the same rounds (e.g. before a change). */
const COMPARE = Deno.env.get("BENCH_COMPARE");

async function time(
  args: string[],
  cwd = ROOT,
): Promise<{ ms: number; code: number }> {
  const t0 = performance.now();
  const r = await new Deno.Command("deno", {
    args,
    cwd,
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { ms: performance.now() - t0, code: r.code };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

out(
  `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, load ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  }`,
);
const compareTasks = new Set(
  COMPARE
    ? Object.keys(
      JSON.parse(Deno.readTextFileSync(`${COMPARE}/deno.json`)).tasks,
    )
    : [],
);
const FLOOR = "floor: deno task running deno eval ''";
const runs: Record<string, [string[], string?]> = {
  [FLOOR]: [["task", "-q", "--config", `${ROOT}/bench/_floor.json`, "noop"]],
};
for (const t of tasks) {
  runs[`${t} --help`] = [["task", "-q", t, "--help"]];
  if (COMPARE && compareTasks.has(t)) {
    runs[`${t} --help (compared)`] = [["task", "-q", t, "--help"], COMPARE];
  }
  runs[`${t} --no-such-option`] = [["task", "-q", t, "--no-such-option"]];
}
const times: Record<string, number[]> = {};
for (const [args, cwd] of Object.values(runs)) await time(args, cwd); // caches warm
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, [args, cwd]] of Object.entries(runs)) {
    const r = await time(args, cwd);
    const expected = name.endsWith("option") ? 2 : 0;
    if (r.code !== expected) {
      throw new Error(
        `deno ${args.join(" ")} exited ${r.code}, not ${expected}`,
      );
    }
    (times[name] ??= []).push(r.ms);
  }
}
out(
  `\nStart-up (median of ${ROUNDS} interleaved runs; target ≤ ${TARGET_MS} ms)`,
);
let missed = 0;
const floor = median(times[FLOOR]!);
for (const [name, ts] of Object.entries(times)) {
  const m = median(ts);
  const isTask = name !== FLOOR;
  if (isTask && !name.endsWith("(compared)") && m > TARGET_MS) missed++;
  out(
    `  ${name.padEnd(42)} ${m.toFixed(0).padStart(5)} ms${
      isTask
        ? `  (+${(m - floor).toFixed(0).padStart(3)} ms over the floor)${
          m <= TARGET_MS ? "" : "  over"
        }`
        : ""
    }`,
  );
}
out(`\n  ${missed === 0 ? "all met" : `${missed} over the target`}`);
