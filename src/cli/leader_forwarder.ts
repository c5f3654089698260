/**
 * Cluster mode: the HTTP API's produce path for partitions another node leads. It sends the
 * batch to the leader with this node's own Kafka client (bootstrapped from this node, which
 * knows every leader), as the Confluent REST Proxy does with its producer, and maps the Kafka
 * answer back to a `ProduceOutcome`. One client is shared and opened on first use.
 *
 * Must not: keep the client open after `close()`, or retry beyond the client's bound.
 */
import type { PartitionErrorKind, ProduceForwarder, ProduceOutcome } from "../cluster/mod.ts";
import { ErrorCode } from "../kafka/broker/mod.ts";
import { KafkaClient } from "../kafka/client/mod.ts";

/** Kafka error codes of a forwarded produce, as partition error kinds. */
const KINDS: ReadonlyMap<number, PartitionErrorKind> = new Map([
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown_topic"],
  [ErrorCode.NOT_LEADER_OR_FOLLOWER, "not_leader"],
  [ErrorCode.LEADER_NOT_AVAILABLE, "not_leader"],
  [ErrorCode.REQUEST_TIMED_OUT, "timed_out"],
  [ErrorCode.NOT_ENOUGH_REPLICAS, "not_enough_replicas"],
  [ErrorCode.CORRUPT_MESSAGE, "corrupt"],
  [ErrorCode.MESSAGE_TOO_LARGE, "too_large"],
  [ErrorCode.INVALID_RECORD, "invalid_record"],
  [ErrorCode.INVALID_TOPIC_EXCEPTION, "internal_topic"],
]);

/** A forwarder over one lazily opened client; `close()` releases it. */
export class LeaderForwarder {
  readonly #self: { host: string; port: number };
  #client: Promise<KafkaClient> | undefined;

  /** `self`: this node's Kafka listener. */
  constructor(self: { host: string; port: number }) {
    this.#self = self;
  }

  /** The `ProduceForwarder` for the record service. */
  readonly forward: ProduceForwarder = async (topic, partition, batch, acksAll) => {
    let client: KafkaClient;
    try {
      this.#client ??= KafkaClient.connect({ brokers: [this.#self], clientId: "pyralog-forward" });
      client = await this.#client;
    } catch (err) {
      this.#client = undefined; // the next call tries again
      return failed("not_leader", `Cannot reach this node's Kafka listener: ${String(err)}`);
    }
    try {
      const [r] = await client.produce(topic, [{ partition, records: batch }], acksAll ? -1 : 1);
      if (r === undefined) return failed("storage", `No answer for "${topic}-${partition}"`);
      if (r.errorCode === ErrorCode.NONE) {
        return {
          type: "ok",
          baseOffset: r.baseOffset,
          logAppendTimeMs: -1,
          logStartOffset: -1,
          duplicate: false,
        };
      }
      return failed(
        KINDS.get(r.errorCode) ?? "storage",
        r.errorMessage ?? `The leader of "${topic}-${partition}" answered error ${r.errorCode}`,
      );
    } catch (err) {
      return failed(
        "not_leader",
        `Cannot forward to the leader of "${topic}-${partition}": ${err}`,
      );
    }
  };

  /** Closes the client, if one was opened. */
  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c === undefined) return;
    try {
      await (await c).close();
    } catch {
      // It never connected: nothing to release.
    }
  }
}

function failed(kind: PartitionErrorKind, message: string): ProduceOutcome {
  return { type: "error", kind, message };
}
