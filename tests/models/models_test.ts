// models fetch / check / nix against the fake Hub: verified, resumable downloads through the cache,
// the verified-files state (size + mtime), wrong LFS sizes, moving branches, gated files and the
// token, Nix output evaluated by nix-instantiate, and the tasks run with deno.json's permissions.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { main as lockMain } from "../../tasks/lock_workflow.ts";
import { main } from "../../tasks/models.ts";
import { parseLock } from "../../lib/comfy/lock_file.ts";
import { nixString, sriOf, storeName } from "../../lib/models/nix.ts";
import {
  captureOutput,
  childEnv,
  haveTool,
  run,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import {
  digestsOf,
  type HubFile,
  startFakeHub,
  streamOf,
} from "../_fixtures/huggingface.ts";
import { hashPartial } from "../../lib/net/resumable.ts";
import { checkModel } from "../../lib/models/check.ts";
import { STATE_FILE, VerifiedState } from "../../lib/models/state.ts";

const HF = "https://huggingface.co";

function workflowOf(
  models: { name: string; url: string; directory: string }[],
): string {
  return JSON.stringify({
    nodes: models.map((m, i) => ({
      id: i + 1,
      type: "UNETLoader",
      properties: { cnr_id: "comfy-core", ver: "0.3.60", models: [m] },
      widgets_values: [m.name],
    })),
  });
}

const gen = (seed: number, size: number): HubFile => ({
  content: { size, seed },
});

/** A lock made by lock-workflow for `models` in `dir`. */
async function makeLock(
  dir: string,
  hubUrl: string,
  models: { name: string; url: string; directory: string }[],
  env: Record<string, string> = {},
): Promise<string> {
  await Deno.writeTextFile(`${dir}/flow.json`, workflowOf(models));
  const r = await captureOutput(() =>
    lockMain([`${dir}/flow.json`, "--root", dir], {
      COMFYKIT_HF_URL: hubUrl,
      ...env,
    })
  );
  assert.equal(r.code, 0, r.stderr);
  return `${dir}/workflows/flow.lock.json`;
}

function sha256Of(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

Deno.test("models fetch puts verified files in place (cache, resume, token), check and nix agree", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/m", {
    "unet.safetensors": gen(1, 3 * 1024 * 1024 + 17),
    "cfg.json": {
      content: { bytes: new TextEncoder().encode("{}\n") },
      lfs: false,
    },
  });
  hub.addRepo("acme/gated", { "g.safetensors": gen(2, 70_000) }, {
    gated: "auto",
  });
  const env = {
    COMFYKIT_HF_URL: hub.url,
    HF_TOKEN: hub.token,
    COMFYUI_BASE_DIR: `${dir.path}/comfy`,
    COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
  };
  const lockPath = await makeLock(dir.path, hub.url, [
    {
      name: "unet.safetensors",
      url: `${HF}/acme/m/resolve/main/unet.safetensors`,
      directory: "diffusion_models",
    },
    {
      name: "cfg.json",
      url: `${HF}/acme/m/resolve/main/cfg.json`,
      directory: "configs",
    },
    {
      name: "g.safetensors",
      url: `${HF}/acme/gated/resolve/main/g.safetensors`,
      directory: "loras",
    },
  ], env);
  const lock = parseLock(await Deno.readTextFile(lockPath), "lock");
  // the connection drops after 1 MiB of the first CDN download: the retry resumes with a range
  hub.cutNextAfter = 1024 * 1024;
  const f = await captureOutput(() => main(["fetch", lockPath, "--json"], env));
  assert.equal(f.code, 0, f.stderr);
  const outcomes = JSON.parse(f.stdout).models as {
    model: string;
    action: string;
    resumedFrom?: number;
  }[];
  assert.deepEqual(outcomes.map((o) => [o.model, o.action]), [
    ["configs/cfg.json", "from-cache"], // lock-workflow hashed it into the cache
    ["diffusion_models/unet.safetensors", "downloaded"],
    ["loras/g.safetensors", "downloaded"],
  ]);
  assert.ok(
    hub.ranges.some((r) =>
      /^cdn bytes=\d+-$/.test(r) && Number(r.split("=")[1]!.slice(0, -1)) > 0
    ),
    hub.ranges.join(),
  );
  assert.deepEqual(hub.cdnAuth, [], "the token never reaches the CDN");
  for (const m of lock.models) {
    const bytes = await Deno.readFile(
      `${dir.path}/comfy/models/${m.directory}/${m.name}`,
    );
    assert.equal(sha256Of(bytes), m.sha256, m.name);
  }
  assert.deepEqual(
    [...Deno.readDirSync(`${dir.path}/comfy/models/diffusion_models`)].map((
      e,
    ) => e.name),
    ["unet.safetensors"],
    "no .part left",
  );
  // fetch again: nothing to do; into another base: from the cache, no network
  const again = await captureOutput(() => main(["fetch", lockPath], env));
  assert.match(
    again.stdout,
    /diffusion_models\/unet\.safetensors: present, verified/,
  );
  const before = hub.cdn.log.length;
  const other = await captureOutput(() =>
    main(["fetch", lockPath], {
      ...env,
      COMFYUI_BASE_DIR: `${dir.path}/comfy2`,
    })
  );
  assert.equal(other.code, 0, other.stderr);
  assert.match(
    other.stdout,
    /diffusion_models\/unet\.safetensors: from the cache/,
  );
  assert.equal(hub.cdn.log.length, before, "the cache served it");

  // check: ok; a byte changed behind the kit's back with size and mtime kept is not re-hashed
  const unet = `${dir.path}/comfy/models/diffusion_models/unet.safetensors`;
  const c1 = await captureOutput(() =>
    main(["check", lockPath, "--json"], env)
  );
  assert.equal(c1.code, 0, c1.stderr);
  assert.ok(
    JSON.parse(c1.stdout).models.every((
      m: { status: string; cached: boolean },
    ) => m.status === "ok" && m.cached),
  );
  const st = await Deno.stat(unet);
  const fh = await Deno.open(unet, { write: true });
  await fh.write(new Uint8Array([0xff, 0xee]));
  fh.close();
  await Deno.utime(unet, st.atime!, st.mtime!);
  const c2 = await captureOutput(() => main(["check", lockPath], env));
  assert.equal(c2.code, 0);
  assert.match(
    c2.stdout,
    /unet\.safetensors: ok \(verified before, unchanged\)/,
  );
  const c3 = await captureOutput(() =>
    main(["check", lockPath, "--rehash"], env)
  );
  assert.equal(c3.code, 1);
  assert.match(c3.stdout, /unet\.safetensors: wrong-hash/);
  assert.match(
    c3.stderr,
    /^error: 1 of 3 models missing or wrong under .*: run "deno task models fetch /m,
  );
  // fetch refuses to clobber it without --force, then replaces it
  const refuse = await captureOutput(() => main(["fetch", lockPath], env));
  assert.equal(refuse.code, 1);
  assert.match(
    refuse.stdout,
    /is there with other bytes \(wrong-hash\): --force replaces it/,
  );
  const forced = await captureOutput(() =>
    main(["fetch", lockPath, "--force"], env)
  );
  assert.equal(forced.code, 0, forced.stderr);
  await Deno.truncate(unet, 10);
  const c4 = await captureOutput(() => main(["check", lockPath], env));
  assert.match(c4.stdout, /unet\.safetensors: wrong-size/);
  await Deno.remove(`${dir.path}/comfy/models/loras/g.safetensors`);
  const c5 = await captureOutput(() => main(["check", lockPath], env));
  assert.match(c5.stdout, /loras\/g\.safetensors: missing/);

  // nix: fetchurl entries, evaluated by Nix with a stand-in fetchurl
  const nix = await captureOutput(() => main(["nix", lockPath]));
  assert.equal(nix.code, 0);
  if (!haveTool("nix-instantiate")) return;
  await Deno.writeTextFile(`${dir.path}/models.nix`, nix.stdout);
  const ev = await run("nix-instantiate", [
    "--eval",
    "--strict",
    "--json",
    "-E",
    `import ${dir.path}/models.nix { fetchurl = a: a; }`,
  ]);
  assert.equal(ev.code, 0, ev.stderr);
  const entries = JSON.parse(ev.stdout);
  const cfg = new TextEncoder().encode("{}\n");
  await Deno.writeFile(`${dir.path}/cfg.json`, cfg);
  // Nix 2.8's nix-hash has no --sri: compare the SRI's bytes with its base16
  const hex = await run("nix-hash", [
    "--type",
    "sha256",
    "--flat",
    `${dir.path}/cfg.json`,
  ]);
  const sri = entries["configs/cfg.json"].hash as string;
  assert.match(sri, /^sha256-/);
  assert.equal(
    Buffer.from(sri.slice(7), "base64").toString("hex"),
    hex.stdout.trim(),
  );
  assert.equal(entries["configs/cfg.json"].name, "cfg.json");
  assert.match(
    entries["diffusion_models/unet.safetensors"].url,
    new RegExp(`/acme/m/resolve/[0-9a-f]{40}/unet\\.safetensors$`),
  );
});

