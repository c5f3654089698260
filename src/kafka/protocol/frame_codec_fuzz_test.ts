/**
 * Fuzzed and truncated frames, seeded with `createPrng` so a failure replays: decoding may
 * only succeed or throw `FrameDecodeError`, truncated frames always fail, and whatever
 * decodes holds no more array elements and string characters than the frame has bytes
 * (nothing is allocated from a length the frame cannot back).
 */
import { equal, fail, ok } from "node:assert/strict";
import { createPrng, FrameDecodeError, type Prng } from "../../util/mod.ts";
import { API_NAMES, API_REGISTRY, type ApiName } from "./api_registry.ts";
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequest,
  encodeResponse,
} from "./frame_codec.ts";
import { sampleValue, versionsOf } from "./_sample_value.ts";

const SEED = 0x5eed_c0de;
const MUTATIONS_PER_FRAME = 40;
const TRUNCATIONS_PER_FRAME = 24;

/** Array elements plus string characters plus bytes in a decoded value. */
function weight(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (v instanceof Uint8Array) return v.length;
  if (Array.isArray(v)) return v.length + v.reduce((s: number, x) => s + weight(x), 0);
  if (typeof v === "object" && v !== null) {
    return Object.values(v).reduce((s: number, x) => s + weight(x), 0);
  }
  return 0;
}

/** Decodes with `decode`; any outcome but success or FrameDecodeError fails the test. */
function tryDecode(what: string, bytes: Uint8Array, decode: (b: Uint8Array) => unknown): boolean {
  let out: unknown;
  try {
    out = decode(bytes);
  } catch (err) {
    if (err instanceof FrameDecodeError) return false;
    fail(`${what}: threw ${String(err)} instead of FrameDecodeError`);
  }
  // Element counts and string lengths are bounded by the bytes that carried them (each
  // element and character took at least one byte); 2x leaves room for nesting overlap.
  ok(weight(out) <= 2 * bytes.length + 64, `${what}: decoded more than the frame holds`);
  return true;
}

function mutate(prng: Prng, src: Uint8Array): Uint8Array {
  const out = src.slice();
  const edits = prng.int(1, 4);
  for (let i = 0; i < edits; i++) {
    const at = prng.int(0, out.length - 1);
    // Favour bytes that turn lengths into extremes.
    out[at] = prng.chance(0.5) ? [0x00, 0x7f, 0x80, 0xff][prng.int(0, 3)] ?? 0 : prng.int(0, 255);
  }
  return out;
}

function fuzzFrames(
  prng: Prng,
  what: string,
  frame: Uint8Array,
  decode: (b: Uint8Array) => unknown,
): void {
  equal(tryDecode(what, frame, decode), true, `${what}: the intact frame must decode`);
  for (let i = 0; i < TRUNCATIONS_PER_FRAME && frame.length > 0; i++) {
    const cut = i < 8 ? Math.max(0, frame.length - 1 - i) : prng.int(0, frame.length - 1);
    equal(tryDecode(`${what} cut@${cut}`, frame.subarray(0, cut), decode), false);
  }
  for (let i = 0; i < MUTATIONS_PER_FRAME; i++) {
    tryDecode(`${what} mutation ${i}`, mutate(prng, frame), decode);
  }
}

Deno.test("decodeRequestFrame survives fuzzed and truncated requests of every API", () => {
  const prng = createPrng(SEED);
  for (const api of API_NAMES) {
    for (const v of versionsOf(API_REGISTRY[api].request)) {
      const body = sampleValue(API_REGISTRY[api].request, v, { mode: "exact" });
      const frame = encodeRequest(api, v, { correlationId: 1, clientId: "fuzz" }, body as never)
        .subarray(4);
      fuzzFrames(prng, `${api} request v${v} (seed ${SEED})`, frame, decodeRequestFrame);
    }
  }
});

Deno.test("decodeResponseFrame survives fuzzed and truncated responses of every API", () => {
  const prng = createPrng(SEED + 1);
  for (const api of API_NAMES) {
    for (const v of versionsOf(API_REGISTRY[api].response)) {
      const body = sampleValue(API_REGISTRY[api].response, v, { mode: "exact" });
      const frame = encodeResponse(api, v, 1, body as never).subarray(4);
      const decode = (b: Uint8Array) => decodeResponseFrame(api as ApiName, v, b);
      fuzzFrames(prng, `${api} response v${v} (seed ${SEED + 1})`, frame, decode);
    }
  }
});

Deno.test("decodeRequestFrame survives random garbage", () => {
  const prng = createPrng(SEED + 2);
  for (let i = 0; i < 3000; i++) {
    const bytes = Uint8Array.from({ length: prng.int(0, 64) }, () => prng.int(0, 255));
    // Aim the garbage at real API keys and versions so bodies are parsed too.
    if (bytes.length >= 4 && prng.chance(0.8)) {
      const api = API_NAMES[prng.int(0, API_NAMES.length - 1)] ?? "Produce";
      const vs = versionsOf(API_REGISTRY[api].request);
      bytes[0] = 0;
      bytes[1] = API_REGISTRY[api].request.apiKey;
      bytes[2] = 0;
      bytes[3] = vs[prng.int(0, vs.length - 1)] ?? 0;
    }
    tryDecode(`garbage ${i} (seed ${SEED + 2})`, bytes, decodeRequestFrame);
  }
});
