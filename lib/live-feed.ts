/**
 * The live feed: several channels under one filter, on the page's shared live client, merged into a
 * bounded newest-first list. Delivery (resume with `since`, gap refills) is the client's job
 * (lib/live-client.ts); this keeps the list: de-duplicated by event id, at most `maxEvents` rows, and
 * passed on at most every `notifyIntervalMs` so a busy feed renders a few times a second.
 */
import { NewestFirstBuffer } from "./feed-buffer";
import { feedChannels, sameFeedFilter, toEventFilter, type FeedFilter } from "./feed-filter";
import type { LiveClient, LiveSubscription } from "./live-client";
import { MAX_HISTORY, type SwitchboardEvent } from "./protocol";

export interface LiveFeedSnapshot {
  filter: FeedFilter;
  /** Newest first, at most `maxEvents`. */
  events: readonly SwitchboardEvent[];
  /** True until every channel has answered its first subscribe for the current filter. */
  loading: boolean;
  /** Newest seq known per channel. */
  lastSeq: Readonly<Record<string, number>>;
  /** Events added to the list since the feed opened (any filter): the difference of two is "N new events". */
  received: number;
  /** What the user should know about: failed subscribes, events that could not be refilled. */
  problems: readonly string[];
  /** Agents and projects seen since the feed opened (under any filter), sorted, for filter suggestions. */
  knownAgents: readonly string[];
  knownProjects: readonly string[];
}

export interface LiveFeedOptions {
  client: LiveClient;
  filter: FeedFilter;
  /** Recent events per channel loaded when subscribing (or re-subscribing with a new filter). */
  historyPerChannel: number;
  /** Rows kept in memory, all channels together. */
  maxEvents: number;
  onChange(snapshot: LiveFeedSnapshot): void;
  /** Event bursts are passed on at most this often. @default 100 */
  notifyIntervalMs?: number;
}

export interface LiveFeed {
  /** Resubscribes with the new filter and starts a fresh list; same filter: no-op. */
  setFilter(filter: FeedFilter): void;
  snapshot(): LiveFeedSnapshot;
  close(): void;
}

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

export function openLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { client, historyPerChannel, maxEvents } = options;
  const notifyIntervalMs = options.notifyIntervalMs ?? 100;
  const buffer = new NewestFirstBuffer(maxEvents);
  const knownAgents = new LabelSet();
  const knownProjects = new LabelSet();
  const problems = new Map<string, string>();
  let filter = options.filter;
  let subscriptions: { channel: string; sub: LiveSubscription; ready: boolean }[] = [];
  let received = 0;
  let closed = false;
  let current: LiveFeedSnapshot;
  let notifyTimer: ReturnType<typeof setTimeout> | null = null;

  function buildSnapshot(): LiveFeedSnapshot {
    const lastSeq: Record<string, number> = {};
    for (const { channel, sub } of subscriptions) if (sub.lastSeq !== undefined) lastSeq[channel] = sub.lastSeq;
    return {
      filter,
      events: buffer.toArray(),
      loading: subscriptions.some((s) => !s.ready),
      lastSeq,
      received,
      problems: [...problems.values()],
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

  function subscribeAll() {
    const eventFilter = toEventFilter(filter);
    subscriptions = feedChannels(filter).map((channel) => {
      const entry = {
        channel,
        ready: false,
        sub: client.subscribe({
          channel,
          filter: eventFilter,
          start: { history: historyPerChannel },
          // The list keeps only the newest rows: after a long outage, take those rather than page through all.
          catchUp: Math.min(maxEvents, MAX_HISTORY),
          onEvents(events) {
            for (const event of events) {
              knownAgents.add(event.agent);
              knownProjects.add(event.project);
            }
            let fresh = 0;
            for (const event of events) if (!buffer.has(event.id)) fresh++;
            if (buffer.add(events)) {
              received += fresh;
              notify("soon");
            }
          },
          onReady() {
            if (!entry.ready) {
              entry.ready = true;
              notify("now");
            }
          },
          onProblem(key, message) {
            if (message === null) problems.delete(key);
            else problems.set(key, message);
            notify("now");
          },
        }),
      };
      return entry;
    });
  }

  current = buildSnapshot();
  subscribeAll();

  return {
    setFilter(next) {
      if (closed || sameFeedFilter(next, filter)) return;
      filter = next;
      for (const { sub } of subscriptions) sub.close();
      buffer.clear();
      problems.clear();
      subscribeAll();
      notify("now");
    },
    snapshot: () => current,
    close() {
      if (closed) return;
      closed = true;
      if (notifyTimer) clearTimeout(notifyTimer);
      for (const { sub } of subscriptions) sub.close();
    },
  };
}
