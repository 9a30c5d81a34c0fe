import { describe, expect, it } from "vitest";
import { eventSchema, publishInputSchema, subscribeRequestSchema, type SwitchboardEvent } from "./protocol";

const event: SwitchboardEvent = {
  v: 1,
  id: "0b7c6f8e-4d7a-4f59-9a59-2f0b3c1d2e3f",
  channel: "tasks",
  seq: 42,
  type: "task.status_changed",
  ts: "2026-11-22T10:00:00.000Z",
  agent: "atlas-coder",
  project: "atlas",
  payload: { taskId: "T-1", status: "in_progress", nested: { list: [1, "two", null] } },
};

describe("event envelope", () => {
  it("survives JSON serialization unchanged and still validates", () => {
    const roundTripped = JSON.parse(JSON.stringify(event));
    expect(roundTripped).toEqual(event);
    expect(eventSchema.parse(roundTripped)).toEqual(event);
  });

  it("accepts null agent and project", () => {
    expect(eventSchema.safeParse({ ...event, agent: null, project: null }).success).toBe(true);
  });

  it.each([
    ["seq 0", { seq: 0 }],
    ["fractional seq", { seq: 1.5 }],
    ["undotted type", { type: "created" }],
    ["upper-case type", { type: "Task.Created" }],
    ["non-UTC timestamp text", { ts: "22 Nov 2026" }],
    ["array payload", { payload: [1, 2] }],
    ["unknown version", { v: 2 }],
  ])("rejects %s", (_, change) => {
    expect(eventSchema.safeParse({ ...event, ...change }).success).toBe(false);
  });
});

describe("publish input", () => {
  it("defaults payload to an empty object", () => {
    expect(publishInputSchema.parse({ type: "agent.hired" })).toEqual({ type: "agent.hired", payload: {} });
  });

  it("rejects an agent label with spaces or markup", () => {
    expect(publishInputSchema.safeParse({ type: "agent.hired", agent: "a b" }).success).toBe(false);
    expect(publishInputSchema.safeParse({ type: "agent.hired", agent: "<script>" }).success).toBe(false);
  });
});

describe("subscribe request", () => {
  it("takes since or history, not both", () => {
    expect(subscribeRequestSchema.safeParse({ channel: "tasks", since: 3 }).success).toBe(true);
    expect(subscribeRequestSchema.safeParse({ channel: "tasks", history: 3 }).success).toBe(true);
    expect(subscribeRequestSchema.safeParse({ channel: "tasks", since: 3, history: 3 }).success).toBe(false);
  });

  it("accepts prefix wildcards and lists in filters, and refuses unknown filter keys", () => {
    expect(subscribeRequestSchema.safeParse({ channel: "tasks", filter: { type: ["task.*", "agent.hired"], agent: "a" } }).success).toBe(true);
    expect(subscribeRequestSchema.safeParse({ channel: "tasks", filter: { type: "task.*.x" } }).success).toBe(false);
    expect(subscribeRequestSchema.safeParse({ channel: "tasks", filter: { colour: "red" } }).success).toBe(false);
  });
});
