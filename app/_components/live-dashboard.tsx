"use client";

import { useQuery } from "@tanstack/react-query";
import { ApiError } from "@/lib/api-client";
import { sessionQueryOptions } from "@/lib/queries";
import { ChannelCounters } from "./channel-counters";
import { DashboardHeader } from "./dashboard-header";
import { EventTable } from "./event-table";
import { FeedFilterBar } from "./feed-filter-bar";
import { useBrowserOnline } from "./use-browser-online";
import { useFeedFilterParams } from "./use-feed-filter-params";
import { useLiveFeed } from "./use-live-feed";
import { useSignInAgainWhen } from "./use-sign-in-again";

/** The home page: every channel's events as they happen, filtered by agent and project. */
export function LiveDashboard() {
  const { filter, problems: addressProblems, applyFilter } = useFeedFilterParams();
  const feed = useLiveFeed(filter);
  const online = useBrowserOnline();
  const session = useQuery(sessionQueryOptions());
  const sessionExpired = session.error instanceof ApiError && session.error.isUnauthorized;
  useSignInAgainWhen(feed.unauthorized || sessionExpired);

  const problems = [...addressProblems, ...feed.problems];
  const connection = online ? feed.connection : "offline";
  // Until the feed has caught up with a new filter, its rows still belong to the previous one.
  const showingCurrentFilter = feed.filter.agent === filter.agent && feed.filter.project === filter.project;

  return (
    <div className="app-shell">
      <DashboardHeader connection={connection} connectionDetail={feed.closingMessage} />
      <main className="dashboard">
        <h1 className="visually-hidden">Live feed</h1>
        <ChannelCounters liveLastSeq={feed.lastSeq} />
        <FeedFilterBar filter={filter} onApply={applyFilter} knownAgents={feed.knownAgents} knownProjects={feed.knownProjects} />
        {problems.length > 0 ? (
          <ul className="problems" role="alert">
            {problems.map((problem, index) => (
              <li key={index}>{problem}</li>
            ))}
          </ul>
        ) : null}
        <EventTable
          events={showingCurrentFilter ? feed.events : []}
          loading={!showingCurrentFilter || feed.loading}
          connected={connection === "live"}
          filter={filter}
        />
      </main>
    </div>
  );
}
