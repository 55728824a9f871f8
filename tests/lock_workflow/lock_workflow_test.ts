// lock-workflow against the fake Hub (tests/_fixtures/huggingface.ts): Hub URL forms, LFS and
// git-kept files, gated repositories, moving branches, wrong LFS sizes, other hosts, the five real
// workflows, determinism, --dry-run, --model, and the task run as `deno task lock-workflow`.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { main } from "../../tasks/lock_workflow.ts";
import { hfFileUrl, parseHfUrl } from "../../lib/net/huggingface.ts";
import { normaliseUrl } from "../../lib/lock_workflow/resolve.ts";
import { parseOverrides, planModels } from "../../lib/lock_workflow/plan.ts";
import { parseWorkflow } from "../../lib/comfy/workflow.ts";
import { parseLock } from "../../lib/comfy/lock_file.ts";
import {
  captureOutput,
  haveRealSources,
  ROOT,
  run,
  taskArgs,
  tmp,
} from "../_helpers.ts";
import {
  type FakeHub,
  type HubFile,
  startFakeHub,
} from "../_fixtures/huggingface.ts";
import { pngWith } from "../_fixtures/png.ts";

const REAL = `${ROOT}/../shared/real-workflows`;
const HF = "https://huggingface.co";

Deno.test("parseHfUrl() and normaliseUrl() read the URL forms real workflows use", () => {
  const cases: [string, string][] = [
    [
      `${HF}/Kijai/HunyuanVideo_comfy/blob/main/FramePackI2V_HY_fp8_e4m3fn.safetensors`,
      `${HF}/Kijai/HunyuanVideo_comfy/resolve/main/FramePackI2V_HY_fp8_e4m3fn.safetensors`,
    ],
    [
      `${HF}/o/r/resolve/main/split_files/vae/a%20b.safetensors?download=true`,
      `${HF}/o/r/resolve/main/split_files/vae/a%20b.safetensors`,
    ],
    [
      `${HF}/datasets/o/d/resolve/v1.0/x.bin`,
      `${HF}/datasets/o/d/resolve/v1.0/x.bin`,
    ],
    [
      `${HF}/o/r/resolve/refs/pr/3/m.gguf`,
      `${HF}/o/r/resolve/refs/pr/3/m.gguf`,
    ],
    [
      "https://civitai.com/api/download/models/1?type=Model",
      "https://civitai.com/api/download/models/1?type=Model",
    ],
  ];
  for (const [given, want] of cases) {
    assert.equal(normaliseUrl(given, HF), want, given);
  }
  assert.deepEqual(parseHfUrl(`${HF}/o/r/resolve/refs/pr/3/sub/m.gguf`, HF), {
    origin: HF,
    kind: "models",
    repo: "o/r",
    revision: "refs/pr/3",
    path: "sub/m.gguf",
  });
  // a hub elsewhere (COMFYKIT_HF_URL) is recognised, huggingface.co still is
  const ref = parseHfUrl(
    "http://127.0.0.1:9/o/r/blob/main/x.pt",
    "http://127.0.0.1:9",
  )!;
  assert.equal(
    hfFileUrl(ref, ref.origin, "a".repeat(40)),
    `http://127.0.0.1:9/o/r/resolve/${"a".repeat(40)}/x.pt`,
  );
  assert.throws(
    () => parseHfUrl(`${HF}/o/r`, HF),
    /is a Hugging Face URL but not of a file/,
  );
  assert.equal(
    parseHfUrl("https://example.com/o/r/resolve/main/x", HF),
    undefined,
  );
});

/** A workflow with one node per model URL, in the saved-workflow shape. */
function workflowOf(
  models: { name: string; url: string; directory: string }[],
  extra: unknown[] = [],
): string {
  return JSON.stringify({
    nodes: [
      ...models.map((m, i) => ({
        id: i + 1,
        type: "VAELoader",
        properties: { cnr_id: "comfy-core", ver: "0.3.60", models: [m] },
        widgets_values: [m.name],
      })),
      ...extra,
    ],
    version: 0.4,
  });
}

