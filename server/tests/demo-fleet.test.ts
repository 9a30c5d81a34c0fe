import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelInfo } from "../../lib/protocol";
import { api, startServerProcess, waitFor, type ServerProcess } from "./support/server-process";

describe("the simulated fleet (DEMO=1)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ database: "embedded", env: { DEMO: "1", DEMO_RATE: "200" } });
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it("publishes through the public API into every producer channel", async () => {
    const channels = await waitFor(async () => {
      const res = await api(server, "GET", "/api/v1/channels", { token: server.adminToken });
      const list = res.body.channels as ChannelInfo[];
      const busy = ["tasks", "agents", "budget", "messages"].every((name) => list.find((c) => c.name === name)!.lastSeq > 0);
      return busy ? list : null;
    }, "events on tasks, agents, budget and messages", 20_000);
    expect(channels.find((c) => c.name === "agents")!.lastSeq).toBeGreaterThanOrEqual(12);
    const hires = await api(server, "GET", "/api/v1/channels/agents/events?type=agent.hired&limit=100", { token: server.adminToken });
    expect((hires.body.events as unknown[]).length).toBe(12);
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/switchboard_events_published_total\{channel="tasks"\} [1-9]/);
  });
});
