import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Ack, SubscribeResult, SwitchboardEvent } from "../../lib/protocol";
import { SOCKET_PATH } from "../../lib/protocol";
import { api, connect, connected, startServerProcess, waitFor, type ClientSocket, type ServerProcess } from "./support/server-process";

const MiB = 1024 * 1024;
/** prom-client's default process metrics under the registry's `switchboard_process_` prefix. */
const RSS = "switchboard_process_process_resident_memory_bytes";

async function metrics(server: ServerProcess) {
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text());
  return (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(" ").at(-1)) : Number.NaN;
  };
}
const metric = async (server: ServerProcess, name: string) => (await metrics(server))(name);

/** The TCP socket under a websocket-transport client: pausing it makes a client that stops reading. */
function tcpOf(socket: ClientSocket): net.Socket {
  return (socket.io.engine.transport as unknown as { ws: { _socket: net.Socket } }).ws._socket;
}

/** Resolves with the connect error a handshake ends with (or null when it connects). */
function handshake(socket: ClientSocket): Promise<(Error & { data?: { code: string; message: string } }) | null> {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve(null));
    socket.once("connect_error", (err) => resolve(err as Error & { data?: { code: string; message: string } }));
  });
}

const bigEvents = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ type: "task.created", payload: { i: from + i, blob: "x".repeat(60_000) } }));

let server: ServerProcess | null = null;
const sockets: ClientSocket[] = [];
const raw: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const w of raw.splice(0)) w.terminate();
  const code = await server?.stop();
  server = null;
  expect(code).toBe(0);
});

const open = async (token: string, options: { batch?: boolean } = {}) => {
  const s = connect(server!, token, options);
  sockets.push(s);
  await connected(s);
  return s;
};

/**
 * A client speaking the engine.io/Socket.IO text protocol over a raw websocket, so its TCP socket
 * can be paused while it keeps sending: it reads nothing, and writes on.
 */
