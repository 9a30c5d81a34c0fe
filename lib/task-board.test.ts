import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "./protocol";
import { applyTaskEvent, applyTaskEvents, groupByStatus, mergeTasks } from "./task-board";
import type { TaskView } from "./views";

const event = (seq: number, type: string, payload: Record<string, unknown>, agent: string | null = "a1"): SwitchboardEvent => ({
  v: 1,
  id: `id-${seq}`,
  channel: "tasks",
  seq,
  type,
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  agent,
  project: "p",
  payload,
});

describe("task board", () => {
  it("follows a task through its events, keeping title and agent", () => {
    const tasks = new Map<string, TaskView>();
    applyTaskEvents(tasks, [
      event(1, "task.created", { taskId: "T1", title: "Write", status: "created" }, null),
      event(2, "task.assigned", { taskId: "T1" }, "a2"),
      event(3, "task.status_changed", { taskId: "T1", status: "in_progress" }, null),
    ]);
    expect(tasks.get("T1")).toMatchObject({ title: "Write", status: "in_progress", agent: "a2", seq: 3 });
  });

  it("ignores older and repeated events", () => {
    const done = applyTaskEvent(undefined, event(5, "task.completed", { taskId: "T1" }));
    expect(applyTaskEvent(done, event(4, "task.assigned", { taskId: "T1" }))).toBe(done);
    expect(applyTaskEvent(done, event(5, "task.completed", { taskId: "T1" }))).toBe(done);
  });

  it("merges the snapshot with newer live tasks and groups by status", () => {
    const snapshot: TaskView[] = [
      { taskId: "T1", title: "a", status: "assigned", project: "p", agent: "x", updatedAt: "", seq: 3 },
      { taskId: "T2", title: "b", status: "created", project: "p", agent: null, updatedAt: "", seq: 4 },
    ];
    const live = new Map<string, TaskView>([["T1", { ...snapshot[0]!, status: "failed", seq: 9 }]]);
    const columns = groupByStatus(mergeTasks(snapshot, live));
    expect(columns.failed.map((t) => t.taskId)).toEqual(["T1"]);
    expect(columns.created.map((t) => t.taskId)).toEqual(["T2"]);
    expect(columns.assigned).toEqual([]);
  });
});
