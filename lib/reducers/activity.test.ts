import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../protocol";
import type { ActivityView } from "../views";
import { applyActivityEvents } from "./activity";

const MINUTE = 60_000;
const from = Date.UTC(2026, 0, 1, 12, 0);
const view = (): ActivityView => ({
  minutes: 3,
  from: new Date(from).toISOString(),
  channels: [
    { name: "tasks", lastSeq: 10, perMinute: [1, 2, 3] },
    { name: "agents", lastSeq: 4, perMinute: [0, 0, 1] },
  ],
});
const event = (channel: string, seq: number, minute: number): SwitchboardEvent => ({
  v: 1,
  id: `${channel}-${seq}`,
  channel,
  seq,
  type: "x",
  ts: new Date(from + minute * MINUTE + 1_000).toISOString(),
  agent: null,
  project: null,
  payload: {},
});

describe("activity reducer", () => {
  it("changes nothing for events at or below a channel's lastSeq", () => {
    const snapshot = view();
    expect(applyActivityEvents(snapshot, [event("tasks", 10, 2), event("tasks", 3, 2), event("agents", 4, 2), event("other", 99, 2)])).toBe(snapshot);
  });

  it("counts events in order into their minute and moves the head", () => {
    const next = applyActivityEvents(view(), [event("tasks", 11, 2), event("tasks", 12, 1), event("agents", 5, 2)]);
    expect(next.channels).toEqual([
      { name: "tasks", lastSeq: 12, perMinute: [1, 3, 4] },
      { name: "agents", lastSeq: 5, perMinute: [0, 0, 2] },
    ]);
    expect(next.from).toBe(view().from);
  });

  it("is idempotent: a repeat is not counted twice", () => {
    const events = [event("tasks", 11, 2), event("tasks", 12, 2)];
    const once = applyActivityEvents(view(), events);
    expect(applyActivityEvents(once, events)).toBe(once);
    expect(once.channels[0]!.perMinute).toEqual([1, 2, 5]);
  });

  it("moves the window forward for an event after its last minute", () => {
    const next = applyActivityEvents(view(), [event("tasks", 11, 4)]);
    expect(next.from).toBe(new Date(from + 2 * MINUTE).toISOString());
    expect(next.channels).toEqual([
      { name: "tasks", lastSeq: 11, perMinute: [3, 0, 1] },
      { name: "agents", lastSeq: 4, perMinute: [1, 0, 0] },
    ]);
    const far = applyActivityEvents(view(), [event("agents", 5, 30)]);
    expect(far.channels.map((c) => c.perMinute)).toEqual([
      [0, 0, 0],
      [0, 0, 1],
    ]);
  });
});
