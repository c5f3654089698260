/**
 * Interprets a `MessageSpec` into an encoder and a decoder for one version, compiled once
 * into closures and cached per (schema, version) so the hot path walks no schema text.
 *
 * Rules applied (Kafka message README and KIP-482):
 * - A field is on the wire in a version when `versions` covers it and `taggedVersions` does
 *   not; a tagged field travels in the tagged-field section at the end of its struct, and
 *   only when its value differs from the default.
 * - In flexible versions strings, bytes, records and arrays use compact encodings (unsigned
 *   varint length + 1, 0 = null) and every struct, the message included, ends with a
 *   tagged-field section. Unknown tags are skipped.
 * - Fields absent in a version decode to their defaults; when encoding, they are ignored
 *   (Kafka's generated code refuses non-default values there; we prefer to drop them so
 *   that one response value can be encoded at any negotiated version).
 * - Null is accepted only in `nullableVersions`; anything else is a bug and asserts.
 *
 * Decoding errors are `FrameDecodeError` only (from `ByteReader`); this file adds no I/O.
 */
import { assert, AssertionError, FrameDecodeError } from "../../util/mod.ts";
import { ByteReader } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";
import {
  type FieldSpec,
  inRange,
  isPrimitive,
  type MessageSpec,
  parseVersionRange,
  type PrimitiveType,
} from "./message_spec.ts";

/** A plain decoded struct. */
export type Struct = Record<string, unknown>;

/** Encoder and decoder of one message at one version. */
export interface VersionCodec {
  readonly spec: MessageSpec;
  readonly version: number;
  /** True when this version uses KIP-482 flexible encodings. */
  readonly flexible: boolean;
  /** Writes the body of `value`. */
  encode(w: ByteWriter, value: Struct): void;
  /**
   * Reads a body.
   * @throws {FrameDecodeError} when the bytes do not hold a valid body.
   */
  decode(r: ByteReader): Struct;
}

/** The compiled form of a type at one version. */
interface TypeCodec {
  decode(r: ByteReader): unknown;
  encode(w: ByteWriter, v: unknown): void;
  /** Fewest bytes one value takes on the wire: bounds array counts before allocating. */
  readonly minBytes: number;
  makeDefault(): unknown;
  isDefault(v: unknown): boolean;
}

interface CompiledField {
  readonly name: string;
  readonly placement: "wire" | "tagged" | "absent";
  readonly tag: number;
  readonly codec: TypeCodec;
}

const cache = new WeakMap<MessageSpec, Map<number, VersionCodec>>();
/** Each tagged field takes at least two bytes on the wire (tag and size varints). */
const TAGGED_FIELD_MIN_BYTES = 2;

/**
 * Returns the codec of `spec` at `version`, compiling it on first use.
 * @throws {AssertionError} when `version` is outside `spec.validVersions` (a caller bug:
 *   the frame layer checks versions before asking).
 */
export function messageCodec(spec: MessageSpec, version: number): VersionCodec {
  let byVersion = cache.get(spec);
  if (byVersion === undefined) {
    byVersion = new Map();
    cache.set(spec, byVersion);
  }
  const hit = byVersion.get(version);
  if (hit !== undefined) return hit;
  assert(
    inRange(parseVersionRange(spec.validVersions), version),
    `${spec.name} has no version ${version}`,
  );
  const flexible = inRange(parseVersionRange(spec.flexibleVersions), version);
  const body = compileStruct(spec.name, spec.fields, version, flexible);
  const codec: VersionCodec = {
    spec,
    version,
    flexible,
    encode: (w, value) => body.encode(w, value),
    decode: (r) => body.decode(r) as Struct,
  };
  byVersion.set(version, codec);
  return codec;
}

function compileStruct(
  structName: string,
  specs: readonly FieldSpec[],
  version: number,
  flexible: boolean,
): TypeCodec {
  const fields: CompiledField[] = specs.map((f) => compileField(structName, f, version, flexible));
  const tagged = fields.filter((f) => f.placement === "tagged").sort((a, b) => a.tag - b.tag);
  const byTag = new Map<number, CompiledField>();
  for (const f of tagged) {
    assert(!byTag.has(f.tag), `${structName}: duplicate tag ${f.tag} in v${version}`);
    byTag.set(f.tag, f);
  }
  let minBytes = flexible ? 1 : 0; // the tagged-field count
  for (const f of fields) if (f.placement === "wire") minBytes += f.codec.minBytes;

  const decode = (r: ByteReader): Struct => {
    const o: Struct = {};
    // Property order is the schema's for every version, so objects share one V8 shape.
    for (const f of fields) {
      o[f.name] = f.placement === "wire" ? f.codec.decode(r) : f.codec.makeDefault();
    }
    if (flexible) readTaggedFields(r, o, byTag);
    return o;
  };
  const encode = (w: ByteWriter, v: unknown): void => {
    if (!(typeof v === "object" && v !== null)) bug(`${structName}: struct value expected`);
    const o = v as Struct;
    for (const f of fields) {
      if (f.placement !== "wire") continue;
      const x = o[f.name];
      f.codec.encode(w, x === undefined ? f.codec.makeDefault() : x);
    }
    if (flexible) writeTaggedFields(w, o, tagged);
  };
  const makeDefault = (): Struct => {
    const o: Struct = {};
    for (const f of fields) o[f.name] = f.codec.makeDefault();
    return o;
  };
  const isDefault = (v: unknown): boolean => {
    if (typeof v !== "object" || v === null) return false;
    const o = v as Struct;
    return fields.every((f) => {
      const x = o[f.name];
      return f.placement === "absent" || x === undefined || f.codec.isDefault(x);
    });
  };
  return { decode, encode, minBytes, makeDefault, isDefault };
}

