"use client";

import { hashKey, useQuery, useQueryClient, type QueryKey, type UseQueryOptions, type UseQueryResult } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { createLiveSnapshot } from "@/lib/live-snapshot";
import type { EventFilter, SwitchboardEvent } from "@/lib/protocol";
import type { LiveReducer } from "@/lib/reducers/live-reducer";
import { useLiveSubscriptions, type LiveSubscriptionSpec } from "./live-client-provider";

export interface UseLiveQueryOptions<T, K extends QueryKey> {
  /** The view's query (a `queryOptions` factory from lib/queries.ts). */
  query: UseQueryOptions<T, Error, T, K> & { queryKey: K };
  /** The channels whose events the view reflects. */
  channels: readonly { channel: string; filter?: EventFilter }[];
  /** Applies events to a snapshot (lib/reducers/*.ts); see lib/reducers/live-reducer.ts for its contract. */
  reduce: LiveReducer<T>;
  /**
   * Where live events start:
   * - `"now"`: at the subscribe (history 0); after a long outage only the newest event is read, the
   *   view's next refetch covers the rest;
   * - a function: the seq the key's first snapshot reflects on a channel (its head); the subscription
   *   continues right after it (every event read, none missed between the fetch and the subscribe).
   * @default "now"
   */
  start?: "now" | ((snapshot: T, channel: string) => number);
  /** Events are applied at most this often, in one batch (a busy channel renders once per interval). @default 0 */
  applyEveryMs?: number;
  /** While events arrive, the view is also refetched at most this often: for what no reducer can compute from events. */
  refetchOnEventsMs?: number;
}

/**
 * A fetched snapshot kept current by live events: the one live-data pattern of the dashboard.
 *
 * The snapshot is the query's data in the TanStack Query cache; every live event batch is applied to
 * it there with the view's pure reducer, `(snapshot, events) => snapshot`; refetches replace it.
 *
 * The rule that keeps an event from counting twice: each snapshot carries the heads it reflects, per
 * channel (the activity view's `lastSeq`) or per row (a task's `seq`); when a view answer names no
 * seq, the newest seq it holds (a thread, the budget warnings) or the row's time (an agent's
 * `lastSeen`). A reducer applies only events above the head that covers them and moves the head, so
 * events already reflected, or applied twice, change nothing (lib/reducers/live-reducer.ts). That is
 * what lets a refetch race the socket safely: the events that arrive while a fetch is in flight are
 * applied to the cache at once and again to the fetched snapshot before it enters the cache
 * (lib/live-snapshot.ts); the server already counted those at or below its heads.
 *
 * While mounted, the hook should be the only fetcher of its key: a fetch started elsewhere (a plain
 * `useQuery` on the same key) does not re-apply the events that arrived meanwhile; the next refetch
 * brings them.
 */
export function useLiveQuery<T, K extends QueryKey>({
  query,
  channels,
  reduce,
  start = "now",
  applyEveryMs = 0,
  refetchOnEventsMs,
}: UseLiveQueryOptions<T, K>): UseQueryResult<T> {
  const queryClient = useQueryClient();
  const hash = hashKey(query.queryKey);
  const [live] = useState(createLiveSnapshot);
  const fetchSnapshot = query.queryFn;
  const result = useQuery<T, Error, T, K>({
    ...query,
    queryFn: (context) => {
      if (typeof fetchSnapshot !== "function") throw new Error(`useLiveQuery needs a queryFn for ${hash}.`);
      return live.fetch(hash, () => Promise.resolve(fetchSnapshot(context)), reduce);
    },
  });

  // With a `start` function, subscribe once the key's first snapshot is in, right after its heads.
  const [base, setBase] = useState<{ hash: string; since: Record<string, number> } | null>(null);
  if (typeof start === "function" && result.data !== undefined && !result.isPlaceholderData && base?.hash !== hash) {
    const snapshot = result.data;
    setBase({ hash, since: Object.fromEntries(channels.map(({ channel }) => [channel, start(snapshot, channel)])) });
  }
  let specs: LiveSubscriptionSpec[] | null;
  if (typeof start !== "function") specs = channels.map((c) => ({ ...c, start: { history: 0 }, catchUp: 1 }));
  else if (base?.hash !== hash) specs = null;
  else
    specs = channels.map((c) => {
      const since = base.since[c.channel] ?? 0;
      return { ...c, start: since > 0 ? { since } : { history: 0 } };
    });

  const pending = useRef<{ hash: string; events: SwitchboardEvent[] } | null>(null);
  const applyTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRefetch = useRef(0);
  useEffect(
    () => () => {
      if (applyTimer.current) clearTimeout(applyTimer.current);
      applyTimer.current = null;
      pending.current = null;
    },
    [],
  );

  const applyToCache = (queryKey: QueryKey, events: readonly SwitchboardEvent[]) => {
    const snapshot = queryClient.getQueryData<T>(queryKey);
    if (snapshot === undefined) return; // the first fetch is in flight and applies them
    const next = reduce(snapshot, events);
    if (next !== snapshot) queryClient.setQueryData<T>(queryKey, next);
  };

  useLiveSubscriptions(specs, (events) => {
    live.record(hash, events);
    const queryKey = query.queryKey;
    if (refetchOnEventsMs !== undefined && performance.now() - lastRefetch.current > refetchOnEventsMs) {
      lastRefetch.current = performance.now();
      queryClient.invalidateQueries({ queryKey, exact: true });
    }
    if (applyEveryMs <= 0) return applyToCache(queryKey, events);
    if (pending.current?.hash !== hash) pending.current = { hash, events: [] };
    for (const event of events) pending.current.events.push(event);
    applyTimer.current ??= setTimeout(() => {
      applyTimer.current = null;
      const batch = pending.current;
      pending.current = null;
      if (batch) applyToCache(queryKey, batch.events);
    }, applyEveryMs);
  });

  return result;
}
