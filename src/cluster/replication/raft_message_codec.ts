/**
 * Binary encoding of the Raft `Message` union (src/raft/message.ts) for the node transport,
 * which carries it as an opaque payload per group. Big-endian, version-tagged:
 *
 *   version u8 | type u8 | term i32 | from i32 | to i32 | fields of the type
 *
 * Offsets are int64 on the wire (Kafka offsets) and decoded with a checked conversion; terms
 * are int32 (Kafka partition leader epochs); node ids int32. An AppendEntries (Raft §5.3)
 * carries its entries as `base i64 | last i64 | term i32 | kind u8 | body`, where a data
 * entry's body is `length u32 | batch bytes` passed through untouched (no re-encoding of the
 * RecordBatch: the follower stores exactly the leader's bytes), a configuration entry's body
 * its membership (thesis §4.1), and a leader-change entry (§8's no-op) has none.
 *
 * Decoding is bounded (STYLE.md principle 5): every length is checked against the bytes left
 * before anything is allocated, counts have hard caps, and any malformed input fails with
 * `FrameDecodeError` and nothing else. Decoded data entries are views into the input.
 */
import type { Entry, Membership, Message } from "../../raft/mod.ts";
import {
  FrameDecodeError,
  type NodeId,
  nodeId,
  type Offset,
  offset,
  type Term,
  term,
  unreachable,
} from "../../util/mod.ts";

/** Codec version written in the first byte. */
export const RAFT_CODEC_VERSION = 1;
/** Most entries one append may carry. */
export const MAX_ENTRIES_PER_MESSAGE = 65_536;
/** Most voters or learners in one membership. */
export const MAX_MEMBERS = 1024;

const TYPE_IDS = {
  preVote: 1,
  preVoteResp: 2,
  vote: 3,
  voteResp: 4,
  append: 5,
  appendResp: 6,
  heartbeat: 7,
  heartbeatResp: 8,
  installSnapshot: 9,
  timeoutNow: 10,
} as const satisfies Record<Message["type"], number>;

const ENTRY_DATA = 0;
const ENTRY_LEADER_CHANGE = 1;
const ENTRY_CONFIG = 2;
const ENVELOPE_BYTES = 14;
const ENTRY_HEADER_BYTES = 21;
/** -1 on the wire: a quorum size left at its default. */
const NO_QUORUM = -1;

/** Growable big-endian writer. */
class Writer {
  #buf: Uint8Array;
  #dv: DataView;
  #pos = 0;

  constructor(capacity: number) {
    this.#buf = new Uint8Array(capacity);
    this.#dv = new DataView(this.#buf.buffer);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#dv = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#ensure(1);
    this.#dv.setUint8(this.#pos, v);
    this.#pos += 1;
  }
  i16(v: number): void {
    this.#ensure(2);
    this.#dv.setInt16(this.#pos, v);
    this.#pos += 2;
  }
  i32(v: number): void {
    this.#ensure(4);
    this.#dv.setInt32(this.#pos, v);
    this.#pos += 4;
  }
  u32(v: number): void {
    this.#ensure(4);
    this.#dv.setUint32(this.#pos, v);
    this.#pos += 4;
  }
  i64(v: number): void {
    this.#ensure(8);
    this.#dv.setBigInt64(this.#pos, BigInt(v));
    this.#pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }
  done(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Bounds-checked big-endian reader; every failure is a `FrameDecodeError`. */
class Reader {
  readonly #buf: Uint8Array;
  readonly #dv: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new FrameDecodeError(
        `Cannot decode Raft message: ${what} needs ${n} bytes, ${this.remaining} left`,
      );
    }
  }
  u8(what: string): number {
    this.#need(1, what);
    return this.#dv.getUint8(this.#pos++);
  }
  i16(what: string): number {
    this.#need(2, what);
    const v = this.#dv.getInt16(this.#pos);
    this.#pos += 2;
    return v;
  }
  i32(what: string): number {
    this.#need(4, what);
    const v = this.#dv.getInt32(this.#pos);
    this.#pos += 4;
    return v;
  }
  u32(what: string): number {
    this.#need(4, what);
    const v = this.#dv.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }
  offset(what: string): Offset {
    this.#need(8, what);
    const v = this.#dv.getBigInt64(this.#pos);
    this.#pos += 8;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FrameDecodeError(`Cannot decode Raft message: ${what} "${v}" is out of range`);
    }
    return offset(Number(v));
  }
  term(what: string): Term {
    const v = this.i32(what);
    if (v < 0) throw new FrameDecodeError(`Cannot decode Raft message: ${what} "${v}" < 0`);
    return term(v);
  }
  node(what: string): NodeId {
    const v = this.i32(what);
    if (v < 0) throw new FrameDecodeError(`Cannot decode Raft message: ${what} "${v}" < 0`);
    return nodeId(v);
  }
  bool(what: string): boolean {
    const v = this.u8(what);
    if (v > 1) throw new FrameDecodeError(`Cannot decode Raft message: ${what} "${v}" not 0/1`);
    return v === 1;
  }
  /** A view of the next `n` bytes (no copy). */
  view(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const v = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }
}

