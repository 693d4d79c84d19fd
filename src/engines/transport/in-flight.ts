// Requests in flight that may have to be aborted together (a crawl stopped,
// a step timed out). An array of slots with a free list, not a Set: a Set
// with one add and one delete per request kept each finished request
// reachable from old space until its next rehash, so requests that lived a
// millisecond survived young-generation GCs and were promoted. Measured on
// 60k requests over 16 connections: 112 MB promoted with a Set, 9.6 MB with
// slots (as without any tracking).

export class InFlight<T> {
  private readonly slots: Array<T | undefined> = [];
  private readonly free: number[] = [];

  /** Registers `item`; keep the returned slot to remove it. */
  add(item: T): number {
    const slot = this.free.pop() ?? this.slots.length;
    this.slots[slot] = item;
    return slot;
  }

  /** Removes `item` from its slot; a second call for the same item does nothing. */
  delete(slot: number, item: T): void {
    if (this.slots[slot] !== item) return;
    this.slots[slot] = undefined;
    this.free.push(slot);
  }

  /** The items in flight now, copied: aborting one removes it while the caller iterates. */
  items(): T[] {
    return this.slots.filter((x): x is T => x !== undefined);
  }
}
