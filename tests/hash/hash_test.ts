import assert from "node:assert/strict";
import {
  formatHash,
  isPlaceholderHash,
  parseHash,
  sha256Bytes,
  sha256File,
  sha256FileSync,
  toHex,
  toNix32,
  toSri,
  tryParseHash,
} from "../../lib/hash/sha256.ts";
import { decodeNix32, encodeNix32 } from "../../lib/hash/nix32.ts";
import { haveTool, run, tmp } from "../_helpers.ts";

// sha256("hello"), as printed by sha256sum and `nix-hash --flat --type sha256 [--base32]`.
const HELLO = {
  hex: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  nix32: "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic",
  sri: "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
};

Deno.test("sha256Bytes() and the encoders give known vectors", () => {
  const d = sha256Bytes("hello");
  assert.equal(toHex(d), HELLO.hex);
  assert.equal(toNix32(d), HELLO.nix32);
  assert.equal(toSri(d), HELLO.sri);
  assert.equal(formatHash(d, "base64"), HELLO.sri.slice(7));
});

Deno.test("encodeNix32() of the empty-string sha256 matches Nix", () => {
  assert.equal(
    encodeNix32(sha256Bytes("")),
    "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
  );
});

Deno.test("decodeNix32() inverts encodeNix32() and rejects bad input", () => {
  for (let i = 0; i < 50; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    assert.deepEqual(decodeNix32(encodeNix32(bytes)), bytes);
  }
  assert.equal(
    decodeNix32("e".repeat(52)),
    undefined,
    "e is not in Nix's alphabet",
  );
  assert.equal(decodeNix32("0".repeat(51)), undefined);
  assert.equal(
    decodeNix32("z" + "0".repeat(51)),
    undefined,
    "high bits overflow",
  );
});

Deno.test("parseHash() reads every form", () => {
  for (
    const form of [
      HELLO.hex,
      HELLO.hex.toUpperCase(),
      HELLO.nix32,
      HELLO.sri,
      `sha256:${HELLO.nix32}`,
      `sha256:${HELLO.hex}`,
      `sha256:${HELLO.sri.slice(7)}`,
    ]
  ) {
    assert.equal(toHex(parseHash(form)), HELLO.hex, form);
  }
  assert.throws(() => parseHash("sha256-short"), /Not a SHA-256 hash/);
  assert.equal(tryParseHash("md5:abc"), undefined);
});

Deno.test("isPlaceholderHash() recognises fakeHash forms only", () => {
  assert.ok(isPlaceholderHash("lib.fakeHash"));
  assert.ok(isPlaceholderHash(`sha256-${"A".repeat(43)}=`));
  assert.ok(isPlaceholderHash("0".repeat(52)));
  assert.ok(isPlaceholderHash(""));
  assert.ok(!isPlaceholderHash(HELLO.sri));
});

Deno.test("sha256File() and sha256FileSync() agree with nix-hash --flat on sizes around block and read-chunk edges", async (t) => {
  if (!haveTool("nix-hash")) return;
  await using dir = await tmp();
  const MiB = 1 << 20;
  for (
    const size of [
      0,
      1,
      7,
      8,
      55,
      56,
      63,
      64,
      65,
      1 << 16,
      MiB - 1,
      MiB,
      MiB + 3,
      2 * MiB,
      2 * MiB + 1,
    ]
  ) {
    await t.step(`${size} bytes`, async () => {
      const path = `${dir.path}/f${size}`;
      const bytes = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
      await Deno.writeFile(path, bytes);
      const r = await run("nix-hash", [
        "--type",
        "sha256",
        "--flat",
        "--base32",
        path,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(toNix32(await sha256File(path)), r.stdout.trim());
      assert.equal(toNix32(sha256FileSync(path)), r.stdout.trim());
    });
  }
});