Deno.test("models fetch: a wrong X-Linked-Size or moved branch never lands wrong bytes", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/liar", {
    "l.safetensors": { content: { size: 50_000, seed: 9 }, claimSize: 60_000 },
  });
  hub.addRepo("acme/moving", { "m.safetensors": gen(20, 40_000) });
  const env = {
    COMFYKIT_HF_URL: hub.url,
    COMFYUI_BASE_DIR: `${dir.path}/comfy`,
    COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
  };
  const lockPath = await makeLock(dir.path, hub.url, [
    {
      name: "l.safetensors",
      url: `${HF}/acme/liar/resolve/main/l.safetensors`,
      directory: "loras",
    },
    {
      name: "m.safetensors",
      url: `${HF}/acme/moving/resolve/main/m.safetensors`,
      directory: "checkpoints",
    },
  ], env);
  hub.advance("acme/moving", { "m.safetensors": gen(21, 40_000) });
  const f = await captureOutput(() => main(["fetch", lockPath], env));
  assert.equal(f.code, 1);
  assert.match(
    f.stdout,
    /loras\/l\.safetensors: loras\/l\.safetensors: size mismatch for .*: the lock says 60000 bytes, the server has 50000; nothing was put in place/,
  );
  assert.match(f.stdout, /checkpoints\/m\.safetensors: downloaded/);
  assert.match(f.stderr, /^error: 1 of 2 models not fetched/m);
  assert.deepEqual(
    [...Deno.readDirSync(`${dir.path}/comfy/models/loras`)],
    [],
    "nothing in place, no .part",
  );
  const lock = parseLock(await Deno.readTextFile(lockPath), "l");
  const m = lock.models.find((x) => x.name === "m.safetensors")!;
  assert.equal(
    sha256Of(
      await Deno.readFile(`${dir.path}/comfy/models/checkpoints/m.safetensors`),
    ),
    m.sha256,
  );
});

