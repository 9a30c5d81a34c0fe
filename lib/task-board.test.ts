import { describe, expect, it } from "vitest";
import { groupByStatus } from "./task-board";
import type { TaskView } from "./views";

describe("task board", () => {
  it("groups by status, newest first, leaving out unknown statuses", () => {
    const tasks: TaskView[] = [
      { taskId: "T1", title: "a", status: "failed", project: "p", agent: "x", updatedAt: "", seq: 3 },
      { taskId: "T2", title: "b", status: "created", project: "p", agent: null, updatedAt: "", seq: 4 },
      { taskId: "T3", title: "c", status: "failed", project: "p", agent: null, updatedAt: "", seq: 9 },
      { taskId: "T4", title: "d", status: "paused", project: "p", agent: null, updatedAt: "", seq: 10 },
    ];
    const columns = groupByStatus(tasks);
    expect(columns.failed.map((t) => t.taskId)).toEqual(["T3", "T1"]);
    expect(columns.created.map((t) => t.taskId)).toEqual(["T2"]);
    expect(columns.assigned).toEqual([]);
    expect(Object.values(columns).flat()).toHaveLength(3);
  });
});
