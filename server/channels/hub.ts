import { randomUUID } from "node:crypto";
import type { ChannelInfo, SubscribeRequest, SubscribeResult, SwitchboardEvent } from "../../lib/protocol";
import { MAX_HISTORY, publishInputSchema } from "../../lib/protocol";
import { DEFAULT_MAX_PAYLOAD_DEPTH, checkPayload, describePayloadFailure } from "../../lib/payload-rules";
import { GroupCommitter, type GroupCommitOptions } from "./group-commit";
import type { EncodedReadResult, HistoryStore } from "./history-store";
import { Backlog } from "./backlog";
import { getChannelOrThrow, type ChannelCatalog, type ChannelSettings } from "./catalog";
import { SwitchboardError, isSwitchboardError } from "./errors";
import type { FanoutBackend } from "./fanout";
import { compileFilter, normalizeFilter, type NormalizedFilter } from "./filter";
import { ChannelSequencer } from "./sequencer";
import { DeliveryScheduler, SubscriberConnection, Subscription, type CloseReason, type Principal, type SubscriberSink } from "./subscriber";

/** A publish input as the edge validated it (`publishInputSchema`'s output). */
export type ValidPublishInput = ReturnType<typeof publishInputSchema.parse>;

/** What one publish call costs a token's limits. */
export interface PublishCost {
  events: number;
  /** Payload bytes, as stored. */
  bytes: number;
}

/** What the hub reports; the Prometheus implementation lives at the edge. */
export interface HubMetrics {
  published(channel: string, count: number): void;
  delivered(channel: string, count: number): void;
  dropped(channel: string, count: number): void;
  publishToFanoutSeconds(seconds: number): void;
  dbWrite(events: number, seconds: number): void;
}

export interface HubLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface HubOptions {
  catalog: ChannelCatalog;
  store: HistoryStore;
  fanout: FanoutBackend;
  logger: HubLogger;
  metrics?: HubMetrics;
  /** Largest payload, counted as PostgreSQL stores and prints it (lib/payload-rules.ts). */
  maxPayloadBytes: number;
  /** Most bytes of event JSON one read of history may answer (subscribe, HTTP pages, refills). */
  maxAnswerBytes?: number;
  /** Most containers nested in one another in a payload, the payload object being 1; default 64. */
  maxPayloadDepth?: number;
  /** Events one publish call may carry. */
  maxBatch?: number;
  maxSubscriptionsPerConnection?: number;
  /** Connections one token (`principal.tokenId`) may hold on this node. */
  maxConnectionsPerToken?: number;
  /** Subscriptions one token may hold across its connections on this node. */
  maxSubscriptionsPerToken?: number;
  /**
   * Called with the principal and what a publish costs (events, and payload bytes as stored) before
   * it is accepted; throws to refuse it.
   */
  admitPublish?: (principal: Principal, cost: PublishCost) => void;
  /** Per channel: each channel has its own group committer. */
  groupCommit?: Partial<GroupCommitOptions>;
  sequencer?: { holdMs?: number; maxHeld?: number };
}

export interface PendingSubscription {
  result: EncodedSubscribeResult;
  /** Starts live delivery. Call it after the result has been sent, so live events follow it. */
  activate(): void;
}

/** A subscribe result whose history is the JSON text of its events (`[…]`, ascending seq). */
export type EncodedSubscribeResult = Omit<SubscribeResult, "history"> & { historyJson: string };

/**
 * Whether a subscribe answer left matching events out: with `since`, more came after the page
 * (MAX_HISTORY or the byte budget); with `history: n`, the byte budget kept fewer than n although
 * more matched.
 */
function isTruncated(req: SubscribeRequest, returned: number, hasMore: boolean) {
  if (req.since !== undefined) return hasMore;
  return hasMore && returned < (req.history ?? 0);
}

const noMetrics: HubMetrics = {
  published() {},
  delivered() {},
  dropped() {},
  publishToFanoutSeconds() {},
  dbWrite() {},
};

