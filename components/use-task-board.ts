"use client";

import { useMemo } from "react";
import type { EventFilter } from "@/lib/protocol";
import { tasksQueryOptions } from "@/lib/queries";
import { applyTaskEvents, snapshotSeq } from "@/lib/reducers/tasks";
import { groupByStatus } from "@/lib/task-board";
import { useLiveQuery } from "./use-live-query";

/**
 * The /views/tasks snapshot with the tasks channel's events applied live (lib/reducers/tasks.ts).
 * The subscription starts at the newest seq the first snapshot covers, so nothing between the
 * snapshot and the socket is missed.
 */
export function useTaskBoard(filter: { project?: string; agent?: string }) {
  const eventFilter: EventFilter = { type: "task.*" };
  if (filter.project) eventFilter.project = filter.project;
  if (filter.agent) eventFilter.agent = filter.agent;
  const snapshot = useLiveQuery({
    query: tasksQueryOptions(filter),
    channels: [{ channel: "tasks", filter: eventFilter }],
    reduce: applyTaskEvents,
    start: snapshotSeq,
  });
  const data = snapshot.data;
  const columns = useMemo(() => groupByStatus(data ?? []), [data]);
  return { columns, snapshot };
}
