// PNG text chunks, read the way ComfyUI writes them: the server's SaveImage stores the workflow in a
// `tEXt` chunk (Pillow's PngInfo.add_text; it switches to `iTXt` for text that is not Latin-1), and
// other tools use `zTXt` or compressed `iTXt`. Signature and every chunk CRC are checked.
import { crc32, inflateSync } from "node:zlib";
import { KitError } from "../kit/errors.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The largest text a chunk may inflate to (a workflow is kilobytes; this stops a zip bomb). */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** True when `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * The text chunks of a PNG (`tEXt`, `zTXt`, `iTXt`) as keyword → text, the first of each keyword
 * winning. Throws a `KitError` naming `file` for a bad signature, a truncated chunk or a CRC mismatch.
 */
export function pngTextChunks(
  bytes: Uint8Array,
  file: string,
): Map<string, string> {
  if (!isPng(bytes)) {
    throw new KitError(`${file}: not a PNG file (bad signature)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const texts = new Map<string, string>();
  let p = SIGNATURE.length;
  for (;;) {
    if (p + 12 > bytes.length) {
      throw new KitError(`${file}: truncated PNG (no IEND chunk)`);
    }
    const length = view.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) {
      throw new KitError(`${file}: damaged PNG: no chunk type at byte ${p}`);
    }
    const end = p + 8 + length;
    if (length > 0x7fffffff || end + 4 > bytes.length) {
      throw new KitError(
        `${file}: truncated PNG chunk "${type}" at byte ${p}`,
      );
    }
    const crc = crc32(bytes.subarray(p + 4, end)) >>> 0;
    if (crc !== view.getUint32(end)) {
      throw new KitError(
        `${file}: CRC mismatch in PNG chunk "${type}" at byte ${p}`,
      );
    }
    const data = bytes.subarray(p + 8, end);
    if (type === "IEND") return texts;
    const text = decodeTextChunk(type, data, `${file}: PNG chunk "${type}"`);
    if (text !== undefined && !texts.has(text[0])) texts.set(text[0], text[1]);
    p = end + 4;
  }
}

/** [keyword, text] of a text chunk, or undefined for another chunk type. */
function decodeTextChunk(
  type: string,
  data: Uint8Array,
  where: string,
): [string, string] | undefined {
  if (type !== "tEXt" && type !== "zTXt" && type !== "iTXt") return undefined;
  const nul = data.indexOf(0);
  if (nul < 1) throw new KitError(`${where}: no keyword`);
  const keyword = latin1(data.subarray(0, nul));
  const rest = data.subarray(nul + 1);
  if (type === "tEXt") return [keyword, lenientText(rest)];
  if (type === "zTXt") {
    if (rest[0] !== 0) {
      throw new KitError(`${where}: unknown compression method`);
    }
    return [keyword, lenientText(inflate(rest.subarray(1), where))];
  }
  // iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text
  const compressed = rest[0] === 1;
  const lang = rest.indexOf(0, 2);
  const translated = lang < 0 ? -1 : rest.indexOf(0, lang + 1);
  if (rest.length < 2 || translated < 0) {
    throw new KitError(`${where}: malformed iTXt header`);
  }
  const body = rest.subarray(translated + 1);
  const raw = compressed ? inflate(body, where) : body;
  return [keyword, utf8(raw, where)];
}

function inflate(data: Uint8Array, where: string): Uint8Array {
  try {
    return inflateSync(data, { maxOutputLength: MAX_TEXT_BYTES });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new KitError(`${where}: cannot inflate: ${why.split("\n")[0]}`);
  }
}

function latin1(b: Uint8Array): string {
  return new TextDecoder("latin1").decode(b);
}

function utf8(b: Uint8Array, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    throw new KitError(`${where}: text is not valid UTF-8`);
  }
}

// tEXt is Latin-1 by the spec, but browser-side exporters write UTF-8 into it: take UTF-8 when the
// bytes are valid UTF-8 (pure ASCII, as ComfyUI's json.dumps writes, reads the same either way).
function lenientText(b: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return latin1(b);
  }
}
