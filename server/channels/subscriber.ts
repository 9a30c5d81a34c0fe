import type { GapNotice, Role, SwitchboardEvent } from "../../lib/protocol";
import { Backlog, type PushResult } from "./backlog";
import type { EventPredicate } from "./filter";

/** Who is on the other end of a connection. */
export interface Principal {
  role: Role;
  /** Token id, or "bootstrap" for the admin token from the environment. */
  tokenId: string;
}

/** Why the hub closed a connection. */
export type CloseReason = "slow_consumer" | "shutdown";

/**
 * The transport's side of one client connection. The hub calls `send*` only while `isWritable()`;
 * when it is not, it waits for `onceWritable` and keeps events in the subscriptions' bounded backlogs
 * meanwhile, so a client that stops reading costs at most its backlogs.
 */
export interface SubscriberSink {
  sendEvent(event: SwitchboardEvent, subscriptionId: string): void;
  sendGap(notice: GapNotice): void;
  isWritable(): boolean;
  onceWritable(callback: () => void): void;
  close(reason: CloseReason): void;
}

export class Subscription {
  /**
   * Until the subscribe call has read history, events are queued but not sent. Afterwards only events
   * above `floor` (the head that history was read at) are taken: older ones were in the history.
   */
  live = false;
  floor = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: string,
    readonly channel: string,
    readonly connection: SubscriberConnection,
    readonly matches: EventPredicate,
    readonly backlog: Backlog,
  ) {}

  /** Applies the history read: drops queued events it covered, and from now on ignores them. */
  setFloor(head: number) {
    this.floor = head;
    this.backlog.discardThrough(head);
  }

  offer(event: SwitchboardEvent): PushResult | "skipped" {
    if (event.seq <= this.floor) return "skipped";
    if (!this.matches(event)) return "skipped";
    return this.backlog.push(event);
  }
}

/** One client connection: its subscriptions and the pump that moves their backlogs to the sink. */
export class SubscriberConnection {
  readonly subscriptions = new Map<string, Subscription>();
  private pumpScheduled = false;
  private waitingForDrain = false;
  closed = false;

  constructor(
    readonly id: string,
    readonly principal: Principal,
    readonly sink: SubscriberSink,
    private readonly onDelivered: (channel: string, count: number) => void,
  ) {}

  schedulePump() {
    if (this.pumpScheduled || this.waitingForDrain || this.closed) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump() {
    if (this.closed) return;
    if (!this.sink.isWritable()) {
      this.waitingForDrain = true;
      this.sink.onceWritable(() => {
        this.waitingForDrain = false;
        this.schedulePump();
      });
      return;
    }
    for (const sub of this.subscriptions.values()) {
      if (!sub.live || sub.backlog.isEmpty) continue;
      let delivered = 0;
      for (const item of sub.backlog.drain()) {
        if (item.kind === "event") {
          this.sink.sendEvent(item.event, sub.id);
          delivered++;
        } else {
          this.sink.sendGap({ subscriptionId: sub.id, channel: sub.channel, fromSeq: item.fromSeq, toSeq: item.toSeq });
        }
      }
      if (delivered) this.onDelivered(sub.channel, delivered);
    }
  }
}
