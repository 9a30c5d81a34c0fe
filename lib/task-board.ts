/**
 * The task board: the /views/tasks snapshot with the tasks channel's live events applied on top.
 * A task's newest event wins (by seq), so applying an event twice, or one the snapshot already
 * covers, changes nothing.
 */
import type { SwitchboardEvent } from "./protocol";
import { TASK_STATUSES, type TaskStatus, type TaskView } from "./views";

const STATUS_OF_TYPE: Record<string, TaskStatus> = {
  "task.created": "created",
  "task.assigned": "assigned",
  "task.completed": "completed",
  "task.failed": "failed",
};

const isTaskStatus = (value: unknown): value is TaskStatus => TASK_STATUSES.includes(value as TaskStatus);

/** The task after `event`, or `previous` unchanged when the event is not newer or not about a task. */
export function applyTaskEvent(previous: TaskView | undefined, event: SwitchboardEvent): TaskView | undefined {
  const taskId = event.payload.taskId;
  if (event.channel !== "tasks" || typeof taskId !== "string") return previous;
  if (previous && previous.seq >= event.seq) return previous;
  const status = isTaskStatus(event.payload.status) ? event.payload.status : (STATUS_OF_TYPE[event.type] ?? previous?.status ?? "created");
  const title = typeof event.payload.title === "string" ? event.payload.title : (previous?.title ?? null);
  return {
    taskId,
    title,
    status,
    project: event.project ?? previous?.project ?? null,
    agent: event.agent ?? previous?.agent ?? null,
    updatedAt: event.ts,
    seq: event.seq,
  };
}

/**
 * Applies events (any order, repeats allowed) to a map of tasks by id, in place; returns whether
 * anything changed. `known` supplies tasks the map does not hold yet (the snapshot), so an event
 * without a title keeps the title the snapshot knows.
 */
export function applyTaskEvents(tasks: Map<string, TaskView>, events: readonly SwitchboardEvent[], known?: (taskId: string) => TaskView | undefined): boolean {
  let changed = false;
  for (const event of events) {
    const taskId = event.payload.taskId;
    if (typeof taskId !== "string") continue;
    const before = tasks.get(taskId) ?? known?.(taskId);
    const after = applyTaskEvent(before, event);
    if (after && after !== before) {
      tasks.set(taskId, after);
      changed = true;
    }
  }
  return changed;
}

/** The newest of two views of the same task sets. */
export function mergeTasks(snapshot: readonly TaskView[], live: ReadonlyMap<string, TaskView>): TaskView[] {
  const merged = new Map(snapshot.map((t) => [t.taskId, t]));
  for (const [id, task] of live) {
    const known = merged.get(id);
    if (!known || known.seq < task.seq) merged.set(id, task);
  }
  return [...merged.values()];
}

export type TaskColumns = Record<TaskStatus, TaskView[]>;

/** Tasks by status, newest update first; statuses outside the five are left out. */
export function groupByStatus(tasks: readonly TaskView[]): TaskColumns {
  const columns = Object.fromEntries(TASK_STATUSES.map((s) => [s, [] as TaskView[]])) as TaskColumns;
  for (const task of tasks) if (isTaskStatus(task.status)) columns[task.status].push(task);
  for (const status of TASK_STATUSES) columns[status].sort((a, b) => b.seq - a.seq);
  return columns;
}

/** The newest seq a snapshot covers, from which live events continue (0 when it is empty). */
export const snapshotSeq = (tasks: readonly TaskView[]) => tasks.reduce((max, t) => Math.max(max, t.seq), 0);
