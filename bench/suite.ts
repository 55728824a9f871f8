// Benchmark: `deno task test` on a fresh clone (issue 23; target <= 2 min). Clones this checkout's
// HEAD into a temporary folder (with ../shared beside it when this checkout has one, as CI does;
// `--no-shared` leaves it out), runs README's test command there exactly as a newcomer would, and
// prints the wall time with the test runs' own summaries. Deno's cache (DENO_DIR) is the
// caller's: what is timed is the suite, not downloading the npm packages. No yardstick: the
// target is absolute.
//
//   deno task bench-suite                   # one run
//   deno task bench-suite --runs 3 --assert # fails when the median is over 2 min or a test fails
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { info, out } from "../lib/kit/log.ts";
import { parseSummaries } from "./_summary.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
const TARGET_S = 120;

async function run(cmd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args, cwd: ROOT, stdin: "null" })
    .output();
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  return new TextDecoder().decode(r.stdout).trim();
}

/** One fresh clone, `deno task test` in it: wall seconds and the test runs' summaries. */
async function once(shared: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "comfykit-bench-suite-" });
  try {
    await run("git", ["clone", "-q", ROOT, `${dir}/main`]);
    // `ln`: Deno.symlink wants unscoped read and write permissions.
    if (shared) await run("ln", ["-s", `${ROOT}/../shared`, `${dir}/shared`]);
    const t = performance.now();
    const r = await new Deno.Command("deno", {
      args: ["task", "test"],
      cwd: `${dir}/main`,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - t) / 1000;
    const text = new TextDecoder().decode(r.stdout) +
      new TextDecoder().decode(r.stderr);
    return {
      seconds,
      code: r.code,
      runs: parseSummaries(text),
      tail: text.trimEnd().split("\n").slice(-15).join("\n"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string" },
    assert: { type: "boolean" },
    "no-shared": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  out(
    "usage: deno task bench-suite [--runs N] [--assert] [--no-shared]\n" +
      "Times `deno task test` on a fresh clone of HEAD (target <= 2 min).",
  );
  Deno.exit(0);
}
const runs = Number(values.runs ?? "1");
const shared = !values["no-shared"] && (() => {
  try {
    return Deno.statSync(`${ROOT}/../shared`).isDirectory;
  } catch {
    return false;
  }
})();
const head = await run("git", ["rev-parse", "--short", "HEAD"]);
const dirty = await run("git", [
  "status",
  "--porcelain",
  "--untracked-files=no",
]);
out(
  `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, load ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  }`,
);
out(
  `deno task test on a fresh clone of ${head}${
    dirty ? " (uncommitted changes are not in it)" : ""
  }, ../shared ${shared ? "beside it" : "absent"}`,
);
const times: number[] = [];
let failed = false;
for (let i = 0; i < runs; i++) {
  const r = await once(shared);
  times.push(r.seconds);
  const parts = r.runs.map((s) =>
    `${s.passed} passed, ${s.failed} failed, ${s.ignored} ignored in ${s.duration}`
  );
  info(`run ${i + 1}/${runs}: ${r.seconds.toFixed(1)} s, exit ${r.code}`);
  out(`  ${r.seconds.toFixed(1)} s: ${parts.join("; ") || "no test summary"}`);
  if (r.code !== 0 || r.runs.length === 0) {
    failed = true;
    info(`the run's last lines:\n${r.tail}`);
  }
}
const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
out(
  `median ${median.toFixed(1)} s of ${runs} (target <= ${TARGET_S} s: ${
    median <= TARGET_S ? "met" : "missed"
  })${failed ? "; a run FAILED" : ""}`,
);
if (values.assert && (failed || median > TARGET_S)) Deno.exit(1);
