/** Tests of the Raft message codec: a round trip per variant, and fuzzed input. */
import assert from "node:assert/strict";
import type { Message } from "../../raft/mod.ts";
import { createPrng, FrameDecodeError, nodeId, offset, term } from "../../util/mod.ts";
import { configEntry, dataEntry, leaderChangeEntry } from "./raft_log_contract.ts";
import { decodeRaftMessage, encodeRaftMessage } from "./raft_message_codec.ts";

const env = { term: term(7), from: nodeId(1), to: nodeId(3) };

/** One message of every variant (both appendResp shapes, every entry kind). */
const EVERY_VARIANT: Message[] = [
  { ...env, type: "preVote", logEnd: offset(120), lastTerm: term(6) },
  { ...env, type: "preVoteResp", granted: true },
  { ...env, type: "vote", logEnd: offset(2 ** 40), lastTerm: term(6), transfer: true },
  { ...env, type: "voteResp", granted: false },
  {
    ...env,
    type: "append",
    base: offset(10),
    prevTerm: term(5),
    entries: [dataEntry(10, 3, 7), leaderChangeEntry(13, 7), configEntry(14, 7, [1, 2, 3])],
    highWatermark: offset(9),
  },
  {
    ...env,
    type: "append",
    base: offset(0),
    prevTerm: term(0),
    entries: [],
    highWatermark: offset(0),
  },
  { ...env, type: "appendResp", reject: false, matchEnd: offset(15), durableEnd: offset(12) },
  {
    ...env,
    type: "appendResp",
    reject: true,
    rejectedBase: offset(10),
    hintEnd: offset(8),
    hintTerm: term(4),
    logEnd: offset(9),
  },
  { ...env, type: "heartbeat", highWatermark: offset(99), readSeq: 4 },
  {
    ...env,
    type: "heartbeatResp",
    readSeq: 4,
    matchEnd: offset(100),
    durableEnd: offset(90),
    logEnd: offset(101),
  },
  {
    ...env,
    type: "installSnapshot",
    logStart: offset(500),
    startTerm: term(3),
    membership: {
      voters: [nodeId(1), nodeId(2), nodeId(3)],
      learners: [nodeId(4)],
      replicationQuorum: 2,
      electionQuorum: 2,
    },
  },
  { ...env, type: "timeoutNow" },
];

Deno.test("encodeRaftMessage/decodeRaftMessage round-trip every message variant", () => {
  for (const msg of EVERY_VARIANT) {
    const decoded = decodeRaftMessage(encodeRaftMessage(msg));
    assert.deepEqual(decoded, msg, msg.type);
  }
});

Deno.test("decodeRaftMessage passes data batch bytes through untouched, as views", () => {
  const msg = EVERY_VARIANT[4];
  assert.ok(msg?.type === "append");
  const wire = encodeRaftMessage(msg);
  const decoded = decodeRaftMessage(wire);
  assert.ok(decoded.type === "append");
  const sent = msg.entries[0]?.payload;
  const got = decoded.entries[0]?.payload;
  assert.ok(sent?.type === "data" && got?.type === "data");
  assert.deepEqual([...got.bytes], [...sent.bytes]);
  assert.equal(got.bytes.buffer, wire.buffer);
});

Deno.test("decodeRaftMessage refuses truncated, trailing and out-of-range input", () => {
  for (const msg of EVERY_VARIANT) {
    const wire = encodeRaftMessage(msg);
    for (let cut = 0; cut < wire.length; cut++) {
      assert.throws(() => decodeRaftMessage(wire.subarray(0, cut)), FrameDecodeError);
    }
    const longer = new Uint8Array(wire.length + 1);
    longer.set(wire);
    assert.throws(() => decodeRaftMessage(longer), FrameDecodeError);
  }
  const bad = encodeRaftMessage({ ...env, type: "timeoutNow" });
  bad[0] = 9; // version
  assert.throws(() => decodeRaftMessage(bad), /version/);
  bad[0] = 1;
  bad[1] = 77; // type
  assert.throws(() => decodeRaftMessage(bad), /type/);
});

Deno.test("decodeRaftMessage fails only with FrameDecodeError on seeded random mutations", () => {
  const seed = 0x5eed_0006;
  const prng = createPrng(seed);
  const wires = EVERY_VARIANT.map(encodeRaftMessage);
  for (let i = 0; i < 20_000; i++) {
    const src = wires[prng.int(0, wires.length - 1)];
    assert.ok(src !== undefined);
    const buf = src.slice();
    const flips = prng.int(1, 4);
    for (let f = 0; f < flips; f++) buf[prng.int(0, buf.length - 1)] = prng.int(0, 255);
    const input = prng.chance(0.2) ? buf.subarray(0, prng.int(0, buf.length)) : buf;
    try {
      const msg = decodeRaftMessage(input);
      // Whatever decodes must encode back to the same bytes (a canonical encoding).
      assert.deepEqual([...encodeRaftMessage(msg)], [...input], `seed ${seed} case ${i}`);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) {
        throw new Error(`seed ${seed} case ${i}: ${String(err)}`, { cause: err });
      }
    }
  }
});
