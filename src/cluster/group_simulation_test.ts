/**
 * A seeded simulation of the classic group protocol: consumers that behave like real ones
 * (KIP-394 rejoin with the handed-out id, the leader assigns partitions round-robin, eager
 * revocation on REBALANCE_IN_PROGRESS, a fresh id after UNKNOWN_MEMBER_ID) talk to one
 * `GroupCoordinator` over a network that delays every answer, on virtual time. One seed
 * draws every fault of the safety phase: crashes (silent, or with the connection closed),
 * graceful leaves, new consumers, and pauses longer than the session timeout.
 *
 * Safety, after every step: the coordinator's invariants hold, and consumers that are
 * consuming in the same generation own disjoint partitions. Liveness, after the faults stop:
 * within a bound, every live consumer is consuming in the coordinator's (Stable)
 * generation, and together they own every partition exactly once. A failure names its seed
 * and step, and replays exactly with that seed.
 */
import { ok } from "node:assert/strict";
import { createPrng, type Prng } from "../util/mod.ts";
import type { JoinOutcome, SyncOutcome } from "./classic_group.ts";
import { GroupCoordinator, type JoinGroupInput } from "./group_coordinator.ts";

const PARTITIONS = 6;
const SESSION_MS = 6_000;
const REBALANCE_MS = 10_000;
const HEARTBEAT_MS = 1_000;
const DELAY_MS = 3_000;
const STEP_MS = 50;
const FAULT_PHASE_MS = 120_000;
/** After the faults stop, the group must settle within this (generous: several rounds). */
const SETTLE_BOUND_MS = 2 * (SESSION_MS + REBALANCE_MS + DELAY_MS);
const MAX_CONSUMERS = 6;
const SEEDS = 100;

type Phase = "joining" | "syncing" | "consuming" | "crashed" | "stopped";

interface Consumer {
  name: string;
  memberId: string;
  generation: number;
  phase: Phase;
  owned: number[];
  /** A request is out; its answer arrives through the network queue. */
  waiting: boolean;
  /** The reply function of the outstanding request (to abandon it when the process dies). */
  pendingReply: ((o: never) => void) | null;
  nextHeartbeatMs: number;
  /** Paused (a long GC, a stalled process) until this time: no heartbeats. */
  pausedUntilMs: number;
}

interface Delivery {
  atMs: number;
  run: () => void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

class Simulation {
  readonly prng: Prng;
  readonly coordinator: GroupCoordinator;
  readonly consumers: Consumer[] = [];
  readonly network: Delivery[] = [];
  nowMs = 0;
  faults = 0;
  #count = 0;

  constructor(seed: number) {
    this.prng = createPrng(seed);
    this.coordinator = new GroupCoordinator({
      prng: this.prng.fork(),
      initialRebalanceDelayMs: DELAY_MS,
    });
  }

  start(): void {
    const c: Consumer = {
      name: `c${this.#count++}`,
      memberId: "",
      generation: -1,
      phase: "joining",
      owned: [],
      waiting: false,
      pendingReply: null,
      nextHeartbeatMs: 0,
      pausedUntilMs: 0,
    };
    this.consumers.push(c);
    this.join(c);
  }

  /** Answers reach the consumer after a random network delay (0-3 steps). */
  #deliver(c: Consumer, fn: () => void): void {
    this.network.push({
      atMs: this.nowMs + STEP_MS * this.prng.int(0, 3),
      run: () => {
        c.waiting = false;
        c.pendingReply = null;
        if (c.phase !== "crashed" && c.phase !== "stopped") fn();
      },
    });
  }

  join(c: Consumer): void {
    c.phase = "joining";
    c.owned = []; // eager protocol: everything is revoked before rejoining
    c.waiting = true;
    const input: JoinGroupInput = {
      groupId: "g",
      memberId: c.memberId,
      groupInstanceId: null,
      clientId: c.name,
      clientHost: "",
      sessionTimeoutMs: SESSION_MS,
      rebalanceTimeoutMs: REBALANCE_MS,
      protocolType: "consumer",
      protocols: [{ name: "roundrobin", metadata: new Uint8Array(0) }],
      requireKnownMemberId: true,
    };
    const reply = (o: JoinOutcome) => this.#deliver(c, () => this.#onJoin(c, o));
    c.pendingReply = reply;
    this.coordinator.join(input, this.nowMs, reply);
  }