async function rawClient(srv: ServerProcess, token: string) {
  const url = `${srv.url.replace("http", "ws")}${SOCKET_PATH}/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url);
  raw.push(ws);
  const messages: string[] = [];
  ws.on("message", (data) => {
    const text = data.toString();
    if (text === "2") ws.send("3"); // engine.io ping → pong (while we still read)
    messages.push(text);
  });
  let closed = false;
  ws.on("close", () => (closed = true));
  ws.on("error", () => (closed = true));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  await waitFor(() => messages.some((m) => m.startsWith("0{")), "engine.io open");
  ws.send(`40${JSON.stringify({ token })}`);
  await waitFor(() => messages.some((m) => m.startsWith("40{")), "socket.io connect");
  let nextId = 1;
  return {
    ws,
    messages,
    get closed() {
      return closed;
    },
    tcp: (ws as unknown as { _socket: net.Socket })._socket,
    /** Sends an EVENT with an ack id; returns the id. */
    emit(name: string, arg: unknown) {
      const id = nextId++;
      ws.send(`42${id}${JSON.stringify([name, arg])}`);
      return id;
    },
  };
}

describe("a client that pauses its socket and keeps asking", () => {
  it("cannot grow the server past its buffer limits: it is closed as a slow consumer, and others are unaffected", async () => {
    server = await startServerProcess({ database: "embedded" });
    // 1,000 events of ~60 KB: a `history: 1000` answer is ~60 MB, far past the 16 MiB hard limit.
    for (let batch = 0; batch < 20; batch++) {
      const res = await api(server, "POST", "/api/v1/channels/tasks/events", { token: server.adminToken, body: bigEvents(50, batch * 50) });
      expect(res.status).toBe(201);
    }
    const base = await metric(server, RSS);
    expect(base).toBeGreaterThan(0);

    const client = await rawClient(server, server.adminToken);
    client.tcp.pause();
    let peak = base;
    let sent = 0;
    const deadline = Date.now() + 4_000;
    // Ten more requests each time the server has answered two metrics reads (no fixed pause).
    while (Date.now() < deadline && (await metric(server, "switchboard_connections")) > 0) {
      for (let i = 0; i < 10 && !client.closed; i++, sent++) client.emit("subscribe", { channel: "tasks", history: 1000 });
      peak = Math.max(peak, await metric(server, RSS));
    }
    // Keep sampling for a moment after it stopped (memory freed late would show here).
    for (let i = 0; i < 10; i++) peak = Math.max(peak, await metric(server, RSS));
    expect(sent).toBeGreaterThan(0);
    // Which one happened: the server closed it as a slow consumer (its answer would have passed the
    // hard limit), rather than leaving it paused.
    expect(await metric(server, "switchboard_connections")).toBe(0);
    expect(server.output()).toContain("closing it as a slow consumer");
    // The ceiling: base + a small multiple of the hard limit (16 MiB) for the reads in flight.
    const ceiling = base + 8 * 16 * MiB;
    console.log(`RSS base ${(base / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, ceiling ${(ceiling / MiB).toFixed(0)} MiB, ${sent} requests sent`);
    expect(peak).toBeLessThan(ceiling);

    // A fresh client still gets live events promptly.
    const fresh = await open(server.adminToken);
    const live: SwitchboardEvent[] = [];
    fresh.on("event", (e) => live.push(e));
    const sub = (await fresh.emitWithAck("subscribe", { channel: "tasks" })) as Ack<SubscribeResult>;
    expect(sub.ok).toBe(true);
    const started = Date.now();
    await api(server, "POST", "/api/v1/channels/tasks/events", { token: server.adminToken, body: { type: "task.created", payload: { after: true } } });
    await waitFor(() => live.length === 1, "a live event", 2_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("live delivery to a paused client stops at the soft limit; the unsent-bytes metrics show it", async () => {
    const soft = MiB;
    server = await startServerProcess({
      database: "embedded",
      env: { CONNECTION_BUFFER_SOFT_BYTES: String(soft), MAX_ANSWER_BYTES: String(MiB), CONNECTION_BUFFER_HARD_BYTES: String(2 * MiB) },
    });
    expect(await metric(server, "switchboard_connection_unsent_bytes")).toBe(0);
    const client = await open(server.adminToken, { batch: true });
    expect((await client.emitWithAck("subscribe", { channel: "tasks" })).ok).toBe(true);
    tcpOf(client).pause();
    let maxUnsent = 0;
    for (let batch = 0; batch < 12; batch++) {
      await api(server, "POST", "/api/v1/channels/tasks/events", { token: server.adminToken, body: bigEvents(50) });
      maxUnsent = Math.max(maxUnsent, await metric(server, "switchboard_connection_unsent_bytes_max"));
    }
    // 36 MB published to a client that reads nothing: the kernel's buffers fill, then the server
    // holds at most its soft limit plus one message, and keeps the rest in the bounded backlog.
    await waitFor(async () => (maxUnsent = Math.max(maxUnsent, await metric(server!, "switchboard_connection_unsent_bytes_max"))) > 0, "unsent bytes rise");
    const m = await metrics(server);
    expect(m("switchboard_connection_unsent_bytes")).toBeGreaterThan(0);
    expect(maxUnsent).toBeLessThanOrEqual(soft + 128 * 1024);
    expect(m("switchboard_backlog_events")).toBeGreaterThan(0);
    expect(m("switchboard_connections")).toBe(1); // still open: live events never pass the hard limit
    tcpOf(client).resume();
    await waitFor(async () => (await metric(server!, "switchboard_backlog_events")) === 0, "backlog drains once the client reads", 20_000);
    await waitFor(async () => (await metric(server!, "switchboard_connection_unsent_bytes")) === 0, "nothing unsent");
  });
});

describe("a client that reads", () => {
  it("pipelining 100 subscribes with history gets every answer: requests wait their turn instead of being refused", async () => {
    server = await startServerProcess({ database: "embedded" });
    await api(server, "POST", "/api/v1/channels/agents/events", {
      token: server.adminToken,
      body: Array.from({ length: 50 }, (_, i) => ({ type: "agent.heartbeat", payload: { i } })),
    });
    const s = await open(server.adminToken);
    // Each reserves a full answer (MAX_ANSWER_BYTES): they run a few at a time, the rest wait.
    const acks = (await Promise.all(
      Array.from({ length: 100 }, () => s.timeout(20_000).emitWithAck("subscribe", { channel: "agents", history: 1000 })),
    )) as Ack<SubscribeResult>[];
    expect(acks.filter((a) => a.ok)).toHaveLength(100);
    expect(acks.every((a) => a.ok && a.history.length === 50)).toBe(true);
    await waitFor(async () => (await metric(server!, "switchboard_connections_read_paused")) === 0, "reading again");
  });
});

describe("per-token limits", () => {
  it("one token holds at most MAX_CONNECTIONS_PER_TOKEN connections and MAX_SUBSCRIPTIONS_PER_TOKEN subscriptions, released exactly", async () => {
    server = await startServerProcess({ database: "embedded", env: { MAX_CONNECTIONS_PER_TOKEN: "5", MAX_SUBSCRIPTIONS_PER_TOKEN: "7" } });
    const token = server.adminToken;
    const conns: ClientSocket[] = [];
    for (let i = 0; i < 5; i++) conns.push(await open(token));
    const sixth = connect(server, token);
    sockets.push(sixth);
    const refused = await handshake(sixth);
    expect(refused?.message).toBe("rate_limited");
    expect(refused?.data).toMatchObject({ code: "rate_limited", message: expect.stringContaining("MAX_CONNECTIONS_PER_TOKEN") });

    conns.pop()!.disconnect();
    await waitFor(async () => (await metric(server!, "switchboard_connections")) === 4, "one connection released");
    conns.push(await open(token));

    const subscribe = async (s: ClientSocket) => (await s.emitWithAck("subscribe", { channel: "agents" })) as Ack<SubscribeResult>;
    const ids: { socket: ClientSocket; id: string }[] = [];
    for (let i = 0; i < 7; i++) {
      const s = conns[i % 3]!;
      const ack = await subscribe(s);
      if (!ack.ok) throw new Error(ack.error.message);
      ids.push({ socket: s, id: ack.subscriptionId });
    }
    for (const s of conns) expect(await subscribe(s)).toMatchObject({ ok: false, error: { code: "rate_limited", message: expect.stringContaining("MAX_SUBSCRIPTIONS_PER_TOKEN") } });
    // Unsubscribing frees one.
    const first = ids.shift()!;
    expect((await first.socket.emitWithAck("unsubscribe", { subscriptionId: first.id })).ok).toBe(true);
    expect((await subscribe(conns[4]!)).ok).toBe(true);
    expect((await subscribe(conns[4]!)).ok).toBe(false);
    // Disconnecting frees every subscription it held (conns[0] holds two of them now).
    conns[0]!.disconnect();
    await waitFor(async () => (await metric(server!, "switchboard_subscriptions")) === 5, "its subscriptions released");
    expect((await subscribe(conns[3]!)).ok).toBe(true);
    expect((await subscribe(conns[3]!)).ok).toBe(true);
    expect((await subscribe(conns[3]!)).ok).toBe(false);
    // Everything closed: nothing is left counted, the whole allowance is back.
    for (const s of conns) s.disconnect();
    await waitFor(async () => (await metric(server!, "switchboard_connections")) === 0, "all released");
    expect(await metric(server, "switchboard_subscriptions")).toBe(0);
    const again: ClientSocket[] = [];
    for (let i = 0; i < 5; i++) again.push(await open(token));
    for (let i = 0; i < 7; i++) expect((await subscribe(again[i % 5]!)).ok).toBe(true);
    expect((await subscribe(again[0]!)).ok).toBe(false);
  });
});

describe("no silence", () => {
  it("every message with an ack is answered: wrong arity or shape is invalid_request, an unknown name not_found", async () => {
    server = await startServerProcess({ database: "embedded" });
    const s = await open(server.adminToken);
    const ack = async (name: string, ...args: unknown[]) => {
      const res = (await (s.timeout(5_000).emitWithAck as (n: string, ...a: unknown[]) => Promise<Ack<object>>)(name, ...args)) as Ack<object>;
      return res.ok ? "ok" : res.error.code;
    };
    const cases: [string, string][] = [
      ["subscribe", "invalid_request"],
      ["unsubscribe", "invalid_request"],
      ["publish", "invalid_request"],
      ["no-such-message", "not_found"],
    ];
    for (const [name, code] of cases) {
      expect(await ack(name), `${name}()`).toBe(code);
      expect(await ack(name, { channel: "tasks" }, { extra: true }), `${name}(a, b)`).toBe(code);
      expect(await ack(name, 42), `${name}(42)`).toBe(code);
      expect(await ack(name, "tasks"), `${name}("tasks")`).toBe(code);
      expect(await ack(name, null), `${name}(null)`).toBe(code);
    }
    // Without an ack there is nothing to answer: ignored, and the connection works on.
    (s.emit as (n: string, ...a: unknown[]) => void)("subscribe", { channel: "tasks" });
    (s.emit as (n: string, ...a: unknown[]) => void)("no-such-message");
    expect(await ack("subscribe", { channel: "tasks" })).toBe("ok");
    expect(await ack("publish", { channel: "tasks", type: "task.created", payload: {} })).toBe("ok");
    expect(await metric(server, "switchboard_subscriptions")).toBe(1);
  });

  it("handshake refusals carry { code, message } in err.data, with the code as err.message", async () => {
    server = await startServerProcess({ database: "embedded" });
    for (const token of [undefined, "not-a-token"]) {
      const s = connect(server, token);
      sockets.push(s);
      const err = await handshake(s);
      expect(err?.message).toBe("unauthorized");
      expect(err?.data).toEqual({ code: "unauthorized", message: expect.any(String) });
    }
  });
});
