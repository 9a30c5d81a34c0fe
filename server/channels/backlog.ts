import type { SwitchboardEvent } from "../../lib/protocol";
import type { BackpressurePolicy } from "./catalog";

/** A seq range the subscriber will not receive live and must refill from history. */
export interface Gap {
  kind: "gap";
  fromSeq: number;
  toSeq: number;
}
/**
 * Events are queued as themselves (no wrapper object per event and subscription: with thousands of
 * subscribers that would be thousands of allocations per event); a gap marker is told apart by `kind`.
 */
export type BacklogItem = SwitchboardEvent | Gap;

export function isGap(item: BacklogItem): item is Gap {
  return (item as Partial<Gap>).kind === "gap";
}

export type PushResult = "queued" | "dropped-oldest" | "overflow";

/**
 * One subscription's bounded outbound queue. Events leave in the order they came; when the queue is
 * full, `drop-oldest` turns the dropped events at its head into a single gap marker (kept in place, so
 * the client sees the gap exactly where the events would have been), and `disconnect` reports
 * overflow and keeps nothing more. Memory is bounded by `capacity` events plus one marker.
 */
export class Backlog {
  private items: BacklogItem[] = [];
  /** An empty array for `drain` to switch to, so draining allocates none. */
  private spare: BacklogItem[] = [];
  private head = 0;
  private eventCount = 0;
  /** Whether a gap marker sits in `items` (it can only be at the head). */
  private gapQueued = false;

  constructor(
    readonly capacity: number,
    readonly policy: BackpressurePolicy,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("backlog capacity must be a positive integer");
  }

  get size(): number {
    return this.eventCount;
  }

  get isEmpty(): boolean {
    return this.head >= this.items.length;
  }

  push(event: SwitchboardEvent): PushResult {
    if (this.eventCount < this.capacity) {
      this.items.push(event);
      this.eventCount++;
      return "queued";
    }
    if (this.policy === "disconnect") return "overflow";
    this.dropOldestEvent();
    this.items.push(event);
    this.eventCount++;
    return "dropped-oldest";
  }

  /** Removes everything at or below `seq`: used when history already covered it. */
  discardThrough(seq: number): void {
    const kept: BacklogItem[] = [];
    for (const item of this.items.slice(this.head)) {
      if (!isGap(item)) {
        if (item.seq > seq) kept.push(item);
      } else if (item.toSeq > seq) {
        kept.push({ ...item, fromSeq: Math.max(item.fromSeq, seq + 1) });
      }
    }
    this.items = kept;
    this.head = 0;
    this.gapQueued = kept.some(isGap);
    this.eventCount = kept.length - (this.gapQueued ? 1 : 0);
  }

  /**
   * Hands what is queued to `onEvents` and `onGap`, in order: runs of events (never empty) and gaps.
   * `onEvents` returns how many events of the run it took, from the start; when it takes fewer (its
   * receiver is full), the drain stops there, keeps the rest queued in order and returns false.
   * Returns true when everything was taken. The array `onEvents` gets is the backlog's own and is
   * reused afterwards: read it during the call, do not keep it (one array per subscription, not one
   * per delivery). `context` is passed through, so callers need not allocate a closure per drain.
   */
  drain<C>(context: C, onEvents: (context: C, events: readonly SwitchboardEvent[]) => number, onGap: (context: C, gap: Gap) => void): boolean {
    if (this.isEmpty) return true;
    const items = this.head === 0 ? this.items : this.items.slice(this.head);
    const hadGap = this.gapQueued;
    // Two arrays take turns: events pushed while the callbacks run go to the other one.
    this.items = this.spare;
    this.head = 0;
    this.eventCount = 0;
    this.gapQueued = false;
    if (!hadGap) {
      const taken = onEvents(context, items as SwitchboardEvent[]);
      if (taken < items.length) return this.keep(items, taken);
    } else {
      let from = 0;
      for (let i = 0; i <= items.length; i++) {
        const item = items[i];
        if (item !== undefined && !isGap(item)) continue;
        if (i > from) {
          const taken = onEvents(context, items.slice(from, i) as SwitchboardEvent[]);
          if (taken < i - from) return this.keep(items, from + taken);
        }
        if (item !== undefined) onGap(context, item);
        from = i + 1;
      }
    }
    items.length = 0;
    this.spare = items;
    return true;
  }

  /** After a partial drain: puts `items` from `from` on back in front of whatever came meanwhile. */
  private keep(items: BacklogItem[], from: number): false {
    const arrived = this.items;
    if (from === 0 && arrived.length === 0) {
      // Nothing was taken (the usual case when the receiver was already full): no copy.
      this.spare = arrived;
      this.items = items;
    } else {
      const rest = items.slice(from);
      for (const item of arrived) rest.push(item);
      arrived.length = 0;
      items.length = 0;
      this.spare = items;
      this.items = rest;
    }
    this.head = 0;
    let gaps = 0;
    for (const item of this.items) if (isGap(item)) gaps++;
    this.gapQueued = gaps > 0;
    this.eventCount = this.items.length - gaps;
    return false;
  }

  private dropOldestEvent() {
    // The head is either an event or the gap marker left by earlier drops, followed by events.
    const first = this.items[this.head];
    if (first === undefined) return;
    if (isGap(first)) {
      const next = this.items[this.head + 1];
      if (next === undefined || isGap(next)) return;
      first.toSeq = next.seq;
      this.items[this.head + 1] = first;
      this.head++;
    } else {
      this.items[this.head] = { kind: "gap", fromSeq: first.seq, toSeq: first.seq };
      this.gapQueued = true;
    }
    this.eventCount--;
    // Compact now and then so the array does not grow with the number of drops.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
