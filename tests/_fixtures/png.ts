// Builds real PNG files for tests: a 1×1 image with text chunks (tEXt, zTXt, iTXt), every CRC
// computed, so the parser is tested against bytes a PNG writer would produce.
import { crc32, deflateSync } from "node:zlib";

/** A text chunk to embed. */
export interface TextChunk {
  kind: "tEXt" | "zTXt" | "iTXt" | "iTXt-z";
  keyword: string;
  text: string;
}

const enc = new TextEncoder();

/** One chunk: length, type, data, CRC over type + data. */
export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(enc.encode(type), 4);
  out.set(data, 8);
  view.setUint32(
    8 + data.length,
    crc32(out.subarray(4, 8 + data.length)) >>> 0,
  );
  return out;
}

/** The bytes of `parts`, one after another. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

function textData(c: TextChunk): Uint8Array {
  const key = cat(latin1(c.keyword), new Uint8Array([0]));
  switch (c.kind) {
    case "tEXt":
      return cat(key, latin1(c.text));
    case "zTXt":
      return cat(key, new Uint8Array([0]), deflateSync(latin1(c.text)));
    case "iTXt":
    case "iTXt-z": {
      const z = c.kind === "iTXt-z";
      const body = z ? deflateSync(enc.encode(c.text)) : enc.encode(c.text);
      // flag, method, language "", translated keyword ""
      return cat(key, new Uint8Array([z ? 1 : 0, 0, 0, 0]), body);
    }
  }
}

/** A 1×1 grey PNG carrying `texts`, in order, before the image data. */
export function pngWith(texts: TextChunk[]): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, 1);
  v.setUint32(4, 1);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  return cat(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...texts.map((t) =>
      chunk(t.kind === "iTXt-z" ? "iTXt" : t.kind, textData(t))
    ),
    chunk("IDAT", deflateSync(new Uint8Array([0, 0x80]))),
    chunk("IEND", new Uint8Array()),
  );
}
