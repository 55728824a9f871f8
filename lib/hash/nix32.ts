// Nix's base32: its own alphabet (no e, o, u, t) and its own bit order, least significant
// bits of the last byte first, so the output is not RFC 4648 base32 of the same bytes.

const ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

/** Length of the Nix base32 encoding of `byteLength` bytes (52 for SHA-256). */
function nix32Length(byteLength: number): number {
  return Math.floor((byteLength * 8 - 1) / 5) + 1;
}

/** Encodes bytes the way `nix-hash --to-base32` does. */
export function encodeNix32(bytes: Uint8Array): string {
  let s = "";
  for (let n = nix32Length(bytes.length) - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const lo = (bytes[i] ?? 0) >> j;
    const hi = i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0;
    s += ALPHABET[(lo | hi) & 0x1f];
  }
  return s;
}

/** Decodes Nix base32 into `byteLength` bytes; returns undefined for an invalid string. */
export function decodeNix32(
  text: string,
  byteLength = 32,
): Uint8Array | undefined {
  if (text.length !== nix32Length(byteLength)) return undefined;
  const out = new Uint8Array(byteLength);
  for (let k = 0; k < text.length; k++) {
    const digit = ALPHABET.indexOf(text[text.length - 1 - k]!);
    if (digit < 0) return undefined;
    const b = k * 5;
    const i = b >> 3;
    const j = b & 7;
    out[i] = out[i]! | ((digit << j) & 0xff);
    const carry = digit >> (8 - j);
    if (i + 1 < byteLength) out[i + 1] = out[i + 1]! | carry;
    else if (carry !== 0) return undefined;
  }
  return out;
}
