import type { GapNotice, Role, SwitchboardEvent } from "../../lib/protocol";
import { Backlog, type Gap, type PushResult } from "./backlog";
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
 * meanwhile, so a client that stops reading costs at most its backlogs. A sink also bounds what one
 * pump may write into it: `sendEvents` takes only as many events as it has room for.
 */
export interface SubscriberSink {
  /**
   * One subscription's events, in seq order, never empty. Everything that queued while the sink was
   * busy comes in one call, so a transport can send it as one message. Returns how many events, from
   * the start, it sent: all of them, or fewer when it is full (at least one unless it was full
   * already); the rest stay queued for the next pump. The array is reused after the call returns:
   * send (or copy) the events during it.
   */
  sendEvents(events: readonly SwitchboardEvent[], subscriptionId: string): number;
  sendGap(notice: GapNotice): void;
  /** Whether the sink takes writes now, with room for more. */
  isWritable(): boolean;
  /** Calls `callback` once, when the sink is writable again. At most one callback waits at a time. */
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

/**
 * Runs the pumps of every connection with something to send, once per turn of the event loop
 * (`setImmediate`), after the I/O callbacks of that turn. Everything committed in one turn then
 * leaves in one write per subscription, and the answers to the publishes that caused it (sent from
 * those callbacks) are not held up behind the fanout.
 */
export class DeliveryScheduler {
  private due = new Set<SubscriberConnection>();
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private readonly delivered = new Map<string, number>();

  /** `onDelivered` is told the events written per channel, once per run. */
  constructor(private readonly onDelivered: (channel: string, count: number) => void) {}

  schedule(conn: SubscriberConnection) {
    this.due.add(conn);
    this.immediate ??= setImmediate(this.run);
  }

  /** Counts events written by a pump; reported together at the end of the run. */
  countDelivered(channel: string, count: number) {
    this.delivered.set(channel, (this.delivered.get(channel) ?? 0) + count);
  }

  /** Runs what is due now (so a shutdown writes what was committed before it), then stops. */
  stop() {
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.run();
    }
    this.due.clear();
  }

  private readonly run = () => {
    this.immediate = null;
    const due = this.due;
    this.due = new Set();
    for (const conn of due) conn.pump();
    for (const [channel, count] of this.delivered) this.onDelivered(channel, count);
    this.delivered.clear();
  };
}

function sendEvents(sub: Subscription, events: readonly SwitchboardEvent[]) {
  const sent = sub.connection.sink.sendEvents(events, sub.id);
  if (sent > 0) sub.connection.countDelivered(sub.channel, sent);
  return sent;
}

function sendGap(sub: Subscription, gap: Gap) {
  sub.connection.sink.sendGap({ subscriptionId: sub.id, channel: sub.channel, fromSeq: gap.fromSeq, toSeq: gap.toSeq });
}

/** One client connection: its subscriptions and the pump that moves their backlogs to the sink. */
export class SubscriberConnection {
  readonly subscriptions = new Map<string, Subscription>();
  private waitingForDrain = false;
  closed = false;

  constructor(
    readonly id: string,
    readonly principal: Principal,
    readonly sink: SubscriberSink,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  schedulePump() {
    if (this.waitingForDrain || this.closed) return;
    this.scheduler.schedule(this);
  }

  countDelivered(channel: string, count: number) {
    this.scheduler.countDelivered(channel, count);
  }

  /**
   * Moves every live subscription's backlog to the sink, as far as the sink has room, if it takes
   * writes now. When the sink fills up, the rest stays queued and the pump runs again once the sink
   * is writable, starting with the subscriptions this run did not reach.
   */
  pump() {
    if (this.closed || this.waitingForDrain) return;
    if (!this.sink.isWritable()) return this.waitForSink();
    for (const sub of this.subscriptions.values()) {
      if (!sub.live || sub.backlog.isEmpty) continue;
      if (!sub.backlog.drain(sub, sendEvents, sendGap)) {
        this.served(sub);
        return this.waitForSink();
      }
    }
  }

  private waitForSink() {
    if (this.closed) return;
    this.waitingForDrain = true;
    this.sink.onceWritable(() => {
      this.waitingForDrain = false;
      this.schedulePump();
    });
  }

  /** Moves the subscriptions up to `last` behind the others, so a full sink does not starve the later ones. */
  private served(last: Subscription) {
    for (const sub of [...this.subscriptions.values()]) {
      this.subscriptions.delete(sub.id);
      this.subscriptions.set(sub.id, sub);
      if (sub === last) break;
    }
  }
}
