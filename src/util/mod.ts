/**
 * Small shared helpers: assertions, error classes, branded ids, a seeded PRNG and the
 * clock interface. Imports nothing else of Pyralog's.
 * @module
 */
export { assert, AssertionError, unreachable } from "./assert.ts";
export {
  FrameDecodeError,
  isNoSpaceError,
  StorageError,
  type StorageErrorCode,
  TransportError,
} from "./errors.ts";
export {
  type Brand,
  int64ToNumber,
  type NodeId,
  nodeId,
  type Offset,
  offset,
  type PartitionId,
  partitionId,
  SAFE_INT_MAX,
  type Term,
  term,
} from "./types.ts";
export { createPrng, type Prng } from "./prng.ts";
export { murmur2, partitionForKey } from "./murmur2.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