Deno.test("models rejects bad input in one line", async () => {
  await using dir = await tmp();
  const cases: [string[], number, RegExp][] = [
    [[], 2, /Give a verb: fetch, check or nix/],
    [["pull", "x"], 2, /Unknown verb "pull"/],
    [["check"], 2, /Give the lock file/],
    [
      ["check", `${dir.path}/none.lock.json`],
      1,
      /none\.lock\.json: cannot read/,
    ],
  ];
  await Deno.writeTextFile(
    `${dir.path}/bad.lock.json`,
    JSON.stringify({
      lockVersion: 1,
      workflow: "w",
      comfyui: { savedWith: null, versions: [], package: null },
      nodePacks: [],
      models: [{ name: "../x", directory: "vae" }],
      unpinned: [],
    }),
  );
  cases.push([
    ["check", `${dir.path}/bad.lock.json`],
    1,
    /bad\.lock\.json: models\[0\]\.name: expected a relative path without '\.\.'/,
  ]);
  for (const [args, code, re] of cases) {
    const r = await captureOutput(() => main(args));
    assert.equal(r.code, code, args.join(" "));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.match(/^error:/gm)?.length, 1);
  }
});

/**
 * `deno task models`' arguments: its line grants `$COMFYUI_BASE_DIR/models` (deno task expands
 * it); taskArgs fills in `"$cache"` and `$HOME`, this the base.
 */
