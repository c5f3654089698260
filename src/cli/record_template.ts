/**
 * Output templates for `pyralog consume -f`, in kcat's `-f` syntax: `%t` topic, `%p`
 * partition, `%o` offset, `%k` key, `%s` value, `%T` timestamp (ms), `%h` headers as
 * `k=v,k=v`, `%K` key length, `%S` value length (-1 for null), `%%` a percent sign, and the
 * escapes `\n`, `\t`, `\r`, `\\`. A template is compiled once into a list of parts, so
 * printing a record is a join, not a parse. Keys and values are decoded as UTF-8 (invalid
 * bytes become U+FFFD); a null key or value prints as nothing, as kcat prints it. Pure.
 */

/** A record as the consumer hands it to a template. */
export interface OutputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: ReadonlyArray<{ key: string; value: Uint8Array | null }>;
}

/** The default template: the value, one per line. */
export const DEFAULT_TEMPLATE = "%s\\n";

type Part = string | ((r: OutputRecord) => string);

const decoder = new TextDecoder();

function text(b: Uint8Array | null): string {
  return b === null ? "" : decoder.decode(b);
}

const FIELDS: Readonly<Record<string, (r: OutputRecord) => string>> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.offset),
  k: (r) => text(r.key),
  s: (r) => text(r.value),
  T: (r) => String(r.timestampMs),
  h: (r) => r.headers.map((h) => `${h.key}=${text(h.value)}`).join(","),
  K: (r) => String(r.key === null ? -1 : r.key.length),
  S: (r) => String(r.value === null ? -1 : r.value.length),
};

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", "\\": "\\" };

/**
 * Compiles `template` into a formatter.
 * @throws {RangeError} on an unknown `%` field, naming it.
 */
export function compileTemplate(template: string): (r: OutputRecord) => string {
  const parts: Part[] = [];
  let literal = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i] ?? "";
    const next = template[i + 1];
    if (c === "%" && next !== undefined) {
      i++;
      if (next === "%") {
        literal += "%";
        continue;
      }
      const field = FIELDS[next];
      if (field === undefined) throw new RangeError(`Unknown format field "%${next}"`);
      if (literal !== "") parts.push(literal);
      literal = "";
      parts.push(field);
    } else if (c === "\\" && next !== undefined && ESCAPES[next] !== undefined) {
      literal += ESCAPES[next];
      i++;
    } else {
      literal += c;
    }
  }
  if (literal !== "") parts.push(literal);
  return (r) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p(r);
    return out;
  };
}

/** A record as one JSON line (`--json`): key, value and header values as UTF-8 text. */
export function recordJson(r: OutputRecord): string {
  return `${
    JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestampMs,
      key: r.key === null ? null : text(r.key),
      value: r.value === null ? null : text(r.value),
      headers: r.headers.map((h) => ({
        key: h.key,
        value: h.value === null ? null : text(h.value),
      })),
    })
  }\n`;
}
