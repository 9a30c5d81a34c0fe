"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { EventFilter } from "@/lib/protocol";
import { tasksQueryOptions } from "@/lib/queries";
import { applyTaskEvents, groupByStatus, mergeTasks, snapshotSeq } from "@/lib/task-board";
import type { TaskView } from "@/lib/views";
import { useLiveSubscriptions } from "./live-client-provider";

/** Tasks changed live that are kept on top of the snapshot; the oldest go first (the next refetch has them). */
const MAX_LIVE_TASKS = 2_000;

/**
 * The /views/tasks snapshot with the tasks channel's events applied live. The subscription starts at
 * the newest seq the first snapshot covers, so nothing between the snapshot and the socket is missed;
 * later refetches only re-base it (a task's newest seq wins).
 */
export function useTaskBoard(filter: { project?: string; agent?: string }) {
  const key = `${filter.project ?? ""}\u0000${filter.agent ?? ""}`;
  const snapshot = useQuery(tasksQueryOptions(filter));
  const [base, setBase] = useState<{ key: string; since: number } | null>(null);
  if (snapshot.data && !snapshot.isPlaceholderData && base?.key !== key) setBase({ key, since: snapshotSeq(snapshot.data) });

  // Mutated in place by the event handler (a copy per event would cost too much on a busy channel);
  // `version` tells React it changed.
  const [live, setLive] = useState<{ key: string; tasks: Map<string, TaskView> }>(() => ({ key, tasks: new Map() }));
  if (live.key !== key) setLive({ key, tasks: new Map() });
  const [version, setVersion] = useState(0);

  const specs = useMemo(() => {
    if (!base || base.key !== key) return null;
    const eventFilter: EventFilter = { type: "task.*" };
    const [project, agent] = key.split("\u0000");
    if (project) eventFilter.project = project;
    if (agent) eventFilter.agent = agent;
    return [{ channel: "tasks", filter: eventFilter, start: base.since > 0 ? { since: base.since } : { history: 0 } }];
  }, [base, key]);

  const snapshotById = useMemo(() => new Map((snapshot.data ?? []).map((t) => [t.taskId, t])), [snapshot.data]);
  useLiveSubscriptions(specs, (events) => {
    const { tasks } = live;
    if (!applyTaskEvents(tasks, events, (id) => snapshotById.get(id))) return;
    while (tasks.size > MAX_LIVE_TASKS) tasks.delete(tasks.keys().next().value!);
    setVersion((v) => v + 1);
  });

  const data = snapshot.data;
  const columns = useMemo(() => {
    void version; // live tasks changed in place
    return groupByStatus(mergeTasks(data ?? [], live.tasks));
  }, [data, live, version]);

  return { columns, snapshot };
}
