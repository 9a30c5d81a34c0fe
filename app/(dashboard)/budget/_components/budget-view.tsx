"use client";

import { useMemo, useState } from "react";
import { BudgetMeterList } from "@/components/budget-meter";
import { EmptyState, ErrorState, LoadingState, NoValue } from "@/components/states";
import { SERIES_COLORS, TimeSeriesChart, type ChartSeries } from "@/components/time-series-chart";
import { useLiveQuery } from "@/components/use-live-query";
import { useNow } from "@/components/use-now";
import { budgetQueryOptions } from "@/lib/queries";
import { applyBudgetEvents } from "@/lib/reducers/budget";
import { formatAbsolute, formatMoney, formatRelative } from "@/lib/time-format";
import type { BudgetView as BudgetData } from "@/lib/views";

const MAX_SERIES = 8;
const RANGES = [
  { hours: 1, bucketMinutes: 1, label: "Last hour" },
  { hours: 6, bucketMinutes: 5, label: "Last 6 hours" },
  { hours: 24, bucketMinutes: 15, label: "Last 24 hours" },
];
/** Live spend refreshes the view at most this often (warnings are applied as they come). */
const LIVE_REFRESH_MS = 5_000;
const BUDGET_EVENTS = [{ channel: "budget" }];

/** Spend over the last 24 hours per project or agent, budgets against today's spend, and warnings. */
export function BudgetView() {
  const [range, setRange] = useState(RANGES[2]!);
  const budget = useLiveQuery({
    query: budgetQueryOptions(range.hours, range.bucketMinutes),
    channels: BUDGET_EVENTS,
    reduce: applyBudgetEvents,
    refetchOnEventsMs: LIVE_REFRESH_MS,
  });
  const [by, setBy] = useState<"project" | "agent">("project");
  const now = useNow(5_000);

  const chart = useMemo(() => (budget.data ? seriesOf(budget.data, by) : null), [budget.data, by]);
  const warnings = useMemo(
    () => (budget.data?.warnings ?? []).map((w) => ({ id: `${w.seq}`, ts: w.ts, project: w.project, agent: w.agent, payload: w.payload })).sort((a, b) => (a.ts < b.ts ? 1 : -1)).slice(0, 50),
    [budget.data],
  );

  return (
    <div className="view">
      <h1 className="view-title">Budget</h1>
      {budget.isError ? <ErrorState error={budget.error} what="the budget" /> : null}
      {budget.isPending ? <LoadingState>Loading spend…</LoadingState> : null}
      <div className="overview-grid">
        <section className="card span-full" aria-labelledby="spend-heading">
          <div className="card-head">
            <h2 id="spend-heading">Spend over time</h2>
            <fieldset className="segmented">
              <legend className="visually-hidden">Time range</legend>
              {RANGES.map((r) => (
                <label key={r.hours}>
                  <input type="radio" name="spend-range" checked={range.hours === r.hours} onChange={() => setRange(r)} /> {r.label}
                </label>
              ))}
            </fieldset>
            <fieldset className="segmented">
              <legend className="visually-hidden">Group spend by</legend>
              <label>
                <input type="radio" name="spend-by" checked={by === "project"} onChange={() => setBy("project")} /> Per project
              </label>
              <label>
                <input type="radio" name="spend-by" checked={by === "agent"} onChange={() => setBy("agent")} /> Per agent
              </label>
            </fieldset>
          </div>
          {chart && chart.series.length > 0 ? (
            <>
              <TimeSeriesChart
                buckets={chart.buckets}
                series={chart.series}
                formatValue={(v) => formatMoney(v)}
                label={`Spend per ${budget.data!.bucketMinutes} minutes ${by === "project" ? "per project" : "per agent"}: ${chart.series.map((s) => `${s.name} ${formatMoney(s.values.reduce((a, b) => a + b, 0))}`).join(", ")}`}
              />
              <ul className="legend" aria-label="Legend">
                {chart.series.map((s, i) => (
                  <li key={s.name}>
                    <span className="legend-swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} aria-hidden="true" />
                    {s.name} <span className="muted mono">{formatMoney(s.values.reduce((a, b) => a + b, 0))}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : budget.isSuccess ? (
            <EmptyState>No spend in this time range.</EmptyState>
          ) : null}
        </section>
        <section className="card" aria-labelledby="limits-heading">
          <div className="card-head">
            <h2 id="limits-heading">Budgets today</h2>
          </div>
          {budget.data && budget.data.projects.length === 0 ? <EmptyState>No project has spent anything today.</EmptyState> : null}
          <BudgetMeterList projects={budget.data?.projects ?? []} />
        </section>
        <section className="card" aria-labelledby="warnings-heading">
          <div className="card-head">
            <h2 id="warnings-heading">Warnings</h2>
          </div>
          {warnings.length === 0 ? (
            <EmptyState>No budget warnings.</EmptyState>
          ) : (
            <table className="data-table">
              <caption className="visually-hidden">Budget warnings</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Project</th>
                  <th scope="col">Agent</th>
                  <th scope="col" className="num">
                    Spent / budget
                  </th>
                </tr>
              </thead>
              <tbody>
                {warnings.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <time dateTime={w.ts} title={formatAbsolute(w.ts)}>
                        {now ? formatRelative(w.ts, now) : ""}
                      </time>
                    </td>
                    <td>{w.project ?? <NoValue />}</td>
                    <td>{w.agent ?? <NoValue />}</td>
                    <td className="num mono">
                      {typeof w.payload.spent === "number" ? formatMoney(w.payload.spent) : "?"} / {typeof w.payload.budget === "number" ? formatMoney(w.payload.budget) : "?"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </div>
  );
}

/** Buckets over the whole window and one series per project (or the top agents, the rest as "other"). */
function seriesOf(data: BudgetData, by: "project" | "agent"): { buckets: string[]; series: ChartSeries[] } {
  const bucketMs = data.bucketMinutes * 60_000;
  const last = data.series.reduce((m, s) => Math.max(m, Date.parse(s.bucket)), 0);
  const end = Math.max(last, data.series.length ? last : 0);
  const count = Math.round((data.hours * 60) / data.bucketMinutes);
  const start = end - (count - 1) * bucketMs;
  const buckets = Array.from({ length: count }, (_, i) => new Date(start + i * bucketMs).toISOString());
  const totals = new Map<string, number>();
  for (const s of data.series) {
    const key = (by === "project" ? s.project : s.agent) ?? "(none)";
    totals.set(key, (totals.get(key) ?? 0) + s.amount);
  }
  const top = [...totals].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const shown = new Set(top.slice(0, MAX_SERIES));
  const names = [...top.slice(0, MAX_SERIES), ...(top.length > MAX_SERIES ? ["other"] : [])];
  const values = new Map(names.map((n) => [n, new Array<number>(count).fill(0)]));
  for (const s of data.series) {
    const i = Math.round((Date.parse(s.bucket) - start) / bucketMs);
    if (i < 0 || i >= count) continue;
    const key = (by === "project" ? s.project : s.agent) ?? "(none)";
    values.get(shown.has(key) ? key : "other")![i]! += s.amount;
  }
  return { buckets, series: names.map((name) => ({ name, values: values.get(name)! })) };
}
