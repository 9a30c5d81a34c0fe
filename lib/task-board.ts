/** The task board's columns; the live reducer that keeps its tasks current is lib/reducers/tasks.ts. */
import { TASK_STATUSES, type TaskStatus, type TaskView } from "./views";

export type TaskColumns = Record<TaskStatus, TaskView[]>;

const isTaskStatus = (value: unknown): value is TaskStatus => TASK_STATUSES.includes(value as TaskStatus);

/** Tasks by status, newest update first; statuses outside the five are left out. */
export function groupByStatus(tasks: readonly TaskView[]): TaskColumns {
  const columns = Object.fromEntries(TASK_STATUSES.map((s) => [s, [] as TaskView[]])) as TaskColumns;
  for (const task of tasks) if (isTaskStatus(task.status)) columns[task.status].push(task);
  for (const status of TASK_STATUSES) columns[status].sort((a, b) => b.seq - a.seq);
  return columns;
}
