// lib/comfy/workflow.ts and png.ts: the five real workflows ComfyUI saved, and built fixtures
// (JSON and PNGs with tEXt / zTXt / iTXt chunks, bad CRCs, nested subgraphs, malformed fields).
import assert from "node:assert/strict";
import { KitError } from "../../lib/kit/errors.ts";
import {
  compareVersions,
  parseWorkflow,
  readWorkflow,
  workflowText,
} from "../../lib/comfy/workflow.ts";
import { pngTextChunks } from "../../lib/comfy/png.ts";
import { haveRealSources, ROOT, tmp } from "../_helpers.ts";
import { cat, chunk, pngWith } from "../_fixtures/png.ts";
import { deflateSync } from "node:zlib";

const REAL = `${ROOT}/../shared/real-workflows`;

function realTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: !haveRealSources(REAL), fn });
}

// The counts of ../shared/real-workflows/README.md: models, node packs (pack@version), subgraphs.
const REAL_COUNTS: [string, number, number, boolean, string][] = [
  ["01_qwen_t2i_subgraphed.json", 4, 0, true, "0.3.65"],
  ["video_wan2_2_14B_t2v.json", 4, 0, false, "0.3.45"],
  ["3d_hunyuan3d_image_to_model.json", 1, 0, false, "0.3.43"],
  ["templates-qwen_multiangle.json", 4, 1, true, "0.8.2"],
  [
    "kijai-ComfyUI-FramePackWrapper__framepack_hv_example.json",
    0,
    7,
    false,
    "0.3.29",
  ],
];

