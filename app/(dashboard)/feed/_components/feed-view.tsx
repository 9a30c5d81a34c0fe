"use client";

import { FeedFilterBar } from "@/components/feed-filter-bar";
import { useLiveState } from "@/components/live-client-provider";
import { LiveEventsPanel } from "@/components/live-events-panel";
import { useFeedFilterParams } from "@/components/use-feed-filter-params";
import { useLiveFeed } from "@/components/use-live-feed";
import { describeFeedFilter, isFiltered, sameFeedFilter } from "@/lib/feed-filter";

/** Recent events loaded per channel when the page opens or the filter changes. */
const HISTORY_PER_CHANNEL = 50;
/** Rows kept, all channels together: at 1,000 events/s that is the last two seconds, and memory stays flat. */
const MAX_ROWS = 2_000;

/** Any set of the five channels, live, filtered by agent, project and type (state in the URL). */
export function FeedView() {
  const { filter, problems: addressProblems, applyFilter } = useFeedFilterParams();
  const feed = useLiveFeed(filter, { historyPerChannel: HISTORY_PER_CHANNEL, maxEvents: MAX_ROWS });
  const { connection } = useLiveState();
  const problems = [...addressProblems, ...feed.problems];
  // Until the feed has caught up with a new filter, its rows still belong to the previous one.
  const current = sameFeedFilter(feed.filter, filter);
  const loading = !current || feed.loading;
  const emptyMessage =
    connection !== "live"
      ? "Not connected to the server. Recent events will load once the connection is back."
      : loading
        ? "Loading recent events…"
        : isFiltered(filter)
          ? `No events from ${describeFeedFilter(filter)} yet. Waiting for events…`
          : "Waiting for events…";

  return (
    <div className="view view-fill">
      <h1 className="view-title">Live feed</h1>
      <FeedFilterBar filter={filter} onApply={applyFilter} knownAgents={feed.knownAgents} knownProjects={feed.knownProjects} />
      {problems.length > 0 ? (
        <ul className="problems" role="alert">
          {problems.map((problem, index) => (
            <li key={index}>{problem}</li>
          ))}
        </ul>
      ) : null}
      <LiveEventsPanel label="Live events" events={current ? feed.events : []} received={feed.received} emptyMessage={emptyMessage} />
    </div>
  );
}
