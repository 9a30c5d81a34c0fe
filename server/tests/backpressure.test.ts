import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Ack, GapNotice, SubscribeResult } from "../../lib/protocol";
import { api, connect, connected, startServerProcess, waitFor, type ClientSocket, type ServerProcess } from "./support/server-process";

/** The TCP socket under a websocket-transport client: pausing it makes a client that stops reading. */
function tcpOf(socket: ClientSocket): net.Socket {
  const transport = socket.io.engine.transport as unknown as { ws: { _socket: net.Socket } };
  return transport.ws._socket;
}

async function metric(server: ServerProcess, name: string) {
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text());
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function subscribersOf(server: ServerProcess, channel: string) {
  const res = await api(server, "GET", "/api/v1/channels", { token: server.adminToken });
  return (res.body.channels as { name: string; subscribers: number }[]).find((c) => c.name === channel)!.subscribers;
}

const bigEvents = (n: number) => Array.from({ length: n }, (_, i) => ({ type: "task.created", payload: { i, blob: "x".repeat(50_000) } }));

let server: ServerProcess | null = null;
let client: ClientSocket | null = null;
afterEach(async () => {
  client?.disconnect();
  const code = await server?.stop();
  server = null;
  expect(code).toBe(0); // a clean, prompt shutdown even with a stuck peer
});

describe("a subscriber that stops reading", () => {
  it("drop-oldest: server memory stays within the backlog bound and the client is told about every dropped seq", async () => {
    const backlogMax = 20;
    server = await startServerProcess({ database: "embedded", env: { BACKLOG_MAX: String(backlogMax) } });
    client = connect(server, server.adminToken);
    await connected(client);
    const received: number[] = [];
    const gaps: GapNotice[] = [];
    client.on("event", (e) => received.push(e.seq));
    client.on("gap", (g) => gaps.push(g));
    const sub = (await client.emitWithAck("subscribe", { channel: "tasks" })) as Ack<SubscribeResult>;
    expect(sub.ok).toBe(true);

    tcpOf(client).pause();
    const total = 400;
    let maxQueued = 0;
    for (let batch = 0; batch < total / 50; batch++) {
      const res = await api(server, "POST", "/api/v1/channels/tasks/events", { token: server.adminToken, body: bigEvents(50) });
      expect(res.status).toBe(201);
      maxQueued = Math.max(maxQueued, await metric(server, "switchboard_backlog_events"));
    }
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(backlogMax);
    expect(await metric(server, 'switchboard_events_dropped_total{channel="tasks"}')).toBeGreaterThan(0);

    tcpOf(client).resume();
    const covered = () => {
      const seqs = new Set(received);
      for (const g of gaps) for (let s = g.fromSeq; s <= g.toSeq; s++) seqs.add(s);
      return seqs.size;
    };
    await waitFor(() => covered() === total, "every seq delivered or reported in a gap", 30_000);
    expect(gaps.length).toBeGreaterThan(0);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    // Delivered events and gap ranges never overlap: nothing is both dropped and delivered.
    for (const g of gaps) expect(received.some((s) => s >= g.fromSeq && s <= g.toSeq)).toBe(false);
    expect(received.at(-1)).toBe(total);
  });

  it("disconnect policy: the connection is closed as a slow consumer and its subscriptions released", async () => {
    server = await startServerProcess({ database: "embedded", env: { BACKLOG_MAX: "5", BACKPRESSURE: "disconnect" } });
    client = connect(server, server.adminToken);
    await connected(client);
    await client.emitWithAck("subscribe", { channel: "tasks" });
    expect(await subscribersOf(server, "tasks")).toBe(1);
    let disconnected = false;
    client.on("disconnect", () => (disconnected = true));
    tcpOf(client).pause();
    for (let batch = 0; batch < 6; batch++) {
      await api(server, "POST", "/api/v1/channels/tasks/events", { token: server.adminToken, body: bigEvents(50) });
    }
    await waitFor(async () => (await subscribersOf(server!, "tasks")) === 0, "subscription released", 5_000);
    expect(server.output()).toContain("subscriber fell too far behind");
    tcpOf(client).resume();
    await waitFor(() => disconnected, "client sees the disconnect");
  });

  it("a dead peer (no pongs) is cleaned up within the ping timeout", async () => {
    server = await startServerProcess({ database: "embedded", env: { PING_INTERVAL_MS: "300", PING_TIMEOUT_MS: "300" } });
    client = connect(server, server.adminToken);
    await connected(client);
    await client.emitWithAck("subscribe", { channel: "agents" });
    expect(await subscribersOf(server, "agents")).toBe(1);
    tcpOf(client).pause();
    const started = Date.now();
    await waitFor(async () => (await subscribersOf(server!, "agents")) === 0, "dead peer released", 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("limits", () => {
  it("a token publishing beyond its rate gets 429 with Retry-After, over HTTP and over the socket", async () => {
    server = await startServerProcess({ database: "embedded", env: { PUBLISH_RATE: "1", PUBLISH_BURST: "5" } });
    const post = (n: number) =>
      api(server!, "POST", "/api/v1/channels/tasks/events", { token: server!.adminToken, body: Array.from({ length: n }, () => ({ type: "task.created" })) });
    expect((await post(5)).status).toBe(201);
    const refused = await post(1);
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    client = connect(server, server.adminToken);
    await connected(client);
    const ack = (await client.emitWithAck("publish", { channel: "tasks", type: "task.created", payload: {} })) as Ack<object>;
    expect(ack).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    const history = await api(server, "GET", "/api/v1/channels/tasks/events", { token: server.adminToken });
    expect(history.body.events).toHaveLength(5); // nothing refused was stored
  });

  it("one connection may hold at most 100 subscriptions", async () => {
    server = await startServerProcess({ database: "embedded" });
    client = connect(server, server.adminToken);
    await connected(client);
    for (let i = 0; i < 100; i++) {
      const ack = (await client.emitWithAck("subscribe", { channel: "agents" })) as Ack<SubscribeResult>;
      expect(ack.ok).toBe(true);
    }
    const refused = (await client.emitWithAck("subscribe", { channel: "agents" })) as Ack<SubscribeResult>;
    expect(refused).toMatchObject({ ok: false, error: { code: "rate_limited" } });
  });
});