/**
 * Everything the hub holds for one channel: seqs and their order are per channel, so each channel
 * has its own group committer (channels commit side by side, and one channel's JavaScript work
 * overlaps another's transaction) and its own sequencer.
 */
class ChannelState {
  readonly subscriptions = new Set<Subscription>();

  constructor(
    readonly settings: ChannelSettings,
    readonly committer: GroupCommitter,
    readonly sequencer: ChannelSequencer,
  ) {}
}

/**
 * The channels core: routes publishes into the history store, hands committed events to fanout and
 * delivers them, in seq order and filtered, to every matching subscription on this node.
 *
 * Guarantees, per channel and subscription:
 * - a publish is acknowledged only after its events are committed;
 * - a subscriber receives events in increasing seq, never twice, and between the history in its
 *   subscribe result and its first live event there is no hole: every matching event is in one or
 *   the other (unless its backlog overflowed, in which case it is told with a gap notice).
 */
export class Hub {
  /** Every catalog channel's state, from `start` on. */
  private readonly channelStates = new Map<string, ChannelState>();
  private readonly connections = new Set<SubscriberConnection>();
  private readonly metrics: HubMetrics;
  private readonly delivery: DeliveryScheduler;
  private readonly maxBatch: number;
  private readonly maxSubscriptions: number;
  private readonly maxAnswerBytes: number | undefined;
  private readonly maxConnectionsPerToken: number;
  private readonly maxSubscriptionsPerToken: number;
  /**
   * Each token's open connections. A token's subscriptions are counted from them when it subscribes,
   * so nothing has to be released by hand: a closed subscription or connection simply stops counting.
   */
  private readonly tokenConnections = new Map<string, Set<SubscriberConnection>>();
  private started = false;
  private nextConnectionId = 1;

  constructor(private readonly options: HubOptions) {
    this.metrics = options.metrics ?? noMetrics;
    this.delivery = new DeliveryScheduler((channel, n) => this.metrics.delivered(channel, n));
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxSubscriptions = options.maxSubscriptionsPerConnection ?? 100;
    this.maxAnswerBytes = options.maxAnswerBytes;
    this.maxConnectionsPerToken = options.maxConnectionsPerToken ?? 200;
    this.maxSubscriptionsPerToken = options.maxSubscriptionsPerToken ?? 1000;
  }

  get catalog() {
    return this.options.catalog;
  }

  async start() {
    const channels = [...this.options.catalog.keys()];
    await this.options.store.start(channels);
    const heads = await this.options.store.heads();
    for (const settings of this.options.catalog.values()) {
      const channel = settings.name;
      const committer = new GroupCommitter((events) => this.options.store.append(events), {
        maxBatch: this.options.groupCommit?.maxBatch ?? 5000,
        maxPending: this.options.groupCommit?.maxPending ?? 100_000,
        onCommit: (n, s) => this.metrics.dbWrite(n, s),
      });
      const sequencer = new ChannelSequencer(heads.get(channel) ?? 0, {
        holdMs: this.options.sequencer?.holdMs ?? 250,
        maxHeld: this.options.sequencer?.maxHeld ?? 10_000,
        // One page per read keeps memory bounded however large the hole; the sequencer reads
        // the next page at once while it is still behind.
        fill: async (after, upTo) => (await this.options.store.read({ channel, after, upTo, limit: MAX_HISTORY, maxBytes: this.maxAnswerBytes })).events,
        deliver: (events) => this.dispatch(state, events),
        onError: (err) => this.options.logger.error({ err, channel }, "could not read missing events from history; retrying"),
      });
      const state = new ChannelState(settings, committer, sequencer);
      this.channelStates.set(channel, state);
    }
    await this.options.fanout.start({
      onEvents: (events) => this.offer(events),
      onReconnect: () => {
        this.catchUp().catch((err: unknown) => this.options.logger.warn({ err }, "catch-up from the database failed"));
      },
    });
    this.started = true;
  }

