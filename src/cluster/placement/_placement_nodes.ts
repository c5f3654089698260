/**
 * Shared, private helpers of the placement folder: the node description both placements take,
 * its validation (unique ids, racks on all nodes or none) and a seeded Fisher–Yates shuffle.
 * Placement follows Cidon et al., "Copysets: Reducing the Frequency of Data Loss in Cloud
 * Storage", USENIX ATC 2013. Pure: randomness only from the `Prng` passed in; no I/O.
 */
import type { NodeId, Prng } from "../../util/mod.ts";

/** A node that can hold replicas, with its rack (failure domain) when racks are configured. */
export interface PlacementNode {
  readonly id: NodeId;
  /** The node's rack (Kafka's `broker.rack`); absent on every node or present on every node. */
  readonly rack?: string | undefined;
}

/** Nodes sorted by id, with each node's rack group (an index into `racks`). */
export interface IndexedNodes {
  /** The nodes sorted by id, so input order never changes the outcome. */
  readonly nodes: readonly PlacementNode[];
  /** Node indices per rack, in rack-name order; empty when no node has a rack. */
  readonly racks: readonly (readonly number[])[];
  /** Per node index, its rack's index in `racks` (-1 when unracked). */
  readonly rackOf: readonly number[];
}

/**
 * Sorts and checks the nodes of a placement request.
 * @throws {RangeError} on an empty list, a repeated id, an empty rack name, or racks given for
 * some nodes but not others (as Kafka refuses rack-aware assignment over mixed brokers).
 */
export function indexNodes(action: string, input: readonly PlacementNode[]): IndexedNodes {
  if (input.length === 0) throw new RangeError(`${action}: the node list is empty`);
  const nodes = [...input].sort((a, b) => a.id - b.id);
  const racked = nodes.filter((n) => n.rack !== undefined);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as PlacementNode;
    if (i > 0 && (nodes[i - 1] as PlacementNode).id === node.id) {
      throw new RangeError(`${action}: node "${node.id}" appears twice`);
    }
    if (node.rack === "") throw new RangeError(`${action}: node "${node.id}" has an empty rack`);
  }
  const first = racked[0];
  if (first !== undefined && racked.length < nodes.length) {
    const bare = nodes.find((n) => n.rack === undefined) as PlacementNode;
    throw new RangeError(
      `${action}: node "${bare.id}" has no rack while node "${first.id}" has rack "${first.rack}"`,
    );
  }
  const names = [...new Set(racked.map((n) => n.rack as string))].sort();
  const rackIndex = new Map(names.map((name, i) => [name, i]));
  const racks: number[][] = names.map(() => []);
  const rackOf = nodes.map((n, i) => {
    if (n.rack === undefined) return -1;
    const r = rackIndex.get(n.rack) as number;
    (racks[r] as number[]).push(i);
    return r;
  });
  return { nodes, racks, rackOf };
}

/** Checks that `value` is an integer in [min, max]. @throws {RangeError} otherwise. */
export function checkInteger(
  action: string,
  what: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least "${min}"` : `in [${min}, ${max}]`;
    throw new RangeError(`${action}: ${what} "${value}" is not an integer ${range}`);
  }
}

/** Shuffles `items` in place with a seeded Fisher–Yates shuffle and returns it. */
export function shuffle<T>(items: T[], prng: Prng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = prng.int(0, i);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}
