"use client";

import { useEffect, useEffectEvent, useRef, useState } from "react";
import type { FeedFilter } from "@/lib/feed-filter";
import { openLiveFeed, type LiveFeed, type LiveFeedSnapshot } from "@/lib/live-feed";
import { useLiveClient } from "./live-client-provider";

const startingSnapshot = (filter: FeedFilter): LiveFeedSnapshot => ({
  filter,
  events: [],
  loading: true,
  lastSeq: {},
  received: 0,
  problems: [],
  knownAgents: [],
  knownProjects: [],
});

export interface UseLiveFeedOptions {
  /** Recent events loaded per channel when the feed opens or the filter changes. */
  historyPerChannel: number;
  /** Rows kept, all channels together: memory and render cost stay flat however long the page is open. */
  maxEvents: number;
}

/** The filtered channels, live, on the page's shared socket; a filter change resubscribes. */
export function useLiveFeed(filter: FeedFilter, { historyPerChannel, maxEvents }: UseLiveFeedOptions): LiveFeedSnapshot {
  const client = useLiveClient();
  const [snapshot, setSnapshot] = useState(() => startingSnapshot(filter));
  const feedRef = useRef<LiveFeed | null>(null);

  const filterNow = useEffectEvent(() => filter);
  useEffect(() => {
    if (!client) return;
    const feed = openLiveFeed({ client, filter: filterNow(), historyPerChannel, maxEvents, onChange: setSnapshot });
    feedRef.current = feed;
    return () => {
      feedRef.current = null;
      feed.close();
    };
  }, [client, historyPerChannel, maxEvents]);

  useEffect(() => {
    feedRef.current?.setFilter(filter);
  }, [filter]);

  return snapshot;
}
