/**
 * The data model every API schema is written in: a TypeScript transcription of Kafka's
 * message definitions (clients/src/main/resources/common/message/*.json and their README).
 * A schema is plain data (`as const`); the codec interprets it and the types below derive
 * the TypeScript shape of a message from it, so a field is described exactly once.
 *
 * Conventions carried over from the JSON format:
 * - `versions`, `nullableVersions`, `taggedVersions`, `validVersions`, `flexibleVersions`
 *   are version ranges: "3+", "0-2", "5" or "none".
 * - `type` is a primitive name, "[]" + a primitive for arrays of primitives, or a struct
 *   name (optionally "[]" + name) with the struct's `fields` inline.
 * - A field absent in a version takes its `default` (or the type's zero) when decoded, as
 *   Kafka's generated classes do; tagged fields (KIP-482) likewise when not sent.
 * - Field names are camelCase here (the JSON's PascalCase, first letter lowered).
 *
 * This file holds no codec logic.
 */
import { assert } from "../../util/mod.ts";

/** Primitive field types of the protocol guide. */
export type PrimitiveType =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "uuid"
  | "string"
  | "bytes"
  | "records";

/** A default as written in a schema: int64 defaults are written as numbers. */
export type DefaultValue = number | string | boolean | null;

/** One field of a message or struct. */
export interface FieldSpec {
  readonly name: string;
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  readonly default?: DefaultValue;
  readonly about?: string;
  readonly fields?: readonly FieldSpec[];
}

/** A request or response message. */
export interface MessageSpec {
  readonly apiKey: number;
  readonly type: "request" | "response";
  readonly name: string;
  /** The versions Pyralog implements (a subset of Kafka's range; see supported_versions.ts). */
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly FieldSpec[];
}

/** A request schema and its response schema. */
export interface ApiSpec {
  readonly request: MessageSpec;
  readonly response: MessageSpec;
}

/** An inclusive version range; `none` is `{min: 0, max: -1}` (empty). */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 0, max: -1 };
/** Stands for "no upper bound" in ranges such as "3+". */
export const VERSION_UNBOUNDED = 0x7fff;

/**
 * Parses "3+", "0-2", "5" or "none".
 * @throws {AssertionError} on malformed text (a schema bug).
 */
export function parseVersionRange(text: string | undefined): VersionRange {
  if (text === undefined || text === "none") return NONE;
  const plus = /^(\d+)\+$/.exec(text);
  if (plus) return { min: Number(plus[1]), max: VERSION_UNBOUNDED };
  const span = /^(\d+)-(\d+)$/.exec(text);
  if (span) return { min: Number(span[1]), max: Number(span[2]) };
  const one = /^(\d+)$/.exec(text);
  assert(one !== null, `Cannot parse version range "${text}"`);
  return { min: Number(one[1]), max: Number(one[1]) };
}

/** True when `version` lies in `range`. */
export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}

const PRIMITIVES: ReadonlySet<string> = new Set<PrimitiveType>([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "uuid",
  "string",
  "bytes",
  "records",
]);

/** True when `t` names a primitive type. */
export function isPrimitive(t: string): t is PrimitiveType {
  return PRIMITIVES.has(t);
}

// ---- Types derived from schemas -------------------------------------------------------

/** The TypeScript value of a primitive. int64 is a bigint so every wire value is exact. */
export type PrimitiveValue<T extends string> = T extends "bool" ? boolean
  : T extends "int64" ? bigint
  : T extends "string" | "uuid" ? string
  : T extends "bytes" | "records" ? Uint8Array
  : number;

type NullPart<F> = F extends { readonly nullableVersions: string } ? null : never;
type FieldsOf<F> = F extends { readonly fields: infer Fs extends readonly FieldSpec[] } ? Fs
  : readonly [];

/** The decoded value of one field (every field is present after decoding). */
export type FieldValue<F extends FieldSpec> =
  | (F["type"] extends `[]${infer E}`
    ? E extends PrimitiveType ? PrimitiveValue<E>[] : StructValue<FieldsOf<F>>[]
    : F["type"] extends PrimitiveType ? PrimitiveValue<F["type"]>
    : StructValue<FieldsOf<F>>)
  | NullPart<F>;

/** A decoded struct: every field of every version, absent ones holding their default. */
export type StructValue<Fs extends readonly FieldSpec[]> = {
  -readonly [F in Fs[number] as F["name"]]: FieldValue<F>;
};

/** The input accepted by the encoder for one field. */
export type FieldInput<F extends FieldSpec> =
  | (F["type"] extends `[]${infer E}`
    ? E extends PrimitiveType ? readonly PrimitiveValue<E>[] : readonly StructInput<FieldsOf<F>>[]
    : F["type"] extends PrimitiveType ? PrimitiveValue<F["type"]>
    : StructInput<FieldsOf<F>>)
  | NullPart<F>;

type IsRequired<F> = F extends { readonly taggedVersions: string } ? false
  : F extends { readonly versions: "0+" } ? true
  : false;

/**
 * Encoder input: fields that exist in every version ("0+", untagged) are required; fields
 * of later versions and tagged fields may be left out and are then encoded as defaults.
 */
export type StructInput<Fs extends readonly FieldSpec[]> =
  & { readonly [F in Fs[number] as IsRequired<F> extends true ? F["name"] : never]: FieldInput<F> }
  & {
    readonly [F in Fs[number] as IsRequired<F> extends true ? never : F["name"]]?: FieldInput<F>;
  };

/** The decoded value of a whole message. */
export type MessageValue<M extends MessageSpec> = StructValue<M["fields"]>;
/** What the encoder accepts for a whole message. */
export type MessageInput<M extends MessageSpec> = StructInput<M["fields"]>;
