/**
 * Node-to-node RPC transport (issue #6): the `Transport` interface, its TCP implementation,
 * the frame format, and the bounded building blocks (queue, heartbeat batch, back-off)
 * that the simulated twin in `src/testing/sim_network.ts` shares with it.
 *
 * @example
 * ```ts
 * import { createPrng, nodeId } from "../../util/mod.ts";
 * import { TcpTransport } from "./mod.ts";
 *
 * const b = TcpTransport.listen({ nodeId: nodeId(2), clusterId: "c", port: 0, prng: createPrng(2) });
 * const a = TcpTransport.listen({
 *   nodeId: nodeId(1),
 *   clusterId: "c",
 *   port: 0,
 *   prng: createPrng(1),
 *   peers: [[nodeId(2), { hostname: "127.0.0.1", port: b.addr.port }]],
 * });
 * const got = new Promise<string>((resolve) =>
 *   b.onMessage((from, e) => resolve(`${from} ${e.groupId} ${new TextDecoder().decode(e.payload)}`))
 * );
 * a.send(nodeId(2), { groupId: "orders-0", payload: new TextEncoder().encode("hi") });
 * if (await got !== "1 orders-0 hi") throw new Error("not delivered");
 * await Promise.all([a.close(), b.close()]);
 * ```
 * @module
 */
export {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_FRAMES,
  type DropReason,
  type Envelope,
  type HeartbeatHandler,
  type MessageHandler,
  type PeerState,
  type PeerStatus,
  type SendResult,
  stderrLog,
  type Transport,
  TRANSPORT_PROTOCOL_VERSION,
  type TransportLog,
  type TransportLogLevel,
} from "./transport.ts";
export {
  DEFAULT_HELLO_TIMEOUT_MS,
  type PeerAddress,
  TcpTransport,
  type TcpTransportOptions,
  WRITE_BATCH_BYTES,
} from "./tcp_transport.ts";
export {
  beatBytes,
  CLUSTER_ID_MAX_BYTES,
  decodeFrame,
  encodeGroupId,
  encodeHeartbeats,
  encodeHello,
  encodeMessage,
  FRAME_HEADER_BYTES,
  FrameKind,
  GROUP_ID_MAX_BYTES,
  heartbeatsFrameLength,
  LENGTH_BYTES,
  messageFrameLength,
  type TransportFrame,
} from "./transport_frame.ts";
export { type FrameRead, FrameReader } from "./frame_reader.ts";
export { Backoff } from "./backoff.ts";
export { type BeatAdded, HeartbeatBatch } from "./heartbeat_batch.ts";
export { PeerQueue } from "./peer_queue.ts";
export { realScheduler, type Scheduler, type Timer } from "./scheduler.ts";
