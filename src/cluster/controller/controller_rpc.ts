/**
 * Broker-to-controller RPC (issue #6): the controller's requests and results as binary frames
 * over the node `Transport`, a server that hands requests to the local `Controller`, and a
 * client (`ControllerClient`) that finds the active controller. After KIP-631's
 * BrokerRegistration/BrokerHeartbeat RPCs and KIP-590's forwarding of admin requests.
 *
 * Requests travel on group `CONTROLLER_RPC_GROUP_ID` (routed to the server), responses on
 * `CONTROLLER_RPC_REPLY_GROUP_ID` (routed to the client), so a `GroupRouter` dispatches both.
 *
 *   frame     = int8 version (0) | int8 frame type (1 request, 2 response) | uint32 request id
 *               | int8 api | body
 *   string    = uint16 length | UTF-8           (nullable: length 0xffff = null)
 *   ids       = uint16 count | int32 each
 *   request bodies:
 *     1 registerBroker    int32 broker | string incarnation | nullable rack
 *                         | uint16 count, then per endpoint: string name | string host | uint16 port
 *     2 brokerHeartbeat   int32 broker | int64 brokerEpoch | int8 wantFence (0, 1)
 *     3 createTopic       string name | int32 partitions | int32 replicationFactor
 *                         | uint16 count, then per config: string name | string value
 *     4 deleteTopic       string name
 *     5 createPartitions  string name | int32 totalCount
 *     6 alterConfigs      int8 resource (2 topic, 4 broker) | string resource name
 *                         | uint16 count, then per change: string name | nullable string value
 *     7 alterPartition    int32 broker | int64 brokerEpoch | string topicId (a UUID)
 *                         | int32 partition (>= 0) | int32 leaderEpoch (>= 0) | ids isr
 *   response body = int8 outcome, then
 *     0 ok            the api's reply: 1 int64 brokerEpoch; 2 int8 isFenced; 3 string topicId
 *                     | uint16 count, ids each (assignments); 4 string topicId; 5 assignments; 6 -;
 *                     7 int32 leaderEpoch (>= 0)
 *     1 notController int32 controller (-1: unknown)
 *     2 error         int8 kind (index in ERROR_KINDS) | string message
 *
 * Decoding is bounded (every count and length is checked against a named maximum and the
 * bytes left before allocating; trailing bytes are refused) and throws `FrameDecodeError` only.
 * A frame that does not decode is dropped and counted (the client times out and retries).
 *
 * The client never leaves a promise hanging: every call ends with the controller's answer or
 * an `unavailable` value (deadline passed, client closed, too many calls), and every timer it
 * sets is cancelled by `close()`. Must not: block on the transport or keep unbounded state.
 */
import { assert, FrameDecodeError, type NodeId, nodeId } from "../../util/mod.ts";
import type { Scheduler, Timer, Transport } from "../transport/mod.ts";
import type {
  AlterConfigsRequest,
  AlterPartitionRequest,
  BrokerHeartbeatRequest,
  Controller,
  ControllerErrorKind,
  ControllerResult,
  CreateTopicRequest,
  RegisterBrokerRequest,
} from "./controller.ts";
import { ENDPOINTS_MAX, isTopicId, REPLICAS_MAX } from "./metadata_record.ts";
import { PARTITIONS_MAX } from "../../storage/mod.ts";
import { BinaryReader, BinaryWriter } from "./_binary.ts";

