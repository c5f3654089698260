/**
 * Turns the raw `records` of one partition's Fetch answer into the data records a consumer
 * should see next. A Fetch may start with a batch that begins before the requested offset
 * (Kafka returns whole batches), may end with a partial batch (cut at the size limit), and
 * may hold control batches (transaction markers) that are never shown. The next position
 * moves past every whole batch read, also across offsets missing after compaction. Pure.
 */
import { decodeBatch, type DecodedRecord, iterateBatches } from "../../records/mod.ts";

/** What one partition's fetched bytes hold for a consumer at `position`. */
export interface FetchedRecords {
  /** Data records at or after the position, in offset order, at most `limit`. */
  readonly records: DecodedRecord[];
  /** The offset to fetch next. */
  readonly nextOffset: number;
}

/**
 * The records of `bytes` from `position` on, at most `limit` of them.
 * @throws {FrameDecodeError} on a malformed batch or a bad CRC.
 */
export function fetchedRecords(
  bytes: Uint8Array | null,
  position: number,
  limit = Number.POSITIVE_INFINITY,
): FetchedRecords {
  const records: DecodedRecord[] = [];
  let next = position;
  if (bytes === null) return { records, nextOffset: next };
  for (const frame of iterateBatches(bytes)) {
    const lastOffset = frame.header.baseOffset + frame.header.lastOffsetDelta;
    if (lastOffset < next) continue;
    const batch = decodeBatch(frame.bytes);
    if (!batch.isControl) {
      for (const rec of batch.records) {
        if (rec.offset < next) continue;
        if (records.length >= limit) return { records, nextOffset: next };
        records.push(rec);
        next = rec.offset + 1;
      }
    }
    next = Math.max(next, lastOffset + 1);
  }
  return { records, nextOffset: next };
}
