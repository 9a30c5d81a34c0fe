"use client";

import { useEffect, useEffectEvent, useRef, useState } from "react";
import type { FeedFilter } from "@/lib/feed-filter";
import { openLiveFeed, type LiveFeed, type LiveFeedSnapshot } from "@/lib/live-feed";
import { CHANNEL_NAMES } from "@/lib/protocol";

/** Recent events loaded per channel when the page opens or the filter changes. */
const HISTORY_PER_CHANNEL = 50;
/** Rows kept, all channels together: memory and render cost stay flat however long the page is open. */
const MAX_ROWS = 500;

const startingSnapshot = (filter: FeedFilter): LiveFeedSnapshot => ({
  connection: "connecting",
  filter,
  events: [],
  loading: true,
  lastSeq: {},
  problems: [],
  closingMessage: null,
  unauthorized: false,
  knownAgents: [],
  knownProjects: [],
});

/**
 * The five channels, live, under `filter`. One socket for the page's lifetime; a filter change
 * resubscribes on it rather than reconnecting.
 */
export function useLiveFeed(filter: FeedFilter): LiveFeedSnapshot {
  const [snapshot, setSnapshot] = useState(() => startingSnapshot(filter));
  const feedRef = useRef<LiveFeed | null>(null);
  const { agent, project } = filter;

  const filterAtOpen = useEffectEvent(() => ({ agent, project }));
  useEffect(() => {
    const feed = openLiveFeed({
      channels: CHANNEL_NAMES,
      filter: filterAtOpen(),
      historyPerChannel: HISTORY_PER_CHANNEL,
      maxEvents: MAX_ROWS,
      onChange: setSnapshot,
    });
    feedRef.current = feed;
    return () => {
      feedRef.current = null;
      feed.close();
    };
  }, []);

  useEffect(() => {
    feedRef.current?.setFilter({ agent, project });
  }, [agent, project]);

  return snapshot;
}
