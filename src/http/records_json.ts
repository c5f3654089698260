/**
 * How records travel as JSON in the HTTP API. On produce, `encoding` says how keys, values
 * and header values are given: "json" (the default: a string is stored as its UTF-8 text, any
 * other JSON value as its JSON text), "text" (strings only) or "base64" (bytes). On read,
 * `encoding` says how they are returned: "text" (the default; a value that is not valid UTF-8
 * comes back base64 with `"encoding": "base64"` on that record), "json" (parsed JSON where
 * the bytes are JSON, else text) or "base64".
 */
import type { IncomingRecord, OutgoingRecord } from "../cluster/mod.ts";
import { HttpErrors } from "./http_error.ts";

/** Encodings of keys and values on produce. */
export type ProduceEncoding = "json" | "text" | "base64";
/** Encodings of keys and values on read. */
export type ReadEncoding = "text" | "json" | "base64";

const enc = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes of a base64 string. @throws HttpError for invalid base64. */
export function fromBase64(s: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) {
    throw HttpErrors.invalid(`Invalid base64 in ${what}`);
  }
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw HttpErrors.invalid(`Invalid base64 in ${what}`);
  }
}

/** Base64 of bytes. */
export function toBase64(b: Uint8Array): string {
  let s = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < b.length; i += CHUNK) s += String.fromCharCode(...b.subarray(i, i + CHUNK));
  return btoa(s);
}

/** Bytes of a key, value or header value given in `encoding`. */
export function dataBytes(v: unknown, encoding: ProduceEncoding, what: string): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (encoding === "base64") {
    if (typeof v !== "string") throw HttpErrors.invalid(`${what} must be a base64 string`);
    return fromBase64(v, what);
  }
  if (typeof v === "string") return enc.encode(v);
  if (encoding === "text") throw HttpErrors.invalid(`${what} must be a string`);
  return enc.encode(JSON.stringify(v));
}

/**
 * Validates one produce record.
 * @throws HttpError naming the record and field.
 */
export function parseOutgoing(
  raw: unknown,
  i: number,
  encoding: ProduceEncoding,
  nowMs: number,
  maxPartition: number,
): OutgoingRecord {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw HttpErrors.invalid(`records[${i}] must be an object`);
  }
  const r = raw as Record<string, unknown>;
  if (!("value" in r)) {
    throw HttpErrors.invalid(`records[${i}].value is required (null is allowed)`);
  }
  let partition: number | null = null;
  if (r.partition !== undefined && r.partition !== null) {
    if (!Number.isInteger(r.partition) || (r.partition as number) < 0) {
      throw HttpErrors.invalid(`records[${i}].partition must be a non-negative integer`);
    }
    partition = r.partition as number;
    if (maxPartition >= 0 && partition >= maxPartition) {
      throw HttpErrors.invalid(`records[${i}].partition "${partition}" does not exist`);
    }
  }
  let timestampMs = nowMs;
  if (r.timestamp !== undefined && r.timestamp !== null) {
    if (!Number.isSafeInteger(r.timestamp) || (r.timestamp as number) < 0) {
      throw HttpErrors.invalid(`records[${i}].timestamp must be milliseconds since the epoch`);
    }
    timestampMs = r.timestamp as number;
  }
  const headers = [];
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== "object" || Array.isArray(r.headers)) {
      throw HttpErrors.invalid(`records[${i}].headers must be an object of name to value`);
    }
    for (const [key, v] of Object.entries(r.headers as Record<string, unknown>)) {
      headers.push({ key, value: dataBytes(v, encoding, `records[${i}].headers.${key}`) });
    }
  }
  return {
    key: dataBytes(r.key, encoding, `records[${i}].key`),
    value: dataBytes(r.value, encoding, `records[${i}].value`),
    headers,
    timestampMs,
    partition,
  };
}

function render(b: Uint8Array | null, encoding: ReadEncoding): { v: unknown; base64: boolean } {
  if (b === null) return { v: null, base64: false };
  if (encoding === "base64") return { v: toBase64(b), base64: true };
  let text: string;
  try {
    text = strictUtf8.decode(b);
  } catch {
    return { v: toBase64(b), base64: true };
  }
  if (encoding === "json") {
    try {
      return { v: JSON.parse(text), base64: false };
    } catch {
      return { v: text, base64: false };
    }
  }
  return { v: text, base64: false };
}

/** One record as the read API returns it. */
export function recordJson(
  r: IncomingRecord,
  encoding: ReadEncoding,
  topic: string,
  partition: number,
): Record<string, unknown> {
  const key = render(r.key, encoding);
  const value = render(r.value, encoding);
  const headers: Record<string, unknown> = {};
  let base64 = key.base64 || value.base64;
  for (const h of r.headers) {
    const hv = render(h.value, encoding);
    base64 ||= hv.base64;
    headers[h.key] = hv.v;
  }
  const out: Record<string, unknown> = {
    topic,
    partition,
    offset: r.offset,
    timestamp: r.timestampMs,
    key: key.v,
    value: value.v,
    headers,
  };
  if (base64 && encoding !== "base64") {
    // Some bytes were not text: say so, and give every field of this record in base64.
    return { ...recordJson(r, "base64", topic, partition), encoding: "base64" };
  }
  return out;
}
