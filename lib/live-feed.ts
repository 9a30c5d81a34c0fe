/**
 * The live feed: one Socket.IO connection subscribed to several channels with one filter, merged into
 * a bounded newest-first list. Isomorphic (socket.io-client and fetch only); the browser authenticates
 * with its session cookie, Node callers pass `baseUrl` and `token`.
 *
 * Delivery: per channel it remembers the newest seq covered (the subscribe head, then each live
 * event). After a reconnect it subscribes again with `since` that seq, so nothing is missed, and the
 * buffer drops any event id it already holds, so nothing shows twice. A `gap` notice (the server
 * dropped events for a slow client) is refilled over HTTP with the same filter.
 */
import { io, type Socket } from "socket.io-client";
import { ApiError, fetchEventsPage, type ApiTarget } from "./api-client";
import { NewestFirstBuffer } from "./feed-buffer";
import { sameFeedFilter, toEventFilter, type FeedFilter } from "./feed-filter";
import {
  MAX_HISTORY,
  SOCKET_PATH,
  type ClientToServerEvents,
  type GapNotice,
  type ServerToClientEvents,
  type SubscribeRequest,
  type SubscribeResult,
  type SwitchboardEvent,
} from "./protocol";

type FeedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * - `connecting`: first connection not up yet;
 * - `live`: connected, events flow;
 * - `reconnecting`: connection lost, trying again;
 * - `offline`: several attempts failed in a row (still retrying), or the session is no longer valid.
 */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

export interface LiveFeedSnapshot {
  connection: ConnectionState;
  filter: FeedFilter;
  /** Newest first, at most `maxEvents`. */
  events: readonly SwitchboardEvent[];
  /** True until every channel has answered its first subscribe for the current filter. */
  loading: boolean;
  /** Newest seq known per channel: its head when subscribed, then each live event. */
  lastSeq: Readonly<Record<string, number>>;
  /** What the user should know about: failed subscribes, events that could not be refilled. */
  problems: readonly string[];
  /** Why the server last closed the connection, until it is back. */
  closingMessage: string | null;
  /** The session is gone: the socket will not reconnect until the user signs in again. */
  unauthorized: boolean;
  /** Agents and projects seen since the feed opened (under any filter), sorted, for filter suggestions. */
  knownAgents: readonly string[];
  knownProjects: readonly string[];
}

export interface LiveFeedOptions extends ApiTarget {
  channels: readonly string[];
  filter: FeedFilter;
  /** Recent events per channel loaded when subscribing (or re-subscribing with a new filter). */
  historyPerChannel: number;
  /** Rows kept in memory, all channels together. */
  maxEvents: number;
  onChange(snapshot: LiveFeedSnapshot): void;
  /** Event bursts are passed on at most this often, so a busy feed renders a few times a second. @default 100 */
  notifyIntervalMs?: number;
  /** A subscribe not answered in this time means the connection is unhealthy: reconnect. @default 10000 */
  subscribeTimeoutMs?: number;
}

export interface LiveFeed {
  /** Resubscribes every channel with the new filter and starts a fresh list; same filter: no-op. */
  setFilter(filter: FeedFilter): void;
  snapshot(): LiveFeedSnapshot;
  close(): void;
}

/** Consecutive failed reconnection attempts before the feed calls itself offline. */
const OFFLINE_AFTER_FAILED_ATTEMPTS = 3;
/** Delay before reconnecting by hand when Socket.IO will not (server-side disconnects, refused handshakes). */
const MANUAL_RECONNECT_MS = 1_500;
const REFILL_ATTEMPTS = 3;
const REFILL_RETRY_MS = 1_000;
/** Distinct agents (and projects) remembered for suggestions. */
const MAX_KNOWN_LABELS = 500;

/** Distinct values seen, up to a limit, with a sorted copy rebuilt only after a change. */
class LabelSet {
  private readonly values = new Set<string>();
  private sorted: readonly string[] = [];
  private dirty = false;

  add(value: string | null) {
    if (value === null || this.values.has(value) || this.values.size >= MAX_KNOWN_LABELS) return;
    this.values.add(value);
    this.dirty = true;
  }

  toSortedArray(): readonly string[] {
    if (this.dirty) {
      this.sorted = [...this.values].sort();
      this.dirty = false;
    }
    return this.sorted;
  }
}

interface ChannelCursor {
  /** Newest seq covered under the current filter; undefined until a subscribe succeeds. */
  lastSeq: number | undefined;
  /** Whether a subscribe under the current filter has been answered (even with an error). */
  answered: boolean;
}