  #onJoin(c: Consumer, o: JoinOutcome): void {
    if (o.type === "error") {
      if (o.error === "member_id_required") c.memberId = o.memberId;
      if (o.error === "unknown_member_id") c.memberId = "";
      return this.join(c);
    }
    c.memberId = o.memberId;
    c.generation = o.generationId;
    c.phase = "syncing";
    c.waiting = true;
    // The leader assigns partitions round-robin over the members it was given.
    const ids = o.members.map((m) => m.memberId).sort();
    const assignments = ids.map((memberId, i) => ({
      memberId,
      assignment: enc.encode(
        JSON.stringify(
          Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % ids.length === i),
        ),
      ),
    }));
    const reply = (s: SyncOutcome) => this.#deliver(c, () => this.#onSync(c, s));
    c.pendingReply = reply as (o: never) => void;
    this.coordinator.sync(
      {
        groupId: "g",
        generationId: c.generation,
        memberId: c.memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocolName: "roundrobin",
        assignments,
      },
      this.nowMs,
      reply,
    );
  }

  #onSync(c: Consumer, s: SyncOutcome): void {
    if (s.type === "error") {
      if (s.error === "unknown_member_id") c.memberId = "";
      return this.join(c);
    }
    c.owned = s.assignment.length === 0 ? [] : JSON.parse(dec.decode(s.assignment));
    c.phase = "consuming";
    c.nextHeartbeatMs = this.nowMs + HEARTBEAT_MS;
  }

  heartbeat(c: Consumer): void {
    c.nextHeartbeatMs = this.nowMs + HEARTBEAT_MS;
    const r = this.coordinator.heartbeat({
      groupId: "g",
      generationId: c.generation,
      memberId: c.memberId,
      groupInstanceId: null,
    }, this.nowMs);
    if (r.type === "ok") return;
    if (r.error === "unknown_member_id") c.memberId = "";
    this.join(c);
  }

  /** One fault, drawn from the seed. */
  fault(): void {
    this.faults++;
    const live = this.consumers.filter((c) => c.phase !== "crashed" && c.phase !== "stopped");
    const pick = live[this.prng.int(0, Math.max(0, live.length - 1))];
    const kind = this.prng.int(0, 3);
    if (kind === 0 && live.length < MAX_CONSUMERS) return this.start();
    if (!pick) return;
    if (kind === 1) {
      // A crash: half the time the connection of an outstanding request closes with it.
      pick.phase = "crashed";
      if (pick.pendingReply && this.prng.chance(0.5)) {
        this.coordinator.abandon("g", pick.pendingReply, this.nowMs);
      }
    } else if (kind === 2 && pick.memberId !== "") {
      this.coordinator.leave("g", [{ memberId: pick.memberId, groupInstanceId: null }], this.nowMs);
      pick.phase = "stopped";
    } else if (kind === 3) {
      pick.pausedUntilMs = this.nowMs + this.prng.int(0, SESSION_MS * 3 / 2);
    }
  }

  step(faults: boolean): void {
    this.nowMs += STEP_MS;
    this.coordinator.tick(this.nowMs);
    // Deliver due answers in arrival order (bounded by the queue's length this step).
    this.network.sort((a, b) => a.atMs - b.atMs);
    while (this.network.length > 0 && (this.network[0]?.atMs ?? Infinity) <= this.nowMs) {
      this.network.shift()?.run();
    }
    for (const c of this.consumers) {
      if (
        c.phase === "consuming" && !c.waiting && this.nowMs >= c.nextHeartbeatMs &&
        this.nowMs >= c.pausedUntilMs
      ) {
        this.heartbeat(c);
      }
    }
    if (faults && this.prng.chance(0.01)) this.fault();
  }

  /** Consumers consuming in the same generation own disjoint partitions. */
  checkSafety(): void {
    this.coordinator.checkInvariants();
    const byGeneration = new Map<number, Set<number>>();
    for (const c of this.consumers) {
      if (c.phase !== "consuming") continue;
      let owned = byGeneration.get(c.generation);
      if (!owned) byGeneration.set(c.generation, owned = new Set());
      for (const p of c.owned) {
        ok(!owned.has(p), `partition ${p} owned twice in generation ${c.generation}`);
        owned.add(p);
      }
    }
  }

  /** Every live consumer consumes in the Stable generation; all partitions owned once. */
  settled(): boolean {
    const d = this.coordinator.describe("g");
    const live = this.consumers.filter((c) => c.phase !== "crashed" && c.phase !== "stopped");
    if (d.state !== "Stable" || live.length === 0) return false;
    const gen = live[0]?.generation;
    if (!live.every((c) => c.phase === "consuming" && c.generation === gen)) return false;
    if (d.members.length !== live.length) return false;
    const owned = live.flatMap((c) => c.owned).sort((a, b) => a - b);
    return owned.length === PARTITIONS && owned.every((p, i) => p === i);
  }
}

/** Runs one seed; returns how much happened (faults, generations) for the coverage check. */
function simulate(seed: number): { faults: number; generation: number } {
  const sim = new Simulation(seed);
  let step = 0;
  try {
    for (let i = 0; i < 3; i++) sim.start();
    // Safety phase: faults drawn from the seed.
    for (; sim.nowMs < FAULT_PHASE_MS; step++) {
      sim.step(true);
      sim.checkSafety();
    }
    // Liveness phase: no faults; paused consumers resume; at least one consumer lives.
    for (const c of sim.consumers) c.pausedUntilMs = 0;
    if (!sim.consumers.some((c) => c.phase !== "crashed" && c.phase !== "stopped")) sim.start();
    const deadline = sim.nowMs + SETTLE_BOUND_MS;
    while (!sim.settled()) {
      ok(sim.nowMs < deadline, `the group did not settle within ${SETTLE_BOUND_MS} ms`);
      sim.step(false);
      sim.checkSafety();
      step++;
    }
    return {
      faults: sim.faults,
      generation: sim.consumers.reduce((g, c) => Math.max(g, c.generation), 0),
    };
  } catch (err) {
    throw new Error(`group simulation failed: seed ${seed}, step ${step}: ${String(err)}`, {
      cause: err,
    });
  }
}

Deno.test("group simulation: safety under crashes, leaves and pauses; liveness after them", () => {
  let faults = 0;
  let generations = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = simulate(seed);
    faults += r.faults;
    generations += r.generation;
  }
  // The walks did something: many faults and many rebalances in total.
  ok(faults > SEEDS * 10, `only ${faults} faults`);
  ok(generations > SEEDS * 5, `only ${generations} generations`);
});
