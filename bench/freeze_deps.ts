// Benchmark: `freeze-deps` against the bare resolver call on the same requirements.
// The kit's own overhead (reading requirements, hashing every release file, classifying,
// writing the lock) must stay under 20% of the resolver's time.
//
// Example:
//   deno task bench-freeze                 # 3 rounds; ComfyUI's requirements on a local mirror if
//                                          # one is found (file:///opt/pypi/simple or
//                                          # $COMFYKIT_BENCH_INDEX), else the fixture index
//   deno task bench-freeze --runs 5 --assert
//
// Needs: python3 with pip >= 22.2. Permissions: -A-free: read, write (temp), run, env, net.
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { info, out } from "../lib/kit/log.ts";
import {
  buildIndexFiles,
  HERMETIC_PIP_ENV,
  writeFindLinks,
} from "../tests/_fixtures/index.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

// ComfyUI 0.3.75's requirements.txt, less what a plain PyPI mirror here may lack (torch*,
// kornia, spandrel, the comfyui-* packages are used when the mirror has them).
const COMFY_REQS = [
  "comfyui-frontend-package==1.30.6",
  "comfyui-workflow-templates==0.7.20",
  "comfyui-embedded-docs==0.3.1",
  "torch",
  "torchsde",
  "torchvision",
  "torchaudio",
  "numpy>=1.25.0",
  "einops",
  "transformers>=4.50.3",
  "tokenizers>=0.13.3",
  "sentencepiece",
  "safetensors>=0.4.2",
  "aiohttp>=3.11.8",
  "yarl>=1.18.0",
  "pyyaml",
  "Pillow",
  "scipy",
  "tqdm",
  "psutil",
  "alembic",
  "SQLAlchemy",
  "av>=14.2.0",
  "kornia>=0.7.1",
  "spandrel",
  "pydantic~=2.0",
  "pydantic-settings~=2.0",
];

async function timed(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ seconds: number; code: number; stdout: string; stderr: string }> {
  const t = performance.now();
  const r = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    seconds: (performance.now() - t) / 1000,
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
  };
}

/**
 * The deno to run freeze-deps with: this very binary when the task may run it, else `deno` as
 * found on PATH. Installed from npm, `deno` on PATH is a launcher and `Deno.execPath()` the
 * binary behind it, which `--allow-run=deno` does not cover.
 */
export function denoCommand(): string {
  const exec = Deno.execPath();
  const state = Deno.permissions.querySync({ name: "run", command: exec });
  return state.state === "granted" ? exec : "deno";
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Entry point. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: "string", default: "3" },
      assert: { type: "boolean" },
      index: { type: "string" },
    },
  });
  const runs = Math.max(1, Number(values.runs) || 3);
  const dir = await Deno.makeTempDir({ prefix: "comfykit-bench-" });
  try {
    // The data set: a local mirror when there is one, else the fixture index.
    let where: string[];
    let label: string;
    const mirror = values.index ?? Deno.env.get("COMFYKIT_BENCH_INDEX") ??
      "file:///opt/pypi/simple";
    const mirrorDir = mirror.startsWith("file:") ? fileURLToPath(mirror) : "";
    let reqs: string[];
    if (mirrorDir && (await Deno.stat(mirrorDir).catch(() => null))) {
      reqs = [];
      for (const r of COMFY_REQS) {
        const name = r.split(/[<>=~!; ]/)[0]!.toLowerCase().replace(
          /[-_.]+/g,
          "-",
        );
        if (await Deno.stat(`${mirrorDir}/${name}`).catch(() => null)) {
          reqs.push(r);
        }
      }
      where = ["--index-url", mirror];
      label = `${reqs.length} of ComfyUI 0.3.75's requirements on ${mirror}`;
    } else {
      await writeFindLinks(`${dir}/wheels`, await buildIndexFiles());
      reqs = ["app", "typing_ext"];
      where = ["--no-index", "--find-links", `${dir}/wheels`];
      label = "the fixture index (find-links)";
    }
    const reqFile = `${dir}/requirements.txt`;
    await Deno.writeTextFile(reqFile, reqs.join("\n") + "\n");
    info(`benchmark: ${label}, ${runs} round(s)`);

    const env = { ...HERMETIC_PIP_ENV };
    const bare: number[] = [];
    const kit: number[] = [];
    const own: number[] = [];
    const resolver: number[] = [];
    const setup: number[] = [];
    let packages = 0;
    for (let i = 0; i < runs; i++) {
      const b = await timed("python3", [
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--report",
        `${dir}/report.json`,
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        ...where,
        "-r",
        reqFile,
      ], env); // deno-fmt-ignore
      if (b.code !== 0) throw new Error(`bare pip failed:\n${b.stderr}`);
      bare.push(b.seconds);
      const k = await timed(denoCommand(), [
        "run",
        "-q",
        "-A",
        `${ROOT}/tasks/freeze_deps.ts`,
        "-r",
        reqFile,
        ...where,
        "--root",
        ROOT,
        "-o",
        `${dir}/lock.txt`,
        "--json",
      ], env); // deno-fmt-ignore
      if (k.code !== 0) throw new Error(`freeze-deps failed:\n${k.stderr}`);
      kit.push(k.seconds);
      const t = JSON.parse(k.stdout).timings;
      packages = JSON.parse(k.stdout).packages.length;
      own.push(t.requirements + t.hashes + t.classify + t.write);
      resolver.push(t.resolver);
      setup.push(t.setup);
      info(
        `round ${i + 1}: bare pip ${b.seconds.toFixed(2)} s, freeze-deps ${
          k.seconds.toFixed(2)
        } s (resolver ${t.resolver.toFixed(2)} s, venv ${
          t.setup.toFixed(2)
        } s, own ${(own.at(-1)!).toFixed(3)} s)`,
      );
    }
    const m = {
      packages,
      bare: median(bare),
      kit: median(kit),
      resolver: median(resolver),
      setup: median(setup),
      own: median(own),
    };
    const ownPct = 100 * m.own / m.resolver;
    const wallPct = 100 * (m.kit - m.bare) / m.bare;
    out(`freeze-deps benchmark: ${label}; ${m.packages} packages resolved`);
    out(`| measure (median of ${runs}) | seconds |`);
    out(`| --- | ---: |`);
    out(`| bare \`pip install --dry-run --report\` | ${m.bare.toFixed(2)} |`);
    out(`| \`freeze-deps\` end to end | ${m.kit.toFixed(2)} |`);
    out(
      `| of which the resolver (pip, via --python) | ${
        m.resolver.toFixed(2)
      } |`,
    );
    out(`| of which the temporary venv | ${m.setup.toFixed(2)} |`);
    out(
      `| of which the kit's own work (hashes, classify, lock) | ${
        m.own.toFixed(3)
      } |`,
    );
    out(
      `kit's own overhead: ${
        ownPct.toFixed(1)
      }% of the resolver's time (limit 20%)`,
    );
    out(
      `end-to-end difference vs the bare call: ${wallPct >= 0 ? "+" : ""}${
        wallPct.toFixed(1)
      }%`,
    );
    if (values.assert && ownPct >= 20) {
      info(
        "FAIL: the kit's own overhead is 20% or more of the resolver's time",
      );
      return 1;
    }
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