/** The transport group carrying requests to a node's controller RPC server. */
export const CONTROLLER_RPC_GROUP_ID = "__controller_rpc";
/** The transport group carrying responses back to a node's client. */
export const CONTROLLER_RPC_REPLY_GROUP_ID = "__controller_rpc_reply";
/** The frame format version written (and the only one read). */
export const CONTROLLER_RPC_VERSION = 0;
/** Most bytes of one string field. */
export const RPC_STRING_BYTES_MAX = 32_767;
/** Most configs (or config changes) in one request. */
export const RPC_CONFIGS_MAX = 1_000;
/** Default requests a server works on at once (more are answered `busy`). */
export const DEFAULT_RPC_SERVER_IN_FLIGHT_MAX = 1_000;
/** Default calls a client has open at once (more are answered `unavailable`). */
export const DEFAULT_RPC_CLIENT_PENDING_MAX = 1_000;
/** Default deadline of one client call. */
export const DEFAULT_RPC_TIMEOUT_MS = 5_000;
/** Default time one attempt waits for its response before asking again. */
export const DEFAULT_RPC_ATTEMPT_TIMEOUT_MS = 1_000;
/** Default first back-off when no controller is known (doubles up to the max). */
export const DEFAULT_RPC_BACKOFF_MS = 20;
/** Default largest back-off. */
export const DEFAULT_RPC_BACKOFF_MAX_MS = 500;
/** Attempts of one call at most (besides its deadline). */
const ATTEMPTS_MAX = 64;
const REQUEST_ID_MAX = 0xffff_ffff;
const INT32_MAX = 0x7fff_ffff;
const FRAME_REQUEST = 1;
const FRAME_RESPONSE = 2;

/** The reply values of each API (the `T` of its `ControllerResult<T>`). */
export interface ControllerRpcReplies {
  registerBroker: { brokerEpoch: number };
  brokerHeartbeat: { isFenced: boolean };
  createTopic: { topicId: string; assignments: NodeId[][] };
  deleteTopic: { topicId: string };
  createPartitions: { assignments: NodeId[][] };
  alterConfigs: Record<never, never>;
  alterPartition: { leaderEpoch: number };
}

/** The name of an API. */
export type ControllerRpcApi = keyof ControllerRpcReplies;

/** A request to the controller. */
export type ControllerRpcRequest =
  | { readonly api: "registerBroker"; readonly req: RegisterBrokerRequest }
  | { readonly api: "brokerHeartbeat"; readonly req: BrokerHeartbeatRequest }
  | { readonly api: "createTopic"; readonly req: CreateTopicRequest }
  | { readonly api: "deleteTopic"; readonly name: string }
  | { readonly api: "createPartitions"; readonly name: string; readonly totalCount: number }
  | { readonly api: "alterConfigs"; readonly req: AlterConfigsRequest }
  | { readonly api: "alterPartition"; readonly req: AlterPartitionRequest };

/** A response of the controller: the API and its result. */
export type ControllerRpcResponse = {
  [A in ControllerRpcApi]: {
    readonly api: A;
    readonly result: ControllerResult<ControllerRpcReplies[A]>;
  };
}[ControllerRpcApi];

/** One decoded frame. */
export type ControllerRpcFrame =
  | { readonly type: "request"; readonly requestId: number; readonly request: ControllerRpcRequest }
  | {
    readonly type: "response";
    readonly requestId: number;
    readonly response: ControllerRpcResponse;
  };

const APIS: readonly ControllerRpcApi[] = [
  "registerBroker",
  "brokerHeartbeat",
  "createTopic",
  "deleteTopic",
  "createPartitions",
  "alterConfigs",
  "alterPartition",
];

/** Error kinds by wire index (append only: the index is the encoding). */
const ERROR_KINDS: readonly ControllerErrorKind[] = [
  "invalid_topic",
  "topic_exists",
  "unknown_topic",
  "invalid_partitions",
  "invalid_replication_factor",
  "invalid_config",
  "invalid_request",
  "unknown_broker",
  "stale_broker_epoch",
  "duplicate_broker_registration",
  "busy",
  "refused",
  "fenced_broker",
  "stale_leader_epoch",
];

// ---------------------------------------------------------------- encoding

/**
 * Encodes a request frame.
 * @throws {RangeError} when a field does not fit its encoding (a caller's bug).
 */
