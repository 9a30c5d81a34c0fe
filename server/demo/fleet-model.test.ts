import { describe, expect, it } from "vitest";
import { CHANNEL_NAMES, publishInputSchema } from "../../lib/protocol";
import { FleetModel } from "./fleet-model";

describe("FleetModel", () => {
  const model = new FleetModel(42);
  const events = Array.from({ length: 5000 }, () => model.next());

  it("publishes only valid events to declared channels", () => {
    for (const { channel, event } of events) {
      expect(CHANNEL_NAMES).toContain(channel);
      expect(publishInputSchema.safeParse(event).success).toBe(true);
    }
  });

  it("hires a dozen agents in three projects first", () => {
    const hired = events.slice(0, 12);
    expect(hired.every((e) => e.event.type === "agent.hired")).toBe(true);
    expect(new Set(hired.map((e) => e.event.project)).size).toBe(3);
  });

  it("tells the whole story: task lifecycle, messages, spend, warnings and the odd system error", () => {
    const types = new Set(events.map((e) => e.event.type));
    for (const t of ["task.created", "task.assigned", "task.status_changed", "task.completed", "task.failed", "agent.heartbeat", "message.sent", "budget.spent", "budget.warning", "system.error"]) {
      expect(types).toContain(t);
    }
  });

  it("moves each task forward through its lifecycle, never backwards", () => {
    const order = ["created", "assigned", "in_progress", "completed"];
    const last = new Map<string, string>();
    for (const { event } of events.filter((e) => e.channel === "tasks")) {
      const { taskId, status } = event.payload as { taskId: string; status: string };
      const previous = last.get(taskId);
      if (previous) {
        expect(["completed", "failed"]).not.toContain(previous);
        if (status !== "failed") expect(order.indexOf(status)).toBe(order.indexOf(previous) + 1);
      } else {
        expect(status).toBe("created");
      }
      last.set(taskId, status);
    }
  });

  it("replays the same story from the same seed", () => {
    const again = new FleetModel(42);
    expect(Array.from({ length: 200 }, () => again.next())).toEqual(events.slice(0, 200));
  });
});
