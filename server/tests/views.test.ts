import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import type { ActivityView, AgentView, BudgetView, ConversationView, TaskView } from "../../lib/views";
import { api, startServerProcess, waitFor, type ServerProcess } from "./support/server-process";

describe("dashboard views over a known story", () => {
  let server: ServerProcess;
  const get = async <T>(path: string) => {
    const res = await api(server, "GET", path, { token: server.adminToken });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as unknown as T;
  };
  const publish = async (channel: string, events: object[]) => {
    const res = await api(server, "POST", `/api/v1/channels/${channel}/events`, { token: server.adminToken, body: events });
    expect(res.status).toBe(201);
    return res.body.events as SwitchboardEvent[];
  };

  beforeAll(async () => {
    server = await startServerProcess({ database: "embedded" });
    await publish("agents", [
      { type: "agent.hired", agent: "ann", project: "p1", payload: {} },
      { type: "agent.hired", agent: "bob", project: "p1", payload: {} },
      { type: "agent.heartbeat", agent: "ann", project: "p1", payload: { status: "busy" } },
      { type: "agent.heartbeat", agent: "bob", project: "p1", payload: { status: "idle" } },
    ]);
    await publish("tasks", [
      { type: "task.created", project: "p1", payload: { taskId: "T-1", title: "One", status: "created" } },
      { type: "task.created", project: "p2", payload: { taskId: "T-2", title: "Two", status: "created" } },
      { type: "task.assigned", agent: "ann", project: "p1", payload: { taskId: "T-1", title: "One", status: "assigned" } },
      { type: "task.status_changed", agent: "ann", project: "p1", payload: { taskId: "T-1", title: "One", status: "in_progress" } },
    ]);
    await publish("budget", [
      { type: "budget.spent", agent: "ann", project: "p1", payload: { amount: 1.25, budget: 10, currency: "USD" } },
      { type: "budget.spent", agent: "bob", project: "p1", payload: { amount: 2, budget: 10, currency: "USD" } },
      { type: "budget.spent", agent: "bob", project: "p1", payload: { amount: "not a number" } },
      { type: "budget.warning", agent: "bob", project: "p1", payload: { spent: 8.5, budget: 10, threshold: 0.8 } },
    ]);
    await publish("messages", [
      { type: "message.sent", agent: "ann", project: "p1", payload: { from: "ann", to: "bob", text: "hi" } },
      { type: "message.sent", agent: "bob", project: "p1", payload: { from: "bob", to: "ann", text: "hello" } },
      { type: "message.sent", agent: "ann", project: "p1", payload: { from: "ann", to: "cy", text: "ping" } },
    ]);
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it("activity counts this minute's events per channel", async () => {
    const view = await get<ActivityView>("/api/v1/views/activity?minutes=5");
    expect(view.channels.map((c) => c.name)).toEqual(["tasks", "agents", "budget", "messages", "system"]);
    const agents = view.channels.find((c) => c.name === "agents")!;
    expect(agents.perMinute).toHaveLength(5);
    expect(agents.perMinute.reduce((a, b) => a + b, 0)).toBe(4);
    expect(agents.lastSeq).toBe(4);
  });

  it("tasks show each task's latest state, filterable by project and agent", async () => {
    const { tasks } = await get<{ tasks: TaskView[] }>("/api/v1/views/tasks");
    expect(tasks.map((t) => [t.taskId, t.status, t.agent])).toEqual([
      ["T-1", "in_progress", "ann"],
      ["T-2", "created", null],
    ]);
    expect((await get<{ tasks: TaskView[] }>("/api/v1/views/tasks?project=p2")).tasks.map((t) => t.taskId)).toEqual(["T-2"]);
    expect((await get<{ tasks: TaskView[] }>("/api/v1/views/tasks?agent=ann")).tasks.map((t) => t.taskId)).toEqual(["T-1"]);
  });

  it("agents carry status from heartbeats, their current task and spend", async () => {
    const { agents } = await get<{ agents: AgentView[] }>("/api/v1/views/agents");
    const ann = agents.find((a) => a.name === "ann")!;
    const bob = agents.find((a) => a.name === "bob")!;
    expect(ann).toMatchObject({ status: "online", project: "p1", spend: 1.25, currentTask: { taskId: "T-1", status: "in_progress" } });
    expect(bob).toMatchObject({ status: "idle", spend: 2, currentTask: null });
    const later = await get<{ agents: AgentView[] }>("/api/v1/views/agents?offlineAfterSeconds=1");
    // The server runs on this machine's clock: wait until every agent's last event is over 1 s old on it.
    const newest = Math.max(...later.agents.map((a) => Date.parse(a.lastSeen)));
    await waitFor(() => Date.now() - newest > 1000, "the agents' last events to be over 1 s old", 5_000, 10);
    const stale = await get<{ agents: AgentView[] }>("/api/v1/views/agents?offlineAfterSeconds=1");
    expect(later.agents.length).toBe(2);
    expect(stale.agents.every((a) => a.status === "offline")).toBe(true);
  });

  it("budget sums today's spend per project against its budget, ignoring non-numeric amounts", async () => {
    const view = await get<BudgetView>("/api/v1/views/budget?hours=1&bucketMinutes=5");
    expect(view.projects).toEqual([{ project: "p1", budget: 10, spentToday: 3.25, currency: "USD" }]);
    expect(view.series.reduce((sum, s) => sum + s.amount, 0)).toBeCloseTo(3.25);
    expect(view.warnings).toHaveLength(1);
  });

  it("conversations thread messages by the pair of agents", async () => {
    const { conversations } = await get<{ conversations: ConversationView[] }>("/api/v1/views/conversations");
    expect(conversations.map((c) => [c.agents, c.count])).toEqual([
      [["ann", "cy"], 1],
      [["ann", "bob"], 2],
    ]);
    const { events } = await get<{ events: SwitchboardEvent[] }>("/api/v1/views/conversations/bob/ann");
    expect(events.map((e) => e.payload.text)).toEqual(["hi", "hello"]);
  });

  it("seq-before tells where a replay from a time starts", async () => {
    expect(await get<{ seq: number }>(`/api/v1/channels/tasks/seq-before?ts=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual({ seq: 4 });
    expect(await get<{ seq: number }>(`/api/v1/channels/tasks/seq-before?ts=2000-01-01T00:00:00.000Z`)).toEqual({ seq: 0 });
    const bad = await api(server, "GET", "/api/v1/channels/tasks/seq-before?ts=yesterday", { token: server.adminToken });
    expect(bad.status).toBe(400);
  });
});
