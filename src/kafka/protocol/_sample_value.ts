/**
 * Test helper: builds sample values from a schema for a given version, so the codec tests
 * cover every API and version without hand-written fixtures. Private to this folder.
 *
 * - `sampleValue(spec, version, "full")`: every field of every version set to a non-default
 *   value (what a careless caller might pass).
 * - `sampleValue(spec, version, "exact")`: fields of `version` as in "full", fields absent
 *   in `version` at their defaults; this is what decoding must give back.
 * - `nulls: true`: fields nullable in `version` are null instead.
 *
 * Defaults are recomputed here from the schema rules (not taken from the codec) so the
 * test checks the codec's default handling independently. Values are derived from the field
 * path, so "full" and "exact" agree on every field present in the version.
 */
import { inRange, parseVersionRange } from "./message_spec.ts";
import type { FieldSpec, MessageSpec } from "./message_spec.ts";

/** How a sample is built. */
export interface SampleOptions {
  readonly mode: "full" | "exact";
  readonly nulls?: boolean;
}

/** A sample message body for `spec` at `version`. */
export function sampleValue(
  spec: MessageSpec,
  version: number,
  opts: SampleOptions,
): Record<string, unknown> {
  return sampleStruct(spec.fields, version, opts, spec.name);
}

function sampleStruct(
  fields: readonly FieldSpec[],
  version: number,
  opts: SampleOptions,
  path: string,
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    const present = inRange(parseVersionRange(f.versions), version);
    const p = `${path}.${f.name}`;
    if (!present && opts.mode === "exact") {
      o[f.name] = defaultOf(f, version);
      continue;
    }
    if (present && opts.nulls && inRange(parseVersionRange(f.nullableVersions), version)) {
      o[f.name] = null;
      continue;
    }
    o[f.name] = sampleField(f, version, opts, p);
  }
  return o;
}

function sampleField(f: FieldSpec, version: number, opts: SampleOptions, p: string): unknown {
  if (f.type.startsWith("[]")) {
    const element = f.type.slice(2);
    return [0, 1].map((i) =>
      f.fields === undefined
        ? samplePrimitive(element, f.default, `${p}[${i}]`)
        : sampleStruct(f.fields, version, opts, `${p}[${i}]`)
    );
  }
  if (f.fields !== undefined) return sampleStruct(f.fields, version, opts, p);
  return samplePrimitive(f.type, f.default, p);
}

/** A small deterministic hash of a path (FNV-1a). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function samplePrimitive(type: string, dflt: unknown, p: string): unknown {
  const h = hash(p);
  switch (type) {
    case "bool":
      return !(dflt === true);
    case "int8":
      return 1 + (h % 100);
    case "int16":
    case "uint16":
      return 1 + (h % 30000);
    case "int32":
      return 100_000 + (h % 1_000_000_000);
    case "uint32":
      return 3_000_000_000 + (h % 1_000_000);
    case "int64":
      return 1_000_000_000_000n + BigInt(h);
    case "float64":
      return h / 7;
    case "uuid":
      return (h.toString(16).padStart(8, "0")).repeat(4);
    case "string":
      // Every third string carries non-ASCII text to cover the UTF-8 path.
      return h % 3 === 0 ? `s-${h.toString(36)}-é✓` : `s-${h.toString(36)}`;
    case "bytes":
      return Uint8Array.from({ length: 1 + (h % 7) }, (_, i) => (h + i) & 0xff);
    case "records":
      return Uint8Array.from({ length: 30 + (h % 20) }, (_, i) => (h >>> (i % 24)) & 0xff);
    default:
      throw new Error(`Cannot sample unknown type "${type}"`);
  }
}

/** The decoded value of a field absent in `version`. */
function defaultOf(f: FieldSpec, version: number): unknown {
  if (f.type.startsWith("[]")) return f.default === null ? null : [];
  if (f.fields !== undefined) {
    const o: Record<string, unknown> = {};
    for (const sub of f.fields) o[sub.name] = defaultOf(sub, version);
    return o;
  }
  const d = f.default;
  if (d === null) return null;
  switch (f.type) {
    case "bool":
      return d === true;
    case "int64":
      return BigInt(typeof d === "number" ? d : 0);
    case "string":
      return typeof d === "string" ? d : "";
    case "uuid":
      return "0".repeat(32);
    case "bytes":
      return new Uint8Array(0);
    case "records":
      return null;
    default:
      return typeof d === "number" ? d : 0;
  }
}

/** Every version in `spec.validVersions`. */
export function versionsOf(spec: MessageSpec): number[] {
  const r = parseVersionRange(spec.validVersions);
  const out: number[] = [];
  for (let v = r.min; v <= r.max; v++) out.push(v);
  return out;
}
