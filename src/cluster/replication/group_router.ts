/**
 * Routes a node transport's frames to the Raft groups hosted on the node, by group id (one
 * transport carries every partition's group, DESIGN.md "Consensus and replication").
 * Frames for an unknown group are dropped: a group that is not open yet catches up through
 * Raft's retransmission (§5.3). The transport's `from` (authenticated at hello) is passed
 * on; groups check it against the message's sender.
 */
import type { NodeId } from "../../util/mod.ts";
import type { Transport } from "../transport/mod.ts";

/** What the router needs of a group. */
export interface RoutedGroup {
  readonly groupId: string;
  receive(from: NodeId, payload: Uint8Array): void;
}

/** Binds one transport to the groups of one node. */
export class GroupRouter {
  readonly #groups = new Map<string, RoutedGroup>();
  /** Frames for groups not hosted here. */
  unroutedFrames = 0;

  constructor(transport: Transport) {
    transport.onMessage((from, envelope) => this.#route(from, envelope.groupId, envelope.payload));
    transport.onHeartbeats((from, beats) => {
      for (const b of beats) this.#route(from, b.groupId, b.payload);
    });
  }

  /** Hosts `group` (replacing one with the same id, e.g. after a restart). */
  add(group: RoutedGroup): void {
    this.#groups.set(group.groupId, group);
  }

  /** Stops routing to `groupId`. */
  remove(groupId: string): void {
    this.#groups.delete(groupId);
  }

  #route(from: NodeId, groupId: string, payload: Uint8Array): void {
    const group = this.#groups.get(groupId);
    if (group === undefined) this.unroutedFrames++;
    else group.receive(from, payload);
  }
}
