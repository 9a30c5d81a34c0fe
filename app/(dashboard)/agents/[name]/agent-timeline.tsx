"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo } from "react";
import { LiveEventsPanel } from "@/components/live-events-panel";
import { NoValue } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { useLiveFeed } from "@/components/use-live-feed";
import { filterValueProblem } from "@/lib/feed-filter";
import { agentsQueryOptions } from "@/lib/queries";
import { formatMoney } from "@/lib/time-format";

/** Everything one agent did, across every channel, live. */
export function AgentTimeline({ name }: { name: string }) {
  const problem = filterValueProblem("agent", name);
  const filter = useMemo(() => (problem ? { agent: "-" } : { agent: name }), [name, problem]);
  const feed = useLiveFeed(filter, { historyPerChannel: 100, maxEvents: 1_000 });
  const agents = useQuery(agentsQueryOptions());
  const agent = agents.data?.find((a) => a.name === name);

  return (
    <div className="view view-fill">
      <p className="breadcrumb">
        <Link href="/agents">Agents</Link> <span aria-hidden="true">/</span>
      </p>
      <h1 className="view-title">{name}</h1>
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : null}
      <dl className="agent-facts">
        <div>
          <dt>Status</dt>
          <dd>{agent ? <StatusBadge status={agent.status} /> : <NoValue />}</dd>
        </div>
        <div>
          <dt>Project</dt>
          <dd>{agent?.project ?? <NoValue />}</dd>
        </div>
        <div>
          <dt>Current task</dt>
          <dd>{agent?.currentTask ? (agent.currentTask.title ?? agent.currentTask.taskId) : <NoValue />}</dd>
        </div>
        <div>
          <dt>Spend</dt>
          <dd className="mono">{agent ? formatMoney(agent.spend) : <NoValue />}</dd>
        </div>
      </dl>
      <LiveEventsPanel
        label={`Timeline of ${name}`}
        events={feed.events}
        received={feed.received}
        emptyMessage={feed.loading ? "Loading the agent's events…" : `No events from ${name} yet. Waiting for events…`}
      />
    </div>
  );
}
