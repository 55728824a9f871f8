// Directory NAR hashing, issue 23's row: `deno task checksum DIR` against `nix-hash --type sha256
// DIR` on a tree of 20,000 small files + 3 × 40 MiB (generated under bench/data/nar/), run
// interleaved in one process, medians and the ratio printed side by side, with each command's
// peak memory (GNU time's %M). For the record it also times the kit's own walk (the task without
// --allow-run) and the tar stream alone (`tar … | cat`, the floor of the tar route), and
// probes what Deno's permission check costs per file: an lstat + readFile loop under -A,
// --allow-read and --allow-read=DIR.
//
//   deno task bench-nar                 # ROUNDS=7; BENCH_ROUNDS=n, BENCH_QUICK=1 (small tree)
//
// Permissions: --allow-read, --allow-write=bench/data, --allow-run=deno,nix-hash,sh,time,
// --allow-env=BENCH_ROUNDS,BENCH_QUICK,PATH, --allow-sys=loadavg.
import { fileURLToPath } from "node:url";
import { out } from "../lib/kit/log.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const DATA = `${ROOT}/bench/data/nar${QUICK ? "-quick" : ""}`;
const TREE = `${DATA}/tree`;
const MIB = 1 << 20;
const SIZES = QUICK
  ? { dirs: 10, files: 20, large: MIB }
  : { dirs: 200, files: 100, large: 40 * MIB };
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? (QUICK ? 1 : 7));

/** deno.json's checksum command line, as `deno run` arguments (its real permissions). */
function checksumCommand(withTar: boolean): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const line: string = config.tasks.checksum.command;
  const flags = line.split(/\s+/).filter((w) =>
    w.startsWith("--allow-") && (withTar || !w.startsWith("--allow-run"))
  );
  return ["deno", "run", "-q", ...flags, `${ROOT}/tasks/checksum.ts`];
}

async function generate(): Promise<void> {
  const marker = `${DATA}/.complete`;
  if (await Deno.stat(marker).then(() => true, () => false)) return;
  out(`generating ${TREE} …`);
  await Deno.remove(TREE, { recursive: true }).catch(() => {});
  const buf = new Uint8Array(SIZES.large + 8192);
  let x = 0x9e3779b9;
  const words = new Uint32Array(buf.buffer);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let d = 0; d < SIZES.dirs; d++) {
    const dir = `${TREE}/pkg${d}/sub${d % 7}`;
    await Deno.mkdir(dir, { recursive: true });
    for (let f = 0; f < SIZES.files; f++) {
      const p = `${dir}/file${f}.py`;
      const start = rand() % 4096;
      await Deno.writeFile(p, buf.subarray(start, start + (rand() % 2048)));
      if (f % 10 === 0) await Deno.chmod(p, 0o755);
    }
  }
  await Deno.mkdir(`${TREE}/large`, { recursive: true });
  for (let i = 0; i < 3; i++) {
    await Deno.writeFile(
      `${TREE}/large/blob${i}.bin`,
      buf.subarray(i, i + SIZES.large),
    );
  }
  await Deno.writeTextFile(marker, "");
}

function have(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}
/** GNU time reports peak memory; without it (apt-get install time) the column is empty. */
const GNU_TIME = have("time");

/** Runs argv under GNU time: wall ms, peak RSS KiB (NaN without it), first stdout word. */
async function measure(
  argv: string[],
): Promise<{ ms: number; kib: number; first: string }> {
  const t0 = performance.now();
  const r = await new Deno.Command(GNU_TIME ? "time" : argv[0]!, {
    args: GNU_TIME ? ["-f", "%M", ...argv] : argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", LC_ALL: "C" },
  }).output();
  const ms = performance.now() - t0;
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (!r.success) throw new Error(`${argv.join(" ")} failed: ${err.join(" ")}`);
  const first = new TextDecoder().decode(r.stdout).trim().split(/\s+/)[0] ?? "";
  return { ms, kib: GNU_TIME ? Number(err.at(-1)) : NaN, first };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (!have("nix-hash")) {
  out("nix-hash not found: nothing to compare with (apt-get install nix-bin)");
  Deno.exit(0);
}
await generate();
out(
  `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, load ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  }`,
);
const tarArgs =
  "--sort=name --format=gnu --hard-dereference --blocking-factor=128";
const commands: Record<string, string[]> = {
  "deno task checksum DIR": [...checksumCommand(true), "--format", "hex", TREE],
  "nix-hash --type sha256 DIR": ["nix-hash", "--type", "sha256", TREE],
  "  the kit's walk (no tar)": [
    ...checksumCommand(false),
    "--format",
    "hex",
    TREE,
  ],
  "  tar stream | cat (floor)": [
    "sh",
    "-c",
    `tar ${tarArgs} -C "$1" -cf - . | cat > /dev/null`,
    "sh",
    TREE,
  ],
};
const times: Record<string, number[]> = {};
const peaks: Record<string, number[]> = {};
const firsts: Record<string, string> = {};
for (const argv of Object.values(commands)) await measure(argv); // page cache
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, argv] of Object.entries(commands)) {
    const r = await measure(argv);
    (times[name] ??= []).push(r.ms);
    (peaks[name] ??= []).push(r.kib);
    firsts[name] = r.first;
  }
}
out(
  `\nNAR hash of ${SIZES.dirs * SIZES.files} small files + 3 × ${
    SIZES.large / MIB
  } MiB (median of ${ROUNDS} interleaved runs)`,
);
for (const name of Object.keys(commands)) {
  out(
    `  ${name.padEnd(30)} ${median(times[name]!).toFixed(0).padStart(6)} ms  ${
      (Math.max(...peaks[name]!) / 1024).toFixed(0).padStart(4)
    } MiB peak   ${firsts[name]!.slice(0, 16)}`,
  );
}
const kit = firsts["deno task checksum DIR"];
if (kit !== firsts["nix-hash --type sha256 DIR"]) {
  throw new Error("the kit's hash differs from nix-hash's");
}
const ratio = median(times["deno task checksum DIR"]!) /
  median(times["nix-hash --type sha256 DIR"]!);
const peak = Math.max(...peaks["deno task checksum DIR"]!) / 1024;
out(
  `\n  checksum / nix-hash  ${ratio.toFixed(2)}x  (target ≤ 1.0x: ${
    ratio <= 1 ? "met" : "MISSED"
  }); peak ${peak.toFixed(0)} MiB (target < 100 MB: ${
    peak * MIB < 100e6 ? "met" : "MISSED"
  })`,
);

// What Deno's permission check costs per file: the same lstat + readFile loop, three ways.
const probe = `${ROOT}/bench/_permission_probe.ts`;
out("\nPermission check, lstat + readFile per small file (median of runs):");
for (
  const [label, flags] of [
    ["-A", ["-A"]],
    ["--allow-read", ["--allow-read"]],
    ["--allow-read=DIR", [`--allow-read=${TREE},${ROOT}`]],
  ] as const
) {
  const us: number[] = [];
  for (let i = 0; i < Math.max(3, ROUNDS); i++) {
    const r = await new Deno.Command("deno", {
      args: ["run", "-q", ...flags, probe, TREE],
      stdout: "piped",
    }).output();
    us.push(Number(new TextDecoder().decode(r.stdout).trim()));
  }
  out(`  ${label.padEnd(18)} ${median(us).toFixed(1).padStart(6)} µs/file`);
}