export function encodeControllerRequest(
  requestId: number,
  request: ControllerRpcRequest,
): Uint8Array {
  const w = new Writer();
  header(w, FRAME_REQUEST, requestId, request.api);
  switch (request.api) {
    case "registerBroker": {
      const r = request.req;
      w.int32(r.brokerId);
      w.string(r.incarnation);
      w.string(r.rack ?? null);
      w.endpoints(r.endpoints, ENDPOINTS_MAX);
      break;
    }
    case "brokerHeartbeat":
      w.int32(request.req.brokerId);
      w.int64(request.req.brokerEpoch);
      w.int8(request.req.wantFence === true ? 1 : 0);
      break;
    case "createTopic": {
      const r = request.req;
      w.string(r.name);
      w.int32(r.numPartitions);
      w.int32(r.replicationFactor);
      const configs = Object.entries(r.configs ?? {});
      w.count(configs.length, RPC_CONFIGS_MAX, "configs");
      for (const [k, v] of configs) {
        w.string(k);
        w.string(v);
      }
      break;
    }
    case "deleteTopic":
      w.string(request.name);
      break;
    case "createPartitions":
      w.string(request.name);
      w.int32(request.totalCount);
      break;
    case "alterConfigs": {
      const r = request.req;
      w.int8(r.resourceType === "topic" ? 2 : 4);
      w.string(r.resourceName);
      w.count(r.changes.length, RPC_CONFIGS_MAX, "config changes");
      for (const c of r.changes) {
        w.string(c.name);
        w.string(c.value);
      }
      break;
    }
    case "alterPartition": {
      const r = request.req;
      w.int32(r.brokerId);
      w.int64(r.brokerEpoch);
      if (!isTopicId(r.topicId)) {
        throw new RangeError(
          `Cannot encode controller RPC frame: topic id "${r.topicId}" is not a UUID`,
        );
      }
      w.string(r.topicId);
      // Negative values would not decode: refuse them here, where the caller learns why.
      w.checkInt(r.partition, 0, INT32_MAX, "partition");
      w.int32(r.partition);
      w.checkInt(r.leaderEpoch, 0, INT32_MAX, "leader epoch");
      w.int32(r.leaderEpoch);
      w.ids(r.isr, REPLICAS_MAX, "isr");
      break;
    }
  }
  return w.finish();
}

/**
 * Encodes a response frame.
 * @throws {RangeError} when a field does not fit its encoding (a caller's bug).
 */
export function encodeControllerResponse(
  requestId: number,
  response: ControllerRpcResponse,
): Uint8Array {
  const w = new Writer();
  header(w, FRAME_RESPONSE, requestId, response.api);
  const r = response.result;
  if (r.type === "notController") {
    w.int8(1);
    w.int32(r.controllerId ?? -1);
    return w.finish();
  }
  if (r.type === "error") {
    w.int8(2);
    w.int8(ERROR_KINDS.indexOf(r.kind));
    w.string(r.message);
    return w.finish();
  }
  w.int8(0);
  switch (response.api) {
    case "registerBroker":
      w.int64(response.result.type === "ok" ? response.result.brokerEpoch : 0);
      break;
    case "brokerHeartbeat":
      w.int8(response.result.type === "ok" && response.result.isFenced ? 1 : 0);
      break;
    case "createTopic":
      if (response.result.type === "ok") {
        w.string(response.result.topicId);
        w.assignments(response.result.assignments);
      }
      break;
    case "deleteTopic":
      if (response.result.type === "ok") w.string(response.result.topicId);
      break;
    case "createPartitions":
      if (response.result.type === "ok") w.assignments(response.result.assignments);
      break;
    case "alterConfigs":
      break;
    case "alterPartition":
      w.int32(response.result.type === "ok" ? response.result.leaderEpoch : 0);
      break;
  }
  return w.finish();
}

function header(w: Writer, frameType: number, requestId: number, api: ControllerRpcApi): void {
  w.int8(CONTROLLER_RPC_VERSION);
  w.int8(frameType);
  w.uint32(requestId);
  w.int8(APIS.indexOf(api) + 1);
}

/**
 * Decodes a request or response frame.
 * @throws {FrameDecodeError} when the bytes are not one well-formed frame of this version.
 */
