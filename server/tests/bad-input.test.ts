import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import type { AgentView, BudgetView } from "../../lib/views";
import { api, createToken, startServerProcess, type ServerProcess } from "./support/server-process";
import { machinePostgresAvailable } from "./support/services";

const available = await machinePostgresAvailable();
const MAX_PAYLOAD_BYTES = 64 * 1024;

/** `{"a":{"a":…1…}}` as text: deeper than JSON.stringify (on either side) could write it. */
const nestedText = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const publishBody = (payloadJson: string, type = "task.created") => `{"type":"${type}","payload":${payloadJson}}`;

/**
 * Hostile input against a real server on the PostgreSQL server: what PostgreSQL cannot store is
 * refused alone with 400 or 413, and never costs anybody else's publish.
 */
describe.runIf(available)("bad input fails alone", () => {
  let server: ServerProcess;
  let publisher: string;
  beforeAll(async () => {
    server = await startServerProcess({ database: "postgres" });
    publisher = await createToken(server, "publisher");
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  const post = (channel: string, options: { body?: unknown; rawBody?: string }, token = server.adminToken) =>
    api(server, "POST", `/api/v1/channels/${channel}/events`, { token, ...options });

  /** Every poisoned request and the status it must get. */
  const poisons: { name: string; status: number; request: { body?: unknown; rawBody?: string } }[] = [
    { name: "NUL in a value", status: 400, request: { body: { type: "task.created", payload: { title: "a\u0000b" } } } },
    { name: "NUL in a nested key", status: 400, request: { body: { type: "task.created", payload: { steps: [{ ["n\u0000"]: 1 }] } } } },
    { name: "lone surrogate in a value", status: 400, request: { body: { type: "task.created", payload: { title: "x\ud800" } } } },
    { name: "lone surrogate in a key", status: 400, request: { body: { type: "task.created", payload: { ["\udc00"]: true } } } },
    { name: "100 deep", status: 400, request: { rawBody: publishBody(nestedText(100)) } },
    { name: "5,000 deep", status: 400, request: { rawBody: publishBody(nestedText(5000)) } },
    { name: "100,000 deep", status: 400, request: { rawBody: publishBody(nestedText(100_000)) } },
    { name: "1e400 (Infinity)", status: 400, request: { rawBody: publishBody('{"n":1e400}') } },
    { name: "1e308s over the stored limit", status: 413, request: { body: { type: "task.created", payload: { n: Array.from({ length: 250 }, () => 1e308) } } } },
    {
      name: "a batch with one poisoned event",
      status: 400,
      request: { body: [{ type: "task.created", payload: { ok: 1 } }, { type: "task.created", payload: { bad: "\u0000" } }] },
    },
  ];

  it("refuses poisoned events with 400/413 while honest publishers on the same channel all succeed", async () => {
    const publishers = 4;
    const perPublisher = 40;
    let honestDone = false;
    const poisonResults: { name: string; status: number; expected: number; message?: string }[] = [];
    const poisoner = (async () => {
      while (!honestDone) {
        // Concurrently, so that poisoned and honest publishes wait for the same transactions.
        await Promise.all(
          poisons.map(async (p) => {
            const res = await post("tasks", p.request);
            poisonResults.push({ name: p.name, status: res.status, expected: p.status, message: res.body.error?.message });
          }),
        );
      }
    })();
    const honestStatuses: number[] = [];
    const honestEvents: SwitchboardEvent[] = [];
    await Promise.all(
      Array.from({ length: publishers }, async (_, p) => {
        for (let i = 0; i < perPublisher; i++) {
          const batch = Array.from({ length: 1 + (i % 3) }, (_, k) => ({ type: "task.created", agent: `honest-${p}`, payload: { p, i, k, title: "fine ✓ 😀" } }));
          const res = await post("tasks", { body: batch }, publisher);
          honestStatuses.push(res.status);
          if (res.status === 201) honestEvents.push(...(res.body.events as SwitchboardEvent[]));
        }
      }),
    );
    honestDone = true;
    await poisoner;

    expect(honestStatuses.filter((s) => s !== 201)).toEqual([]);
    expect(honestStatuses).toHaveLength(publishers * perPublisher);
    for (const p of poisons) {
      const results = poisonResults.filter((r) => r.name === p.name);
      expect(results.length, p.name).toBeGreaterThan(0);
      expect(new Set(results.map((r) => r.status)), `${p.name}: ${results[0]?.message}`).toEqual(new Set([p.status]));
    }
    expect(poisonResults.find((r) => r.name === "NUL in a nested key")!.message).toBe(
      'payload.steps[0]["n\\u0000"]: the key contains a NUL character (\\u0000), which PostgreSQL cannot store',
    );
    expect(poisonResults.find((r) => r.name === "5,000 deep")!.message).toMatch(/^payload(\.a){64}: is nested deeper than 64 levels \(MAX_PAYLOAD_DEPTH\)$/);
    expect(poisonResults.find((r) => r.name === "1e308s over the stored limit")!.message).toBe(
      `payload is ${2 + 5 + 2 + 250 * 309 + 249 * 2} bytes as stored; the limit is ${MAX_PAYLOAD_BYTES} (MAX_PAYLOAD_BYTES).`,
    );
    expect(poisonResults.find((r) => r.name === "a batch with one poisoned event")!.message).toMatch(/^\[1\]\.payload\.bad: /);

    // Exactly the honest events are stored, with gapless seqs: nothing of a poisoned call was.
    const page = await api(server, "GET", "/api/v1/channels/tasks/events?limit=1000", { token: server.adminToken });
    expect(page.status).toBe(200);
    const stored = page.body.events as SwitchboardEvent[];
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.map((e) => e.id).sort()).toEqual(honestEvents.map((e) => e.id).sort());
    expect(stored.every((e) => e.agent?.startsWith("honest-"))).toBe(true);
    expect(server.output()).not.toContain("the database refused");
  });

  it("keeps the budget and agents views answering finite numbers after extreme and mistyped amounts", async () => {
    const spend = (amount: unknown) => ({ type: "budget.spent", agent: "ann", project: "p1", payload: { amount, budget: 1e308, currency: "USD" } });
    expect((await post("agents", { body: { type: "agent.heartbeat", agent: "ann", project: "p1", payload: { status: "busy" } } })).status).toBe(201);
    for (const amount of [1e308, -1e308, 1e308, "12", 5e-324]) expect((await post("budget", { body: spend(amount) })).status).toBe(201);

    const finiteNumbers = (value: unknown): boolean =>
      typeof value === "number" ? Number.isFinite(value) : Array.isArray(value) ? value.every(finiteNumbers) : value !== null && typeof value === "object" ? Object.values(value).every(finiteNumbers) : true;
    const views = async () => {
      const budget = await api(server, "GET", "/api/v1/views/budget?hours=1&bucketMinutes=5", { token: server.adminToken });
      const agents = await api(server, "GET", "/api/v1/views/agents", { token: server.adminToken });
      expect(budget.status, JSON.stringify(budget.body)).toBe(200);
      expect(agents.status, JSON.stringify(agents.body)).toBe(200);
      expect(finiteNumbers(budget.body)).toBe(true);
      expect(finiteNumbers(agents.body)).toBe(true);
      return { budget: budget.body as unknown as BudgetView, agents: (agents.body as unknown as { agents: AgentView[] }).agents };
    };

    // 1e308 - 1e308 + 1e308 + 5e-324, exactly, in cents; the string is ignored.
    let { budget, agents } = await views();
    expect(budget.projects).toEqual([{ project: "p1", budget: 1e308, spentToday: 1e308, currency: "USD" }]);
    expect(budget.series.map((s) => s.amount)).toEqual([1e308]);
    expect(agents.find((a) => a.name === "ann")!.spend).toBe(1e308);

    // 2e308 has no float8: the answer is clamped to the largest one.
    expect((await post("budget", { body: spend(1e308) })).status).toBe(201);
    ({ budget, agents } = await views());
    expect(budget.projects[0]!.spentToday).toBe(Number.MAX_VALUE);
    expect(agents.find((a) => a.name === "ann")!.spend).toBe(Number.MAX_VALUE);
  });

  it("never reads a payload back larger than MAX_PAYLOAD_BYTES: the limit is on the stored form", async () => {
    // {"n": [1e308 × 200], "s": "x…"}: 62,216 bytes as stored before the string's characters.
    const payload = (chars: number) => ({ n: Array.from({ length: 200 }, () => 1e308), s: "x".repeat(chars) });
    const atLimit = await post("messages", { body: { type: "message.sent", payload: payload(MAX_PAYLOAD_BYTES - 62_216) } });
    expect(atLimit.status, JSON.stringify(atLimit.body)).toBe(201);
    const over = await post("messages", { body: { type: "message.sent", payload: payload(MAX_PAYLOAD_BYTES - 62_216 + 1) } });
    expect(over.status).toBe(413);
    expect(over.body.error!.message).toBe(`payload is ${MAX_PAYLOAD_BYTES + 1} bytes as stored; the limit is ${MAX_PAYLOAD_BYTES} (MAX_PAYLOAD_BYTES).`);
    // Small as sent, large as stored: accepted at what it costs.
    expect((await post("messages", { body: { type: "message.sent", payload: { n: Array.from({ length: 100 }, () => -1e308), t: [1.5e-7, 5e-324] } } })).status).toBe(201);

    const res = await fetch(`${server.url}/api/v1/channels/messages/events?limit=1000`, { headers: { Authorization: `Bearer ${server.adminToken}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = (JSON.parse(text) as { events: SwitchboardEvent[] }).events;
    expect(events).toHaveLength(2);
    // The answer holds the payloads as PostgreSQL printed them: each at most the limit.
    expect(Buffer.byteLength(text)).toBeLessThan(2 * MAX_PAYLOAD_BYTES + 2000);
    const db = new pg.Client({ connectionString: server.env.DATABASE_URL });
    await db.connect();
    const { rows } = await db.query<{ bytes: number }>("SELECT octet_length(payload::text) AS bytes FROM event WHERE channel = 'messages' ORDER BY seq");
    await db.end();
    expect(rows.map((r) => r.bytes)).toEqual([MAX_PAYLOAD_BYTES, 2 + 5 + 2 + 100 * 310 + 99 * 2 + 2 + 5 + 2 + 10 + 2 + 326]);
  });
});