  /** Refuses new publishes, commits and delivers what was accepted, then closes every connection. */
  async stop() {
    const states = [...this.channelStates.values()];
    await Promise.all(states.map((s) => s.committer.close()));
    await this.options.fanout.stop();
    for (const s of states) s.sequencer.stop();
    this.delivery.stop();
    for (const conn of [...this.connections]) this.closeConnection(conn, "shutdown");
    this.started = false;
  }

  /**
   * Throws unless `principal` may publish to `channel`: the cheap check an edge runs before it reads
   * and validates a request body. `publish` runs it again.
   */
  assertMayPublish(principal: Principal, channel: string) {
    const settings = getChannelOrThrow(this.options.catalog, channel);
    if (!settings.publishers.includes(principal.role)) {
      throw new SwitchboardError(
        "forbidden",
        principal.role === "viewer"
          ? "Viewer tokens cannot publish; use a publisher or admin token."
          : `Only ${settings.publishers.join(" or ")} tokens may publish to "${channel}".`,
      );
    }
    return settings;
  }

  async publish(principal: Principal, channel: string, inputs: readonly ValidPublishInput[]): Promise<SwitchboardEvent[]> {
    this.assertStarted();
    const settings = this.assertMayPublish(principal, channel);
    const state = this.stateOf(settings);
    if (inputs.length === 0) throw new SwitchboardError("invalid_request", "No events to publish.");
    if (inputs.length > this.maxBatch) {
      throw new SwitchboardError("payload_too_large", `At most ${this.maxBatch} events per publish; got ${inputs.length}.`);
    }
    const ts = new Date().toISOString();
    let bytes = 0;
    const events = inputs.map((input, i) => {
      // Everything PostgreSQL would refuse is refused here, alone: a payload that reached the group
      // committer could fail the transaction it shares with other callers' events.
      const check = checkPayload(input.payload, {
        maxBytes: this.options.maxPayloadBytes,
        maxDepth: this.options.maxPayloadDepth ?? DEFAULT_MAX_PAYLOAD_DEPTH,
        root: inputs.length > 1 ? `[${i}].payload` : "payload",
      });
      if (!check.ok) {
        throw check.rule === "too_large"
          ? new SwitchboardError(
              "payload_too_large",
              `${check.path} is ${check.storedBytes} bytes as stored; the limit is ${this.options.maxPayloadBytes} (MAX_PAYLOAD_BYTES).`,
            )
          : new SwitchboardError("invalid_request", describePayloadFailure(check));
      }
      const payloadBytes = check.storedBytes;
      bytes += payloadBytes;
      return {
        v: 1 as const,
        id: randomUUID(),
        channel,
        type: input.type,
        ts,
        agent: input.agent ?? null,
        project: input.project ?? null,
        payload: input.payload,
        payloadBytes,
      };
    });
    this.options.admitPublish?.(principal, { events: events.length, bytes });
    const committed = await state.committer
      .append(events)
      .catch((err: unknown) => {
        // The database refusing an event means a check above let it through: worth knowing.
        if (isSwitchboardError(err) && err.code === "invalid_request") this.options.logger.warn({ err, channel }, "the database refused a published event");
        throw err;
      });
    this.metrics.published(channel, committed.length);
    // This node delivers its own events at once; fanout carries them to the other nodes. A fanout
    // failure loses nothing: the events are committed and other nodes read holes from history.
    state.sequencer.offer(committed);
    this.options.fanout.publish(committed).catch((err: unknown) => {
      this.options.logger.warn({ err, channel }, "fanout publish failed; other nodes will read these events from history");
    });
    return committed;
  }

  /** Throws `rate_limited` when the token already holds `maxConnectionsPerToken` connections. */
  connect(principal: Principal, sink: SubscriberSink): SubscriberConnection {
    this.assertStarted();
    let siblings = this.tokenConnections.get(principal.tokenId);
    if (siblings && siblings.size >= this.maxConnectionsPerToken) {
      throw new SwitchboardError(
        "rate_limited",
        `This token already holds ${siblings.size} connections to this node; the limit is ${this.maxConnectionsPerToken} (MAX_CONNECTIONS_PER_TOKEN). Close one first.`,
        { retryAfterSeconds: 1 },
      );
    }
    const conn = new SubscriberConnection(`c${this.nextConnectionId++}`, principal, sink, this.delivery);
    this.connections.add(conn);
    if (!siblings) this.tokenConnections.set(principal.tokenId, (siblings = new Set()));
    siblings.add(conn);
    return conn;
  }

