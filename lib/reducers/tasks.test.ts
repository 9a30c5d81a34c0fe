import { describe, expect, it } from "vitest";
import type { TaskView } from "../views";
import { applyTaskEvent, applyTaskEvents, MAX_BOARD_TASKS, snapshotSeq } from "./tasks";
import { testEvent } from "./test-events";

const event = (seq: number, type: string, payload: Record<string, unknown>, agent: string | null = "a1") => testEvent("tasks", seq, type, payload, { agent });
const task = (taskId: string, seq: number, status = "assigned"): TaskView => ({ taskId, title: taskId, status, project: "p", agent: "x", updatedAt: "", seq });

describe("tasks reducer", () => {
  it("follows a task through its events in order, keeping title and agent", () => {
    const tasks = applyTaskEvents([], [
      event(1, "task.created", { taskId: "T1", title: "Write", status: "created" }, null),
      event(2, "task.assigned", { taskId: "T1" }, "a2"),
      event(3, "task.status_changed", { taskId: "T1", status: "in_progress" }, null),
    ]);
    expect(tasks).toEqual([expect.objectContaining({ taskId: "T1", title: "Write", status: "in_progress", agent: "a2", seq: 3 })]);
  });

  it("changes nothing for an event at or below the task's seq", () => {
    const snapshot = [task("T1", 5), task("T2", 7)];
    expect(applyTaskEvents(snapshot, [event(5, "task.completed", { taskId: "T1" }), event(4, "task.failed", { taskId: "T1" })])).toBe(snapshot);
    const done = applyTaskEvent(undefined, event(5, "task.completed", { taskId: "T1" }));
    expect(applyTaskEvent(done, event(4, "task.assigned", { taskId: "T1" }))).toBe(done);
  });

  it("keeps the snapshot's title when an event has none, and adds new tasks", () => {
    const next = applyTaskEvents([task("T1", 3)], [event(9, "task.failed", { taskId: "T1" }), event(10, "task.created", { taskId: "T2", title: "New" })]);
    expect(next).toEqual([expect.objectContaining({ taskId: "T1", title: "T1", status: "failed", seq: 9 }), expect.objectContaining({ taskId: "T2", status: "created" })]);
  });

  it("is idempotent: applying the same events again changes nothing", () => {
    const events = [event(8, "task.assigned", { taskId: "T1" }), event(9, "task.completed", { taskId: "T2", title: "b" })];
    const once = applyTaskEvents([task("T1", 3)], events);
    expect(applyTaskEvents(once, events)).toBe(once);
  });

  it("ignores events of other channels and without a task id", () => {
    const snapshot = [task("T1", 3)];
    expect(applyTaskEvents(snapshot, [testEvent("agents", 9, "task.failed", { taskId: "T1" }), event(10, "task.created", { title: "no id" })])).toBe(snapshot);
  });

  it("keeps at most MAX_BOARD_TASKS, the most recently changed", () => {
    const snapshot = Array.from({ length: MAX_BOARD_TASKS }, (_, i) => task(`T${i}`, i + 1));
    const next = applyTaskEvents(snapshot, [event(MAX_BOARD_TASKS + 1, "task.created", { taskId: "new" })]);
    expect(next).toHaveLength(MAX_BOARD_TASKS);
    expect(next.some((t) => t.taskId === "new")).toBe(true);
    expect(next.some((t) => t.taskId === "T0")).toBe(false);
    expect(snapshotSeq(next)).toBe(MAX_BOARD_TASKS + 1);
  });
});