async function modelsTaskArgs(
  home: string,
  env: Record<string, string>,
): Promise<string[]> {
  return (await taskArgs("models", home, env)).map((a) =>
    a.replaceAll("$COMFYUI_BASE_DIR", env.COMFYUI_BASE_DIR ?? "")
  );
}

/** Peak resident memory (VmHWM, kB) of a process, polled until it exits. */
async function runMeasured(
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
  kill?: () => Promise<boolean>,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: opts.cwd,
    env: childEnv(opts.cwd, opts.env),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let peakKb = 0;
  let done = false;
  output.finally(() => done = true);
  while (!done) {
    // Deno reads /proc only with --allow-all: ask cat (VmHWM is the peak so far)
    const status = await run("cat", [`/proc/${child.pid}/status`]);
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status.stdout)?.[1] ?? 0);
    peakKb = Math.max(peakKb, hwm);
    if (kill && await kill()) {
      child.kill("SIGKILL");
      kill = undefined;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = await output;
  const dec = new TextDecoder();
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
    peakKb,
  };
}

Deno.test({
  name:
    "deno task models: a 1 GiB download killed midway resumes with a range, in bounded memory",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using hub = await startFakeHub();
    await using dir = await tmp();
    const GiB = 1024 * 1024 * 1024;
    hub.addRepo("acme/big", { "big.safetensors": gen(77, GiB) });
    const home = dir.path;
    const env = {
      COMFYKIT_HF_URL: hub.url,
      COMFYUI_BASE_DIR: `${dir.path}/comfy`,
      HOME: home,
    };
    const lockPath = await makeLock(dir.path, hub.url, [
      {
        name: "big.safetensors",
        url: `${HF}/acme/big/resolve/main/big.safetensors`,
        directory: "checkpoints",
      },
    ], env);
    const args = await modelsTaskArgs(home, env);
    const part = `${dir.path}/comfy/models/checkpoints/.big.safetensors.part`;
    const first = await runMeasured([...args, "fetch", lockPath], {
      cwd: dir.path,
      env,
    }, async () => {
      const size = (await Deno.stat(part).catch(() => undefined))?.size ?? 0;
      return size >= 256 * 1024 * 1024;
    });
    assert.notEqual(first.code, 0, `killed: ${first.stderr}`);
    const kept = (await Deno.stat(part).catch((e) => {
      throw new Error(`${e}; first run: ${first.code} ${first.stderr}`);
    })).size;
    assert.ok(kept >= 256 * 1024 * 1024 && kept < GiB, `${kept}`);
    const second = await runMeasured([...args, "fetch", lockPath], {
      cwd: dir.path,
      env,
    });
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      /checkpoints\/big\.safetensors: downloaded 1\.0 GiB \(resumed at /,
    );
    assert.ok(
      hub.ranges.some((r) =>
        r.startsWith("cdn bytes=") &&
        Number(r.slice(10, -1)) >= kept - 1024 * 1024
      ),
      hub.ranges.join(),
    );
    assert.ok(
      second.peakKb > 0 && second.peakKb < 300 * 1024,
      `peak RSS ${second.peakKb} kB while downloading 1 GiB`,
    );
    const check = await runMeasured([...args, "check", lockPath, "--rehash"], {
      cwd: dir.path,
      env,
    });
    assert.equal(check.code, 0, check.stderr);
    assert.ok(
      check.peakKb < 300 * 1024,
      `peak RSS ${check.peakKb} kB while hashing 1 GiB`,
    );
    // state in the cache under HOME: the next check does not hash
    const quick = await run(Deno.execPath(), [...args, "check", lockPath], {
      cwd: dir.path,
      env,
    });
    assert.match(quick.stdout, /ok \(verified before, unchanged\)/);
    assert.ok(
      (await Deno.stat(`${home}/.cache/comfykit/verified-models.json`)).isFile,
    );
  },
});

