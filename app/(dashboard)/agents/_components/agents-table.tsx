"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import { useLiveSubscriptions } from "@/components/live-client-provider";
import { EmptyState, ErrorState, LoadingState, NoValue } from "@/components/states";
import { useNow } from "@/components/use-now";
import type { SwitchboardEvent } from "@/lib/protocol";
import { agentsQueryOptions, OFFLINE_AFTER_SECONDS } from "@/lib/queries";
import { formatAbsolute, formatMoney, formatRelative } from "@/lib/time-format";
import type { AgentStatus, AgentView } from "@/lib/views";

const HEARTBEATS = [{ channel: "agents", start: { history: 0 } as const, catchUp: 1 }];

/** Every agent: status from heartbeats (live between refetches), current task, spend. */
export function AgentsTable() {
  const agents = useQuery(agentsQueryOptions());
  const now = useNow(5_000);
  const [beats, setBeats] = useState<Map<string, SwitchboardEvent>>(new Map());
  useLiveSubscriptions(HEARTBEATS, (events) => {
    setBeats((current) => {
      const next = new Map(current);
      for (const e of events) if (e.agent && (e.type === "agent.heartbeat" || e.type === "agent.hired")) next.set(e.agent, e);
      return next;
    });
  });

  const rows = useMemo(() => {
    const byName = new Map<string, AgentView>((agents.data ?? []).map((a) => [a.name, a]));
    for (const [name, beat] of beats) {
      const known = byName.get(name);
      if (known && known.lastSeen >= beat.ts) continue;
      const busy = beat.payload.status === "busy";
      byName.set(name, {
        name,
        project: beat.project ?? known?.project ?? null,
        lastSeen: beat.ts,
        status: busy || known?.currentTask ? "online" : "idle",
        currentTask: known?.currentTask ?? null,
        spend: known?.spend ?? 0,
      });
    }
    return [...byName.values()]
      .map((a) => (now && now - Date.parse(a.lastSeen) > OFFLINE_AFTER_SECONDS * 1000 ? { ...a, status: "offline" as AgentStatus } : a))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [agents.data, beats, now]);

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

export function StatusBadge({ status }: { status: AgentStatus }) {
  return (
    <span className="status-badge" data-status={status}>
      <span className="status-dot" aria-hidden="true" />
      {status}
    </span>
  );
}