const small = (seed: number, size = 4096): HubFile => ({
  content: { size, seed },
});

/** Runs the task in-process with `env` as its environment (never the process's own). */
function lockIn(
  root: string,
  file: string,
  args: string[],
  env: Record<string, string>,
) {
  // never the real download cache
  const vars = { COMFYKIT_CACHE_DIR: `${root}/cache`, ...env };
  return captureOutput(() => main([file, "--root", root, ...args], vars));
}

function sha256Hex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

Deno.test("lock-workflow pins LFS, git-kept and other-host files, and never takes a git blob id for a sha256", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  const config = new TextEncoder().encode('{"model_type": "vae"}\n');
  const commit = hub.addRepo("acme/vae", {
    "split/vae.safetensors": small(1),
    "config.json": { content: { bytes: config }, lfs: false },
  }, { license: "apache-2.0" });
  const other = new Uint8Array(5000).fill(7);
  hub.cdn.route("GET", /^\/files\/other\.ckpt$/, () => new Response(other));
  const wf = `${dir.path}/flow.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([
      {
        name: "vae.safetensors",
        url: `${HF}/acme/vae/blob/main/split/vae.safetensors?download=true`,
        directory: "vae",
      },
      {
        name: "config.json",
        url: `${HF}/acme/vae/resolve/main/config.json`,
        directory: "configs",
      },
      {
        name: "other.ckpt",
        url: `${hub.cdn.url}/files/other.ckpt`,
        directory: "checkpoints",
      },
    ]),
  );
  const cache = `${dir.path}/cache`;
  const r = await lockIn(dir.path, wf, [], {
    COMFYKIT_HF_URL: hub.url,
    COMFYKIT_CACHE_DIR: cache,
  });
  assert.equal(r.code, 0, r.stderr);
  const text = await Deno.readTextFile(`${dir.path}/workflows/flow.lock.json`);
  const lock = parseLock(text, "flow.lock.json");
  const by = new Map(lock.models.map((m) => [m.name, m]));
  const vae = by.get("vae.safetensors")!;
  assert.equal(
    vae.url,
    `${HF}/acme/vae/resolve/${commit}/split/vae.safetensors`,
  );
  assert.equal(
    vae.sourceUrl,
    `${HF}/acme/vae/resolve/main/split/vae.safetensors`,
  );
  assert.equal(vae.hashFrom, "lfs");
  assert.equal(vae.immutable, true);
  assert.equal(vae.size, 4096);
  assert.deepEqual(vae.huggingface?.license, "apache-2.0");
  const cfg = by.get("config.json")!;
  assert.equal(cfg.hashFrom, "download");
  assert.equal(cfg.sha256, sha256Hex(config)); // not the ETag, which is the git blob id
  assert.equal(cfg.size, config.length);
  const ck = by.get("other.ckpt")!;
  assert.equal(ck.immutable, false);
  assert.equal(ck.sha256, sha256Hex(other));
  assert.equal(ck.url, `${hub.cdn.url}/files/other.ckpt`);
  // what was downloaded to be hashed is in the cache for models fetch; nothing half-written
  assert.deepEqual(
    [...Deno.readDirSync(`${cache}/sha256`)].map((e) => e.name).sort(),
    [ck.sha256, cfg.sha256].sort(),
  );
  assert.deepEqual(lock.models.map((m) => `${m.directory}/${m.name}`), [
    "checkpoints/other.ckpt",
    "configs/config.json",
    "vae/vae.safetensors",
  ]);
  // deterministic: a second run changes nothing
  const again = await lockIn(dir.path, wf, [], { COMFYKIT_HF_URL: hub.url });
  assert.match(again.stdout, /unchanged: workflows\/flow\.lock\.json/);
  assert.equal(
    await Deno.readTextFile(`${dir.path}/workflows/flow.lock.json`),
    text,
  );
});

Deno.test("lock-workflow: a gated repository needs HF_TOKEN, which goes to the Hub only and is written nowhere", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/gated", { "g.safetensors": small(2) }, { gated: "manual" });
  const wf = `${dir.path}/g.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([{
      name: "g.safetensors",
      url: `${HF}/acme/gated/resolve/main/g.safetensors`,
      directory: "loras",
    }]),
  );
  const denied = await lockIn(dir.path, wf, [], {
    COMFYKIT_HF_URL: hub.url,
    HF_TOKEN: "",
  });
  assert.equal(denied.code, 1);
  assert.match(
    denied.stderr,
    /^error: .*HTTP 401: the repository is gated or private: set HF_TOKEN/m,
  );
  assert.equal(denied.stderr.match(/^error:/gm)?.length, 1, denied.stderr);
  const ok = await lockIn(dir.path, wf, ["--verify-lfs"], {
    COMFYKIT_HF_URL: hub.url,
    HF_TOKEN: hub.token,
  });
  assert.equal(ok.code, 0, ok.stderr);
  const text = await Deno.readTextFile(`${dir.path}/workflows/g.lock.json`);
  assert.ok(
    !text.includes(hub.token) && !ok.stdout.includes(hub.token) &&
      !ok.stderr.includes(hub.token),
  );
  assert.equal(parseLock(text, "g").models[0]!.huggingface?.gated, "manual");
  assert.deepEqual(
    hub.cdnAuth,
    [],
    "the token must not follow the redirect to the CDN",
  );
  assert.ok(hub.hubAuth.includes(`Bearer ${hub.token}`), "the Hub got it");
  const wrong = await lockIn(dir.path, wf, [], {
    COMFYKIT_HF_URL: hub.url,
    HF_TOKEN: "hf_wrong",
  });
  assert.match(wrong.stderr, /HF_TOKEN is not accepted for this repository/);
  assert.ok(!wrong.stderr.includes("hf_wrong"));
});

