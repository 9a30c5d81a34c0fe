"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useLiveSubscriptions } from "@/components/live-client-provider";
import { BudgetMeterList } from "@/components/budget-meter";
import { NoticeForm } from "@/components/notice-form";
import { EmptyState, ErrorState, LoadingState } from "@/components/states";
import { useNow } from "@/components/use-now";
import { useTaskBoard } from "@/components/use-task-board";
import type { Notice } from "@/lib/notices";
import { agentsQueryOptions, budgetQueryOptions, sessionQueryOptions, TASK_LIMIT } from "@/lib/queries";
import { applyLatestNotices } from "@/lib/reducers/latest-notices";
import { formatAbsolute, formatCount, formatRelative } from "@/lib/time-format";
import { TASK_STATUS_LABELS, TASK_STATUSES, type AgentStatus } from "@/lib/views";
import { ChannelActivity } from "./channel-activity";

/** The home page: the fleet at a glance, everything live. */
export function Overview() {
  const session = useQuery(sessionQueryOptions());
  return (
    <div className="view">
      <h1 className="view-title">Overview</h1>
      <div className="overview-grid">
        <ChannelActivity />
        <AgentsSummary />
        <TasksSummary />
        <BudgetSummary />
        <section className="card" aria-labelledby="notices-heading">
          <div className="card-head">
            <h2 id="notices-heading">Latest notices</h2>
            <Link href="/feed?channels=system">System feed</Link>
          </div>
          <LatestNotices />
          {session.data?.role === "admin" ? (
            <>
              <h3 className="subheading">Publish a notice</h3>
              <NoticeForm />
            </>
          ) : null}
        </section>
      </div>
    </div>
  );
}

const AGENT_STATUSES: AgentStatus[] = ["online", "idle", "offline"];

function AgentsSummary() {
  const agents = useQuery(agentsQueryOptions());
  const counts = Object.fromEntries(AGENT_STATUSES.map((s) => [s, agents.data?.filter((a) => a.status === s).length ?? 0]));
  return (
    <section className="card" aria-labelledby="agents-heading">
      <div className="card-head">
        <h2 id="agents-heading">Agents</h2>
        <Link href="/agents">All agents</Link>
      </div>
      {agents.isError ? <ErrorState error={agents.error} what="agents" /> : null}
      <dl className="stat-row">
        {AGENT_STATUSES.map((s) => (
          <div key={s} className="stat" data-status={s}>
            <dt>{s[0]!.toUpperCase() + s.slice(1)}</dt>
            <dd>{agents.isPending ? "…" : formatCount(counts[s] ?? 0)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function TasksSummary() {
  const { columns, snapshot } = useTaskBoard({});
  return (
    <section className="card" aria-labelledby="tasks-heading">
      <div className="card-head">
        <h2 id="tasks-heading">Tasks</h2>
        <Link href="/tasks">Task board</Link>
      </div>
      {snapshot.isError ? <ErrorState error={snapshot.error} what="tasks" /> : null}
      <dl className="stat-row">
        {TASK_STATUSES.map((s) => (
          <div key={s} className="stat" data-status={s}>
            <dt>{TASK_STATUS_LABELS[s]}</dt>
            <dd>{snapshot.isPending ? "…" : formatCount(columns[s].length)}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">Latest {formatCount(TASK_LIMIT)} tasks, updated live.</p>
    </section>
  );
}

function BudgetSummary() {
  const budget = useQuery(budgetQueryOptions());
  return (
    <section className="card" aria-labelledby="budget-heading">
      <div className="card-head">
        <h2 id="budget-heading">Spend today</h2>
        <Link href="/budget">Budget</Link>
      </div>
      {budget.isError ? <ErrorState error={budget.error} what="the budget" /> : null}
      {budget.isPending ? <LoadingState /> : null}
      {budget.data && budget.data.projects.length === 0 ? <EmptyState>No spend recorded today.</EmptyState> : null}
      <BudgetMeterList projects={budget.data?.projects ?? []} />
    </section>
  );
}

const NOTICES_SUBSCRIPTION = [{ channel: "system", filter: { type: "system.notice" }, start: { history: 5 } }] as const;

/** The newest five notices: the system channel's recent history (there is no view to fetch), then live. */
function LatestNotices() {
  const [notices, setNotices] = useState<readonly Notice[] | null>(null);
  const now = useNow(5_000);
  useLiveSubscriptions(NOTICES_SUBSCRIPTION, (events) => setNotices((current) => applyLatestNotices(current ?? [], events)));
  if (notices === null) return <EmptyState>No notices yet.</EmptyState>;
  return (
    <ul className="notice-list" aria-label="Latest notices">
      {notices.map((n) => (
        <li key={n.id} data-severity={n.severity}>
          <p>
            <span className="severity-chip" data-severity={n.severity}>
              {n.severity}
            </span>
            <strong>{n.title}</strong>{" "}
            <time className="muted small" dateTime={n.ts} title={formatAbsolute(n.ts)}>
              {now ? formatRelative(n.ts, now) : ""}
            </time>
          </p>
          {n.body ? <p className="muted">{n.body}</p> : null}
        </li>
      ))}
    </ul>
  );
}
