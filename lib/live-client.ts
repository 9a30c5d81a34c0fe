/**
 * The page's one Socket.IO connection, shared by every view on it. Isomorphic (socket.io-client and
 * fetch only); the browser authenticates with its session cookie, Node callers pass `baseUrl` and
 * `token`.
 *
 * Each subscription remembers the newest seq it covered (the subscribe head, then each live event).
 * After a reconnect every subscription subscribes again with `since` that seq, so nothing is missed;
 * when more was missed than one answer holds (`truncated`), the rest is read over HTTP (or, for lists
 * that keep only the newest rows, the newest `catchUp` events are taken instead). A `gap` notice (the
 * server dropped events for a slow client) is refilled over HTTP with the same filter. Refills can
 * deliver events a consumer already holds: consumers de-duplicate by event id.
 */
import { io, type Socket } from "socket.io-client";
import { ApiError, fetchEventsPage, type ApiTarget } from "./api-client";
import {
  MAX_HISTORY,
  SOCKET_PATH,
  type ClientToServerEvents,
  type EventFilter,
  type GapNotice,
  type ServerToClientEvents,
  type SubscribeRequest,
  type SubscribeResult,
  type SwitchboardEvent,
} from "./protocol";

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * - `connecting`: first connection not up yet;
 * - `live`: connected, events flow;
 * - `reconnecting`: connection lost, trying again;
 * - `offline`: several attempts failed in a row (still retrying), or the session is no longer valid.
 */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

export interface LiveClientState {
  connection: ConnectionState;
  /** Why the server last closed the connection, until it is back. */
  closingMessage: string | null;
  /** The session is gone: the socket will not reconnect until the user signs in again. */
  unauthorized: boolean;
}

export interface SubscriptionOptions {
  channel: string;
  filter?: EventFilter;
  /** Where to start: the newest `history` matching events, or every matching event after `since`. */
  start: { history: number } | { since: number };
  /**
   * After a reconnect that missed more than one answer holds: `"all"` reads every missed event over
   * HTTP; a number takes only the newest that many (for lists that keep only the newest rows).
   * @default "all"
   */
  catchUp?: "all" | number;
  /** Events in seq order within one call; refills may repeat or precede events already delivered. */
  onEvents(events: readonly SwitchboardEvent[]): void;
  /** After every successful subscribe (the first and each resume), with the channel's head. */
  onReady?(head: number): void;
  /** A problem the user should know about, or `null` when the one under `key` is solved. */
  onProblem?(key: string, message: string | null): void;
}

export interface LiveSubscription {
  /** Newest seq covered; undefined until the first subscribe succeeded. */
  readonly lastSeq: number | undefined;
  close(): void;
}

export interface LiveClient {
  state(): LiveClientState;
  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onStateChange(listener: () => void): () => void;
  subscribe(options: SubscriptionOptions): LiveSubscription;
  close(): void;
}

export interface LiveClientOptions extends ApiTarget {
  /** A subscribe not answered in this time means the connection is unhealthy: reconnect. @default 10000 */
  subscribeTimeoutMs?: number;
}

/** Consecutive failed reconnection attempts before the client calls itself offline. */
const OFFLINE_AFTER_FAILED_ATTEMPTS = 3;
/** Delay before reconnecting by hand when Socket.IO will not (server-side disconnects, refused handshakes). */
const MANUAL_RECONNECT_MS = 1_500;
const REFILL_ATTEMPTS = 3;
const REFILL_RETRY_MS = 1_000;

interface SubscriptionState {
  options: SubscriptionOptions;
  lastSeq: number | undefined;
  closed: boolean;
  /** The server's id for the current connection's subscription, if any. */
  serverId: string | null;
}

