import type { SwitchboardEvent } from "../../lib/protocol";

/** A committed event for tests, with a deterministic id. */
export function testEvent(seq: number, overrides: Partial<SwitchboardEvent> = {}): SwitchboardEvent {
  return {
    v: 1,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    channel: "tasks",
    seq,
    type: "task.created",
    ts: new Date(0).toISOString(),
    agent: null,
    project: null,
    payload: {},
    ...overrides,
  };
}