export function decodeControllerRpcFrame(bytes: Uint8Array): ControllerRpcFrame {
  const r = new Reader(bytes);
  const version = r.int8();
  if (version !== CONTROLLER_RPC_VERSION) throw malformed(`unknown version "${version}"`);
  const frameType = r.int8();
  const requestId = r.uint32();
  const apiIndex = r.int8();
  const api = APIS[apiIndex - 1];
  if (api === undefined) throw malformed(`unknown api "${apiIndex}"`);
  let frame: ControllerRpcFrame;
  if (frameType === FRAME_REQUEST) {
    frame = { type: "request", requestId, request: decodeRequest(r, api) };
  } else if (frameType === FRAME_RESPONSE) {
    frame = { type: "response", requestId, response: decodeResponse(r, api) };
  } else {
    throw malformed(`unknown frame type "${frameType}"`);
  }
  if (r.remaining !== 0) throw malformed(`${r.remaining} trailing bytes`);
  return frame;
}

function decodeRequest(r: Reader, api: ControllerRpcApi): ControllerRpcRequest {
  switch (api) {
    case "registerBroker": {
      const brokerId = r.nodeId();
      const incarnation = r.string();
      const rack = r.nullableString() ?? undefined;
      const endpoints = r.endpoints(ENDPOINTS_MAX);
      return { api, req: { brokerId, incarnation, rack, endpoints } };
    }
    case "brokerHeartbeat": {
      const brokerId = r.nodeId();
      const brokerEpoch = r.int64();
      const wantFence = r.bool();
      return { api, req: { brokerId, brokerEpoch, wantFence } };
    }
    case "createTopic": {
      const name = r.string();
      const numPartitions = r.int32();
      const replicationFactor = r.int32();
      const n = r.count(RPC_CONFIGS_MAX, "configs");
      const configs: Record<string, string> = {};
      for (let i = 0; i < n; i++) {
        const k = r.string();
        if (Object.hasOwn(configs, k)) throw malformed(`config "${k}" repeated`);
        configs[k] = r.string();
      }
      return { api, req: { name, numPartitions, replicationFactor, configs } };
    }
    case "deleteTopic":
      return { api, name: r.string() };
    case "createPartitions":
      return { api, name: r.string(), totalCount: r.int32() };
    case "alterConfigs": {
      const t = r.int8();
      if (t !== 2 && t !== 4) throw malformed(`unknown resource type "${t}"`);
      const resourceName = r.string();
      const n = r.count(RPC_CONFIGS_MAX, "config changes");
      const changes: Array<{ name: string; value: string | null }> = [];
      for (let i = 0; i < n; i++) changes.push({ name: r.string(), value: r.nullableString() });
      return { api, req: { resourceType: t === 2 ? "topic" : "broker", resourceName, changes } };
    }
    case "alterPartition": {
      const brokerId = r.nodeId();
      const brokerEpoch = r.int64();
      const topicId = r.string();
      if (!isTopicId(topicId)) throw malformed(`topic id "${topicId}" is not a UUID`);
      const partition = nonNegative(r.int32(), "partition");
      const leaderEpoch = nonNegative(r.int32(), "leader epoch");
      const isr = r.ids(REPLICAS_MAX, "isr");
      return { api, req: { brokerId, brokerEpoch, topicId, partition, leaderEpoch, isr } };
    }
  }
}

function decodeResponse(r: Reader, api: ControllerRpcApi): ControllerRpcResponse {
  const outcome = r.int8();
  if (outcome === 1) {
    const id = r.int32();
    if (id < -1) throw malformed(`controller id "${id}"`);
    return {
      api,
      result: { type: "notController", controllerId: id < 0 ? undefined : nodeId(id) },
    };
  }
  if (outcome === 2) {
    const k = r.int8();
    const kind = ERROR_KINDS[k];
    if (kind === undefined) throw malformed(`unknown error kind "${k}"`);
    return { api, result: { type: "error", kind, message: r.string() } };
  }
  if (outcome !== 0) throw malformed(`unknown outcome "${outcome}"`);
  switch (api) {
    case "registerBroker":
      return { api, result: { type: "ok", brokerEpoch: r.int64() } };
    case "brokerHeartbeat":
      return { api, result: { type: "ok", isFenced: r.bool() } };
    case "createTopic":
      return { api, result: { type: "ok", topicId: r.string(), assignments: r.assignments() } };
    case "deleteTopic":
      return { api, result: { type: "ok", topicId: r.string() } };
    case "createPartitions":
      return { api, result: { type: "ok", assignments: r.assignments() } };
    case "alterConfigs":
      return { api, result: { type: "ok" } };
    case "alterPartition":
      return { api, result: { type: "ok", leaderEpoch: nonNegative(r.int32(), "leader epoch") } };
  }
}

