/**
 * The fetch side of components/use-live-query.ts, free of React and TanStack Query: a view's
 * snapshot kept current by live events through its reducer (lib/reducers/live-reducer.ts).
 *
 * A fetch needs no coordination with the socket. Events that arrive while a fetch is in flight are
 * applied to the snapshot held now and, when the fetch answers, again to the fetched snapshot: those
 * the server already reflected are at or below its heads and change nothing, the others are not lost
 * to the refetch. Events that arrived before the fetch was sent are in its answer (the server stores
 * an event before it publishes it). Snapshots are told apart by a key (a query's hash): events are
 * recorded for the fetches of their own key only.
 */
import type { SwitchboardEvent } from "./protocol";
import type { LiveReducer } from "./reducers/live-reducer";

export interface LiveSnapshot {
  /** Fetches the snapshot of `key` and applies the events recorded for `key` while it was in flight. */
  fetch<T>(key: string, fetchSnapshot: () => Promise<T>, reduce: LiveReducer<T>): Promise<T>;
  /** Remembers live events for the fetches of `key` in flight (the caller applies them to the snapshot it holds). */
  record(key: string, events: readonly SwitchboardEvent[]): void;
}

export function createLiveSnapshot(): LiveSnapshot {
  /** One entry per fetch in flight. */
  const inFlight = new Set<{ key: string; arrived: SwitchboardEvent[] }>();
  return {
    async fetch(key, fetchSnapshot, reduce) {
      const entry = { key, arrived: [] as SwitchboardEvent[] };
      const { arrived } = entry;
      inFlight.add(entry);
      try {
        const snapshot = await fetchSnapshot();
        return arrived.length ? reduce(snapshot, arrived) : snapshot;
      } finally {
        inFlight.delete(entry);
      }
    },
    record(key, events) {
      for (const entry of inFlight) if (entry.key === key) for (const event of events) entry.arrived.push(event);
    },
  };
}