Deno.test("deno task models: --help, nix, fetch --dry-run and a base it may not write", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/s", { "s.safetensors": gen(30, 10_000) });
  const env = {
    COMFYKIT_HF_URL: hub.url,
    COMFYUI_BASE_DIR: `${dir.path}/comfy`,
    HOME: dir.path,
  };
  const lockPath = await makeLock(dir.path, hub.url, [
    {
      name: "s.safetensors",
      url: `${HF}/acme/s/resolve/main/s.safetensors`,
      directory: "vae",
    },
  ], env);
  const args = await modelsTaskArgs(dir.path, env);
  const opts = { cwd: dir.path, env };
  const help = await run(Deno.execPath(), [...args, "--help"], opts);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: deno task models fetch\|check\|nix LOCK/);
  const nix = await run(Deno.execPath(), [
    ...args,
    "nix",
    "workflows/flow.lock.json",
  ], opts);
  assert.equal(nix.code, 0, nix.stderr);
  assert.match(
    nix.stdout,
    /"vae\/s\.safetensors" = fetchurl \{\n {4}name = "s\.safetensors";\n {4}url = ".*\/acme\/s\/resolve\/[0-9a-f]{40}\/s\.safetensors";\n {4}hash = "sha256-[A-Za-z0-9+/]{43}=";/,
  );
  const dry = await run(Deno.execPath(), [
    ...args,
    "fetch",
    lockPath,
    "--dry-run",
  ], opts);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /vae\/s\.safetensors: would download 9\.8 KiB/);
  assert.equal(
    await Deno.stat(`${dir.path}/comfy`).catch(() => undefined),
    undefined,
    "--dry-run wrote nothing",
  );
  const elsewhere = await run(Deno.execPath(), [
    ...args,
    "fetch",
    lockPath,
    "--base-dir",
    `${dir.path}/other`,
  ], opts);
  assert.equal(elsewhere.code, 1);
  assert.match(
    elsewhere.stdout,
    /no write access to ".*other\/models\/vae\/s\.safetensors" for this task: set COMFYUI_BASE_DIR/,
  );
  assert.match(elsewhere.stderr, /^error: 1 of 1 models not fetched/m);
});

Deno.test("nixString(), storeName() and sriOf() make valid Nix", () => {
  assert.equal(nixString('a"b\\c${x}$y'), '"a\\"b\\\\c\\${x}$y"');
  const names: [string, string][] = [
    ["qwen_image_vae.safetensors", "qwen_image_vae.safetensors"],
    ["Hyvid\\FramePack I2V.safetensors", "FramePack_I2V.safetensors"],
    [".hidden.pt", "hidden.pt"],
    ["sub/dir/ü.ckpt", "_.ckpt"],
    ["...", "model"],
  ];
  for (const [given, want] of names) {
    assert.equal(storeName(given), want, given);
  }
  assert.equal(
    sriOf(createHash("sha256").update("").digest("hex")),
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  );
});

Deno.test("hashPartial() re-hashes a .part file with a touch per MiB, so the idle timer never fires", async () => {
  await using dir = await tmp();
  const MiB = 1024 * 1024;
  const content = { size: 8 * MiB + 5, seed: 41 };
  const part = `${dir.path}/.p.bin.part`;
  const file = await Deno.open(part, { write: true, createNew: true });
  for await (const chunk of streamOf(content, 0, 8 * MiB + 5)) {
    await file.write(chunk);
  }
  file.close();
  let touches = 0;
  const { hash, have } = await hashPartial(part, 20 * MiB, () => touches++);
  assert.equal(have, 8 * MiB + 5);
  assert.equal(touches, 9, "one per MiB read");
  assert.equal(hash.digest("hex"), (await digestsOf(content)).sha256);
  // longer than the file is meant to be: started over
  const again = await hashPartial(part, MiB, () => touches++);
  assert.equal(again.have, 0);
  assert.equal(await Deno.stat(part).catch(() => undefined), undefined);
});