  /** Releases the connection and its subscriptions; calling it again does nothing. */
  disconnect(conn: SubscriberConnection) {
    conn.closed = true;
    const siblings = this.tokenConnections.get(conn.principal.tokenId);
    if (siblings?.delete(conn) && siblings.size === 0) this.tokenConnections.delete(conn.principal.tokenId);
    for (const sub of conn.subscriptions.values()) this.channelStates.get(sub.channel)?.subscriptions.delete(sub);
    conn.subscriptions.clear();
    this.connections.delete(conn);
  }

  /**
   * Opens a subscription and reads its history, as the JSON text of its events for a transport to
   * send as it is. Live delivery starts with `activate()`.
   */
  async subscribeEncoded(conn: SubscriberConnection, req: SubscribeRequest): Promise<PendingSubscription> {
    this.assertStarted();
    const state = this.stateOf(getChannelOrThrow(this.options.catalog, req.channel));
    const { settings } = state;
    if (conn.subscriptions.size >= this.maxSubscriptions) {
      throw new SwitchboardError("rate_limited", `At most ${this.maxSubscriptions} subscriptions per connection.`);
    }
    this.assertTokenMaySubscribe(conn.principal);
    const filter = normalizeFilter(req.filter);
    const sub = new Subscription(
      `${conn.id}.${randomUUID().slice(0, 8)}`,
      settings.name,
      conn,
      compileFilter(filter),
      new Backlog(settings.maxBacklog, settings.backpressure),
    );
    // Register before reading history: whatever commits after the read is then already being
    // queued here, and whatever the read saw is dropped from the queue by `setFloor`.
    conn.subscriptions.set(sub.id, sub);
    state.subscriptions.add(sub);
    let read: EncodedReadResult;
    try {
      read = await this.options.store.readEncoded(
        req.since !== undefined
          ? { channel: settings.name, filter, after: req.since, limit: MAX_HISTORY, maxBytes: this.maxAnswerBytes }
          : { channel: settings.name, filter, limit: req.history ?? 0, newest: true, maxBytes: this.maxAnswerBytes },
      );
    } catch (err) {
      this.removeSubscription(sub);
      throw err;
    }
    if (conn.closed) throw new SwitchboardError("unavailable", "The connection closed during subscribe.");
    sub.setFloor(read.head);
    return {
      result: { subscriptionId: sub.id, historyJson: read.eventsJson, head: read.head, truncated: isTruncated(req, read.count, read.hasMore) },
      activate: () => {
        sub.live = true;
        conn.schedulePump();
      },
    };
  }

  unsubscribe(conn: SubscriberConnection, subscriptionId: string) {
    const sub = conn.subscriptions.get(subscriptionId);
    if (!sub) throw new SwitchboardError("not_found", `No subscription "${subscriptionId}" on this connection.`);
    this.removeSubscription(sub);
  }

  /**
   * A page of a channel's history, as JSON text, for the HTTP API: the oldest after `after`, or with
   * `before`, the newest below it (ascending either way). At most `maxAnswerBytes` of events.
   */
  async history(channel: string, query: { after?: number; before?: number; limit: number; filter?: NormalizedFilter }) {
    this.assertStarted();
    const settings = getChannelOrThrow(this.options.catalog, channel);
    const { before, ...rest } = query;
    return this.options.store.readEncoded({
      channel: settings.name,
      ...rest,
      ...(before !== undefined ? { upTo: before - 1, newest: true } : {}),
      maxBytes: this.maxAnswerBytes,
    });
  }

  /** Where a replay of a channel from a point in time starts (the `after` to read from). */
  async seqBefore(channel: string, ts: Date) {
    this.assertStarted();
    const settings = getChannelOrThrow(this.options.catalog, channel);
    return this.options.store.seqBefore(settings.name, ts);
  }

