/**
 * Reading JSON request bodies with a size bound: the body is consumed in chunks and refused
 * with 413 as soon as it passes the limit, so a huge body never sits in memory.
 */
import type { Context } from "hono";
import { HttpErrors } from "./http_error.ts";

/** Largest request body accepted (bytes). */
export const HTTP_BODY_BYTES_MAX = 16 * 1024 * 1024;

/**
 * Reads a JSON object body of at most HTTP_BODY_BYTES_MAX bytes.
 * @throws HttpError 413 when larger, 400 when not a JSON object.
 */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const v = await readJson(c);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw HttpErrors.invalid("Body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

/** Reads a JSON body of at most HTTP_BODY_BYTES_MAX bytes. */
export async function readJson(c: Context): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > HTTP_BODY_BYTES_MAX) {
    throw HttpErrors.tooLarge(`Body exceeds ${HTTP_BODY_BYTES_MAX} bytes`);
  }
  const body = c.req.raw.body;
  if (!body) throw HttpErrors.invalid("A JSON body is required");
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  // Bounded by the size limit: reading stops as soon as it is passed.
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > HTTP_BODY_BYTES_MAX) {
      await reader.cancel();
      throw HttpErrors.tooLarge(`Body exceeds ${HTTP_BODY_BYTES_MAX} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let pos = 0;
  for (const ch of chunks) {
    bytes.set(ch, pos);
    pos += ch.length;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw HttpErrors.badJson((e as Error).message);
  }
}
