/**
 * Benchmarks of the node-to-node transport (src/cluster/transport), printing one JSON
 * object per line:
 *
 * - `transport_throughput`: messages/s and MB/s (payload bytes) from one `TcpTransport` to
 *   another on loopback, pipelined (the sender keeps the bounded queue full and yields only
 *   when a send is refused with `queue_full`), for 100-byte and 16 KiB payloads.
 * - `transport_heartbeats`: 1,000 groups led on one node and followed on the other, each
 *   heartbeating every 50 ms tick, both directions: heartbeat frames/s on the wire per
 *   direction (coalesced: one per tick) against the beats/s they carry (what uncoalesced
 *   heartbeats would cost in frames), and the bytes of one frame.
 *
 * Run: deno run --allow-net bench/transport_bench.ts [--quick]
 */
import { parseArgs } from "node:util";
import { createPrng, type NodeId, nodeId } from "../src/util/mod.ts";
import { TcpTransport } from "../src/cluster/transport/mod.ts";

const args = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
const QUICK = args.values.quick === true;
const THROUGHPUT_MS = QUICK ? 500 : 3000;
const HEARTBEAT_MS = QUICK ? 1000 : 5000;
const TICK_MS = 50;
const GROUPS = 1000;
/** Most messages sent between two yields to the event loop (lets the writer and reader run). */
const SEND_BURST = 16_384;

const A = nodeId(1);
const B = nodeId(2);

function pair(): { a: TcpTransport; b: TcpTransport } {
  const common = {
    clusterId: "bench",
    port: 0,
    log: () => {},
    maxQueueFrames: 16_384,
    maxQueueBytes: 64 * 1024 * 1024,
  };
  const b = TcpTransport.listen({ ...common, nodeId: B, prng: createPrng(2) });
  const a = TcpTransport.listen({
    ...common,
    nodeId: A,
    prng: createPrng(1),
    peers: [[B, { hostname: "127.0.0.1", port: b.addr.port }]],
  });
  b.addPeer(A, { hostname: "127.0.0.1", port: a.addr.port });
  return { a, b };
}

const yieldLoop = () => new Promise<void>((r) => setTimeout(r, 0));

async function connected(ts: TcpTransport[]): Promise<void> {
  // Bounded: 5 s of polling.
  for (let i = 0; i < 5000; i++) {
    if (ts.every((t) => t.peers().every((p) => p.state === "connected"))) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error("Transports did not connect");
}

async function throughput(payloadBytes: number): Promise<void> {
  const { a, b } = pair();
  let received = 0;
  b.onMessage(() => received++);
  await connected([a, b]);
  const payload = new Uint8Array(payloadBytes).fill(7);
  const envelope = { groupId: "bench-0", payload };
  let sent = 0;
  let refused = 0;
  const start = performance.now();
  const end = start + THROUGHPUT_MS;
  while (performance.now() < end) {
    // Fill the bounded queue until it refuses (or a burst ends), then let I/O run.
    for (let i = 0; i < SEND_BURST; i++) {
      if (a.send(B, envelope).type !== "queued") {
        refused++;
        break;
      }
      sent++;
    }
    await yieldLoop();
  }
  const sendEnd = performance.now();
  // Drain what is queued (bounded: 10 s).
  for (let i = 0; i < 10_000 && received < sent; i++) await new Promise((r) => setTimeout(r, 1));
  const elapsedS = (performance.now() - start) / 1000;
  console.log(JSON.stringify({
    bench: "transport_throughput",
    payload_bytes: payloadBytes,
    duration_s: Number(elapsedS.toFixed(3)),
    send_phase_s: Number(((sendEnd - start) / 1000).toFixed(3)),
    messages: received,
    messages_per_s: Math.round(received / elapsedS),
    mb_per_s: Number((received * payloadBytes / elapsedS / 1e6).toFixed(1)),
    refused_queue_full: refused,
    sender_frames: a.peers()[0]?.sentFrames ?? 0,
  }));
  await Promise.all([a.close(), b.close()]);
}

async function heartbeats(): Promise<void> {
  const { a, b } = pair();
  const frames = new Map<NodeId, { frames: number; beats: number }>([
    [A, { frames: 0, beats: 0 }],
    [B, { frames: 0, beats: 0 }],
  ]);
  const count = (at: NodeId) => (_from: NodeId, beats: readonly unknown[]) => {
    const f = frames.get(at);
    if (f === undefined) return;
    f.frames++;
    f.beats += beats.length;
  };
  a.onHeartbeats(count(A));
  b.onHeartbeats(count(B));
  await connected([a, b]);
  // A Raft heartbeat is small: term, commit offset and read sequence (~24 bytes encoded).
  const beat = new Uint8Array(24);
  const groupIds = Array.from({ length: GROUPS }, (_, g) => `topic-${g}`);
  let ticks = 0;
  const start = performance.now();
  // One shared runtime tick: every group heartbeats (A leads, B answers), then one flush.
  const ticker = setInterval(() => {
    ticks++;
    for (const g of groupIds) a.heartbeat(B, g, beat);
    for (const g of groupIds) b.heartbeat(A, g, beat);
    a.flushHeartbeats();
    b.flushHeartbeats();
  }, TICK_MS);
  await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
  clearInterval(ticker);
  await new Promise((r) => setTimeout(r, 2 * TICK_MS));
  const elapsedS = (performance.now() - start) / 1000;
  const atB = frames.get(B) ?? { frames: 0, beats: 0 };
  const atA = frames.get(A) ?? { frames: 0, beats: 0 };
  const frameBytes = 4 + 1 + 4 + groupIds.reduce((n, g) => n + 2 + g.length + 4 + beat.length, 0);
  console.log(JSON.stringify({
    bench: "transport_heartbeats",
    groups: GROUPS,
    tick_ms: TICK_MS,
    duration_s: Number(elapsedS.toFixed(3)),
    ticks,
    frames_per_s_a_to_b: Number((atB.frames / elapsedS).toFixed(1)),
    frames_per_s_b_to_a: Number((atA.frames / elapsedS).toFixed(1)),
    beats_per_s_a_to_b: Math.round(atB.beats / elapsedS),
    uncoalesced_frames_per_s: Math.round(atB.beats / elapsedS),
    frame_bytes: frameBytes,
    beats_per_frame: atB.frames === 0 ? 0 : Math.round(atB.beats / atB.frames),
  }));
  await Promise.all([a.close(), b.close()]);
}

await throughput(100);
await throughput(16 * 1024);
await heartbeats();