realTest(
  "readWorkflow() finds the models, packs and subgraphs of the real workflows",
  async () => {
    for (const [file, models, packs, subgraphs, comfy] of REAL_COUNTS) {
      const wf = await readWorkflow(`${REAL}/${file}`);
      assert.equal(wf.models.length, models, file);
      assert.equal(
        wf.packs.reduce((n, p) => n + p.versions.length, 0),
        packs,
        file,
      );
      assert.equal(wf.subgraphs > 0, subgraphs, file);
      assert.equal(wf.comfyui?.version, comfy, file);
      for (const m of wf.models) {
        assert.match(m.url ?? "", /^https:\/\/huggingface\.co\//, file);
        assert.ok(m.directory, file);
      }
    }
  },
);

realTest(
  "readWorkflow() reads models inside subgraphs and widget-only loader files",
  async () => {
    const qwen = await readWorkflow(`${REAL}/01_qwen_t2i_subgraphed.json`);
    assert.deepEqual(qwen.models.map((m) => `${m.directory}/${m.name}`), [
      "diffusion_models/qwen_image_fp8_e4m3fn.safetensors",
      "loras/Qwen-Image-Lightning-4steps-V1.0.safetensors",
      "text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors",
      "vae/qwen_image_vae.safetensors",
    ]);
    assert.deepEqual(qwen.widgetModels, []);
    const multi = await readWorkflow(`${REAL}/templates-qwen_multiangle.json`);
    // the LoRA loader that names a file no properties.models entry gives a URL for
    assert.deepEqual(multi.widgetModels.map((w) => [w.name, w.directory]), [
      ["qwen-image-edit-2511-multiple-angles-lora.safetensors", "loras"],
      ["qwen_2.5_vl_7b.safetensors", "text_encoders"],
    ]);
    assert.deepEqual(multi.packs, [{
      id: "comfyui-qwenmultiangle",
      source: "registry",
      versions: ["c264343add0423ca447a0ba8fb62e1d312f5370f"],
      nodeTypes: ["QwenMultiangleCameraNode"],
    }]);
    const fp = await readWorkflow(
      `${REAL}/kijai-ComfyUI-FramePackWrapper__framepack_hv_example.json`,
    );
    assert.deepEqual(fp.packs.map((p) => `${p.source}:${p.id}`), [
      "github:kijai/ComfyUI-FramePackWrapper",
      "github:kijai/ComfyUI_essentials",
      "github:lllyasviel/FramePack",
      "registry:comfyui-kjnodes",
      "registry:comfyui-videohelpersuite",
    ]);
    assert.ok(
      fp.widgetModels.some((w) =>
        w.name === "hyvid\\hunyuan_video_vae_bf16_repack.safetensors" &&
        w.directory === "vae"
      ),
    );
    assert.equal(fp.widgetModels.length, 5);
  },
);

realTest(
  "readWorkflow() reads the same workflow from a PNG ComfyUI-style tEXt chunk",
  async () => {
    await using dir = await tmp();
    const text = await Deno.readTextFile(
      `${REAL}/templates-qwen_multiangle.json`,
    );
    const png = `${dir.path}/out.png`;
    // ComfyUI's SaveImage: json.dumps (ASCII) of "prompt" and "workflow" in tEXt chunks
    const ascii = JSON.stringify(JSON.parse(text)).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    await Deno.writeFile(
      png,
      pngWith([
        { kind: "tEXt", keyword: "prompt", text: "{}" },
        { kind: "tEXt", keyword: "workflow", text: ascii },
      ]),
    );
    assert.deepEqual(
      await readWorkflow(png),
      await readWorkflow(`${REAL}/templates-qwen_multiangle.json`),
    );
  },
);

/** A small workflow: a core node, a GitHub pack, a subgraph nested two deep with a model. */
function builtWorkflow(): string {
  const inner = {
    id: "bbbb",
    name: "Inner",
    nodes: [{
      type: "VAELoader",
      properties: {
        cnr_id: "comfy-core",
        ver: "0.3.10",
        models: [{
          name: "ae.safetensors",
          url: "https://huggingface.co/o/r/resolve/main/ae.safetensors",
          directory: "vae",
        }],
      },
      widgets_values: ["ae.safetensors"],
    }],
  };
  const outer = {
    id: "aaaa",
    name: "Outer",
    definitions: { subgraphs: [inner] },
    nodes: [{
      type: "bbbb",
      properties: { cnr_id: "comfy-core", ver: "0.3.9" },
    }, {
      type: "CheckpointLoaderSimple",
      properties: { cnr_id: "comfy-core", ver: "0.3.9" },
      widgets_values: ["sd15/model.ckpt"],
    }],
  };
  return JSON.stringify({
    nodes: [
      { type: "aaaa", properties: { cnr_id: "comfy-core", ver: "0.3.2" } },
      { type: "Foo", properties: { aux_id: "someone/pack", ver: "abc123" } },
      {
        type: "Bar",
        properties: { cnr_id: "comfyui-bar", ver: "1.2.0" },
        widgets_values: { model: "x.gguf", n: 3 },
      },
      { type: "LoadImage", widgets_values: ["photo.png", "image"] },
    ],
    definitions: { subgraphs: [outer] },
  });
}

Deno.test("parseWorkflow() walks nested subgraphs, packs and widget files", () => {
  const wf = parseWorkflow(builtWorkflow(), "w.json");
  assert.equal(wf.subgraphs, 2);
  assert.deepEqual(wf.comfyui, {
    version: "0.3.10",
    versions: ["0.3.2", "0.3.9", "0.3.10"],
  });
  assert.deepEqual(wf.models, [{
    name: "ae.safetensors",
    url: "https://huggingface.co/o/r/resolve/main/ae.safetensors",
    directory: "vae",
    nodeTypes: ["VAELoader"],
  }]);
  assert.deepEqual(
    wf.packs,
    [
      {
        id: "someone/pack",
        source: "github",
        versions: ["abc123"],
        nodeTypes: ["Foo"],
      },
      {
        id: "comfyui-bar",
        source: "registry",
        versions: ["1.2.0"],
        nodeTypes: ["Bar"],
      },
    ],
  );
  assert.deepEqual(wf.widgetModels, [
    {
      name: "sd15/model.ckpt",
      nodeType: "CheckpointLoaderSimple",
      directory: "checkpoints",
    },
    { name: "x.gguf", nodeType: "Bar" },
  ]);
});

Deno.test("workflowText() reads tEXt, zTXt, iTXt and compressed iTXt chunks", () => {
  const text = builtWorkflow();
  const unicode = JSON.stringify({
    nodes: [],
    extra: { note: "色调 ünïcode" },
  });
  for (const kind of ["tEXt", "zTXt", "iTXt", "iTXt-z"] as const) {
    const t = kind.startsWith("iTXt") ? unicode : text;
    assert.equal(
      workflowText(pngWith([{ kind, keyword: "workflow", text: t }]), "x.png"),
      t,
      kind,
    );
  }
  // the first "workflow" chunk wins; other keywords are ignored
  const two = pngWith([
    { kind: "tEXt", keyword: "parameters", text: "a1111" },
    { kind: "tEXt", keyword: "workflow", text: "first" },
    { kind: "tEXt", keyword: "workflow", text: "second" },
  ]);
  assert.equal(workflowText(two, "x.png"), "first");
});

function kitError(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KitError, String(e));
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("pngTextChunks() rejects a bad signature, a bad CRC, truncation and bombs", () => {
  const good = pngWith([{
    kind: "tEXt",
    keyword: "workflow",
    text: '{"nodes":[]}',
  }]);
  const badSig = good.slice();
  badSig[1] = 0x51;
  kitError(() => pngTextChunks(badSig, "a.png"), /a\.png: not a PNG file/);
  const badCrc = good.slice();
  badCrc[8 + 25 + 10] = badCrc[8 + 25 + 10]! ^ 0xff; // inside the tEXt chunk after IHDR
  kitError(
    () => pngTextChunks(badCrc, "b.png"),
    /b\.png: CRC mismatch in PNG chunk "tEXt"/,
  );
  kitError(
    () => pngTextChunks(good.subarray(0, good.length - 14), "c.png"),
    /c\.png: truncated PNG chunk "IDAT"/,
  );
  const badType = good.slice();
  badType[33 + 4] = 0x8b;
  kitError(
    () => pngTextChunks(badType, "t.png"),
    /t\.png: damaged PNG: no chunk type at byte 33/,
  );
  kitError(
    () => pngTextChunks(good.subarray(0, 33), "d.png"),
    /d\.png: truncated PNG \(no IEND/,
  );
  // 65 MiB of zeros deflate to 64 KiB: over the 64 MiB limit once inflated
  const zeros = deflateSync(new Uint8Array(65 * 1024 * 1024));
  const ztxt = chunk(
    "zTXt",
    cat(new TextEncoder().encode("workflow\0\0"), zeros),
  );
  const bomb = cat(good.subarray(0, 33), ztxt, good.subarray(33));
  kitError(
    () => pngTextChunks(bomb, "e.png"),
    /e\.png: PNG chunk "zTXt": cannot inflate/,
  );
  kitError(
    () =>
      workflowText(
        pngWith([{ kind: "tEXt", keyword: "prompt", text: "{}" }]),
        "f.png",
      ),
    /f\.png: the PNG has no "workflow" text chunk \(text chunks: "prompt"\)/,
  );
});

Deno.test("parseWorkflow() names the file and field of malformed input", () => {
  const cases: [string, RegExp][] = [
    ["{", /w\.json: invalid JSON: /],
    ["[]", /w\.json: the top level: expected an object/],
    [
      '{"1":{"class_type":"KSampler","inputs":{}}}',
      /"nodes": expected an array \(this is an API-format prompt/,
    ],
    ['{"nodes":[1]}', /w\.json: nodes\[0\]: expected an object/],
    [
      '{"nodes":[{"properties":{"cnr_id":5}}]}',
      /nodes\[0\]\.properties\.cnr_id: expected a string/,
    ],
    [
      '{"nodes":[{"properties":{"models":{}}}]}',
      /nodes\[0\]\.properties\.models: expected an array/,
    ],
    [
      '{"nodes":[{"properties":{"models":[{"url":"x"}]}}]}',
      /nodes\[0\]\.properties\.models\[0\]\.name: expected a file name/,
    ],
    [
      '{"nodes":[],"definitions":{"subgraphs":[{"id":"a","nodes":[{"properties":{"models":[{"name":"m","url":3}]}}]}]}}',
      /definitions\.subgraphs\[0\]\.nodes\[0\]\.properties\.models\[0\]\.url: expected a string/,
    ],
    [
      '{"nodes":[],"definitions":{"subgraphs":[{"id":"a"}]}}',
      /definitions\.subgraphs\[0\]\.nodes: expected an array/,
    ],
  ];
  for (const [text, re] of cases) {
    kitError(() => parseWorkflow(text, "w.json"), re);
  }
});

Deno.test("readWorkflow() fails in one line for a missing file and non-UTF-8 bytes", async () => {
  await using dir = await tmp();
  await assert.rejects(
    readWorkflow(`${dir.path}/nope.json`),
    /nope\.json: cannot read: /,
  );
  await Deno.writeFile(
    `${dir.path}/bin.json`,
    new Uint8Array([0xff, 0xfe, 0x00, 0x81]),
  );
  await assert.rejects(
    readWorkflow(`${dir.path}/bin.json`),
    /bin\.json: neither a PNG nor UTF-8 JSON/,
  );
});

Deno.test("compareVersions() orders dotted numbers numerically", () => {
  assert.deepEqual(
    ["0.3.10", "0.3.9", "0.10.0", "0.3.9.1"].sort(compareVersions),
    [
      "0.3.9",
      "0.3.9.1",
      "0.3.10",
      "0.10.0",
    ],
  );
});