Deno.test("lock-workflow pins the commit main points at; the pinned URL keeps its bytes when main moves", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  const first = hub.addRepo("acme/moving", { "m.safetensors": small(10) });
  const wf = `${dir.path}/m.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([{
      name: "m.safetensors",
      url: `${HF}/acme/moving/resolve/main/m.safetensors`,
      directory: "checkpoints",
    }]),
  );
  assert.equal(
    (await lockIn(dir.path, wf, [], { COMFYKIT_HF_URL: hub.url })).code,
    0,
  );
  const lock1 = parseLock(
    await Deno.readTextFile(`${dir.path}/workflows/m.lock.json`),
    "1",
  );
  const second = hub.advance("acme/moving", { "m.safetensors": small(11) });
  // main now serves other bytes; the pinned commit serves the same
  const get = async (rev: string) => {
    const res = await fetch(
      `${hub.url}/acme/moving/resolve/${rev}/m.safetensors`,
    );
    return sha256Hex(new Uint8Array(await res.arrayBuffer()));
  };
  assert.notEqual(await get("main"), lock1.models[0]!.sha256);
  assert.equal(await get(first), lock1.models[0]!.sha256);
  const dry = await lockIn(dir.path, wf, ["--dry-run"], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(dry.code, 0);
  assert.match(
    dry.stdout,
    new RegExp(`\\+.*resolve/${second}/m\\.safetensors`),
  );
  assert.match(dry.stdout, /would write workflows\/m\.lock\.json/);
  const after = parseLock(
    await Deno.readTextFile(`${dir.path}/workflows/m.lock.json`),
    "2",
  );
  assert.deepEqual(after, lock1, "--dry-run wrote nothing");
});

Deno.test("lock-workflow --verify-lfs catches a wrong X-Linked-Size", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/liar", {
    "l.safetensors": { content: { size: 3000, seed: 5 }, claimSize: 3500 },
  });
  const wf = `${dir.path}/l.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([{
      name: "l.safetensors",
      url: `${HF}/acme/liar/resolve/main/l.safetensors`,
      directory: "loras",
    }]),
  );
  const r = await lockIn(dir.path, wf, ["--verify-lfs"], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: .*LFS headers say 3500 bytes.*the download has 3000 bytes/,
  );
  assert.equal(
    await Deno.stat(`${dir.path}/workflows`).catch(() => undefined),
    undefined,
    "nothing written",
  );
});

