"use client";

import { createContext, useContext, useEffect, useEffectEvent, useState, useSyncExternalStore, type ReactNode } from "react";
import { createLiveClient, type LiveClient, type LiveClientState, type SubscriptionOptions } from "@/lib/live-client";
import type { EventFilter, SwitchboardEvent } from "@/lib/protocol";

const LiveClientContext = createContext<LiveClient | null>(null);

/**
 * Opens the page's one socket (lib/live-client.ts) for everything under it. It sits in the dashboard
 * layout, which client-side navigation keeps, so views come and go on the same connection.
 */
export function LiveClientProvider({ children }: { children: ReactNode }) {
  const [client, setClient] = useState<LiveClient | null>(null);
  useEffect(() => {
    const opened = createLiveClient();
    // Opened in an effect (browser only) and published through state, so React renders with it.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setClient(opened);
    return () => opened.close();
  }, []);
  return <LiveClientContext value={client}>{children}</LiveClientContext>;
}

/** The page's live client, or null during the first render (before the socket opened). */
export const useLiveClient = () => useContext(LiveClientContext);

const CONNECTING: LiveClientState = { connection: "connecting", closingMessage: null, unauthorized: false };
const noSubscription = () => () => {};

/** The connection's state, re-rendering on every change. */
export function useLiveState(): LiveClientState {
  const client = useLiveClient();
  return useSyncExternalStore(
    client ? client.onStateChange : noSubscription,
    () => client?.state() ?? CONNECTING,
    () => CONNECTING,
  );
}

export interface LiveSubscriptionSpec {
  channel: string;
  filter?: EventFilter;
  start: SubscriptionOptions["start"];
  catchUp?: SubscriptionOptions["catchUp"];
}

/**
 * Subscribes while mounted (and `enabled`), delivering events to the latest `onEvents`. A change of
 * the specs (compared by value) resubscribes; a reconnect resumes where each subscription left off.
 */
export function useLiveSubscriptions(
  specs: readonly LiveSubscriptionSpec[] | null,
  onEvents: (events: readonly SwitchboardEvent[], channel: string) => void,
  onProblem?: (key: string, message: string | null) => void,
) {
  const client = useLiveClient();
  const deliver = useEffectEvent((events: readonly SwitchboardEvent[], channel: string) => onEvents(events, channel));
  const report = useEffectEvent((key: string, message: string | null) => onProblem?.(key, message));
  const key = specs ? JSON.stringify(specs) : null;
  useEffect(() => {
    if (!client || key === null) return;
    const parsed = JSON.parse(key) as LiveSubscriptionSpec[];
    const subs = parsed.map((spec) =>
      client.subscribe({
        ...spec,
        onEvents: (events) => deliver(events, spec.channel),
        onProblem: (k, message) => report(k, message),
      }),
    );
    return () => {
      for (const sub of subs) sub.close();
    };
  }, [client, key]);
}
