import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { createPool, createPrismaClient, type Pool } from "../db/client";
import { classifyDatabaseError } from "../db/errors";
import { applyMigrations } from "../db/migrate";
import { GroupCommitter } from "../channels/group-commit";
import { PostgresHistoryStore } from "../history/postgres-store";
import type { NewEvent } from "../channels/history-store";
import { createScratchDatabase, freePort, machinePostgresAvailable, type TestDatabase } from "./support/services";

const available = await machinePostgresAvailable();

const newEvent = (payload: Record<string, unknown>): NewEvent => ({
  v: 1,
  id: randomUUID(),
  channel: "tasks",
  type: "task.created",
  ts: new Date().toISOString(),
  agent: null,
  project: null,
  payload,
});

/**
 * The store and the committer against real PostgreSQL, called directly: the hub's checks would
 * refuse these payloads before they got here, so this is how PostgreSQL's own refusals are caused.
 */
describe.runIf(available)("PostgreSQL refusals in the append path", () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresHistoryStore;
  beforeAll(async () => {
    db = await createScratchDatabase();
    await applyMigrations(db.url);
    pool = createPool(db.url, 4, () => {});
    store = new PostgresHistoryStore(pool);
    await store.start(["tasks"]);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("answers a value PostgreSQL refuses with invalid_request saying why, and stores nothing", async () => {
    await expect(store.append([newEvent({ ok: 1 }), newEvent({ bad: "\u0000" })])).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/^The database refused the event \(SQLSTATE 22P05\): unsupported Unicode escape sequence/),
    });
    await expect(store.append([newEvent({ ["\ud800"]: 1 })])).rejects.toMatchObject({ code: "invalid_request", message: expect.stringContaining("SQLSTATE 22P02") });
    expect((await store.heads()).get("tasks")).toBe(0);
  });

  it("commits the other waiting calls of a refused batch in arrival order, and refuses only the culprits", async () => {
    const committer = new GroupCommitter((events) => store.append(events), { maxBatch: 1000, maxPending: 10_000 });
    const before = (await store.heads()).get("tasks")!;
    const bad = new Set([2, 5]);
    const calls = Array.from({ length: 8 }, (_, i) =>
      committer.append([newEvent(bad.has(i) ? { i, text: "x\u0000" } : { i }), newEvent({ i, second: true })]),
    );
    const results = await Promise.allSettled(calls);
    results.forEach((r, i) => expect(r.status, `call ${i}`).toBe(bad.has(i) ? "rejected" : "fulfilled"));
    for (const i of bad) expect((results[i] as PromiseRejectedResult).reason).toMatchObject({ code: "invalid_request" });
    const committed = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(committed.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, k) => before + k + 1));
    const read = await store.read({ channel: "tasks", after: before, limit: 100 });
    expect(read.events.map((e: SwitchboardEvent) => [e.seq, e.payload.i])).toEqual(committed.map((e) => [e.seq, e.payload.i]));
    expect(read.events.map((e) => e.payload.i)).toEqual([0, 0, 1, 1, 3, 3, 4, 4, 6, 6, 7, 7]);
    await committer.close();
  });

  it("answers unavailable when the database cannot be reached", async () => {
    const closed = createPool(`postgresql://postgres@127.0.0.1:${await freePort()}/postgres`, 1, () => {});
    const unreachable = new PostgresHistoryStore(closed);
    await expect(unreachable.append([newEvent({})])).rejects.toMatchObject({ code: "unavailable", retryAfterSeconds: 2 });
    await closed.end();
  });

  it("answers internal for an error that is neither the data's nor the connection's", async () => {
    await expect(store.append([{ ...newEvent({}), channel: "no-such-channel" }])).rejects.toMatchObject({ code: "internal" });
  });

  it("classifies real errors from pg and from Prisma", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const errorOf = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => err);
    expect(classifyDatabaseError(await errorOf(client.query("SELECT (1e308::float8 * 10)::float8")))).toBe("data");
    expect(classifyDatabaseError(await errorOf(client.query("SELECT * FROM no_such_table")))).toBe("other");
    await client.end();
    const prisma = createPrismaClient(pool);
    expect(classifyDatabaseError(await errorOf(prisma.$queryRawUnsafe("SELECT (1e308::float8 * 10)::float8")))).toBe("data");
    expect(classifyDatabaseError(await errorOf(prisma.$queryRawUnsafe("SELECT * FROM no_such_table")))).toBe("other");
    const deadPool = createPool(`postgresql://postgres@127.0.0.1:${await freePort()}/postgres`, 1, () => {});
    const dead = createPrismaClient(deadPool);
    expect(classifyDatabaseError(await errorOf(dead.$queryRawUnsafe("SELECT 1")))).toBe("connection");
    expect(classifyDatabaseError(await errorOf(deadPool.query("SELECT 1")))).toBe("connection");
    await deadPool.end();
    // A backend terminated by an administrator: 57P01.
    const victim = new pg.Client({ connectionString: db.url });
    victim.on("error", () => {});
    await victim.connect();
    const pid = (await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const killed = errorOf(victim.query("SELECT pg_sleep(30)"));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    await admin.end();
    expect(classifyDatabaseError(await killed)).toBe("connection");
    await victim.end().catch(() => {});
  });
});