Deno.test("lock-workflow lists widget-only models and pins them with --model", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/lora", { "style.safetensors": small(3) });
  const wf = `${dir.path}/w.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([], [
      {
        id: 1,
        type: "LoraLoaderModelOnly",
        properties: { cnr_id: "comfy-core", ver: "0.3.60" },
        widgets_values: ["style.safetensors", 1],
      },
      {
        id: 2,
        type: "MyLoader",
        properties: { cnr_id: "my-pack", ver: "1.2.0" },
        widgets_values: ["odd.pt"],
      },
      {
        id: 3,
        type: "Other",
        properties: { aux_id: "someone/nodes", ver: "abcdef0" },
      },
    ]),
  );
  const r = await lockIn(dir.path, wf, ["--strict"], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /not pinned: loras\/style\.safetensors \(LoraLoaderModelOnly\): named only in widgets_values: add --model "style\.safetensors=URL"/,
  );
  assert.match(
    r.stderr,
    /not pinned: odd\.pt \(MyLoader\): .*--model "DIRECTORY\/odd\.pt=URL"/,
  );
  assert.match(
    r.stdout,
    /node pack my-pack: deno task add-node registry:my-pack@1\.2\.0/,
  );
  assert.match(
    r.stdout,
    /node pack someone\/nodes: deno task add-node github:someone\/nodes@abcdef0/,
  );
  const pinned = await lockIn(dir.path, wf, [
    "--model",
    `style.safetensors=${HF}/acme/lora/resolve/main/style.safetensors`,
    "--model",
    `custom/odd.pt=${HF}/acme/lora/resolve/main/style.safetensors`,
    "--strict",
  ], { COMFYKIT_HF_URL: hub.url });
  assert.equal(pinned.code, 0, pinned.stderr);
  const lock = parseLock(
    await Deno.readTextFile(`${dir.path}/workflows/w.lock.json`),
    "w",
  );
  assert.deepEqual(lock.models.map((m) => `${m.directory}/${m.name}`), [
    "custom/odd.pt",
    "loras/style.safetensors",
  ]);
  assert.deepEqual(lock.unpinned, []);
  const bad = await lockIn(
    dir.path,
    wf,
    ["--model", "nope.pt=https://x.org/a"],
    { COMFYKIT_HF_URL: hub.url },
  );
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /--model "nope\.pt": the workflow names no such model/,
  );
});

/** Every Hub file the text names, served by `hub` (small generated LFS files). */
function serveUrlsOf(hub: FakeHub, text: string): void {
  const byRepo = new Map<string, Record<string, HubFile>>();
  for (
    const m of text.matchAll(
      /https:\/\/huggingface\.co\/([^/"]+\/[^/"]+)\/(?:resolve|blob)\/main\/([^"?\\]+)/g,
    )
  ) {
    const files = byRepo.get(m[1]!) ?? {};
    files[decodeURIComponent(m[2]!)] = small(
      byRepo.size + 100,
      1000 + m[2]!.length,
    );
    byRepo.set(m[1]!, files);
  }
  for (const [repo, files] of byRepo) hub.addRepo(repo, files);
}

Deno.test({
  name: "lock-workflow locks the five real workflows against the fake Hub",
  ignore: !haveRealSources(REAL),
  async fn() {
    await using hub = await startFakeHub();
    await using dir = await tmp();
    const files = [...Deno.readDirSync(REAL)].map((e) => e.name).filter((n) =>
      n.endsWith(".json")
    ).sort();
    assert.equal(files.length, 5);
    // one repository may serve several workflows: gather all their URLs first
    const texts = await Promise.all(
      files.map((f) => Deno.readTextFile(`${REAL}/${f}`)),
    );
    serveUrlsOf(hub, texts.join("\n"));
    for (const [i, f] of files.entries()) {
      let path = `${REAL}/${f}`;
      if (i % 2 === 0) {
        // half of them with their URLs rewritten to the fake Hub, half through COMFYKIT_HF_URL
        path = `${dir.path}/${f}`;
        await Deno.writeTextFile(
          path,
          (await Deno.readTextFile(`${REAL}/${f}`)).replaceAll(HF, hub.url),
        );
      }
      const r = await lockIn(dir.path, path, [], { COMFYKIT_HF_URL: hub.url });
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
      const lock = parseLock(
        await Deno.readTextFile(
          `${dir.path}/workflows/${f.replace(/\.json$/, ".lock.json")}`,
        ),
        f,
      );
      for (const m of lock.models) {
        assert.ok(
          m.immutable && m.huggingface &&
            m.url.includes(`/resolve/${m.huggingface.commit}/`),
          m.url,
        );
      }
      if (f.startsWith("templates-qwen_multiangle")) {
        assert.equal(lock.models.length, 4);
        assert.equal(lock.unpinned.length, 2);
        assert.equal(lock.comfyui.savedWith, "0.8.2");
      }
      if (f.startsWith("kijai")) {
        assert.match(
          r.stdout,
          /node pack comfyui-kjnodes: deno task add-node registry:comfyui-kjnodes \(the workflow used commit 8ecf5cd05e0a1012087b0da90eea9a13674668db, which the registry has no release for\)/,
        );
        assert.match(
          r.stdout,
          /node pack kijai\/ComfyUI-FramePackWrapper: deno task add-node github:kijai\/ComfyUI-FramePackWrapper@49fe507eca8246cc9d08a8093892f40c1180e88f/,
        );
        assert.equal(
          lock.nodePacks.reduce((n, p) => n + p.versions.length, 0),
          7,
        );
        assert.equal(lock.unpinned.length, 5);
      }
    }
  },
});

Deno.test("deno task lock-workflow runs with deno.json's permissions", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/vae", { "v.safetensors": small(4) });
  await Deno.writeTextFile(
    `${dir.path}/flow.json`,
    workflowOf([{
      name: "v.safetensors",
      url: `${HF}/acme/vae/resolve/main/v.safetensors`,
      directory: "vae",
    }]),
  );
  const args = await taskArgs("lock-workflow", dir.path);
  const env = { COMFYKIT_HF_URL: hub.url, HOME: dir.path };
  const help = await run(Deno.execPath(), [...args, "--help"], {
    cwd: dir.path,
    env,
  });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: deno task lock-workflow FILE/);
  const r = await run(Deno.execPath(), [...args, "flow.json", "--json"], {
    cwd: dir.path,
    env,
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.path, "workflows/flow.lock.json");
  assert.equal(out.lock.models[0].size, 4096);
  assert.ok((await Deno.stat(`${dir.path}/workflows/flow.lock.json`)).isFile);
  const missing = await run(Deno.execPath(), [...args, "nope.json"], {
    cwd: dir.path,
    env,
  });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: .*nope\.json: cannot read: /);
  const usage = await run(Deno.execPath(), args, { cwd: dir.path, env });
  assert.equal(usage.code, 2);
});

Deno.test("lock-workflow reads a PNG's workflow chunk and compares ComfyUI with comfyui.nix", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  hub.addRepo("acme/vae", { "v.safetensors": small(6) });
  await Deno.mkdir(`${dir.path}/.flox/pkgs`, { recursive: true });
  await Deno.copyFile(
    `${ROOT}/tests/_fixtures/comfyui_seed.nix`,
    `${dir.path}/.flox/pkgs/comfyui.nix`,
  );
  const text = workflowOf([{
    name: "v.safetensors",
    url: `${HF}/acme/vae/resolve/main/v.safetensors`,
    directory: "vae",
  }]);
  await Deno.writeFile(
    `${dir.path}/render.png`,
    pngWith([
      { kind: "tEXt", keyword: "prompt", text: "{}" },
      { kind: "tEXt", keyword: "workflow", text },
    ]),
  );
  const r = await lockIn(dir.path, `${dir.path}/render.png`, [], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^ComfyUI: saved with 0\.3\.60; comfyui\.nix packages \d+\.\d+\.\d+$/m,
  );
  assert.match(r.stdout, /wrote workflows\/render\.lock\.json/);
  const lock = parseLock(
    await Deno.readTextFile(`${dir.path}/workflows/render.lock.json`),
    "render",
  );
  assert.equal(lock.workflow, "render.png");
  assert.match(lock.comfyui.package ?? "", /^\d+\.\d+\.\d+$/);
  assert.doesNotMatch(r.stderr, /newer than/);
  await Deno.writeTextFile(
    `${dir.path}/new.json`,
    text.replaceAll('"ver":"0.3.60"', '"ver":"99.0.0"'),
  );
  const newer = await lockIn(dir.path, `${dir.path}/new.json`, [], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(newer.code, 0, newer.stderr);
  assert.match(
    newer.stderr,
    /warning: the workflow was saved with ComfyUI 99\.0\.0, newer than the \d+\.\d+\.\d+ comfyui\.nix packages/,
  );
  assert.equal(lock.models.length, 1);
  // a PNG with a broken chunk is one error line, nothing written
  const png = await Deno.readFile(`${dir.path}/render.png`);
  png[45] = png[45]! ^ 0xff;
  await Deno.writeFile(`${dir.path}/broken.png`, png);
  const bad = await lockIn(dir.path, `${dir.path}/broken.png`, [], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^error: .*broken\.png: CRC mismatch in PNG chunk "tEXt"/m,
  );
  assert.equal(
    await Deno.stat(`${dir.path}/workflows/broken.lock.json`).catch(() =>
      undefined
    ),
    undefined,
  );
});

Deno.test("lock-workflow refuses LFS headers that are not a sha256, and a commit other than the pinned one", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  const commit = hub.addRepo("acme/odd", { "o.safetensors": small(8) });
  const wf = `${dir.path}/o.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([{
      name: "o.safetensors",
      url: `${HF}/acme/odd/resolve/main/o.safetensors`,
      directory: "vae",
    }]),
  );
  let headers: Record<string, string> = {};
  hub.hub.route(
    "GET",
    /^\/acme\/odd\/resolve\/[^/]+\/o\.safetensors$/,
    () =>
      new Response(null, {
        status: 302,
        headers: { location: `${hub.cdn.url}/x`, ...headers },
      }),
  );
  headers = {
    "x-linked-etag": `"${"a".repeat(40)}"`,
    "x-linked-size": "10",
    "x-repo-commit": commit,
  };
  const sha1 = await lockIn(dir.path, wf, [], { COMFYKIT_HF_URL: hub.url });
  assert.equal(sha1.code, 1);
  assert.match(
    sha1.stderr,
    /X-Linked-Etag ""a{40}"" is not a sha256/,
  );
  headers = {
    "x-linked-etag": `"${"b".repeat(64)}"`,
    "x-linked-size": "10",
    "x-repo-commit": "c".repeat(40),
  };
  const moved = await lockIn(dir.path, wf, [], { COMFYKIT_HF_URL: hub.url });
  assert.equal(moved.code, 1);
  assert.match(
    moved.stderr,
    new RegExp(`the Hub served commit c{40}, not the pinned ${commit}`),
  );
  headers = { "x-linked-etag": `"${"b".repeat(64)}"`, "x-linked-size": "ten" };
  const size = await lockIn(dir.path, wf, [], { COMFYKIT_HF_URL: hub.url });
  assert.match(size.stderr, /X-Linked-Size "ten" is not a byte count/);
  assert.equal(
    await Deno.stat(`${dir.path}/workflows`).catch(() => undefined),
    undefined,
  );
});