Deno.test("models fetch goes through COMFYKIT_MIRRORS, and the token does not follow it", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/mir", { "m.safetensors": gen(50, 20_000) });
  const lockPath = await makeLock(dir.path, hub.url, [
    {
      name: "m.safetensors",
      url: `${HF}/acme/mir/resolve/main/m.safetensors`,
      directory: "vae",
    },
  ], { COMFYKIT_CACHE_DIR: `${dir.path}/cache` });
  const lock = parseLock(await Deno.readTextFile(lockPath), "mir");
  assert.ok(
    lock.models[0]!.url.startsWith(`${HF}/acme/mir/resolve/`),
    "the lock keeps huggingface.co",
  );
  const before = hub.hub.log.length;
  const r = await captureOutput(() =>
    main(["fetch", lockPath, "--no-cache"], {
      COMFYKIT_HF_URL: "",
      HF_TOKEN: "hf_secret_mirror",
      COMFYKIT_MIRRORS: `${HF}/=${hub.url}/`,
      COMFYUI_BASE_DIR: `${dir.path}/comfy`,
      COMFYKIT_CACHE_DIR: `${dir.path}/cache`,
    })
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /vae\/m\.safetensors: downloaded/);
  assert.ok(
    hub.hub.log.slice(before).some((l) =>
      l.startsWith("GET /acme/mir/resolve/")
    ),
  );
  assert.deepEqual(hub.cdnAuth, []);
  assert.deepEqual(hub.hubAuth, [], "a mirror is not the Hub: no token");
  assert.equal(
    sha256Of(await Deno.readFile(`${dir.path}/comfy/models/vae/m.safetensors`)),
    lock.models[0]!.sha256,
  );
});

Deno.test("checkModel() trusts the verified state only while size and mtime are unchanged", async () => {
  await using dir = await tmp();
  const bytes = new TextEncoder().encode("model bytes\n");
  const m = {
    name: "m.pt",
    directory: "vae",
    url: "https://example.org/m.pt",
    sourceUrl: "https://example.org/m.pt",
    immutable: false,
    size: bytes.length,
    sha256: sha256Of(bytes),
    hashFrom: "download" as const,
    nodeTypes: [],
  };
  const path = `${dir.path}/base/models/vae/m.pt`;
  await Deno.mkdir(`${dir.path}/base/models/vae`, { recursive: true });
  await Deno.writeFile(path, bytes);
  const state = await new VerifiedState(`${dir.path}/cache`).load();
  assert.deepEqual(await checkModel(`${dir.path}/base`, m, state), {
    model: "vae/m.pt",
    path,
    status: "ok",
    cached: false,
  });
  await state.save();
  const again = await new VerifiedState(`${dir.path}/cache`).load();
  assert.equal((await checkModel(`${dir.path}/base`, m, again)).cached, true);
  // same size, other bytes, a new mtime: hashed again, and caught
  const st = await Deno.stat(path);
  await Deno.writeFile(path, new TextEncoder().encode("MODEL BYTES\n"));
  await Deno.utime(path, st.atime!, new Date(st.mtime!.getTime() + 5000));
  assert.equal(
    (await checkModel(`${dir.path}/base`, m, again)).status,
    "wrong-hash",
  );
  // a damaged state file is an empty state
  await Deno.writeTextFile(`${dir.path}/cache/${STATE_FILE}`, "{not json");
  const damaged = await new VerifiedState(`${dir.path}/cache`).load();
  await Deno.writeFile(path, bytes);
  assert.deepEqual(await checkModel(`${dir.path}/base`, m, damaged), {
    model: "vae/m.pt",
    path,
    status: "ok",
    cached: false,
  });
});