  channels(): ChannelInfo[] {
    return [...this.options.catalog.keys()].map((name) => ({
      name,
      lastSeq: this.channelStates.get(name)?.sequencer.released ?? 0,
      subscribers: this.channelStates.get(name)?.subscriptions.size ?? 0,
    }));
  }

  stats() {
    let subscriptions = 0;
    let queuedEvents = 0;
    let pendingWrites = 0;
    for (const state of this.channelStates.values()) {
      subscriptions += state.subscriptions.size;
      for (const sub of state.subscriptions) queuedEvents += sub.backlog.size;
      pendingWrites += state.committer.pendingEvents;
    }
    return { connections: this.connections.size, subscriptions, queuedEvents, pendingWrites, tokens: this.tokenConnections.size };
  }

  /** Tells the sequencers what the store has committed, so events fanout lost are read from history. */
  async catchUp() {
    const heads = await this.options.store.heads();
    for (const [channel, head] of heads) this.channelStates.get(channel)?.sequencer.catchUp(head);
  }

  async ping() {
    await this.options.store.ping();
  }

  /** Committed events from this node or fanout, in any order. */
  private offer(events: readonly SwitchboardEvent[]) {
    const byChannel = new Map<string, SwitchboardEvent[]>();
    for (const e of events) {
      const list = byChannel.get(e.channel);
      if (list) list.push(e);
      else byChannel.set(e.channel, [e]);
    }
    for (const [channel, list] of byChannel) this.channelStates.get(channel)?.sequencer.offer(list);
  }

  /** In-order events of one channel, to its subscriptions. */
  private dispatch(state: ChannelState, events: SwitchboardEvent[]) {
    const channel = state.settings.name;
    const now = Date.now();
    for (const e of events) this.metrics.publishToFanoutSeconds((now - Date.parse(e.ts)) / 1000);
    for (const sub of state.subscriptions) {
      let dropped = 0;
      let overflow = false;
      for (const e of events) {
        const r = sub.offer(e);
        if (r === "dropped-oldest") dropped++;
        else if (r === "overflow") {
          overflow = true;
          break;
        }
      }
      if (dropped) this.metrics.dropped(channel, dropped);
      if (overflow) {
        this.options.logger.warn({ connection: sub.connection.id, channel }, "subscriber fell too far behind; disconnecting");
        this.closeConnection(sub.connection, "slow_consumer");
      } else if (sub.live) {
        sub.connection.schedulePump();
      }
    }
  }

  /** Counted across the token's connections (at most `maxConnectionsPerToken` of them), not kept in a counter that could leak. */
  private assertTokenMaySubscribe(principal: Principal) {
    let held = 0;
    for (const conn of this.tokenConnections.get(principal.tokenId) ?? []) held += conn.subscriptions.size;
    if (held >= this.maxSubscriptionsPerToken) {
      throw new SwitchboardError(
        "rate_limited",
        `This token already holds ${held} subscriptions on this node; the limit is ${this.maxSubscriptionsPerToken} (MAX_SUBSCRIPTIONS_PER_TOKEN). Unsubscribe first.`,
      );
    }
  }

  private removeSubscription(sub: Subscription) {
    sub.connection.subscriptions.delete(sub.id);
    this.channelStates.get(sub.channel)?.subscriptions.delete(sub);
  }

  /** A catalog channel's state; only a hub that has not started (or failed to) has none. */
  private stateOf(settings: ChannelSettings): ChannelState {
    const state = this.channelStates.get(settings.name);
    if (!state) throw new SwitchboardError("unavailable", "The hub is not running (not started yet, or shutting down).", { retryAfterSeconds: 1 });
    return state;
  }

  private closeConnection(conn: SubscriberConnection, reason: CloseReason) {
    if (conn.closed) return;
    this.disconnect(conn);
    conn.sink.close(reason);
  }

  private assertStarted() {
    if (!this.started) throw new SwitchboardError("unavailable", "The hub is not running (not started yet, or shutting down).", { retryAfterSeconds: 1 });
  }
}
