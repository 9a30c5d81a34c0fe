import { describe, expect, it } from "vitest";
import type { AgentView } from "../views";
import { applyAgentEvents } from "./agents";
import { at, testEvent } from "./test-events";

const beat = (seq: number, agent: string, status?: string) => testEvent("agents", seq, "agent.heartbeat", status ? { status } : {}, { agent });
const agent = (name: string, lastSeenSecond: number, extra: Partial<AgentView> = {}): AgentView => ({
  name,
  project: "p",
  status: "idle",
  lastSeen: at(lastSeenSecond),
  currentTask: null,
  spend: 2,
  ...extra,
});

describe("agents reducer", () => {
  it("changes nothing for a heartbeat at or before the agent's last event", () => {
    const snapshot = [agent("a1", 10)];
    expect(applyAgentEvents(snapshot, [beat(10, "a1", "busy"), beat(9, "a1", "busy")])).toBe(snapshot);
  });

  it("applies heartbeats in order with the shared status rule, keeping task and spend", () => {
    const task = { taskId: "T1", title: null, status: "assigned" };
    const snapshot = [agent("a1", 10), agent("a2", 10, { currentTask: task, status: "online" })];
    const next = applyAgentEvents(snapshot, [beat(11, "a1", "busy"), beat(12, "a1"), beat(13, "a2"), beat(14, "new", "busy")]);
    expect(next).toEqual([
      agent("a1", 12, { status: "idle" }),
      agent("a2", 13, { currentTask: task, status: "online" }),
      { name: "new", project: "p", status: "online", lastSeen: at(14), currentTask: null, spend: 0 },
    ]);
  });

  it("is idempotent and ignores other events", () => {
    const events = [beat(11, "a1", "busy"), testEvent("agents", 12, "agent.note", {}, { agent: "a1" }), testEvent("agents", 13, "agent.heartbeat", {}, { agent: null })];
    const once = applyAgentEvents([agent("a1", 10)], events);
    expect(once[0]).toMatchObject({ status: "online", lastSeen: at(11) });
    expect(applyAgentEvents(once, events)).toBe(once);
  });
});
