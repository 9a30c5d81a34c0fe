import type { SwitchboardEvent } from "./protocol";

/**
 * Newest first: later `ts` first, then higher `seq`, then channel and id so that the order is total
 * and the same on every render. `ts` values are all `toISOString()` output, so they compare as strings.
 */
export function compareNewestFirst(a: SwitchboardEvent, b: SwitchboardEvent): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? 1 : -1;
  if (a.seq !== b.seq) return b.seq - a.seq;
  if (a.channel !== b.channel) return a.channel < b.channel ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The newest `capacity` events of several channels, sorted newest first, each event once. Memory is
 * bounded by `capacity` however many events arrive. Adding an event only checks and queues it; the
 * queue is sorted and merged into the rows when they are read, once per render rather than once per
 * event, and that merge builds the new array React gets, so no other copy is made.
 */
export class NewestFirstBuffer {
  /** Newest first; never changed once built, so `toArray()` can hand it out as is. */
  private rows: readonly SwitchboardEvent[] = [];
  /** Added since the last read, in any order. */
  private pending: SwitchboardEvent[] = [];
  /** Ids of the events in `rows` and `pending`, to drop the duplicates that refills and reconnects can deliver. */
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
  }

  get size() {
    return Math.min(this.capacity, this.rows.length + this.pending.length);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds events in any order; returns whether the kept rows (may have) changed. */
  add(events: Iterable<SwitchboardEvent>): boolean {
    let changed = false;
    const last = this.rows.length >= this.capacity ? this.rows[this.rows.length - 1] : undefined;
    for (const event of events) {
      if (this.ids.has(event.id)) continue;
      // Older than everything kept in a full buffer: it would be evicted at once.
      if (last && compareNewestFirst(event, last) >= 0) continue;
      this.pending.push(event);
      this.ids.add(event.id);
      changed = true;
    }
    return changed;
  }

  clear() {
    this.rows = [];
    this.pending = [];
    this.ids.clear();
  }

  /** The rows, newest first: an array that is never changed afterwards, safe to hand to React as state. */
  toArray(): readonly SwitchboardEvent[] {
    if (this.pending.length > 0) this.merge();
    return this.rows;
  }

  /** Merges the sorted queue into the rows, keeping the newest `capacity`; the rest are forgotten. */
  private merge() {
    const incoming = this.pending.sort(compareNewestFirst);
    this.pending = [];
    const rows = this.rows;
    const merged: SwitchboardEvent[] = [];
    let r = 0;
    let i = 0;
    while (merged.length < this.capacity && (r < rows.length || i < incoming.length)) {
      if (i >= incoming.length || (r < rows.length && compareNewestFirst(rows[r]!, incoming[i]!) <= 0)) merged.push(rows[r++]!);
      else merged.push(incoming[i++]!);
    }
    for (; r < rows.length; r++) this.ids.delete(rows[r]!.id);
    for (; i < incoming.length; i++) this.ids.delete(incoming[i]!.id);
    this.rows = merged;
  }
}
