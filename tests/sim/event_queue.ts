/**
 * A priority queue of simulator events ordered by virtual time, ties broken by insertion
 * order, so a run is a pure function of its seed (no two events ever compare equal).
 */
import { assert } from "../../src/util/mod.ts";

interface Slot<T> {
  readonly atMs: number;
  readonly seq: number;
  readonly value: T;
}

/** A binary min-heap keyed by (time, insertion sequence). */
export class EventQueue<T> {
  #heap: Slot<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(atMs: number, value: T): void {
    const heap = this.#heap;
    heap.push({ atMs, seq: this.#seq++, value });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { atMs: number; value: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const tail = heap.pop();
    assert(tail !== undefined, "heap underflow");
    if (heap.length > 0) {
      heap[0] = tail;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#less(l, m)) m = l;
        if (r < heap.length && this.#less(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return { atMs: top.atMs, value: top.value };
  }

  #less(a: number, b: number): boolean {
    const x = this.#heap[a];
    const y = this.#heap[b];
    assert(x !== undefined && y !== undefined, "heap index out of range");
    return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const x = heap[a];
    const y = heap[b];
    assert(x !== undefined && y !== undefined, "heap index out of range");
    heap[a] = y;
    heap[b] = x;
  }
}