export function createLiveClient(options: LiveClientOptions = {}): LiveClient {
  const { baseUrl, token } = options;
  const subscribeTimeoutMs = options.subscribeTimeoutMs ?? 10_000;
  const subscriptions = new Set<SubscriptionState>();
  /** server subscriptionId -> subscription, for the current connection only. */
  const byServerId = new Map<string, SubscriptionState>();
  const listeners = new Set<() => void>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const refills = new AbortController();
  /** Bumped on every connect and disconnect; answers from an older connection are dropped. */
  let connectionEpoch = 0;
  let state: LiveClientState = { connection: "connecting", closingMessage: null, unauthorized: false };
  let closed = false;

  const socket: ClientSocket = io(baseUrl ?? "", {
    path: SOCKET_PATH,
    // `batch`: take whatever is ready for a subscription as one `events` message (fewer messages
    // and fewer main-thread tasks when the feed is busy).
    auth: token ? { token, batch: true } : { batch: true },
    autoConnect: false,
    forceNew: true,
    // One long-lived request that any node behind a load balancer can take (no sticky sessions).
    transports: ["websocket"],
  });

  function setState(patch: Partial<LiveClientState>) {
    const next = { ...state, ...patch };
    if (next.connection === state.connection && next.closingMessage === state.closingMessage && next.unauthorized === state.unauthorized) return;
    state = next;
    for (const listener of listeners) listener();
  }

  function later(ms: number, run: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) run();
    }, ms);
    timers.add(timer);
  }

  const coverThrough = (sub: SubscriptionState, seq: number) => {
    sub.lastSeq = Math.max(sub.lastSeq ?? 0, seq);
  };

  function deliver(sub: SubscriptionState, events: readonly SwitchboardEvent[]) {
    if (sub.closed || events.length === 0) return;
    try {
      sub.options.onEvents(events);
    } catch (err) {
      // A consumer's bug must not break the other subscriptions on the page.
      console.error("live subscription consumer failed", err);
    }
  }

  function sendSubscribe(sub: SubscriptionState, history?: number) {
    if (sub.closed || !socket.connected) return; // the next connect subscribes it
    const epoch = connectionEpoch;
    const { channel, filter, start } = sub.options;
    const request: SubscribeRequest = {
      channel,
      ...(filter ? { filter } : {}),
      ...(history !== undefined
        ? { history }
        : sub.lastSeq !== undefined
          ? { since: sub.lastSeq }
          : "since" in start
            ? { since: start.since }
            : { history: start.history }),
    };
    socket.timeout(subscribeTimeoutMs).emit("subscribe", request, (err, res) => {
      if (closed || epoch !== connectionEpoch) return; // that connection is gone, and its subscriptions
      if (sub.closed) {
        if (!err && res.ok) unsubscribeOnServer(res.subscriptionId);
        return;
      }
      if (err) {
        // The connection is unhealthy; a fresh one resubscribes everything where it left off.
        socket.disconnect().connect();
        return;
      }
      if (!res.ok) {
        sub.options.onProblem?.(`subscribe:${channel}`, `Could not subscribe to ${channel}: ${res.error.message}`);
        return;
      }
      sub.options.onProblem?.(`subscribe:${channel}`, null);
      accept(sub, res, request);
    });
  }

  function accept(sub: SubscriptionState, result: SubscribeResult, request: SubscribeRequest) {
    const catchUp = sub.options.catchUp ?? "all";
    // A `since` answer truncated: more was missed than one answer holds. (A `history: n` answer is
    // truncated when n events did not fit the server's answer bytes: it holds the newest that did.)
    const missedMore = result.truncated && request.since !== undefined;
    if (missedMore && catchUp !== "all") {
      // More was missed than the consumer keeps: take only the newest `catchUp` events.
      unsubscribeOnServer(result.subscriptionId);
      sub.lastSeq = undefined;
      sendSubscribe(sub, Math.min(catchUp, MAX_HISTORY));
      return;
    }
    sub.serverId = result.subscriptionId;
    byServerId.set(result.subscriptionId, sub);
    const lastHistorySeq = result.history.at(-1)?.seq ?? request.since ?? 0;
    coverThrough(sub, result.head);
    deliver(sub, result.history);
    sub.options.onReady?.(result.head);
    // Live events already start after `head`; read what lies between the answer and the head.
    if (missedMore) void refill(sub, lastHistorySeq, result.head);
  }

  function unsubscribeOnServer(subscriptionId: string) {
    byServerId.delete(subscriptionId);
    // Only while connected: Socket.IO would otherwise buffer it for a connection it does not belong to.
    if (socket.connected) socket.emit("unsubscribe", { subscriptionId }, () => {});
  }

  /** Fetches the matching events in (after, upTo] over HTTP, page by page. */
  async function refill(sub: SubscriptionState, after: number, upTo: number) {
    const { channel, filter } = sub.options;
    const key = `refill:${channel}:${after}`;
    let cursor = after;
    for (let attempt = 1; cursor < upTo && !sub.closed; ) {
      try {
        const page = await fetchEventsPage(channel, { after: cursor, limit: MAX_HISTORY, filter }, { baseUrl, token, signal: refills.signal });
        deliver(
          sub,
          page.events.filter((e) => e.seq <= upTo),
        );
        if (!page.hasMore || page.events.length === 0) return;
        cursor = page.nextAfter;
        attempt = 1;
      } catch (err) {
        if (closed || sub.closed) return;
        if (err instanceof ApiError && err.isUnauthorized) return signedOut();
        if (attempt++ < REFILL_ATTEMPTS) {
          await new Promise((resolve) => later(REFILL_RETRY_MS * attempt, () => resolve(undefined)));
          continue;
        }
        sub.options.onProblem?.(key, `Some ${channel} events (#${cursor + 1}–#${upTo}) could not be loaded: ${(err as Error).message}`);
        return;
      }
    }
  }

  function onGap(notice: GapNotice) {
    const sub = byServerId.get(notice.subscriptionId);
    if (!sub) return;
    // Live events after the gap follow on the socket; a reconnect must not ask for the range again.
    coverThrough(sub, notice.toSeq);
    void refill(sub, notice.fromSeq - 1, notice.toSeq);
  }

  function signedOut() {
    setState({ unauthorized: true, connection: "offline" });
    socket.disconnect();
  }

  socket.on("connect", () => {
    connectionEpoch++;
    byServerId.clear();
    setState({ connection: "live", closingMessage: null });
    for (const sub of subscriptions) sendSubscribe(sub);
  });

  socket.on("disconnect", (reason) => {
    connectionEpoch++;
    byServerId.clear();
    for (const sub of subscriptions) sub.serverId = null;
    if (closed || state.unauthorized) return;
    setState({ connection: "reconnecting" });
    // Socket.IO reconnects by itself after network failures, but not after the server hung up.
    if (reason === "io server disconnect") later(MANUAL_RECONNECT_MS, () => socket.connect());
  });

  socket.on("connect_error", (err) => {
    if (closed) return;
    if (err.message === "unauthorized") return signedOut();
    // A refused handshake (e.g. "unavailable" while the database is down) is not retried by Socket.IO.
    if (!socket.active) later(MANUAL_RECONNECT_MS, () => socket.connect());
    setState({ connection: state.connection === "connecting" ? "connecting" : "reconnecting" });
  });

  const onReconnectAttempt = (attempt: number) => {
    setState({ connection: attempt > OFFLINE_AFTER_FAILED_ATTEMPTS ? "offline" : "reconnecting" });
  };
  socket.io.on("reconnect_attempt", onReconnectAttempt);

  socket.on("closing", (notice) => setState({ closingMessage: notice.message }));

  function onLiveEvents(events: readonly SwitchboardEvent[], subscriptionId: string) {
    const sub = byServerId.get(subscriptionId);
    const newest = events.at(-1);
    if (!sub || !newest) return; // from a subscription that was closed
    coverThrough(sub, newest.seq);
    deliver(sub, events);
  }
  socket.on("event", (event, subscriptionId) => onLiveEvents([event], subscriptionId));
  socket.on("events", onLiveEvents);

  socket.on("gap", onGap);

  socket.connect();

  return {
    state: () => state,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    subscribe(subscriptionOptions) {
      const sub: SubscriptionState = { options: subscriptionOptions, lastSeq: undefined, closed: false, serverId: null };
      subscriptions.add(sub);
      if (!closed) sendSubscribe(sub);
      return {
        get lastSeq() {
          return sub.lastSeq;
        },
        close() {
          if (sub.closed) return;
          sub.closed = true;
          subscriptions.delete(sub);
          if (sub.serverId) unsubscribeOnServer(sub.serverId);
          sub.serverId = null;
        },
      };
    },
    close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      refills.abort();
      for (const sub of subscriptions) sub.closed = true;
      subscriptions.clear();
      listeners.clear();
      socket.io.off("reconnect_attempt", onReconnectAttempt);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
