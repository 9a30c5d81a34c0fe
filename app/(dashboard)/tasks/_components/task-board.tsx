"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { ErrorState, LoadingState, NoValue } from "@/components/states";
import { useNow } from "@/components/use-now";
import { useTaskBoard } from "@/components/use-task-board";
import { filterValueProblem } from "@/lib/feed-filter";
import { formatAbsolute, formatCount, formatRelative } from "@/lib/time-format";
import { TASK_STATUS_LABELS, TASK_STATUSES } from "@/lib/views";

/** Cards shown per column; the count says how many there are. */
const MAX_CARDS = 60;

/** Tasks in five columns by status, moving live; filtered by project and agent (in the URL). */
export function TaskBoard() {
  const searchParams = useSearchParams();
  const pathname = usePathname();
  const project = searchParams.get("project")?.trim() || undefined;
  const agent = searchParams.get("agent")?.trim() || undefined;
  const valid = !(project && filterValueProblem("project", project)) && !(agent && filterValueProblem("agent", agent));
  const { columns, snapshot } = useTaskBoard(valid ? { project, agent } : {});
  const now = useNow(5_000);
  // The inputs edit a draft that applies on "Apply"; when the URL's filter changes (Apply, back/forward,
  // a link), the draft follows it, so the inputs always show the filter in effect.
  const [draft, setDraft] = useState({ project: project ?? "", agent: agent ?? "" });
  const [shownFilter, setShownFilter] = useState({ project, agent });
  if (shownFilter.project !== project || shownFilter.agent !== agent) {
    setShownFilter({ project, agent });
    setDraft({ project: project ?? "", agent: agent ?? "" });
  }

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (draft.project.trim()) params.set("project", draft.project.trim());
    if (draft.agent.trim()) params.set("agent", draft.agent.trim());
    const query = params.toString();
    window.history.pushState(null, "", `${pathname}${query ? `?${query}` : ""}`);
  };

  return (
    <div className="view view-fill">
      <h1 className="view-title">Tasks</h1>
      <form role="search" aria-label="Filter tasks" className="filter-bar" onSubmit={apply}>
        <div className="filter-field">
          <label htmlFor="tasks-project">Project</label>
          <input id="tasks-project" type="text" placeholder="All projects" value={draft.project} onChange={(e) => setDraft({ ...draft, project: e.target.value })} />
        </div>
        <div className="filter-field">
          <label htmlFor="tasks-agent">Agent</label>
          <input id="tasks-agent" type="text" placeholder="All agents" value={draft.agent} onChange={(e) => setDraft({ ...draft, agent: e.target.value })} />
        </div>
        <div className="filter-actions">
          <button type="submit" className="button-primary">
            Apply
          </button>
        </div>
      </form>
      {!valid ? (
        <p className="form-error" role="alert">
          The project or agent in the address is not a valid name; showing every task.
        </p>
      ) : null}
      {snapshot.isError ? <ErrorState error={snapshot.error} what="tasks" /> : null}
      {snapshot.isPending ? <LoadingState>Loading tasks…</LoadingState> : null}
      <div className="board">
        {TASK_STATUSES.map((status) => {
          const tasks = columns[status];
          return (
            <section key={status} className="board-column" data-status={status} aria-labelledby={`column-${status}`}>
              <h2 id={`column-${status}`} className="board-column-head">
                {TASK_STATUS_LABELS[status]} <span className="count">{formatCount(tasks.length)}</span>
              </h2>
              <ul className="board-cards" aria-label={TASK_STATUS_LABELS[status]}>
                {tasks.slice(0, MAX_CARDS).map((task) => (
                  <li key={task.taskId} className="task-card" data-status={status}>
                    <p className="task-title">{task.title ?? task.taskId}</p>
                    <p className="task-meta">
                      <span className="mono">{task.taskId}</span> · {task.agent ?? <NoValue />} · {task.project ?? <NoValue />}
                    </p>
                    <p className="task-meta">
                      <time dateTime={task.updatedAt} title={formatAbsolute(task.updatedAt)}>
                        {now ? formatRelative(task.updatedAt, now) : ""}
                      </time>
                    </p>
                  </li>
                ))}
              </ul>
              {tasks.length > MAX_CARDS ? <p className="muted small">and {formatCount(tasks.length - MAX_CARDS)} more</p> : null}
            </section>
          );
        })}
      </div>
    </div>
  );
}