function nonNegative(v: number, name: string): number {
  if (v < 0) throw malformed(`negative ${name} "${v}"`);
  return v;
}

function malformed(detail: string): FrameDecodeError {
  return new FrameDecodeError(`Cannot decode controller RPC frame: ${detail}`);
}

/** The controller RPC writer: the shared binary writer plus partition assignments. */
class Writer extends BinaryWriter {
  constructor() {
    super("controller RPC frame", RPC_STRING_BYTES_MAX);
  }
  assignments(a: readonly (readonly NodeId[])[]): void {
    this.count(a.length, PARTITIONS_MAX, "partitions");
    for (const ids of a) this.ids(ids, REPLICAS_MAX, "replicas");
  }
}

/** The controller RPC reader: the shared binary reader plus partition assignments. */
class Reader extends BinaryReader {
  constructor(bytes: Uint8Array) {
    super(bytes, "controller RPC frame", RPC_STRING_BYTES_MAX);
  }
  assignments(): NodeId[][] {
    const n = this.count(PARTITIONS_MAX, "partitions");
    const out: NodeId[][] = [];
    for (let i = 0; i < n; i++) out.push(this.ids(REPLICAS_MAX, "replicas"));
    return out;
  }
}

// ---------------------------------------------------------------- server

/** Settings of a controller RPC server. */
export interface ControllerRpcServerOptions {
  /** The node's controller (it answers `notController` while another node leads). */
  readonly controller: Controller;
  readonly transport: Transport;
  /** The controller's clock for liveness (registrations and heartbeats). */
  readonly clock: () => number;
  /** Requests worked on at once; more are answered `busy`. */
  readonly inFlightMax?: number;
}

/** Answers controller requests arriving on `CONTROLLER_RPC_GROUP_ID` (a routed group). */
export class ControllerRpcServer {
  readonly groupId = CONTROLLER_RPC_GROUP_ID;
  readonly #controller: Controller;
  readonly #transport: Transport;
  readonly #clock: () => number;
  readonly #inFlightMax: number;
  #inFlight = 0;
  #closed = false;
  /** Requests received over the transport. */
  receivedRequests = 0;
  /** Frames dropped because they did not decode as a request. */
  undecodableFrames = 0;
  /** Responses the transport refused (the client times out and retries). */
  droppedResponses = 0;

  constructor(options: ControllerRpcServerOptions) {
    this.#controller = options.controller;
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#inFlightMax = options.inFlightMax ?? DEFAULT_RPC_SERVER_IN_FLIGHT_MAX;
  }

