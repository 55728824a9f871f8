// A status line on a terminal (outdated's "checking upstream 3/12 torch") never runs into the
// next message: every message clears it first (issue 22 #35).
import assert from "node:assert/strict";
import { info, statusLine, warn, writeErr } from "../../lib/kit/log.ts";

Deno.test("a message printed while a status line is shown starts on a cleared line (#35)", () => {
  const seen: string[] = [];
  const dec = new TextDecoder();
  const stderr = Deno.stderr as { writeSync(p: Uint8Array): number };
  const savedWrite = stderr.writeSync;
  const c = globalThis.console;
  const savedError = c.error;
  stderr.writeSync = (p: Uint8Array) => {
    seen.push(dec.decode(p));
    return p.length;
  };
  c.error = (...a: unknown[]) => void seen.push(a.join(" ") + "\n");
  try {
    statusLine("checking upstream 1/3 comfyui");
    warn("requirements of comfyui 0.3.75: not in the download cache");
    statusLine("checking upstream 2/3 torch");
    info("requirements: 24 from ComfyUI@v0.3.75/requirements.txt");
    statusLine("checking upstream 3/3 av");
    writeErr("ComfyUI.tar.gz [####----] 1.0 MiB\n");
    statusLine("");
  } finally {
    stderr.writeSync = savedWrite;
    c.error = savedError;
  }
  // What a terminal shows: each \r\x1b[K erases the status line before the message.
  assert.equal(
    seen.join(""),
    "checking upstream 1/3 comfyui" +
      "\r\x1b[Kwarning: requirements of comfyui 0.3.75: not in the download cache\n" +
      "checking upstream 2/3 torch" +
      "\r\x1b[Krequirements: 24 from ComfyUI@v0.3.75/requirements.txt\n" +
      "checking upstream 3/3 av" +
      "\r\x1b[KComfyUI.tar.gz [####----] 1.0 MiB\n",
  );
});
