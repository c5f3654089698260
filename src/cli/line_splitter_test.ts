/** Tests of the produce input splitter: lines across chunks, the last line, bounds, keys. */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { LineSplitter, splitKey } from "./line_splitter.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const texts = (lines: Uint8Array[]) => lines.map((l) => dec.decode(l));

Deno.test("LineSplitter joins lines split across chunks and keeps empty lines", () => {
  const s = new LineSplitter();
  deepStrictEqual(texts(s.push(enc.encode("ab\ncd"))), ["ab"]);
  deepStrictEqual(texts(s.push(enc.encode("e\n\nf"))), ["cde", ""]);
  deepStrictEqual(texts([s.end() ?? new Uint8Array()]), ["f"]);
});

Deno.test("LineSplitter: a final newline leaves no extra empty line", () => {
  const s = new LineSplitter();
  deepStrictEqual(texts(s.push(enc.encode("a\nb\n"))), ["a", "b"]);
  strictEqual(s.end(), null);
});

Deno.test("LineSplitter refuses a line over the bound, naming its number", () => {
  const s = new LineSplitter(4);
  deepStrictEqual(texts(s.push(enc.encode("1234\n"))), ["1234"]);
  throws(() => s.push(enc.encode("12345")), /Cannot read line 2: longer than 4 bytes/);
});

Deno.test("splitKey splits at the first separator; no separator means no key", () => {
  const { key, value } = splitKey(enc.encode("k::v::w"), enc.encode("::"));
  strictEqual(dec.decode(key ?? new Uint8Array()), "k");
  strictEqual(dec.decode(value), "v::w");
  strictEqual(splitKey(enc.encode("plain"), enc.encode(":")).key, null);
  strictEqual(dec.decode(splitKey(enc.encode(":v"), enc.encode(":")).key ?? enc.encode("x")), "");
});
