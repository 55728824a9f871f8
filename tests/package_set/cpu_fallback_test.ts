// .flox/patches/comfyui-cpu-fallback.patch, applied with the real `patch -p1` the way nixpkgs'
// patchPhase does, to a stand-in comfy/model_management.py written for this test: it has the
// lines the patch anchors on and the start-up path that fails without it (the device is chosen
// at import and torch.cuda.current_device() is asked for a CUDA one), and runs with a stand-in
// `torch` whose answers each case sets. Python imports it once per case, as ComfyUI does.
import assert from "node:assert/strict";
import { join } from "node:path";
import { haveTool, ROOT, run, tmp } from "../_helpers.ts";

const PATCH = join(ROOT, ".flox", "patches", "comfyui-cpu-fallback.patch");

// The shape of ComfyUI 0.3.75's device selection (comfy/model_management.py): a GPU unless
// --cpu or MPS, then the total memory of that device read at import.
const MODEL_MANAGEMENT = `import logging
from enum import Enum
from comfy.cli_args import args
import torch

class CPUState(Enum):
    GPU = 0
    CPU = 1
    MPS = 2

cpu_state = CPUState.GPU
torch_version = torch.version.__version__
directml_enabled = False
xpu_available = False

try:
    if torch.backends.mps.is_available():
        cpu_state = CPUState.MPS
except:
    pass

if args.cpu:
    cpu_state = CPUState.CPU

def is_intel_xpu():
    global cpu_state
    global xpu_available
    return False

def get_torch_device():
    if cpu_state == CPUState.MPS:
        return "mps"
    if cpu_state == CPUState.CPU:
        return "cpu"
    return "cuda:%d" % torch.cuda.current_device()

DEVICE = get_torch_device()
`;

// A torch whose CUDA and MPS answers come from the environment.
const TORCH = `import os
class _Version:
    __version__ = "2.8.0"
    cuda = os.environ.get("FAKE_CUDA_VERSION") or None
version = _Version()
class _Cuda:
    calls = 0
    @staticmethod
    def is_available():
        _Cuda.calls += 1
        if os.environ.get("FAKE_CUDA_RAISES"):
            raise RuntimeError("driver exploded")
        return os.environ.get("FAKE_CUDA") == "1"
    @staticmethod
    def current_device():
        if os.environ.get("FAKE_CUDA") != "1":
            raise AssertionError("Torch not compiled with CUDA enabled")
        return 0
cuda = _Cuda()
class _Mps:
    @staticmethod
    def is_available():
        return os.environ.get("FAKE_MPS") == "1"
class _Backends:
    mps = _Mps()
backends = _Backends()
`;

const MAIN = `import logging, sys, json
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
import comfy.model_management as mm
import torch
print(json.dumps({"device": mm.DEVICE, "state": mm.cpu_state.name, "probes": torch.cuda.calls}))
`;

async function tree(dir: string, patched: boolean): Promise<void> {
  await Deno.mkdir(join(dir, "comfy"), { recursive: true });
  await Deno.mkdir(join(dir, "torch"), { recursive: true });
  await Deno.writeTextFile(join(dir, "comfy", "__init__.py"), "");
  await Deno.writeTextFile(
    join(dir, "comfy", "cli_args.py"),
    `import os\nclass _A:\n    cpu = os.environ.get("FAKE_ARG_CPU") == "1"\nargs = _A()\n`,
  );
  await Deno.writeTextFile(
    join(dir, "comfy", "model_management.py"),
    MODEL_MANAGEMENT,
  );
  await Deno.writeTextFile(join(dir, "torch", "__init__.py"), TORCH);
  await Deno.writeTextFile(join(dir, "main.py"), MAIN);
  if (patched) {
    const r = await run("patch", ["-p1", "-i", PATCH], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
}

async function start(dir: string, env: Record<string, string>) {
  const r = await run("python3", ["-B", "main.py"], {
    cwd: dir,
    env: { PYTHONPATH: dir, ...env },
  });
  return {
    code: r.code,
    out: r.code === 0 ? JSON.parse(r.stdout) : undefined,
    log: r.stderr,
  };
}

Deno.test({
  name:
    "the CPU-fallback patch: no usable GPU runs on the CPU with one line; CUDA, MPS and --cpu keep their path",
  ignore: !haveTool("python3") || !haveTool("patch"),
  fn: async () => {
    await using plain = await tmp();
    await tree(plain.path, false);
    // Without the patch: the crash users got.
    const crash = await start(plain.path, {});
    assert.notEqual(crash.code, 0);
    assert.match(crash.log, /Torch not compiled with CUDA enabled/);

    await using dir = await tmp();
    await tree(dir.path, true);
    const lines = (log: string) =>
      log.split("\n").filter((l) => /running on the CPU/.test(l));
    // A CPU-only torch.
    const cpu = await start(dir.path, {});
    assert.equal(cpu.code, 0, cpu.log);
    assert.deepEqual(cpu.out, { device: "cpu", state: "CPU", probes: 1 });
    assert.equal(lines(cpu.log).length, 1, cpu.log);
    assert.match(
      lines(cpu.log)[0]!,
      /^WARNING No GPU usable by this torch \(2\.8\.0, CUDA none\)/,
    );
    // What the install check looks for (comfyui.nix) is in that line.
    const nix = await Deno.readTextFile(
      join(ROOT, ".flox", "pkgs", "comfyui.nix"),
    );
    const wanted = /isLinux ''\s*grep -q "([^"]+)" quick-test\.log/.exec(nix)
      ?.[1];
    assert.ok(wanted, "comfyui.nix's install check greps the fallback's line");
    assert.ok(lines(cpu.log)[0]!.includes(wanted), wanted);
    // A CUDA torch on a machine without a driver (the CUDA build without a GPU).
    const noDriver = await start(dir.path, {
      FAKE_CUDA_VERSION: "12.8",
      FAKE_CUDA_RAISES: "1",
    });
    assert.equal(noDriver.code, 0, noDriver.log);
    assert.equal(noDriver.out.state, "CPU");
    assert.match(lines(noDriver.log)[0]!, /CUDA 12\.8/);
    // A GPU: untouched.
    const gpu = await start(dir.path, {
      FAKE_CUDA: "1",
      FAKE_CUDA_VERSION: "12.8",
    });
    assert.deepEqual(gpu.out, { device: "cuda:0", state: "GPU", probes: 1 });
    assert.deepEqual(lines(gpu.log), []);
    // Apple silicon: MPS as upstream, no probe.
    const mps = await start(dir.path, { FAKE_MPS: "1" });
    assert.deepEqual(mps.out, { device: "mps", state: "MPS", probes: 0 });
    // --cpu: the user's choice, no probe, no line.
    const flag = await start(dir.path, { FAKE_ARG_CPU: "1" });
    assert.deepEqual(flag.out, { device: "cpu", state: "CPU", probes: 0 });
    assert.deepEqual(lines(flag.log), []);
  },
});
