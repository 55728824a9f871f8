// Benchmark: `deno task outdated` with no network (issue 23): every upstream endpoint points at a
// name that never resolves (RFC 2606 `.invalid`), the download cache is empty, and the task runs
// exactly as users run it (`deno task outdated`, deno.json's permissions). Prints the median wall
// time against the target (<= 2 s for the whole set) and checks every upstream row still says
// "unreachable" with the reason.
//
//   deno task bench-outdated              # 5 runs
//   deno task bench-outdated --runs 3 --assert
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { info, out } from "../lib/kit/log.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
const TARGET_S = 2;

interface Run {
  seconds: number;
  rows: number;
  unreachable: number;
  reason: string;
}

async function once(cache: string): Promise<Run> {
  const t = performance.now();
  const r = await new Deno.Command("deno", {
    args: ["task", "-q", "outdated", "--json"],
    cwd: ROOT,
    env: {
      COMFYKIT_PYPI_URL: "https://pypi.invalid",
      COMFYKIT_GITHUB_URL: "https://github.invalid",
      COMFYKIT_GITHUB_API_URL: "https://api.github.invalid",
      COMFYKIT_MIRRORS: "",
      COMFYKIT_CACHE_DIR: cache,
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t) / 1000;
  const stdout = new TextDecoder().decode(r.stdout);
  if (r.code !== 0) {
    throw new Error(
      `outdated exited ${r.code}: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  const report = JSON.parse(stdout) as {
    rows: { kind: string; status: string; details: string[] }[];
  };
  const upstream = report.rows.filter((x) => x.kind !== "nixpkgs");
  const down = upstream.filter((x) => x.status === "unreachable");
  return {
    seconds,
    rows: upstream.length,
    unreachable: down.length,
    reason: down[0]?.details[0] ?? "",
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" }, assert: { type: "boolean" } },
});
const runs = Number(values.runs ?? "5");
const cache = await Deno.makeTempDir({ prefix: "comfykit-bench-outdated-" });
try {
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once(cache);
    info(`run ${i + 1}/${runs}: ${r.seconds.toFixed(2)} s`);
    results.push(r);
  }
  const last = results.at(-1)!;
  const m = median(results.map((r) => r.seconds));
  const worst = Math.max(...results.map((r) => r.seconds));
  const verdict = m <= TARGET_S ? "met" : "missed";
  out(
    `outdated, no network: ${m.toFixed(2)} s median of ${runs}, worst ${
      worst.toFixed(2)
    } s (target <= ${TARGET_S} s: ${verdict}); ${last.unreachable}/${last.rows} upstream rows unreachable`,
  );
  out(`  reason shown: ${last.reason}`);
  const allDown = results.every((r) => r.unreachable === r.rows && r.rows > 0);
  if (!allDown) out("  NOT every upstream row says unreachable");
  if (values.assert && (!allDown || m > TARGET_S)) Deno.exit(1);
} finally {
  await Deno.remove(cache, { recursive: true }).catch(() => {});
}
