/**
 * The task board's live reducer: the /views/tasks snapshot with the tasks channel's events applied.
 * Each task carries its head (`seq`, its latest event): a task's newest event wins, so an event at
 * or below the task's seq, or applied twice, changes nothing, in whatever order refills deliver them.
 */
import type { SwitchboardEvent } from "../protocol";
import { TASK_STATUSES, type TaskStatus, type TaskView } from "../views";
import { newestSeq } from "./live-reducer";

/** Tasks kept, snapshot and live together; beyond, the least recently changed go (the next refetch has them). */
export const MAX_BOARD_TASKS = 2_500;

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

/** The tasks after `events`; the same array when none of them is newer than what it holds. */
export function applyTaskEvents(tasks: TaskView[], events: readonly SwitchboardEvent[]): TaskView[] {
  let byId: Map<string, TaskView> | null = null;
  let changed = false;
  for (const event of events) {
    if (event.channel !== "tasks" || typeof event.payload.taskId !== "string") continue;
    byId ??= new Map(tasks.map((t) => [t.taskId, t]));
    const before = byId.get(event.payload.taskId);
    const after = applyTaskEvent(before, event);
    if (after && after !== before) {
      byId.set(after.taskId, after);
      changed = true;
    }
  }
  if (!byId || !changed) return tasks;
  const next = [...byId.values()];
  return next.length > MAX_BOARD_TASKS ? next.sort((a, b) => b.seq - a.seq).slice(0, MAX_BOARD_TASKS) : next;
}

/** The newest seq a snapshot covers, from which live events continue (0 when it is empty). */
export const snapshotSeq = (tasks: readonly TaskView[]) => newestSeq(tasks);
