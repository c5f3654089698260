/**
 * The node-to-node RPC transport contract (issue #6): one interface, two implementations —
 * `TcpTransport` (binary frames over TCP) and the simulated twin in `src/testing/sim_network.ts`
 * — both held to the same contract suite (`transport_contract.ts`).
 *
 * A transport carries opaque payloads of many Raft groups (one group per partition, one for
 * the controller) between two nodes over one connection per direction of a pair of nodes.
 * It never buffers without bound: each peer has a bounded queue (frames and bytes) and a
 * send that does not fit is refused at once with a reason, never blocked or buffered.
 *
 * Delivery is at most once and in order per (sender, receiver) pair while no fault is
 * injected: a frame lost with a broken connection is not resent (Raft retransmits), and a
 * frame is never delivered twice by the transport itself.
 *
 * How the Raft runtime (src/cluster, a later session) uses it:
 * - every `ready().messages` entry of a group whose `type` is "heartbeat" or "heartbeatResp"
 *   goes through `heartbeat(to, groupId, bytes)`; every other message through
 *   `send(to, {groupId, payload})`.
 * - the runtime ticks all its groups on one shared tick and then calls `flushHeartbeats()`
 *   once (or sets `heartbeatIntervalMs`): the heartbeats of all groups bound for one peer
 *   leave as ONE frame, so 1,000 partitions led by A and followed on B cost one frame per
 *   tick per direction, not 1,000. A later heartbeat of the same group before the flush
 *   replaces the earlier one (only the newest commit index and read sequence matter).
 * - `onMessage` and `onHeartbeats` hand frames to the groups (`from` is the authenticated
 *   node id of the hello, never a field of the payload).
 */
import type { NodeId } from "../../util/mod.ts";

/** Version of the frame format below; a hello with another version is refused. */
export const TRANSPORT_PROTOCOL_VERSION = 1;
/** Default largest frame (length field value) a node sends or accepts: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Default bound of a peer's queue, in frames. */
export const DEFAULT_MAX_QUEUE_FRAMES = 8192;
/** Default bound of a peer's queue, in bytes (frame headers included). */
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;
/** Default first reconnect delay (before jitter). */
export const DEFAULT_BACKOFF_BASE_MS = 50;
/** Default cap of the reconnect delay. */
export const DEFAULT_BACKOFF_MAX_MS = 2000;

/**
 * One group's payload: what the transport carries, opaque to it. A sent payload is copied
 * before `send` returns (the caller may reuse its buffer). A received payload is a view
 * into a read buffer that is never written again; a handler that keeps a small payload for
 * long should `slice()` it, so as not to keep the whole read chunk (64 KiB) alive.
 */
export interface Envelope {
  /** The Raft group, e.g. "__cluster_metadata-0" or "orders-3"; at most 1 KiB of UTF-8. */
  readonly groupId: string;
  readonly payload: Uint8Array;
}

/** Why a send was refused. */
export type DropReason =
  /** The peer's queue holds its bound of frames or bytes (the peer is slow or down). */
  | "queue_full"
  /** The frame would exceed `maxFrameBytes`, or the group id is too long. */
  | "too_large"
  /** No such peer is configured. */
  | "unknown_peer"
  /** `close()` was called. */
  | "closed";

/** The outcome of `send` or `heartbeat`: an expected result, never an exception. */
export type SendResult = { readonly type: "queued" } | {
  readonly type: "dropped";
  readonly reason: DropReason;
};

/** The state of the outbound link to a peer. */
export type PeerState =
  /** Dialing or waiting for the peer's hello. */
  | "connecting"
  /** Hello exchanged; frames flow. */
  | "connected"
  /** The last attempt failed or the connection broke; a reconnect is scheduled. */
  | "backing_off"
  /** The transport is closed. */
  | "closed";

/** What `peers()` reports of one peer. */
export interface PeerStatus {
  readonly id: NodeId;
  readonly state: PeerState;
  /** Frames waiting in the bounded queue. */
  readonly queuedFrames: number;
  /** Bytes waiting in the bounded queue. */
  readonly queuedBytes: number;
  /** Consecutive failed connection attempts (0 once connected). */
  readonly failedAttempts: number;
  /** Frames handed to the wire. */
  readonly sentFrames: number;
  /** Frames refused (queue full, too large) or discarded (heartbeats for a down peer). */
  readonly droppedFrames: number;
  /** Frames received from this peer. */
  readonly receivedFrames: number;
}

/** Log levels of transport log lines (the broker's levels). */
export type TransportLogLevel = "debug" | "info" | "warn" | "error";
/** Where a transport writes its log lines. */
export type TransportLog = (level: TransportLogLevel, message: string) => void;

/** Receives one message frame. */
export type MessageHandler = (from: NodeId, envelope: Envelope) => void;
/** Receives one coalesced heartbeat frame: every group's heartbeat from `from` of one flush. */
export type HeartbeatHandler = (from: NodeId, beats: readonly Envelope[]) => void;

/** The node-to-node transport. */
export interface Transport {
  /** This node's id. */
  readonly nodeId: NodeId;
  /**
   * Queues one message for `to`. Never blocks: a full queue, an unknown peer, an oversized
   * frame or a closed transport yield `dropped` with the reason.
   */
  send(to: NodeId, envelope: Envelope): SendResult;
  /**
   * Adds one group's heartbeat to the batch for `to`; it leaves with the next flush. A
   * heartbeat of the same group already in the batch is replaced.
   */
  heartbeat(to: NodeId, groupId: string, payload: Uint8Array): SendResult;
  /**
   * Sends every peer's pending heartbeats as one frame per peer. Batches for peers that are
   * not connected are discarded (a stale heartbeat is worthless after a reconnect).
   */
  flushHeartbeats(): void;
  /** Sets the handler of message frames (replaces the previous one). */
  onMessage(handler: MessageHandler): void;
  /** Sets the handler of heartbeat frames (replaces the previous one). */
  onHeartbeats(handler: HeartbeatHandler): void;
  /** The status of every configured peer. */
  peers(): PeerStatus[];
  /** Stops everything: connections, listener, timers. Idempotent. */
  close(): Promise<void>;
}

/** A log that writes warnings and errors to stderr (the default when none is given). */
export const stderrLog: TransportLog = (level, message) => {
  if (level === "warn" || level === "error") console.error(`[transport ${level}] ${message}`);
};