  /** Handles one frame from `from` (the transport's authenticated sender). */
  receive(from: NodeId, payload: Uint8Array): void {
    if (this.#closed) return;
    let frame: ControllerRpcFrame;
    try {
      frame = decodeControllerRpcFrame(payload);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      // Safe to drop: without a request id there is nobody to answer; the client retries.
      this.undecodableFrames++;
      return;
    }
    if (frame.type !== "request") {
      this.undecodableFrames++;
      return;
    }
    this.receivedRequests++;
    const id = frame.requestId;
    const request = frame.request;
    // A node registers, heartbeats and reports its leaderships only for itself (`from` is
    // authenticated at hello).
    const impostor = (request.api === "registerBroker" || request.api === "brokerHeartbeat" ||
      request.api === "alterPartition") && request.req.brokerId !== from;
    const answer: Promise<ControllerRpcResponse> = impostor
      ? Promise.resolve({
        api: request.api,
        result: {
          type: "error",
          kind: "invalid_request",
          message:
            `Cannot accept ${request.api} for broker "${request.req.brokerId}" from node "${from}"`,
        },
      } as ControllerRpcResponse)
      : this.handle(request);
    // A rejection is a bug in the controller: it surfaces as an unhandled rejection.
    answer.then((response) => {
      if (this.#closed) return;
      const payload = encodeControllerResponse(id, response);
      const sent = this.#transport.send(from, { groupId: CONTROLLER_RPC_REPLY_GROUP_ID, payload });
      if (sent.type === "dropped") this.droppedResponses++;
    });
  }

  /** Hands one request to the local controller (also the client's path to its own node). */
  async handle(request: ControllerRpcRequest): Promise<ControllerRpcResponse> {
    if (this.#inFlight >= this.#inFlightMax) {
      const message = `Cannot handle controller request: ${this.#inFlight} are in flight`;
      return {
        api: request.api,
        result: { type: "error", kind: "busy", message },
      } as ControllerRpcResponse;
    }
    this.#inFlight++;
    try {
      return await this.#dispatch(request);
    } finally {
      this.#inFlight--;
    }
  }

  /** Stops answering (requests in flight finish without a response). */
  close(): void {
    this.#closed = true;
  }

  async #dispatch(request: ControllerRpcRequest): Promise<ControllerRpcResponse> {
    const c = this.#controller;
    switch (request.api) {
      case "registerBroker":
        return { api: request.api, result: await c.registerBroker(request.req, this.#clock()) };
      case "brokerHeartbeat":
        return { api: request.api, result: await c.brokerHeartbeat(request.req, this.#clock()) };
      case "createTopic":
        return { api: request.api, result: await c.createTopic(request.req) };
      case "deleteTopic":
        return { api: request.api, result: await c.deleteTopic(request.name) };
      case "createPartitions":
        return {
          api: request.api,
          result: await c.createPartitions(request.name, request.totalCount),
        };
      case "alterConfigs":
        return { api: request.api, result: await c.alterConfigs(request.req) };
      case "alterPartition":
        return { api: request.api, result: await c.alterPartition(request.req) };
    }
  }
}

// ---------------------------------------------------------------- client

/** Why a call ended without the controller's answer. */
export type UnavailableReason = "timeout" | "closed" | "busy";

/** A call's outcome: the controller's result, or `unavailable` (never a hanging promise). */
export type ControllerClientResult<T> =
  | ControllerResult<T>
  | {
    readonly type: "unavailable";
    readonly reason: UnavailableReason;
    readonly message: string;
  };

/** Settings of a controller client. */
export interface ControllerClientOptions {
  readonly nodeId: NodeId;
  readonly transport: Transport;
  readonly scheduler: Scheduler;
  /** Monotonic ms (deadlines). */
  readonly clock: () => number;
  /** The controller this node believes in when the client knows none (the metadata leader). */
  readonly controllerHint?: () => NodeId | undefined;
  /** This node's server: calls to this node go to it directly (no transport to self). */
  readonly local?: ControllerRpcServer;
  readonly timeoutMs?: number;
  readonly attemptTimeoutMs?: number;
  readonly backoffMs?: number;
  readonly backoffMaxMs?: number;
  readonly pendingMax?: number;
}

/** Per-call settings. */
export interface CallOptions {
  /** This call's deadline (default: the client's `timeoutMs`). */
  readonly timeoutMs?: number;
}

interface PendingAttempt {
  readonly api: ControllerRpcApi;
  readonly target: NodeId;
  readonly settle: (response: ControllerRpcResponse | undefined) => void;
}

/**
 * Sends controller requests to the active controller: to the one it knows, else the hint; it
 * follows `notController` answers, backs off (bounded, doubling) while no controller is known,
 * matches responses by request id, and gives up at the call's deadline. A request retried
 * after a lost response may be decided twice: registrations, heartbeats and alterPartition
 * reports are idempotent, a repeated createTopic answers `topic_exists`.
 */
export class ControllerClient {
  readonly groupId = CONTROLLER_RPC_REPLY_GROUP_ID;
  readonly #o: ControllerClientOptions;
  readonly #timeoutMs: number;
  readonly #attemptMs: number;
  readonly #backoffMs: number;
  readonly #backoffMaxMs: number;
  readonly #pendingMax: number;
  readonly #pending = new Map<number, PendingAttempt>();
  readonly #sleeps = new Set<{ readonly timer: Timer; readonly wake: () => void }>();
  #known: NodeId | undefined;
  #nextId = 0;
  #calls = 0;
  #closed = false;
  /** Frames dropped because they did not decode or match no pending request. */
  unmatchedFrames = 0;

  constructor(options: ControllerClientOptions) {
    this.#o = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.#attemptMs = options.attemptTimeoutMs ?? DEFAULT_RPC_ATTEMPT_TIMEOUT_MS;
    this.#backoffMs = options.backoffMs ?? DEFAULT_RPC_BACKOFF_MS;
    this.#backoffMaxMs = options.backoffMaxMs ?? DEFAULT_RPC_BACKOFF_MAX_MS;
    this.#pendingMax = options.pendingMax ?? DEFAULT_RPC_CLIENT_PENDING_MAX;
    assert(this.#timeoutMs > 0 && this.#attemptMs > 0, "RPC timeouts must be positive");
    assert(this.#backoffMs > 0 && this.#backoffMaxMs >= this.#backoffMs, "bad RPC back-off");
  }

  /** The controller the client last heard from (or was pointed to). */
  get controllerId(): NodeId | undefined {
    return this.#known;
  }

  /** Calls open now. */
  get pendingCalls(): number {
    return this.#calls;
  }

  /** Registers a broker process. */
  registerBroker(
    req: RegisterBrokerRequest,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["registerBroker"]>> {
    return this.#call({ api: "registerBroker", req }, o);
  }

  /** Sends a broker heartbeat. */
  brokerHeartbeat(
    req: BrokerHeartbeatRequest,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["brokerHeartbeat"]>> {
    return this.#call({ api: "brokerHeartbeat", req }, o);
  }

  /** Creates a topic. */
  createTopic(
    req: CreateTopicRequest,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["createTopic"]>> {
    return this.#call({ api: "createTopic", req }, o);
  }

  /** Deletes a topic. */
  deleteTopic(
    name: string,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["deleteTopic"]>> {
    return this.#call({ api: "deleteTopic", name }, o);
  }

  /** Grows a topic to `totalCount` partitions. */
  createPartitions(
    name: string,
    totalCount: number,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["createPartitions"]>> {
    return this.#call({ api: "createPartitions", name, totalCount }, o);
  }

  /** Sets or removes configs. */
  alterConfigs(
    req: AlterConfigsRequest,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["alterConfigs"]>> {
    return this.#call({ api: "alterConfigs", req }, o);
  }

  /** Reports a partition's leader and ISR (the sender's Raft group leads at `leaderEpoch`). */
  alterPartition(
    req: AlterPartitionRequest,
    o?: CallOptions,
  ): Promise<ControllerClientResult<ControllerRpcReplies["alterPartition"]>> {
    return this.#call({ api: "alterPartition", req }, o);
  }

  /** Handles one response frame from `from`. */
  receive(from: NodeId, payload: Uint8Array): void {
    let frame: ControllerRpcFrame;
    try {
      frame = decodeControllerRpcFrame(payload);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      // Safe to drop: the attempt times out and the call retries.
      this.unmatchedFrames++;
      return;
    }
    const p = frame.type === "response" ? this.#pending.get(frame.requestId) : undefined;
    if (p === undefined || frame.type !== "response" || p.target !== from) {
      this.unmatchedFrames++;
      return;
    }
    if (frame.response.api !== p.api) {
      this.unmatchedFrames++;
      return;
    }
    p.settle(frame.response);
  }

  /** Ends every call (`unavailable: closed`) and cancels every timer. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const p of [...this.#pending.values()]) p.settle(undefined);
    for (const s of [...this.#sleeps]) s.wake();
  }

  /** One call, typed by its API (a response of another API is dropped on receipt). */
  #call<A extends ControllerRpcApi>(
    request: Extract<ControllerRpcRequest, { api: A }>,
    o: CallOptions | undefined,
  ): Promise<ControllerClientResult<ControllerRpcReplies[A]>> {
    return this.#callAny(request, o) as Promise<ControllerClientResult<ControllerRpcReplies[A]>>;
  }

  async #callAny(
    request: ControllerRpcRequest,
    o: CallOptions | undefined,
  ): Promise<ControllerClientResult<unknown>> {
    if (this.#closed) return unavailable("closed", "Cannot call the controller: client closed");
    if (this.#calls >= this.#pendingMax) {
      return unavailable("busy", `Cannot call the controller: ${this.#calls} calls are open`);
    }
    let frame: Uint8Array;
    try {
      frame = encodeControllerRequest(0, request);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return { type: "error", kind: "invalid_request", message: err.message };
    }
    this.#calls++;
    try {
      return await this.#attempts(request, frame, o?.timeoutMs ?? this.#timeoutMs);
    } finally {
      this.#calls--;
    }
  }

  async #attempts(
    request: ControllerRpcRequest,
    frame: Uint8Array,
    timeoutMs: number,
  ): Promise<ControllerClientResult<unknown>> {
    const deadline = this.#o.clock() + timeoutMs;
    let backoff = this.#backoffMs;
    let redirected = false;
    const pause = async (left: number) => {
      await this.#sleep(Math.min(backoff, left));
      backoff = Math.min(backoff * 2, this.#backoffMaxMs);
    };
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      if (this.#closed) return unavailable("closed", "Cannot call the controller: client closed");
      const left = deadline - this.#o.clock();
      if (left <= 0) break;
      const target = this.#known ?? this.#o.controllerHint?.();
      if (target === undefined) {
        await pause(left);
        continue;
      }
      const response = await this.#attempt(target, request, frame, Math.min(this.#attemptMs, left));
      if (response === undefined) {
        // No answer in time (or the send was refused): forget the target, ask again later.
        if (this.#known === target) this.#known = undefined;
        await pause(deadline - this.#o.clock());
        continue;
      }
      const r = response.result;
      if (r.type === "notController") {
        this.#known = r.controllerId === target ? undefined : r.controllerId;
        // Follow a fresh hint at once; a second redirect in a row waits (no ping-pong spin).
        if (this.#known === undefined || redirected) await pause(deadline - this.#o.clock());
        redirected = true;
        continue;
      }
      this.#known = target;
      return r;
    }
    return unavailable(
      "timeout",
      `Cannot call the controller (${request.api}): no answer within ${timeoutMs} ms`,
    );
  }

  /** One request to `target`; undefined when it is not answered within `waitMs`. */
  #attempt(
    target: NodeId,
    request: ControllerRpcRequest,
    frame: Uint8Array,
    waitMs: number,
  ): Promise<ControllerRpcResponse | undefined> {
    const id = this.#nextId;
    this.#nextId = id === REQUEST_ID_MAX ? 0 : id + 1;
    // The pending calls are bounded far below 2^32: an id in use is a bug.
    assert(!this.#pending.has(id), `request id ${id} is in use`);
    return new Promise((resolve) => {
      const timer = this.#o.scheduler.setTimer(() => settle(undefined), Math.max(0, waitMs));
      const settle = (response: ControllerRpcResponse | undefined) => {
        if (this.#pending.get(id) !== entry) return;
        timer.cancel();
        this.#pending.delete(id);
        resolve(response);
      };
      const entry: PendingAttempt = { api: request.api, target, settle };
      this.#pending.set(id, entry);
      if (target === this.#o.nodeId) {
        const local = this.#o.local;
        if (local === undefined) return settle(undefined);
        // A rejection is a bug in the controller: it surfaces as an unhandled rejection.
        local.handle(request).then(settle);
        return;
      }
      new DataView(frame.buffer, frame.byteOffset).setUint32(2, id);
      // The transport copies the payload before `send` returns, so the frame is reused.
      const sent = this.#o.transport.send(target, {
        groupId: CONTROLLER_RPC_GROUP_ID,
        payload: frame,
      });
      if (sent.type === "dropped") settle(undefined);
    });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const s = {
        timer: this.#o.scheduler.setTimer(() => s.wake(), Math.max(0, ms)),
        wake: () => {
          s.timer.cancel();
          this.#sleeps.delete(s);
          resolve();
        },
      };
      this.#sleeps.add(s);
    });
  }
}

function unavailable(
  reason: UnavailableReason,
  message: string,
): { type: "unavailable"; reason: UnavailableReason; message: string } {
  return { type: "unavailable", reason, message };
}