/** Encodes one Raft message. */
export function encodeRaftMessage(msg: Message): Uint8Array {
  let size = 64;
  if (msg.type === "append") {
    for (const e of msg.entries) {
      size += ENTRY_HEADER_BYTES + 4 + (e.payload.type === "data" ? e.payload.bytes.length : 64);
    }
  }
  const w = new Writer(size);
  w.u8(RAFT_CODEC_VERSION);
  w.u8(TYPE_IDS[msg.type]);
  w.i32(msg.term);
  w.i32(msg.from);
  w.i32(msg.to);
  switch (msg.type) {
    case "preVote":
    case "vote":
      w.i64(msg.logEnd);
      w.i32(msg.lastTerm);
      if (msg.type === "vote") w.u8(msg.transfer ? 1 : 0);
      break;
    case "preVoteResp":
    case "voteResp":
      w.u8(msg.granted ? 1 : 0);
      break;
    case "append":
      w.i64(msg.base);
      w.i32(msg.prevTerm);
      w.i64(msg.highWatermark);
      w.u32(msg.entries.length);
      for (const e of msg.entries) writeEntry(w, e);
      break;
    case "appendResp":
      if (msg.reject) {
        w.u8(1);
        w.i64(msg.rejectedBase);
        w.i64(msg.hintEnd);
        w.i32(msg.hintTerm);
        w.i64(msg.logEnd);
      } else {
        w.u8(0);
        w.i64(msg.matchEnd);
        w.i64(msg.durableEnd);
      }
      break;
    case "heartbeat":
      w.i64(msg.highWatermark);
      w.u32(msg.readSeq);
      break;
    case "heartbeatResp":
      w.u32(msg.readSeq);
      w.i64(msg.matchEnd);
      w.i64(msg.durableEnd);
      w.i64(msg.logEnd);
      break;
    case "installSnapshot":
      w.i64(msg.logStart);
      w.i32(msg.startTerm);
      writeMembership(w, msg.membership);
      break;
    case "timeoutNow":
      break;
    default:
      unreachable(msg, "unknown Raft message type");
  }
  return w.done();
}

function writeEntry(w: Writer, e: Entry): void {
  w.i64(e.base);
  w.i64(e.last);
  w.i32(e.term);
  const p = e.payload;
  if (p.type === "data") {
    w.u8(ENTRY_DATA);
    w.u32(p.bytes.length);
    w.bytes(p.bytes);
  } else if (p.type === "leaderChange") {
    w.u8(ENTRY_LEADER_CHANGE);
  } else {
    w.u8(ENTRY_CONFIG);
    writeMembership(w, p.membership);
  }
}

function writeMembership(w: Writer, m: Membership): void {
  w.i16(m.voters.length);
  for (const v of m.voters) w.i32(v);
  w.i16(m.learners.length);
  for (const l of m.learners) w.i32(l);
  w.i16(m.replicationQuorum ?? NO_QUORUM);
  w.i16(m.electionQuorum ?? NO_QUORUM);
}

/**
 * Decodes one Raft message; data entries are views into `bytes`.
 * @throws {FrameDecodeError} for any malformed, truncated or oversized input.
 */
export function decodeRaftMessage(bytes: Uint8Array): Message {
  const r = new Reader(bytes);
  if (r.remaining < ENVELOPE_BYTES) {
    throw new FrameDecodeError(`Cannot decode Raft message: ${bytes.length} bytes is too short`);
  }
  const version = r.u8("version");
  if (version !== RAFT_CODEC_VERSION) {
    throw new FrameDecodeError(`Cannot decode Raft message: unknown version "${version}"`);
  }
  const typeId = r.u8("type");
  const env = { term: r.term("term"), from: r.node("from"), to: r.node("to") };
  const msg = decodeBody(r, typeId, env);
  if (r.remaining !== 0) {
    throw new FrameDecodeError(`Cannot decode Raft message: ${r.remaining} trailing bytes`);
  }
  return msg;
}

