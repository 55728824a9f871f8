// A fake Comfy Registry on the fixture server: `GET /nodes/{id}/install?version=` (the latest
// without one) answering { id, version, downloadUrl, deprecated, dependencies }, `GET
// /nodes/{id}/versions` (newest first) and the node.zip files under `/cdn/`; plus builders of
// the node packs the add-node tests use.
import type { FixtureServer } from "./server.ts";
import { json } from "./server.ts";
import { buildZip, type FileSpec } from "./build.ts";

/** One published version of a fake node. */
export interface FakeNodeVersion {
  version: string;
  zip: Uint8Array;
  deprecated?: boolean;
}

/** Mounts the Registry under `${server.url}/registry`; returns its base URL. */
export function mountRegistry(
  server: FixtureServer,
  nodes: Record<string, FakeNodeVersion[]>,
  repositories: Record<string, string> = {},
): string {
  const base = `${server.url}/registry`;
  const find = (id: string, version: string | null) => {
    const versions = nodes[id];
    if (!versions?.length) return undefined;
    return version ? versions.find((v) => v.version === version) : versions[0];
  };
  server.route("GET", /^\/registry\/nodes\/([^/]+)\/install$/, (req, m) => {
    const id = decodeURIComponent(m[1]!);
    const v = find(id, new URL(req.url).searchParams.get("version"));
    if (!v) return json({ message: "node not found" }, 404);
    return json({
      id,
      version: v.version,
      downloadUrl: `${base}/cdn/${id}/${v.version}/node.zip`,
      deprecated: v.deprecated ?? false,
      dependencies: [],
    });
  });
  server.route("GET", /^\/registry\/nodes\/([^/]+)$/, (_req, m) => {
    const id = decodeURIComponent(m[1]!);
    if (!nodes[id] && !repositories[id]) {
      return json({ message: "node not found" }, 404);
    }
    return json({
      id,
      name: id,
      ...(repositories[id] ? { repository: repositories[id] } : {}),
      ...(nodes[id]?.[0]
        ? { latest_version: { version: nodes[id][0].version } }
        : {}),
    });
  });
  server.route("GET", /^\/registry\/nodes\/([^/]+)\/versions$/, (_req, m) => {
    const versions = nodes[decodeURIComponent(m[1]!)];
    if (!versions) return json({ message: "node not found" }, 404);
    return json(
      versions.map((v) => ({
        version: v.version,
        deprecated: v.deprecated ?? false,
      })),
    );
  });
  server.route(
    "GET",
    /^\/registry\/cdn\/([^/]+)\/([^/]+)\/node\.zip$/,
    (_req, m) => {
      const v = find(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      if (!v) return new Response("Not Found", { status: 404 });
      return new Response(v.zip as BodyInit, {
        headers: { "content-type": "application/zip" },
      });
    },
  );
  return base;
}

const MIT = `MIT License

Copyright (c) 2024 Test

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

/** A clean pack with pyproject.toml ([project] + [tool.comfy]); requirements as given. */
export function pyprojectPack(
  name: string,
  version: string,
  dependencies: string[],
): FileSpec[] {
  return [
    {
      path: "pyproject.toml",
      content: `[project]
name = "${name}"
description = "A test node pack"
version = "${version}"
license = { file = "LICENSE" }
dependencies = [${dependencies.map((d) => JSON.stringify(d)).join(", ")}]

[project.urls]
Repository = "https://github.com/test/${name}"

[tool.comfy]
PublisherId = "tester"
DisplayName = "Test ${name}"
requires-comfyui = ">=0.3.0"
`,
    },
    { path: "LICENSE", content: MIT },
    {
      path: "__init__.py",
      content:
        `from .nodes import NODE_CLASS_MAPPINGS\n__all__ = ["NODE_CLASS_MAPPINGS"]\n`,
    },
    { path: "nodes.py", content: `NODE_CLASS_MAPPINGS = {}\n` },
    { path: "web/js/ui.js", content: `// ui\n` },
  ];
}

/** A pack with only requirements.txt, an install.py and a runtime pip: every hazard kind. */
export function hazardousPack(): FileSpec[] {
  return [
    {
      path: "requirements.txt",
      content: `# what the pack needs
numpy>=1.20  # ComfyUI's own
imageio
colorama; sys_platform == "win32"
-r extra-requirements.txt
git+https://github.com/example/thing.git
./vendor/local_pkg
`,
    },
    { path: "extra-requirements.txt", content: "opencv-python-headless\n" },
    { path: "LICENSE", content: MIT },
    {
      path: "install.py",
      content:
        `import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"])\n`,
    },
    {
      path: "__init__.py",
      content: `import os
import subprocess
import urllib.request

here = os.path.dirname(os.path.realpath(__file__))
cache = os.path.join(here, "cache")

try:
    import onnxruntime
except ImportError:
    subprocess.run(["pip", "install", "onnxruntime"])
    print("if this fails, run pip install onnxruntime yourself")

urllib.request.urlretrieve("https://example.com/model.bin", "model.bin")

def setup():
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(here, "config.json"), "w") as f:
        f.write("{}")

NODE_CLASS_MAPPINGS = {}
`,
    },
  ];
}

/** A Registry node.zip of the files: at the top level, or under one directory. */
export function nodeZip(files: FileSpec[], topDir?: string): Uint8Array {
  return buildZip(
    topDir ? files.map((f) => ({ ...f, path: `${topDir}/${f.path}` })) : files,
  );
}
