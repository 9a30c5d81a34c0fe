import type { GapNotice, SwitchboardEvent } from "../../lib/protocol";
import type { CloseReason, SubscriberSink } from "./subscriber";

/** One thing a MemorySink was sent. */
export type MemorySinkEntry =
  | { kind: "event"; subscriptionId: string; event: SwitchboardEvent }
  | { kind: "gap"; notice: GapNotice }
  | { kind: "closing"; reason: CloseReason };

/**
 * A sink that keeps what it is sent, for tests of the hub. The test plays the peer: `writable` and
 * `room` say whether and how much the sink takes, `setWritable()` is the peer having read it all.
 */
export class MemorySink implements SubscriberSink {
  /** Everything sent, in order. */
  readonly log: MemorySinkEntry[] = [];
  events: { event: SwitchboardEvent; subscriptionId: string }[] = [];
  gaps: GapNotice[] = [];
  closedWith: CloseReason | null = null;
  writable = true;
  private waiting: (() => void)[] = [];
  /** How many events each `sendEvents` call carried. */
  batches: number[] = [];
  /** Events the sink takes before it is full (and stops being writable until `setWritable`). */
  room = Number.POSITIVE_INFINITY;

  sendEvents(events: readonly SwitchboardEvent[], subscriptionId: string) {
    if (this.closedWith) return 0;
    const n = Math.min(events.length, this.room);
    this.room -= n;
    if (this.room === 0) this.writable = false;
    if (n === 0) return 0;
    this.batches.push(n);
    for (let i = 0; i < n; i++) {
      const event = events[i]!;
      this.events.push({ event, subscriptionId });
      this.log.push({ kind: "event", subscriptionId, event });
    }
    return n;
  }

  sendGap(notice: GapNotice) {
    if (this.closedWith) return;
    this.gaps.push(notice);
    this.log.push({ kind: "gap", notice });
  }

  isWritable() {
    return this.writable && !this.closedWith;
  }

  onceWritable(cb: () => void) {
    this.waiting.push(cb);
  }

  close(reason: CloseReason) {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.waiting = [];
    this.log.push({ kind: "closing", reason });
  }

  /** The peer has read everything: writable again, and whoever waits is told. */
  setWritable() {
    this.writable = true;
    for (const cb of this.waiting.splice(0)) cb();
  }
}
