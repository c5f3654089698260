/**
 * Branded domain ids. In Pyralog a Raft log position is a Kafka offset and a Raft term is a
 * Kafka leader epoch (DESIGN.md "Consensus and replication"), so both are spelled with the
 * Kafka names and there is no translation layer between them.
 */

declare const brand: unique symbol;
/** A nominal type: a `T` that only a checked constructor can make. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A Kafka offset: the position of a record in a partition log (and a Raft log index). */
export type Offset = Brand<number, "Offset">;
/** A Raft term, stored as the batch's partition leader epoch. */
export type Term = Brand<number, "Term">;
/** A cluster node id (Kafka broker id). */
export type NodeId = Brand<number, "NodeId">;
/** A partition number within a topic. */
export type PartitionId = Brand<number, "PartitionId">;

/** Largest integer a JS number holds exactly; int64 wire values beyond it are refused. */
export const SAFE_INT_MAX = Number.MAX_SAFE_INTEGER;

/** Makes an `Offset` from a non-negative safe integer. */
export function offset(n: number): Offset {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Invalid offset: "${n}"`);
  return n as Offset;
}

/** Makes a `Term` from a non-negative safe integer. */
export function term(n: number): Term {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Invalid term: "${n}"`);
  return n as Term;
}

/** Makes a `NodeId` from a non-negative 32-bit integer. */
export function nodeId(n: number): NodeId {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RangeError(`Invalid node id: "${n}"`);
  }
  return n as NodeId;
}

/** Makes a `PartitionId` from a non-negative 32-bit integer. */
export function partitionId(n: number): PartitionId {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RangeError(`Invalid partition: "${n}"`);
  }
  return n as PartitionId;
}

/**
 * Converts a wire int64 to a number, refusing values a JS number cannot hold exactly.
 * @throws {RangeError} when the value is outside the safe integer range.
 */
export function int64ToNumber(v: bigint): number {
  if (v > BigInt(SAFE_INT_MAX) || v < -BigInt(SAFE_INT_MAX)) {
    throw new RangeError(`Cannot convert int64 "${v}": outside the safe integer range`);
  }
  return Number(v);
}
