import { describe, expect, it } from "vitest";
import { agentStatus, isAgentOffline } from "./agent-status";

const seen = "2026-01-01T00:00:00.000Z";
const at = (seconds: number) => new Date(Date.parse(seen) + seconds * 1000);

describe("agent status", () => {
  it("is offline once the last event is older than the limit, whatever the agent was doing", () => {
    expect(agentStatus({ lastSeen: seen, busy: true, holdsOpenTask: true }, at(61), 60)).toBe("offline");
    expect(isAgentOffline(seen, at(60), 60)).toBe(false);
    expect(isAgentOffline(new Date(seen), at(60.001).getTime(), 60)).toBe(true);
  });

  it("is online when busy or holding an open task, else idle", () => {
    expect(agentStatus({ lastSeen: seen, busy: true, holdsOpenTask: false }, at(1), 60)).toBe("online");
    expect(agentStatus({ lastSeen: seen, busy: false, holdsOpenTask: true }, at(1), 60)).toBe("online");
    expect(agentStatus({ lastSeen: seen, busy: false, holdsOpenTask: false }, at(1), 60)).toBe("idle");
  });
});
