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
   * Hands everything queued to `onEvents` and `onGap`, in order: runs of events (never empty) and
   * gaps. The array `onEvents` gets is the backlog's own and is reused afterwards: read it during the
   * call, do not keep it (one array per subscription, not one per delivery). `context` is passed
   * through, so callers need not allocate a closure per drain.
   */
  drain<C>(context: C, onEvents: (context: C, events: readonly SwitchboardEvent[]) => void, onGap: (context: C, gap: Gap) => void): void {
    if (this.isEmpty) return;
    const items = this.head === 0 ? this.items : this.items.slice(this.head);
    const hadGap = this.gapQueued;
    // Two arrays take turns: events pushed while the callbacks run go to the other one.
    this.items = this.spare;
    this.head = 0;
    this.eventCount = 0;
    this.gapQueued = false;
    if (!hadGap) {
      onEvents(context, items as SwitchboardEvent[]);
    } else {
      let run: SwitchboardEvent[] = [];
      for (const item of items) {
        if (isGap(item)) {
          if (run.length) onEvents(context, run);
          run = [];
          onGap(context, item);
        } else {
          run.push(item);
        }
      }
      if (run.length) onEvents(context, run);
    }
    items.length = 0;
    this.spare = items;
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
