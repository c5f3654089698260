import { strictEqual } from "node:assert/strict";
import { crc32c } from "./crc32c.ts";

const enc = new TextEncoder();

// Check values from RFC 3720 (iSCSI) Appendix B.4 and the common "123456789" check value.
Deno.test("crc32c matches the published check value for '123456789'", () => {
  strictEqual(crc32c(enc.encode("123456789")), 0xe3069283);
});

Deno.test("crc32c matches RFC 3720 B.4 vectors", () => {
  strictEqual(crc32c(new Uint8Array(32)), 0x8a9136aa);
  strictEqual(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
  strictEqual(crc32c(inc), 0x46dd794e);
  const dec = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
  strictEqual(crc32c(dec), 0x113fdb5c);
});

Deno.test("crc32c of empty input is 0 and chaining equals one pass", () => {
  strictEqual(crc32c(new Uint8Array(0)), 0);
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131) & 0xff);
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    strictEqual(crc32c(data, crc32c(data, 0, 0, cut), cut), whole);
  }
});

Deno.test("crc32c slicing path agrees with a bytewise reference on many lengths", () => {
  const ref = (b: Uint8Array) => {
    let c = ~0 >>> 0;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return ~c >>> 0;
  };
  for (let n = 0; n < 70; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    strictEqual(crc32c(b), ref(b), `length ${n}`);
  }
});

Deno.test("crc32c word path agrees with the bytewise reference at every alignment and length", () => {
  const ref = (b: Uint8Array) => {
    let c = ~0 >>> 0;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return ~c >>> 0;
  };
  const big = Uint8Array.from({ length: 600 }, (_, i) => (i * 97 + 13) & 0xff);
  for (let off = 0; off < 8; off++) {
    for (const len of [63, 64, 65, 67, 128, 131, 200, 511]) {
      const view = big.subarray(off, off + len);
      strictEqual(crc32c(view), ref(view), `offset ${off} length ${len}`);
      // Ranges and chaining through the word path.
      if (len > 70) {
        strictEqual(crc32c(big, crc32c(big, 0, off, off + 70), off + 70, off + len), ref(view));
      }
    }
  }
});
