"use client";

import Link from "next/link";
import { useMemo } from "react";
import { EmptyState, ErrorState, LoadingState, NoValue } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { useLiveQuery } from "@/components/use-live-query";
import { useNow } from "@/components/use-now";
import { isAgentOffline } from "@/lib/agent-status";
import { agentsQueryOptions, OFFLINE_AFTER_SECONDS } from "@/lib/queries";
import { applyAgentEvents } from "@/lib/reducers/agents";
import { formatAbsolute, formatMoney, formatRelative } from "@/lib/time-format";
import type { AgentStatus } from "@/lib/views";

const HEARTBEATS = [{ channel: "agents" }];

/** Every agent: status from heartbeats (live between refetches), current task, spend. */
export function AgentsTable() {
  const agents = useLiveQuery({ query: agentsQueryOptions(), channels: HEARTBEATS, reduce: applyAgentEvents });
  const now = useNow(5_000);
  const data = agents.data;
  // An agent goes offline with the passing of time, not only with events.
  const rows = useMemo(
    () =>
      (data ?? [])
        .map((a) => (now && isAgentOffline(a.lastSeen, now, OFFLINE_AFTER_SECONDS) ? { ...a, status: "offline" as AgentStatus } : a))
        .sort((a, b) => a.name.localeCompare(b.name)),
    [data, now],
  );

  return (
    <div className="view">
      <h1 className="view-title">Agents</h1>
      {agents.isError ? <ErrorState error={agents.error} what="agents" /> : null}
      {agents.isPending ? <LoadingState>Loading agents…</LoadingState> : null}
      {agents.isSuccess && rows.length === 0 ? <EmptyState>No agents have reported yet.</EmptyState> : null}
      {rows.length > 0 ? (
        <div className="table-scroller card">
          <table className="data-table">
            <caption className="visually-hidden">Agents</caption>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Status</th>
                <th scope="col">Project</th>
                <th scope="col">Current task</th>
                <th scope="col">Last seen</th>
                <th scope="col" className="num">
                  Spend
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.name}>
                  <th scope="row">
                    <Link href={`/agents/${encodeURIComponent(a.name)}`}>{a.name}</Link>
                  </th>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td>{a.project ?? <NoValue />}</td>
                  <td className="cell-ellipsis">
                    {a.currentTask ? (
                      <>
                        {a.currentTask.title ?? a.currentTask.taskId} <span className="muted">· {a.currentTask.status.replace("_", " ")}</span>
                      </>
                    ) : (
                      <NoValue />
                    )}
                  </td>
                  <td>
                    <time dateTime={a.lastSeen} title={formatAbsolute(a.lastSeen)}>
                      {now ? formatRelative(a.lastSeen, now) : ""}
                    </time>
                  </td>
                  <td className="num mono">{formatMoney(a.spend)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