function compileField(
  structName: string,
  f: FieldSpec,
  version: number,
  flexible: boolean,
): CompiledField {
  const present = inRange(parseVersionRange(f.versions), version);
  const taggedNow = present && inRange(parseVersionRange(f.taggedVersions), version);
  if (f.taggedVersions !== undefined) {
    assert(f.tag !== undefined, `${structName}.${f.name}: tagged field without a tag`);
  }
  assert(!taggedNow || flexible, `${structName}.${f.name}: tagged in a non-flexible version`);
  const nullable = inRange(parseVersionRange(f.nullableVersions), version);
  const where = `${structName}.${f.name}`;
  return {
    name: f.name,
    placement: !present ? "absent" : taggedNow ? "tagged" : "wire",
    tag: f.tag ?? -1,
    codec: compileType(where, f, version, flexible, nullable),
  };
}

function compileType(
  where: string,
  f: FieldSpec,
  version: number,
  flexible: boolean,
  nullable: boolean,
): TypeCodec {
  if (f.type.startsWith("[]")) {
    const elementType = f.type.slice(2);
    const element = isPrimitive(elementType)
      ? primitiveCodec(where, elementType, flexible, false, undefined)
      : compileStruct(where, f.fields ?? [], version, flexible);
    assert(isPrimitive(elementType) || f.fields !== undefined, `${where}: struct without fields`);
    return arrayCodec(where, element, flexible, nullable, f.default);
  }
  if (isPrimitive(f.type)) return primitiveCodec(where, f.type, flexible, nullable, f.default);
  assert(f.fields !== undefined, `${where}: unknown type "${f.type}" without fields`);
  assert(!nullable, `${where}: nullable structs are not supported`);
  return compileStruct(where, f.fields, version, flexible);
}

