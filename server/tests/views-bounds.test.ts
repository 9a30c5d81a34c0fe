import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL_NAMES } from "../../lib/protocol";
import { createPool, createPrismaClient, type Pool, type PrismaClient } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { PostgresHistoryStore } from "../history/postgres-store";
import type { NewEvent } from "../channels/history-store";
import { DashboardViews, MAX_VIEW_AGENTS, MAX_VIEW_TEXT } from "../views/dashboard-views";
import { createScratchDatabase, freePort, machinePostgresAvailable, type TestDatabase } from "./support/services";

const available = await machinePostgresAvailable();

const event = (channel: string, type: string, payload: Record<string, unknown>, agent: string | null = null): NewEvent => ({
  v: 1,
  id: randomUUID(),
  channel,
  type,
  ts: new Date().toISOString(),
  agent,
  project: "p1",
  payload,
});

/** The views' bounds on what they answer, on the PostgreSQL server, whatever the stored events hold. */
describe.runIf(available)("dashboard view bounds", () => {
  let db: TestDatabase;
  let pool: Pool;
  let prisma: PrismaClient;
  let store: PostgresHistoryStore;
  const views = (maxBytes?: number) => new DashboardViews(prisma, [...CHANNEL_NAMES], { maxBytes });

  beforeAll(async () => {
    db = await createScratchDatabase();
    await applyMigrations(db.url);
    pool = createPool(db.url, 4, () => {});
    prisma = createPrismaClient(pool);
    store = new PostgresHistoryStore(pool);
    await store.start(CHANNEL_NAMES);
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await pool?.end();
    await db?.drop();
  });

  it("cuts long strings from payloads to MAX_VIEW_TEXT characters with an ellipsis", async () => {
    const long = "é".repeat(2000);
    await store.append([event("tasks", "task.created", { taskId: "T-long", title: long, status: "s".repeat(600) })]);
    await store.append([
      event("messages", "message.sent", { from: "ann", to: "bob", text: long }, "ann"),
      event("messages", "message.sent", { from: "x".repeat(700), to: "ann", text: "short" }),
    ]);
    const [task] = (await views().tasks({ limit: 10 })).filter((t) => t.taskId === "T-long");
    expect(task!.title).toHaveLength(MAX_VIEW_TEXT);
    expect(task!.title).toBe(`${"é".repeat(MAX_VIEW_TEXT - 1)}…`);
    expect(task!.status).toHaveLength(MAX_VIEW_TEXT);
    const conversations = await views().conversations(10);
    expect(conversations.find((c) => c.agents[0] === "ann" && c.agents[1] === "bob")!.last.text).toBe(`${"é".repeat(MAX_VIEW_TEXT - 1)}…`);
    const other = conversations.find((c) => c.agents[0] === "ann" && c.agents[1] !== "bob")!;
    expect(other.agents[1]).toBe(`${"x".repeat(MAX_VIEW_TEXT - 1)}…`);
    expect(other.last.from).toHaveLength(MAX_VIEW_TEXT);
  });

  it("lists the MAX_VIEW_AGENTS most recently seen agents, in name order", async () => {
    const count = MAX_VIEW_AGENTS + 5;
    // a-0000 is seen first, so the five oldest (a-0000 … a-0004) drop out.
    await store.append(Array.from({ length: count }, (_, i) => event("agents", "agent.heartbeat", { status: "idle" }, `a-${String(i).padStart(4, "0")}`)));
    const agents = await views().agents(60);
    expect(agents).toHaveLength(MAX_VIEW_AGENTS);
    expect(agents[0]!.name).toBe("a-0005");
    expect(agents.at(-1)!.name).toBe(`a-${String(count - 1).padStart(4, "0")}`);
    expect(agents.map((a) => a.name)).toEqual(agents.map((a) => a.name).sort());
  });

  it("stops a conversation at the byte budget of its payloads, newest first, and always answers the newest", async () => {
    const message = (n: number, size: number) => event("messages", "message.sent", { from: "cy", to: "dee", n, text: "m".repeat(size) }, "cy");
    // Each payload is about 1 KB as stored.
    await store.append([1, 2, 3, 4, 5].map((n) => message(n, 1000)));
    const all = await views().conversation("dee", "cy", 100);
    expect(all.map((e) => e.payload.n)).toEqual([1, 2, 3, 4, 5]);
    const within = await views(2500).conversation("dee", "cy", 100);
    expect(within.map((e) => e.payload.n)).toEqual([4, 5]);
    expect(within.map((e) => e.seq)).toEqual(all.slice(3).map((e) => e.seq));
    await store.append([message(6, 10_000)]);
    expect((await views(2500).conversation("cy", "dee", 100)).map((e) => e.payload.n)).toEqual([6]);
    expect((await views().conversation("cy", "dee", 2)).map((e) => e.payload.n)).toEqual([5, 6]);
  });

  it("keeps the budget warnings within the byte budget", async () => {
    await store.append(Array.from({ length: 5 }, (_, n) => event("budget", "budget.warning", { n, note: "w".repeat(1000) }, "ann")));
    expect((await views().budget(1, 5)).warnings).toHaveLength(5);
    expect((await views(2500).budget(1, 5)).warnings.map((w) => w.payload.n)).toEqual([4, 3]);
  });

  it("answers unavailable only for a database that cannot be reached, internal for anything else", async () => {
    const deadPool = createPool(`postgresql://postgres@127.0.0.1:${await freePort()}/postgres`, 1, () => {});
    const dead = createPrismaClient(deadPool);
    await expect(new DashboardViews(dead, [...CHANNEL_NAMES]).budget(1, 5)).rejects.toMatchObject({ code: "unavailable" });
    await dead.$disconnect();
    await deadPool.end();
    // A database without the schema: the SQL fails, but the database is there.
    const empty = await createScratchDatabase();
    const emptyPool = createPool(empty.url, 1, () => {});
    const emptyPrisma = createPrismaClient(emptyPool);
    try {
      const failing = new DashboardViews(emptyPrisma, [...CHANNEL_NAMES]);
      await expect(failing.agents(60)).rejects.toMatchObject({ code: "internal" });
      await expect(failing.conversation("a", "b", 10)).rejects.toMatchObject({ code: "internal" });
    } finally {
      await emptyPrisma.$disconnect();
      await emptyPool.end();
      await empty.drop();
    }
  });
});
