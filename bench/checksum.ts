// Benchmark of the checksum task against the standard tools, on data it generates under
// bench/data/ (git-ignored): flat hashing of a 1 GiB file (checksum vs sha256sum vs openssl),
// NAR hashing of a tree of ~20,000 small files and a few large ones (checksum vs nix-hash), and
// `deno task checksum --help` start-up. Each command runs ROUNDS times, interleaved so that load
// from other processes hits all of them alike; the median wall time is reported, with ratios
// from the same run.
//
//   deno task bench            # ROUNDS=7 by default; BENCH_ROUNDS=n to change
//   BENCH_QUICK=1 deno task bench   # a short run on small data (tests/suite/bench_test.ts)
//
// Permissions: --allow-read, --allow-write=bench/data, --allow-run=deno,sha256sum,openssl,
// nix-hash, --allow-env=BENCH_ROUNDS,BENCH_QUICK,PATH, --allow-sys=loadavg.
import { fileURLToPath } from "node:url";
import { out } from "../lib/kit/log.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
/** BENCH_QUICK=1: a short run on small data (bench/data/quick/), to check the bench starts. */
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const DATA = `${ROOT}/bench/data${QUICK ? "/quick" : ""}`;
const MIB = 1 << 20;
const SIZES = QUICK
  ? { big: 16 * MIB, dirs: 10, files: 10, large: MIB }
  : { big: 1024 * MIB, dirs: 200, files: 100, large: 32 * MIB };
const BIG = `${DATA}/big-${SIZES.big / MIB}MiB.bin`;
const TREE = `${DATA}/tree`;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? (QUICK ? 1 : 7));

/**
 * How `deno task checksum` runs: `deno` by name (as --allow-run=deno allows it, whatever the
 * install) with the permissions deno.json gives the task, so the bench measures the real thing.
 */
function checksumCommand(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const line: string = config.tasks.checksum.command;
  const flags = line.split(/\s+/).filter((w) => w.startsWith("--allow-"));
  return ["deno", "run", ...flags, `${ROOT}/tasks/checksum.ts`];
}
const CHECKSUM = checksumCommand();

/** Deterministic pseudo-random bytes (xorshift), fast enough for a GiB. */
function fill(buf: Uint8Array, seed: number): void {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
}

async function generate(): Promise<void> {
  await Deno.mkdir(DATA, { recursive: true });
  const size = await Deno.stat(BIG).then((s) => s.size, () => 0);
  if (size !== SIZES.big) {
    out(`generating ${BIG} …`);
    using f = await Deno.open(BIG, {
      write: true,
      create: true,
      truncate: true,
    });
    const chunk = new Uint8Array(8 << 20);
    for (let i = 0; i < SIZES.big / chunk.length; i++) {
      fill(chunk, i + 1);
      let done = 0;
      while (done < chunk.length) done += await f.write(chunk.subarray(done));
    }
  }
  const marker = `${DATA}/.tree-complete`;
  if (await Deno.stat(marker).then(() => false, () => true)) {
    out(`generating ${TREE} …`);
    await Deno.remove(TREE, { recursive: true }).catch(() => {});
    const buf = new Uint8Array(64 << 20);
    fill(buf, 99);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let d = 0; d < SIZES.dirs; d++) {
      const dir = `${TREE}/pkg${d}/sub${d % 7}`;
      await Deno.mkdir(dir, { recursive: true });
      for (let f = 0; f < SIZES.files; f++) {
        const p = `${dir}/file${f}.py`;
        const start = rand() % 1000;
        await Deno.writeFile(p, buf.subarray(start, start + (rand() % 4096)));
        if (f % 10 === 0) await Deno.chmod(p, 0o755);
      }
    }
    await Deno.mkdir(`${TREE}/large`, { recursive: true });
    for (let i = 0; i < 3; i++) {
      await Deno.writeFile(
        `${TREE}/large/blob${i}.bin`,
        buf.subarray(i, i + SIZES.large + i),
      );
    }
    await Deno.writeTextFile(marker, "");
  }
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