function arrayCodec(
  where: string,
  element: TypeCodec,
  flexible: boolean,
  nullable: boolean,
  dflt: unknown,
): TypeCodec {
  const defaultIsNull = dflt === null;
  return {
    minBytes: flexible ? 1 : 4,
    decode: (r) => {
      const n = flexible
        ? r.compactArrayLength(nullable, element.minBytes)
        : r.arrayLength(nullable, element.minBytes);
      if (n < 0) return null;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = element.decode(r);
      return out;
    },
    encode: (w, v) => {
      if (v === null) {
        if (!nullable) bug(`${where}: null in a version where it is not nullable`);
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      if (!(Array.isArray(v))) bug(`${where}: array expected`);
      if (flexible) w.uvarint(v.length + 1);
      else w.int32(v.length);
      for (const x of v) element.encode(w, x);
    },
    makeDefault: () => (defaultIsNull ? null : []),
    isDefault: (v) => (defaultIsNull ? v === null : Array.isArray(v) && v.length === 0),
  };
}

/** Converts a schema default to the runtime value of `type`. */
function defaultFor(type: PrimitiveType, dflt: unknown): unknown {
  if (dflt === null) return null;
  switch (type) {
    case "bool":
      return dflt === true || dflt === "true";
    case "int64":
      return BigInt(typeof dflt === "number" || typeof dflt === "string" ? dflt : 0);
    case "string":
      return typeof dflt === "string" ? dflt : "";
    case "uuid":
      return "00000000000000000000000000000000";
    case "bytes":
      return EMPTY_BYTES;
    case "records":
      return null; // Kafka's default for records is null
    default:
      return typeof dflt === "number" ? dflt : Number(dflt ?? 0);
  }
}

const EMPTY_BYTES = new Uint8Array(0);

/** Fixed-width primitives: size on the wire, reader and checked writer. */
interface FixedWidthCodec {
  readonly bytes: number;
  decode(r: ByteReader): unknown;
  encode(w: ByteWriter, v: unknown, where: string): void;
}

const FIXED_WIDTH: Record<Exclude<PrimitiveType, "string" | "bytes" | "records">, FixedWidthCodec> =
  {
    bool: { bytes: 1, decode: (r) => r.bool(), encode: (w, v) => w.bool(v === true) },
    int8: { bytes: 1, decode: (r) => r.int8(), encode: (w, v, at) => w.int8(num(at, v)) },
    int16: { bytes: 2, decode: (r) => r.int16(), encode: (w, v, at) => w.int16(num(at, v)) },
    uint16: { bytes: 2, decode: (r) => r.uint16(), encode: (w, v, at) => w.uint16(num(at, v)) },
    int32: { bytes: 4, decode: (r) => r.int32(), encode: (w, v, at) => w.int32(num(at, v)) },
    uint32: { bytes: 4, decode: (r) => r.uint32(), encode: (w, v, at) => w.uint32(num(at, v)) },
    int64: { bytes: 8, decode: (r) => r.int64(), encode: (w, v, at) => w.int64(big(at, v)) },
    float64: { bytes: 8, decode: (r) => r.float64(), encode: (w, v, at) => w.float64(num(at, v)) },
    uuid: { bytes: 16, decode: (r) => r.uuid(), encode: (w, v, at) => w.uuid(str(at, v)) },
  };

function primitiveCodec(
  where: string,
  type: PrimitiveType,
  flexible: boolean,
  nullable: boolean,
  dflt: unknown,
): TypeCodec {
  const d = defaultFor(type, dflt);
  const base = {
    makeDefault: () => d,
    isDefault: (v: unknown) =>
      v === d || (v instanceof Uint8Array && d instanceof Uint8Array && v.length === 0),
  };
  const checkNull = (v: unknown): void => {
    if (!(v !== null || nullable)) bug(`${where}: null in a version where it is not nullable`);
  };
  if (type !== "string" && type !== "bytes" && type !== "records") {
    const fixed = FIXED_WIDTH[type];
    return {
      ...base,
      minBytes: fixed.bytes,
      decode: fixed.decode,
      encode: (w, v) => fixed.encode(w, v, where),
    };
  }
  switch (type) {
    case "string":
      return {
        ...base,
        minBytes: flexible ? 1 : 2,
        decode: flexible ? (r) => r.compactString(nullable) : (r) => r.string(nullable),
        encode: (w, v) => {
          checkNull(v);
          const s = v === null ? null : str(where, v);
          if (flexible) w.compactString(s);
          else w.string(s);
        },
      };
    case "bytes":
    case "records":
      return {
        ...base,
        minBytes: flexible ? 1 : 4,
        decode: flexible ? (r) => r.compactBytes(nullable) : (r) => r.bytes(nullable),
        encode: (w, v) => {
          checkNull(v);
          if (!(v === null || v instanceof Uint8Array)) bug(`${where}: Uint8Array expected`);
          if (flexible) w.compactBytes(v);
          else w.bytes(v);
        },
      };
  }
}

function num(where: string, v: unknown): number {
  if (!(typeof v === "number")) bug(`${where}: number expected, got ${typeof v}`);
  return v;
}

function big(where: string, v: unknown): bigint {
  if (!(typeof v === "bigint")) bug(`${where}: bigint expected, got ${typeof v}`);
  return v;
}

function str(where: string, v: unknown): string {
  if (!(typeof v === "string")) bug(`${where}: string expected, got ${typeof v}`);
  return v;
}

/** Reads a tagged-field section (KIP-482) into `o`; unknown tags are skipped. */
function readTaggedFields(r: ByteReader, o: Struct, byTag: Map<number, CompiledField>): void {
  const n = r.uvarint();
  if (n * TAGGED_FIELD_MIN_BYTES > r.remaining) {
    throw new FrameDecodeError(
      `Cannot read tagged fields: "${n}" cannot fit in "${r.remaining}" bytes`,
    );
  }
  for (let i = 0; i < n; i++) {
    // Writers emit tags in increasing order (KIP-482); like Kafka's generated readers we do
    // not insist on it, a repeated tag simply overwrites.
    const tag = r.uvarint();
    const size = r.uvarint();
    const f = byTag.get(tag);
    if (f === undefined) r.skip(size, "unknown tagged field");
    else o[f.name] = r.within(size, `tagged field ${tag}`, (sub) => f.codec.decode(sub));
  }
}

/** Writes the tagged-field section: fields whose value differs from their default. */
function writeTaggedFields(w: ByteWriter, o: Struct, tagged: readonly CompiledField[]): void {
  const send = tagged.filter((f) => {
    const x = o[f.name];
    return x !== undefined && !f.codec.isDefault(x);
  });
  w.uvarint(send.length);
  for (const f of send) {
    const scratch = new ByteWriter(64);
    f.codec.encode(scratch, o[f.name]);
    const bytes = scratch.finish();
    w.uvarint(f.tag);
    w.uvarint(bytes.length);
    w.raw(bytes);
  }
}

/**
 * Fails like `assert`, but lets hot paths build the message only when the check fails
 * (an eager template string per field costs more than the field itself).
 * @throws {AssertionError} always.
 */
function bug(message: string): never {
  throw new AssertionError(`Assertion failed: ${message}`);
}
