/**
 * handleFetch in process over a real TopicStore: a long poll returns as soon as data arrives
 * and leaves nothing behind on the connection (no pending timer, no listener per poll on the
 * connection's long-lived abort signal), waits out its time when nothing comes, and ends
 * early when the connection closes.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { buildBatch, iterateBatches } from "../../../records/mod.ts";
import { TopicStore } from "../../../storage/mod.ts";
import { withTempDir } from "../../../testing/temp_dir.ts";
import type { RequestOf } from "../../protocol/mod.ts";
import type { BrokerContext, RequestContext } from "../broker_context.ts";
import { startKafkaBroker } from "../kafka_broker.ts";
import { handleFetch } from "./fetch.ts";

const enc = new TextEncoder();

async function withBroker(fn: (b: BrokerContext) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { logDefaults: { fsync: "never" }, background: false });
    const broker = startKafkaBroker(store, {
      nodeId: 0,
      host: "127.0.0.1",
      port: 0,
      log: () => {},
    });
    try {
      await fn(broker.context);
    } finally {
      await broker.close();
      await store.close();
    }
  });
}

function fetchRequest(offset: number, maxWaitMs: number): RequestOf<"Fetch"> {
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic: "t",
      topicId: "00000000000000000000000000000000",
      partitions: [{
        partition: 0,
        currentLeaderEpoch: -1,
        fetchOffset: BigInt(offset),
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: 1 << 20,
        replicaDirectoryId: "00000000000000000000000000000000",
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  } as unknown as RequestOf<"Fetch">;
}

/** An AbortSignal that counts the listeners added to it and still attached. */
function countingSignal(signal: AbortSignal): { signal: AbortSignal; attached: () => number } {
  type Args = Parameters<AbortSignal["addEventListener"]>;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  Object.defineProperty(signal, "addEventListener", {
    value: (...args: Args) => {
      live.add(args[1]);
      add(...args);
    },
  });
  Object.defineProperty(signal, "removeEventListener", {
    value: (...args: Args) => {
      live.delete(args[1]);
      remove(...args);
    },
  });
  return { signal, attached: () => live.size };
}

function ctxOf(broker: BrokerContext, signal: AbortSignal): RequestContext {
  return {
    broker,
    header: { apiKey: 1, apiVersion: 11, correlationId: 1, clientId: "t" },
    version: 11,
    signal,
  };
}

async function produce(b: BrokerContext, value: string): Promise<void> {
  const r = await b.logs.produce("t", 0, buildBatch({ records: [{ value: enc.encode(value) }] }));
  strictEqual(r.type, "ok");
}

function recordCount(res: unknown): number {
  const body = res as { responses: Array<{ partitions: Array<{ records: Uint8Array | null }> }> };
  const recs = body.responses[0]?.partitions[0]?.records ?? new Uint8Array();
  return [...iterateBatches(recs)].reduce((n, b) => n + b.header.recordCount, 0);
}

Deno.test("handleFetch long polls end on data without leaving timers or signal listeners", async () => {
  await withBroker(async (b) => {
    await produce(b, "a");
    const conn = countingSignal(new AbortController().signal);
    // Many polls on one connection, each woken by new data long before its 20 s wait ends:
    // the ops sanitizer fails this test if a poll leaves its timer running.
    for (let i = 1; i <= 50; i++) {
      const poll = handleFetch(fetchRequest(i, 20_000), ctxOf(b, conn.signal));
      await produce(b, `v${i}`);
      strictEqual(recordCount(await poll), 1);
    }
    strictEqual(conn.attached(), 0, "listeners left on the connection's signal");
  });
});

Deno.test("handleFetch waits out maxWaitMs when no data comes, and ends when the connection closes", async () => {
  await withBroker(async (b) => {
    await produce(b, "a");
    const open = new AbortController();
    const t0 = performance.now();
    strictEqual(recordCount(await handleFetch(fetchRequest(1, 50), ctxOf(b, open.signal))), 0);
    ok(performance.now() - t0 >= 40, "the poll waited");
    const closing = new AbortController();
    const poll = handleFetch(fetchRequest(1, 20_000), ctxOf(b, closing.signal));
    closing.abort();
    deepStrictEqual(recordCount(await poll), 0);
  });
});

/**
 * Runs `polls` long polls on one connection, each woken by new data, and returns how much
 * the heap grew (after a full GC; needs --expose-gc). Run by the test below in a child.
 */
async function pollHeapGrowthBytes(polls: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("Run with --v8-flags=--expose-gc");
  let growth = 0;
  await withBroker(async (b) => {
    const conn = new AbortController();
    const round = async (i: number) => {
      const poll = handleFetch(fetchRequest(i, 20_000), ctxOf(b, conn.signal));
      await produce(b, "x");
      await poll;
    };
    await produce(b, "x");
    for (let i = 1; i <= 200; i++) await round(i); // warm up
    gc();
    const before = Deno.memoryUsage().heapUsed;
    for (let i = 201; i <= 200 + polls; i++) await round(i);
    gc();
    growth = Deno.memoryUsage().heapUsed - before;
  });
  return growth;
}

if (import.meta.main) console.log(await pollHeapGrowthBytes(Number(Deno.args[0] ?? "1000")));

Deno.test("handleFetch long polls retain no memory per poll on a long-lived connection", async () => {
  const polls = 20_000;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--v8-flags=--expose-gc", import.meta.filename ?? "", `${polls}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
  const bytes = Number(text);
  // Stored records grow the heap a little (indexes); a retained signal per poll is ~2 KB.
  ok(bytes < polls * 250, `heap grew by ${bytes} bytes over ${polls} polls`);
});

Deno.test("handleFetch v13 finds topics by id, also after one is deleted and recreated", async () => {
  await withBroker(async (b) => {
    const idOf = (name: string) =>
      (b.store.topic(name)?.id ?? "").replaceAll("-", "").toLowerCase();
    const byId = async (topicId: string) => {
      const req = fetchRequest(0, 0);
      const t = req.topics[0];
      if (!t) throw new Error("no topic in the request");
      const res = await handleFetch(
        { ...req, topics: [{ ...t, topicId }] },
        { ...ctxOf(b, new AbortController().signal), version: 13 },
      );
      const p =
        (res as unknown as { responses: Array<{ partitions: Array<{ errorCode: number }> }> })
          .responses[0]?.partitions[0];
      return [p?.errorCode, recordCount(res)];
    };
    await produce(b, "a");
    const first = idOf("t");
    deepStrictEqual(await byId(first), [0, 1]);
    // A topic created later is found (the id map is rebuilt on a miss).
    await b.logs.produce("u", 0, buildBatch({ records: [{ value: enc.encode("u") }] }));
    deepStrictEqual(await byId(idOf("u")), [0, 1]);
    // Deleted and recreated under the same name: the old id is unknown, the new one reads.
    await b.store.deleteTopic("t");
    b.store.createTopic("t", 1);
    await produce(b, "b");
    await produce(b, "c");
    deepStrictEqual(await byId(first), [100, 0]);
    deepStrictEqual(await byId(idOf("t")), [0, 2]);
    deepStrictEqual(await byId("0123456789abcdef0123456789abcdef"), [100, 0]);
  });
});
