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
 * bounded by `capacity` however many events arrive, and adding one event costs a binary search and
 * one array splice, so a busy feed does not re-sort on every event.
 */
export class NewestFirstBuffer {
  private rows: SwitchboardEvent[] = [];
  /** Ids of the events in `rows`, to drop the duplicates that refills and reconnects can deliver. */
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
  }

  get size() {
    return this.rows.length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds events in any order; returns whether the kept rows changed. */
  add(events: Iterable<SwitchboardEvent>): boolean {
    let changed = false;
    for (const event of events) {
      if (this.ids.has(event.id)) continue;
      const at = this.insertionIndex(event);
      // Older than everything kept in a full buffer: it would be evicted at once.
      if (at >= this.capacity) continue;
      this.rows.splice(at, 0, event);
      this.ids.add(event.id);
      if (this.rows.length > this.capacity) this.ids.delete(this.rows.pop()!.id);
      changed = true;
    }
    return changed;
  }

  clear() {
    this.rows = [];
    this.ids.clear();
  }

  /** A copy, safe to hand to React as immutable state. */
  toArray(): SwitchboardEvent[] {
    return this.rows.slice();
  }

  /** The first index whose row sorts after `event`; new events usually land at 0. */
  private insertionIndex(event: SwitchboardEvent): number {
    let low = 0;
    let high = this.rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareNewestFirst(this.rows[mid]!, event) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