export function openLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { channels, historyPerChannel, maxEvents, baseUrl, token } = options;
  const notifyIntervalMs = options.notifyIntervalMs ?? 100;
  const subscribeTimeoutMs = options.subscribeTimeoutMs ?? 10_000;

  const buffer = new NewestFirstBuffer(maxEvents);
  const cursors = new Map<string, ChannelCursor>(channels.map((c) => [c, { lastSeq: undefined, answered: false }]));
  /** subscriptionId -> channel, for the current filter and connection only: anything else is stale. */
  const subscriptionChannels = new Map<string, string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const refills = new AbortController();
  const knownAgents = new LabelSet();
  const knownProjects = new LabelSet();

  let filter = options.filter;
  /** Bumped on every filter change; answers and refills started under an older filter are dropped. */
  let filterGeneration = 0;
  /** Bumped on every connect and disconnect; subscribe answers from an older connection are dropped. */
  let connectionEpoch = 0;
  let connection: ConnectionState = "connecting";
  /** Keyed by what went wrong, so a later success can clear its own problem. */
  const problems = new Map<string, string>();
  let closingMessage: string | null = null;
  let unauthorized = false;
  let closed = false;
  let current = buildSnapshot();
  let notifyTimer: ReturnType<typeof setTimeout> | null = null;

  const socket: FeedSocket = io(baseUrl ?? "", {
    path: SOCKET_PATH,
    auth: token ? { token } : undefined,
    autoConnect: false,
    // Its own connection: never share a cached Manager with another feed on the page.
    forceNew: true,
    // One long-lived request that any node behind a load balancer can take (no sticky sessions:
    // docs/deploy/nginx.conf).
    transports: ["websocket"],
  });

  function buildSnapshot(): LiveFeedSnapshot {
    const lastSeq: Record<string, number> = {};
    let loading = false;
    for (const [channel, cursor] of cursors) {
      if (!cursor.answered) loading = true;
      if (cursor.lastSeq !== undefined) lastSeq[channel] = cursor.lastSeq;
    }
    return {
      connection,
      filter,
      events: buffer.toArray(),
      loading: loading && !unauthorized,
      lastSeq,
      problems: [...problems.values()],
      closingMessage,
      unauthorized,
      knownAgents: knownAgents.toSortedArray(),
      knownProjects: knownProjects.toSortedArray(),
    };
  }

  /** State changes are passed on at once; event bursts are coalesced into one snapshot per interval. */
  function notify(urgency: "now" | "soon") {
    if (closed) return;
    if (urgency === "soon") {
      notifyTimer ??= setTimeout(() => notify("now"), notifyIntervalMs);
      return;
    }
    if (notifyTimer) clearTimeout(notifyTimer);
    notifyTimer = null;
    current = buildSnapshot();
    options.onChange(current);
  }

  function later(ms: number, run: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) run();
    }, ms);
    timers.add(timer);
  }

  function setConnection(next: ConnectionState) {
    if (connection === next) return;
    connection = next;
    notify("now");
  }

  function coverThrough(cursor: ChannelCursor, seq: number) {
    cursor.lastSeq = Math.max(cursor.lastSeq ?? 0, seq);
  }

  function addEvents(events: readonly SwitchboardEvent[]) {
    for (const event of events) {
      knownAgents.add(event.agent);
      knownProjects.add(event.project);
    }
    if (buffer.add(events)) notify("soon");
  }

  function subscribe(channel: string, history = historyPerChannel) {
    const cursor = cursors.get(channel);
    if (!cursor || !socket.connected) return; // the next connect subscribes every channel
    const generation = filterGeneration;
    const epoch = connectionEpoch;
    const eventFilter = toEventFilter(filter);
    const request: SubscribeRequest = {
      channel,
      ...(eventFilter ? { filter: eventFilter } : {}),
      ...(cursor.lastSeq === undefined ? { history } : { since: cursor.lastSeq }),
    };
    socket.timeout(subscribeTimeoutMs).emit("subscribe", request, (err, res) => {
      if (closed) return;
      if (epoch !== connectionEpoch) return; // that connection is gone; its subscriptions went with it
      if (generation !== filterGeneration) {
        // Answered after the filter changed: this subscription is not wanted any more.
        if (!err && res.ok) unsubscribe(res.subscriptionId);
        return;
      }
      if (err) {
        // The connection is unhealthy; a fresh one resubscribes every channel where it left off.
        socket.disconnect().connect();
        return;
      }
      if (!res.ok) {
        problems.set(`subscribe:${channel}`, `Could not subscribe to ${channel}: ${res.error.message}`);
        // Answered, so the feed does not say "loading" forever; the next connection tries again.
        cursor.answered = true;
        notify("now");
        return;
      }
      problems.delete(`subscribe:${channel}`);
      acceptSubscription(channel, cursor, res);
    });
  }

  function acceptSubscription(channel: string, cursor: ChannelCursor, result: SubscribeResult) {
    if (result.truncated) {
      // More events were missed than one answer holds (and more than the list keeps): the newest
      // `maxEvents` of them are all that can be on screen, so take those instead of paging through all.
      unsubscribe(result.subscriptionId);
      cursor.lastSeq = undefined;
      subscribe(channel, Math.min(maxEvents, MAX_HISTORY));
      return;
    }
    subscriptionChannels.set(result.subscriptionId, channel);
    cursor.answered = true;
    coverThrough(cursor, result.head);
    addEvents(result.history);
    notify("now");
  }

  function unsubscribe(subscriptionId: string) {
    subscriptionChannels.delete(subscriptionId);
    // Only while connected: Socket.IO would otherwise buffer it for a connection it does not belong to.
    if (socket.connected) socket.emit("unsubscribe", { subscriptionId }, () => {});
  }

  /** Fetches the matching events in (after, upTo] over HTTP, page by page, into the buffer. */
  async function refill(channel: string, after: number, upTo: number) {
    const generation = filterGeneration;
    const eventFilter = toEventFilter(filter);
    let cursor = after;
    for (let attempt = 1; cursor < upTo; ) {
      try {
        const page = await fetchEventsPage(
          channel,
          { after: cursor, limit: MAX_HISTORY, filter: eventFilter },
          { baseUrl, token, signal: refills.signal },
        );
        if (closed || generation !== filterGeneration) return;
        addEvents(page.events.filter((e) => e.seq <= upTo));
        if (!page.hasMore || page.events.length === 0) return;
        cursor = page.nextAfter;
        attempt = 1;
      } catch (err) {
        if (closed || generation !== filterGeneration) return;
        if (err instanceof ApiError && err.isUnauthorized) return signedOut();
        if (attempt++ < REFILL_ATTEMPTS) {
          await new Promise((resolve) => later(REFILL_RETRY_MS * attempt, () => resolve(undefined)));
          continue;
        }
        problems.set(`refill:${channel}:${after}`, `Some ${channel} events (#${cursor + 1}–#${upTo}) could not be loaded: ${(err as Error).message}`);
        notify("now");
        return;
      }
    }
  }

  function onGap(notice: GapNotice) {
    const channel = subscriptionChannels.get(notice.subscriptionId);
    const cursor = channel === undefined ? undefined : cursors.get(channel);
    if (channel === undefined || !cursor) return;
    // Live events after the gap follow on the socket; a reconnect must not ask for the range again.
    coverThrough(cursor, notice.toSeq);
    refill(channel, notice.fromSeq - 1, notice.toSeq).catch((err: unknown) => {
      problems.set(`refill:${channel}:${notice.fromSeq}`, `Could not refill ${channel}: ${(err as Error).message}`);
      notify("now");
    });
  }

  function signedOut() {
    unauthorized = true;
    connection = "offline";
    socket.disconnect();
    notify("now");
  }

  socket.on("connect", () => {
    connectionEpoch++;
    closingMessage = null;
    subscriptionChannels.clear();
    connection = "live";
    notify("now");
    for (const channel of channels) subscribe(channel);
  });

  socket.on("disconnect", (reason) => {
    connectionEpoch++;
    subscriptionChannels.clear();
    if (closed || unauthorized) return;
    setConnection("reconnecting");
    // Socket.IO reconnects by itself after network failures, but not after the server hung up.
    if (reason === "io server disconnect") later(MANUAL_RECONNECT_MS, () => socket.connect());
  });

  socket.on("connect_error", (err) => {
    if (closed) return;
    if (err.message === "unauthorized") return signedOut();
    // A refused handshake (e.g. "unavailable" while the database is down) is not retried by Socket.IO.
    if (!socket.active) later(MANUAL_RECONNECT_MS, () => socket.connect());
    setConnection(connection === "connecting" ? "connecting" : "reconnecting");
  });

  const onReconnectAttempt = (attempt: number) => {
    setConnection(attempt > OFFLINE_AFTER_FAILED_ATTEMPTS ? "offline" : "reconnecting");
  };
  socket.io.on("reconnect_attempt", onReconnectAttempt);

  socket.on("closing", (notice) => {
    closingMessage = notice.message;
    notify("now");
  });

  socket.on("event", (event, subscriptionId) => {
    const channel = subscriptionChannels.get(subscriptionId);
    const cursor = channel === undefined ? undefined : cursors.get(channel);
    if (!cursor) return; // from a subscription this feed has moved on from
    coverThrough(cursor, event.seq);
    addEvents([event]);
  });

  socket.on("gap", onGap);

  socket.connect();

  return {
    setFilter(next) {
      if (closed || sameFeedFilter(next, filter)) return;
      filter = next;
      filterGeneration++;
      for (const subscriptionId of [...subscriptionChannels.keys()]) unsubscribe(subscriptionId);
      for (const cursor of cursors.values()) {
        cursor.lastSeq = undefined;
        cursor.answered = false;
      }
      buffer.clear();
      problems.clear();
      notify("now");
      for (const channel of channels) subscribe(channel);
    },
    snapshot: () => current,
    close() {
      if (closed) return;
      closed = true;
      if (notifyTimer) clearTimeout(notifyTimer);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      refills.abort();
      socket.io.off("reconnect_attempt", onReconnectAttempt);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
