/**
 * LogService.produce over a real TopicStore in a temporary directory: refused batches leave
 * neither data nor producer state behind, and a request's batches for one partition are
 * accepted or refused together.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { buildBatch, buildEndTxnMarkerBatch, decodeBatch, iterateBatches } from "../records/mod.ts";
import { TopicStore } from "../storage/mod.ts";
import { withTempDir } from "../testing/temp_dir.ts";
import { ManualClock } from "../util/mod.ts";
import { LogService } from "./log_service.ts";
import { deleteRecordsBatch } from "./replication/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function withService(fn: (logs: LogService) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { logDefaults: { fsync: "never" }, background: false });
    try {
      await fn(
        new LogService(store, {
          autoCreateTopics: true,
          defaultPartitions: 1,
          clock: new ManualClock(1_700_000_000_000),
        }),
      );
    } finally {
      await store.close();
    }
  });
}

function batch(values: string[], idempotent?: { pid: bigint; seq: number }): Uint8Array {
  return buildBatch({
    records: values.map((v) => ({ value: enc.encode(v), timestampMs: 1_700_000_000_000 })),
    ...(idempotent
      ? { producerId: idempotent.pid, producerEpoch: 0, baseSequence: idempotent.seq }
      : {}),
  });
}

function corrupt(b: Uint8Array): Uint8Array {
  const last = b.length - 1;
  b[last] = (b[last] ?? 0) ^ 0xff;
  return b;
}

function values(logs: LogService, topic: string): string[] {
  const f = logs.fetch(topic, 0, 0, 1 << 20, true);
  if (f.type !== "ok") throw new Error(f.message);
  return [...iterateBatches(f.records)].flatMap((b) =>
    decodeBatch(b.bytes).records.map((r) => dec.decode(r.value ?? undefined))
  );
}

Deno.test("LogService.produce records no producer state for a batch the storage refused", async () => {
  await withService(async (logs) => {
    const id = { pid: 7n, seq: 0 };
    const refused = await logs.produce("t", 0, corrupt(batch(["a", "b"], id)));
    deepStrictEqual([refused.type, refused.type === "error" && refused.kind], ["error", "corrupt"]);
    // The retry of the same sequence is appended, not taken for a duplicate of nothing.
    const retry = await logs.produce("t", 0, batch(["a", "b"], id));
    deepStrictEqual(
      retry.type === "ok" && [retry.baseOffset, retry.duplicate],
      [0, false],
    );
    const again = await logs.produce("t", 0, batch(["a", "b"], id));
    deepStrictEqual(again.type === "ok" && [again.baseOffset, again.duplicate], [0, true]);
    deepStrictEqual(values(logs, "t"), ["a", "b"]);
  });
});

Deno.test("LogService.produce refuses every batch of a partition when one is corrupt", async () => {
  await withService(async (logs) => {
    for (const order of [["bad", "good"], ["good", "bad"]]) {
      const parts = order.map((x) => x === "bad" ? corrupt(batch(["x"])) : batch(["y"]));
      const joined = new Uint8Array((parts[0]?.length ?? 0) + (parts[1]?.length ?? 0));
      joined.set(parts[0] ?? new Uint8Array());
      joined.set(parts[1] ?? new Uint8Array(), parts[0]?.length ?? 0);
      const r = await logs.produce("pair", 0, joined);
      strictEqual(r.type === "error" && r.kind, "corrupt", order.join(","));
    }
    deepStrictEqual(values(logs, "pair"), []);
    const ok = await logs.produce("pair", 0, batch(["z"]));
    strictEqual(ok.type === "ok" && ok.baseOffset, 0);
  });
});

Deno.test("LogService.produce refuses control batches from clients", async () => {
  await withService(async (logs) => {
    // A transaction marker, and a batch shaped like the replicated deletion entry.
    const forged = [
      buildEndTxnMarkerBatch({
        type: "commit",
        producerId: 5n,
        producerEpoch: 0,
        coordinatorEpoch: 0,
        timestampMs: 1_700_000_000_000,
      }),
      deleteRecordsBatch(1),
    ];
    for (const b of forged) {
      const r = await logs.produce("t", 0, b);
      strictEqual(r.type === "error" && r.kind, "invalid_record");
    }
    deepStrictEqual(values(logs, "t"), []);
    const ok = await logs.produce("t", 0, batch(["a"]));
    strictEqual(ok.type === "ok" && ok.baseOffset, 0);
  });
});

Deno.test("LogService.listOffset(-3) finds the first record with the largest timestamp", async () => {
  await withService(async (logs) => {
    logs.store.createTopic("ts", 1);
    deepStrictEqual(logs.listOffset("ts", 0, -3), {
      type: "ok",
      offset: -1,
      timestampMs: -1,
      leaderEpoch: -1,
    });
    const stamps = [[5, 9, 7], [3, 4], [9, 2], [8]];
    for (const [i, list] of stamps.entries()) {
      const b = buildBatch({
        compression: i % 2 === 0 ? "lz4" : "none",
        records: list.map((t) => ({ value: enc.encode(`${t}`), timestampMs: 1_000 + t })),
      });
      strictEqual((await logs.produce("ts", 0, b)).type, "ok");
    }
    // Offsets: 0..2 | 3..4 | 5..6 | 7; the maximum 1009 first appears at offset 1.
    deepStrictEqual(logs.listOffset("ts", 0, -3), {
      type: "ok",
      offset: 1,
      timestampMs: 1_009,
      leaderEpoch: 0,
    });
  });
});