Deno.test("planModels() merges a model listed twice, refuses two URLs for one file, places overrides", () => {
  const wf = (models: unknown[], widgets: unknown[] = []) =>
    parseWorkflow(
      JSON.stringify({
        nodes: [
          ...models.map((m) => ({
            type: "VAELoader",
            properties: { models: [m] },
          })),
          ...widgets.map((w) => ({ type: "MyLoader", widgets_values: [w] })),
        ],
      }),
      "w.json",
    );
  const a = {
    name: "a.safetensors",
    url: `${HF}/o/r/blob/main/a.safetensors?download=true`,
    directory: "vae",
  };
  const twice = planModels(
    wf([a, { ...a, url: `${HF}/o/r/resolve/main/a.safetensors` }]),
    new Map(),
    HF,
  );
  assert.equal(twice.requests.length, 1, "the same file after normalisation");
  assert.throws(
    () =>
      planModels(
        wf([a, { ...a, url: `${HF}/o/other/resolve/main/a.safetensors` }]),
        new Map(),
        HF,
      ),
    /models\/vae\/a\.safetensors has two URLs in the workflow: .*; choose one with --model "a\.safetensors=URL"/,
  );
  const noUrl = planModels(
    wf([{ name: "b.pt", directory: "loras" }]),
    new Map(),
    HF,
  );
  assert.match(
    noUrl.unpinned[0]!.reason,
    /properties\.models gives no URL: add --model "b\.pt=URL"/,
  );
  assert.throws(
    () =>
      planModels(
        wf([], ["odd.pt"]),
        parseOverrides(["odd.pt=https://x.org/odd.pt"]),
        HF,
      ),
    /MyLoader is a loader the kit does not know the models folder of: give --model "DIRECTORY\/odd\.pt=URL"/,
  );
  const placed = planModels(
    wf([], ["odd.pt"]),
    parseOverrides(["upscale_models/odd.pt=https://x.org/odd.pt"]),
    HF,
  );
  assert.deepEqual(placed.requests, [{
    name: "odd.pt",
    directory: "upscale_models",
    url: "https://x.org/odd.pt",
    nodeTypes: ["MyLoader"],
  }]);
  assert.throws(
    () => parseOverrides(["no-equals"]),
    /--model "no-equals": expected NAME=URL/,
  );
  assert.throws(
    () => parseOverrides(["a=ftp://x"]),
    /expected NAME=URL with an http\(s\) URL/,
  );
});