function decodeBody(
  r: Reader,
  typeId: number,
  env: { term: Term; from: NodeId; to: NodeId },
): Message {
  switch (typeId) {
    case TYPE_IDS.preVote:
      return { ...env, type: "preVote", logEnd: r.offset("logEnd"), lastTerm: r.term("lastTerm") };
    case TYPE_IDS.vote:
      return {
        ...env,
        type: "vote",
        logEnd: r.offset("logEnd"),
        lastTerm: r.term("lastTerm"),
        transfer: r.bool("transfer"),
      };
    case TYPE_IDS.preVoteResp:
      return { ...env, type: "preVoteResp", granted: r.bool("granted") };
    case TYPE_IDS.voteResp:
      return { ...env, type: "voteResp", granted: r.bool("granted") };
    case TYPE_IDS.append: {
      const base = r.offset("base");
      const prevTerm = r.term("prevTerm");
      const highWatermark = r.offset("highWatermark");
      const count = r.u32("entry count");
      if (count > MAX_ENTRIES_PER_MESSAGE || count * ENTRY_HEADER_BYTES > r.remaining) {
        throw new FrameDecodeError(`Cannot decode Raft message: entry count "${count}" too large`);
      }
      const entries: Entry[] = [];
      for (let i = 0; i < count; i++) entries.push(readEntry(r));
      return { ...env, type: "append", base, prevTerm, entries, highWatermark };
    }
    case TYPE_IDS.appendResp:
      if (r.bool("reject")) {
        return {
          ...env,
          type: "appendResp",
          reject: true,
          rejectedBase: r.offset("rejectedBase"),
          hintEnd: r.offset("hintEnd"),
          hintTerm: r.term("hintTerm"),
          logEnd: r.offset("logEnd"),
        };
      }
      return {
        ...env,
        type: "appendResp",
        reject: false,
        matchEnd: r.offset("matchEnd"),
        durableEnd: r.offset("durableEnd"),
      };
    case TYPE_IDS.heartbeat:
      return {
        ...env,
        type: "heartbeat",
        highWatermark: r.offset("highWatermark"),
        readSeq: r.u32("readSeq"),
      };
    case TYPE_IDS.heartbeatResp:
      return {
        ...env,
        type: "heartbeatResp",
        readSeq: r.u32("readSeq"),
        matchEnd: r.offset("matchEnd"),
        durableEnd: r.offset("durableEnd"),
        logEnd: r.offset("logEnd"),
      };
    case TYPE_IDS.installSnapshot:
      return {
        ...env,
        type: "installSnapshot",
        logStart: r.offset("logStart"),
        startTerm: r.term("startTerm"),
        membership: readMembership(r),
      };
    case TYPE_IDS.timeoutNow:
      return { ...env, type: "timeoutNow" };
    default:
      throw new FrameDecodeError(`Cannot decode Raft message: unknown type "${typeId}"`);
  }
}

function readEntry(r: Reader): Entry {
  const base = r.offset("entry base");
  const last = r.offset("entry last");
  if (last < base) {
    throw new FrameDecodeError(`Cannot decode Raft message: entry last "${last}" < "${base}"`);
  }
  const t = r.term("entry term");
  const kind = r.u8("entry kind");
  if (kind === ENTRY_DATA) {
    const n = r.u32("entry length");
    return { base, last, term: t, payload: { type: "data", bytes: r.view(n, "entry bytes") } };
  }
  if (kind === ENTRY_LEADER_CHANGE) {
    return { base, last, term: t, payload: { type: "leaderChange" } };
  }
  if (kind === ENTRY_CONFIG) {
    return { base, last, term: t, payload: { type: "config", membership: readMembership(r) } };
  }
  throw new FrameDecodeError(`Cannot decode Raft message: unknown entry kind "${kind}"`);
}

function readMembership(r: Reader): Membership {
  const ids = (what: string) => {
    const n = r.i16(`${what} count`);
    if (n < 0 || n > MAX_MEMBERS || n * 4 > r.remaining) {
      throw new FrameDecodeError(`Cannot decode Raft message: ${what} count "${n}" invalid`);
    }
    const out: NodeId[] = [];
    for (let i = 0; i < n; i++) out.push(r.node(what));
    return out;
  };
  const voters = ids("voters");
  const learners = ids("learners");
  const w = r.i16("replicationQuorum");
  const e = r.i16("electionQuorum");
  const quorum = (v: number, what: string) => {
    if (v !== NO_QUORUM && v < 1) {
      throw new FrameDecodeError(`Cannot decode Raft message: ${what} "${v}" invalid`);
    }
  };
  quorum(w, "replicationQuorum");
  quorum(e, "electionQuorum");
  return {
    voters,
    learners,
    ...(w === NO_QUORUM ? {} : { replicationQuorum: w }),
    ...(e === NO_QUORUM ? {} : { electionQuorum: e }),
  };
}
