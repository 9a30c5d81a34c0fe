import type { SwitchboardEvent } from "../../lib/protocol";
import type { BackpressurePolicy } from "./catalog";

/** A seq range the subscriber will not receive live and must refill from history. */
export interface Gap {
  kind: "gap";
  fromSeq: number;
  toSeq: number;
}
export type BacklogItem = { kind: "event"; event: SwitchboardEvent } | Gap;

export type PushResult = "queued" | "dropped-oldest" | "overflow";

/**
 * One subscription's bounded outbound queue. Events leave in the order they came; when the queue is
 * full, `drop-oldest` turns the dropped events at its head into a single gap marker (kept in place, so
 * the client sees the gap exactly where the events would have been), and `disconnect` reports
 * overflow and keeps nothing more. Memory is bounded by `capacity` events plus one marker.
 */
export class Backlog {
  private items: BacklogItem[] = [];
  private head = 0;
  private eventCount = 0;

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
      this.append({ kind: "event", event });
      return "queued";
    }
    if (this.policy === "disconnect") return "overflow";
    this.dropOldestEvent();
    this.append({ kind: "event", event });
    return "dropped-oldest";
  }

  /** Removes everything at or below `seq`: used when history already covered it. */
  discardThrough(seq: number): void {
    const kept: BacklogItem[] = [];
    for (const item of this.items.slice(this.head)) {
      if (item.kind === "event") {
        if (item.event.seq > seq) kept.push(item);
      } else if (item.toSeq > seq) {
        kept.push({ ...item, fromSeq: Math.max(item.fromSeq, seq + 1) });
      }
    }
    this.items = kept;
    this.head = 0;
    this.eventCount = kept.filter((i) => i.kind === "event").length;
  }

  /** Takes everything queued, in order. */
  drain(): BacklogItem[] {
    const out = this.head === 0 ? this.items : this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.eventCount = 0;
    return out;
  }

  private append(item: BacklogItem) {
    this.items.push(item);
    if (item.kind === "event") this.eventCount++;
  }

  private dropOldestEvent() {
    // The head is either an event or the gap marker left by earlier drops, followed by events.
    const first = this.items[this.head];
    if (first?.kind === "gap") {
      const next = this.items[this.head + 1];
      if (next?.kind !== "event") return;
      first.toSeq = next.event.seq;
      this.items[this.head + 1] = first;
      this.head++;
    } else if (first?.kind === "event") {
      this.items[this.head] = { kind: "gap", fromSeq: first.event.seq, toSeq: first.event.seq };
    } else {
      return;
    }
    this.eventCount--;
    // Compact now and then so the array does not grow with the number of drops.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