Deno.test("lock-workflow stays on the commit it read when main moves right after", async () => {
  await using hub = await startFakeHub();
  await using dir = await tmp();
  const first = hub.addRepo("acme/race", { "r.safetensors": small(60) });
  // main moves the moment the revision API has answered: the next request for main differs
  let moved = "";
  hub.afterRevision = () => {
    if (!moved) {
      moved = hub.advance("acme/race", { "r.safetensors": small(61) });
    }
  };
  const wf = `${dir.path}/r.json`;
  await Deno.writeTextFile(
    wf,
    workflowOf([{
      name: "r.safetensors",
      url: `${HF}/acme/race/resolve/main/r.safetensors`,
      directory: "vae",
    }]),
  );
  const r = await lockIn(dir.path, wf, ["--verify-lfs"], {
    COMFYKIT_HF_URL: hub.url,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(moved && moved !== first);
  const m = parseLock(
    await Deno.readTextFile(`${dir.path}/workflows/r.lock.json`),
    "r",
  ).models[0]!;
  assert.equal(m.huggingface?.commit, first);
  const atFirst = await fetch(
    `${hub.url}/acme/race/resolve/${first}/r.safetensors`,
  );
  assert.equal(
    sha256Hex(new Uint8Array(await atFirst.arrayBuffer())),
    m.sha256,
  );
  const atMain = await fetch(`${hub.url}/acme/race/resolve/main/r.safetensors`);
  assert.notEqual(
    sha256Hex(new Uint8Array(await atMain.arrayBuffer())),
    m.sha256,
  );
});
