import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack, SubscribeResult, SwitchboardEvent } from "../../lib/protocol";
import { api, connect, connected, startServerProcess, type ServerProcess } from "./support/server-process";

/**
 * History answers have a byte bound (MAX_ANSWER_BYTES) as well as a count: a viewer asking for the
 * newest 1,000 events of 60 KB each gets a page of at most that many bytes and a way to go on, and
 * concurrent maximal reads leave the server alive and within its memory bound.
 */
const MAX_ANSWER_BYTES = 1024 * 1024;
const EVENTS = 600;
const BLOB = 60_000;

async function rss(server: ServerProcess) {
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text());
  const line = text.split("\n").find((l) => l.startsWith("switchboard_process_process_resident_memory_bytes"));
  return Number(line!.split(" ").at(-1));
}

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess({ database: "postgres", env: { MAX_ANSWER_BYTES: String(MAX_ANSWER_BYTES) } });
  for (let published = 0; published < EVENTS; published += 100) {
    const body = Array.from({ length: 100 }, (_, i) => ({ type: "task.created", agent: "big-agent", payload: { i: published + i, blob: "y".repeat(BLOB) } }));
    const res = await api(server, "POST", "/api/v1/channels/tasks/events", { token: server.adminToken, body });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe("answers with a byte bound", () => {
  it("HTTP history stops at MAX_ANSWER_BYTES and pages through every event with nextAfter", async () => {
    const seqs: number[] = [];
    let after = 0;
    let pages = 0;
    for (;;) {
      const res = await fetch(`${server.url}/api/v1/channels/tasks/events?limit=1000&after=${after}`, {
        headers: { Authorization: `Bearer ${server.adminToken}` },
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 200);
      const page = JSON.parse(text) as { events: SwitchboardEvent[]; hasMore: boolean; nextAfter: number; head: number };
      expect(page.events.length).toBeGreaterThan(0);
      seqs.push(...page.events.map((e) => e.seq));
      pages++;
      if (!page.hasMore) break;
      after = page.nextAfter;
    }
    expect(pages).toBeGreaterThan(EVENTS / 20);
    expect(seqs).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
  });

  it("HTTP history with before reads the newest events below a seq, so a cut subscribe answer can be completed", async () => {
    const res = await api(server, "GET", `/api/v1/channels/tasks/events?before=301&limit=1000&agent=big-agent`, { token: server.adminToken });
    expect(res.status).toBe(200);
    const events = res.body.events as SwitchboardEvent[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(300);
    expect(events.at(-1)!.seq).toBe(300);
    expect(res.body.hasMore).toBe(true);
  });

  it("a subscribe for the newest 1,000 gets the newest events that fit, and says it was truncated", async () => {
    const socket = connect(server, server.adminToken);
    try {
      await connected(socket);
      const res = (await socket.emitWithAck("subscribe", { channel: "tasks", history: 1000 })) as Ack<SubscribeResult>;
      if (!res.ok) throw new Error(res.error.message);
      expect(res.truncated).toBe(true);
      expect(res.history.length).toBeGreaterThan(0);
      expect(res.history.length).toBeLessThan(EVENTS);
      expect(res.history.at(-1)!.seq).toBe(EVENTS);
      expect(Buffer.byteLength(JSON.stringify(res.history))).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
      const since = (await socket.emitWithAck("subscribe", { channel: "tasks", since: 0 })) as Ack<SubscribeResult>;
      if (!since.ok) throw new Error(since.error.message);
      expect(since.truncated).toBe(true);
      expect(since.history[0]!.seq).toBe(1);
    } finally {
      socket.disconnect();
    }
  });

  it("16 concurrent maximal history reads leave the server alive and within its memory bound", async () => {
    const before = await rss(server);
    let peak = before;
    let reading = true;
    const sampler = (async () => {
      while (reading) peak = Math.max(peak, await rss(server));
    })();
    const reads = Array.from({ length: 16 }, async () => {
      const res = await fetch(`${server.url}/api/v1/channels/tasks/events?limit=1000`, { headers: { Authorization: `Bearer ${server.adminToken}` } });
      expect(res.status).toBe(200);
      return Buffer.byteLength(await res.text());
    });
    const sizes = await Promise.all(reads);
    reading = false;
    await sampler;
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 200);
    // Without the bound, each answer would be 36 MB: 16 of them, over 570 MB. With it, each holds
    // at most 1 MB of events (a few copies of it while it is built and sent).
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
    expect((await api(server, "GET", "/api/v1/health")).status).toBe(200);
  });
});