/** Runs a command once; returns wall milliseconds and its first stdout word. */
async function time(argv: string[]): Promise<{ ms: number; first: string }> {
  const t0 = performance.now();
  const r = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const ms = performance.now() - t0;
  if (!r.success) {
    throw new Error(
      `${argv.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  const text = new TextDecoder().decode(r.stdout).trim();
  return { ms, first: text.split(/\s+/)[0] ?? "" };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function compare(
  title: string,
  commands: Record<string, string[]>,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  const outputs: Record<string, string> = {};
  for (const name of Object.keys(commands)) times[name] = [];
  // One warm-up round (page cache), then interleaved measured rounds.
  for (const argv of Object.values(commands)) await time(argv);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, argv] of Object.entries(commands)) {
      const r = await time(argv);
      times[name]!.push(r.ms);
      outputs[name] = r.first;
    }
  }
  out(`\n${title} (median of ${ROUNDS} interleaved runs)`);
  const medians: Record<string, number> = {};
  for (const [name, ts] of Object.entries(times)) {
    medians[name] = median(ts);
    out(
      `  ${name.padEnd(28)} ${
        medians[name]!.toFixed(0).padStart(6)
      } ms   (min ${Math.min(...ts).toFixed(0)}, max ${
        Math.max(...ts).toFixed(0)
      })   ${outputs[name]!.slice(0, 20)}…`,
    );
  }
  return medians;
}

function ratio(label: string, a: number, b: number, target: number): void {
  const r = a / b;
  out(
    `  ${label.padEnd(40)} ${r.toFixed(2)}x  (target ≤ ${target}x: ${
      r <= target ? "met" : "MISSED"
    })`,
  );
}

await generate();
out(
  `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, load ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  }`,
);

const flatCmds: Record<string, string[]> = {
  "checksum --format hex": [...CHECKSUM, "--format", "hex", BIG],
  "sha256sum": ["sha256sum", BIG],
};
if (have("openssl")) {
  flatCmds["openssl dgst -sha256"] = ["openssl", "dgst", "-sha256", "-r", BIG];
}
const flat = await compare(
  `Flat SHA-256 of a ${SIZES.big / MIB} MiB file`,
  flatCmds,
);
out("");
ratio(
  "checksum / sha256sum",
  flat["checksum --format hex"]!,
  flat["sha256sum"]!,
  1,
);
if (flat["openssl dgst -sha256"]) {
  ratio(
    "checksum / openssl",
    flat["checksum --format hex"]!,
    flat["openssl dgst -sha256"]!,
    1.15,
  );
}

if (have("nix-hash")) {
  const nar = await compare(
    `NAR hash of a tree of ${SIZES.dirs * SIZES.files} small files + 3 × ${
      SIZES.large / MIB
    } MiB`,
    {
      "checksum --format hex": [...CHECKSUM, "--format", "hex", TREE],
      "nix-hash --type sha256": ["nix-hash", "--type", "sha256", TREE],
    },
  );
  out("");
  ratio(
    "checksum / nix-hash",
    nar["checksum --format hex"]!,
    nar["nix-hash --type sha256"]!,
    1,
  );
} else {
  out("\nnix-hash not found: NAR comparison skipped (apt-get install nix-bin)");
}

const help = await compare("Start-up: --help", {
  "deno task checksum --help": [
    "deno",
    "task",
    "-q",
    "checksum",
    "--help",
  ],
  "deno run checksum.ts --help": [...CHECKSUM, "--help"],
});
out("");
out(
  `  deno task checksum --help                ${
    help["deno task checksum --help"]!.toFixed(0)
  } ms  (target < 150 ms: ${
    help["deno task checksum --help"]! < 150 ? "met" : "MISSED"
  })`,
);
