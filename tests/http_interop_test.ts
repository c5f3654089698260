/**
 * The HTTP API over a real socket of a real node, interoperating with a real Kafka client:
 * a record produced over HTTP is consumed with kcat and the reverse, and /metrics of the
 * live node passes `promtool check metrics` (Debian's prometheus package).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { startPyralog } from "./helpers/pyralog_process.ts";

async function run(
  cmd: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const r = await child.output();
  clearTimeout(timer);
  return {
    code: r.code,
    out: new TextDecoder().decode(r.stdout),
    err: new TextDecoder().decode(r.stderr),
  };
}

Deno.test("HTTP produce is read by kcat, kcat produce is read over HTTP, /metrics passes promtool", async () => {
  const node = await startPyralog();
  try {
    const base = `http://127.0.0.1:${node.httpPort}`;
    const created = await fetch(`${base}/v1/topics`, {
      method: "POST",
      body: JSON.stringify({ name: "web", partitions: 1 }),
    });
    strictEqual(created.status, 201);
    await created.body?.cancel();
    const produced = await fetch(`${base}/v1/topics/web/records`, {
      method: "POST",
      body: JSON.stringify({
        records: [{ key: "k1", value: "from-http", headers: { src: "http" } }],
      }),
    });
    strictEqual(produced.status, 200);
    deepStrictEqual(await produced.json(), { offsets: [{ partition: 0, offset: 0 }] });

    const kc = await run("kcat", [
      "-b",
      node.bootstrap,
      "-C",
      "-t",
      "web",
      "-e",
      "-q",
      "-f",
      "%k=%s %h\\n",
    ]);
    strictEqual(kc.code, 0, kc.err);
    strictEqual(kc.out, "k1=from-http src=http\n");

    const kp = await run(
      "kcat",
      ["-b", node.bootstrap, "-P", "-t", "web", "-K", ":"],
      "k2:from-kcat\n",
    );
    strictEqual(kp.code, 0, kp.err);
    const read = await fetch(`${base}/v1/topics/web/partitions/0/records?offset=1&wait_ms=5000`);
    const body = await read.json() as {
      records: Array<{ key: string; value: string; offset: number }>;
    };
    deepStrictEqual(body.records.map((r) => [r.offset, r.key, r.value]), [[1, "k2", "from-kcat"]]);

    // min.insync.replicas is applied: acks=all needs 2 in-sync replicas, this node has 1.
    const isr = await fetch(`${base}/v1/topics`, {
      method: "POST",
      body: JSON.stringify({ name: "isr2", configs: { "min.insync.replicas": "2" } }),
    });
    await isr.body?.cancel();
    const kafka = new Kafka({
      brokers: [node.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      let refused = "";
      await producer.send({ topic: "isr2", acks: -1, messages: [{ value: "x" }] }).catch(
        (e: Error) => {
          refused = (e as Error & { type?: string }).type ?? e.message;
        },
      );
      // kafkajs's text for error code 19 NOT_ENOUGH_REPLICAS.
      ok(refused.includes("fewer in-sync replicas than required"), refused);
      const sent = await producer.send({ topic: "isr2", acks: 1, messages: [{ value: "y" }] });
      strictEqual(sent[0]?.errorCode, 0);
    } finally {
      await producer.disconnect();
    }

    const metrics = await (await fetch(`${base}/metrics`)).text();
    ok(metrics.includes('pyralog_partition_log_end_offset{topic="web",partition="0"} 2'), metrics);
    ok(/^pyralog_kafka_request_errors_total\{api="Produce"\} [1-9]/m.test(metrics), metrics);
    ok(/^pyralog_kafka_requests_total\{api="Produce"\} [1-9]/m.test(metrics), metrics);
    ok(/^pyralog_kafka_requests_total\{api="Fetch"\} [1-9]/m.test(metrics), metrics);
    ok(metrics.includes('pyralog_kafka_request_duration_seconds_count{api="Metadata"}'), metrics);
    ok(metrics.includes('pyralog_topic_records_in_total{topic="web"} 2'), metrics);
    ok(/^pyralog_topic_records_out_total\{topic="web"\} [1-9]/m.test(metrics), metrics);
    ok(/^pyralog_kafka_connections \d+$/m.test(metrics), metrics);
    const prom = await run("promtool", ["check", "metrics"], metrics);
    strictEqual(prom.code, 0, `promtool: ${prom.out}${prom.err}`);
  } finally {
    await node.stop();
  }
});

Deno.test("HTTP shows a live kcat group member's assignment and its committed offsets", async () => {
  const node = await startPyralog();
  const base = `http://127.0.0.1:${node.httpPort}`;
  let kcat: Deno.ChildProcess | null = null;
  try {
    const created = await fetch(`${base}/v1/topics`, {
      method: "POST",
      body: JSON.stringify({ name: "grp", partitions: 2 }),
    });
    await created.body?.cancel();
    const produced = await fetch(`${base}/v1/topics/grp/records`, {
      method: "POST",
      body: JSON.stringify({
        records: [{ value: "a", partition: 0 }, { value: "b", partition: 1 }],
      }),
    });
    await produced.body?.cancel();
    kcat = new Deno.Command("kcat", {
      args: [
        "-b",
        node.bootstrap,
        "-G",
        "web-group",
        "-o",
        "beginning",
        "-q",
        "-X",
        "auto.commit.interval.ms=100",
        "grp",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Poll (bounded) until the member holds both partitions and has committed past them.
    let desc: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${base}/v1/groups/web-group`);
      desc = res.status === 200 ? await res.json() : (await res.body?.cancel(), {});
      const members = (desc.members ?? []) as Array<
        { assignments: Array<{ topic: string; partitions: number[] }> }
      >;
      const offsets = (desc.offsets ?? []) as Array<{ lag: number }>;
      if (members.length === 1 && offsets.length === 2 && offsets.every((o) => o.lag === 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    strictEqual(desc.state, "Stable", JSON.stringify(desc));
    const [member] = desc.members as Array<
      { assignments: Array<{ topic: string; partitions: number[] }> }
    >;
    deepStrictEqual(member?.assignments, [{ topic: "grp", partitions: [0, 1] }]);
    strictEqual(desc.total_lag, 0, JSON.stringify(desc));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    ok(
      metrics.includes('pyralog_consumer_group_lag{group="web-group",topic="grp",partition="1"} 0'),
      metrics,
    );
  } finally {
    if (kcat) {
      kcat.kill("SIGKILL");
      await kcat.status;
    }
    await node.stop();
  }
});

Deno.test("--auto-create-topics false refuses unknown topics; --default-partitions sizes new ones", async () => {
  const off = await startPyralog({ args: ["--auto-create-topics", "false"] });
  try {
    const res = await fetch(`http://127.0.0.1:${off.httpPort}/v1/topics/nope/records`, {
      method: "POST",
      body: JSON.stringify({ records: [{ value: "x" }] }),
    });
    strictEqual(res.status, 404);
    await res.body?.cancel();
    const kp = await run("kcat", [
      "-b",
      off.bootstrap,
      "-P",
      "-t",
      "nope",
      "-X",
      "message.timeout.ms=3000",
    ], "x\n");
    ok(kp.code !== 0 || kp.err.length > 0, "kcat reports the refusal");
    const topics = await (await fetch(`http://127.0.0.1:${off.httpPort}/v1/topics`)).json();
    deepStrictEqual(topics, { topics: [] });
  } finally {
    await off.stop();
  }
  const six = await startPyralog({ args: ["--default-partitions", "6"] });
  try {
    const kp = await run("kcat", ["-b", six.bootstrap, "-P", "-t", "auto"], "x\n");
    strictEqual(kp.code, 0, kp.err);
    const desc = await (await fetch(`http://127.0.0.1:${six.httpPort}/v1/topics/auto`)).json();
    strictEqual(desc.partitions.length, 6);
  } finally {
    await six.stop();
  }
});
