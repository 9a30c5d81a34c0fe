import http from "node:http";
import net from "node:net";
import { Server } from "socket.io";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents, type SwitchboardEvent } from "../../lib/protocol";
import { describeSubscriberSinkContract, type OpenedSink, type PeerMessage } from "../channels/subscriber-sink.contract";
import type { BudgetLimits } from "./connection-budget";
import { rawJsonParser } from "./raw-json-parser";
import { SocketSink, type EngineSocket, type SinkSocketData } from "./socket-sink";

type Transport = "websocket" | "polling";

/** Small enough that one pump of ~4 KiB events fills it. */
const LIMITS: BudgetLimits = { softBytes: 64 * 1024, hardBytes: 16 * 1024 * 1024, maxQueued: 128 };

/**
 * A TCP proxy between the client and the server whose server-to-client direction can be paused: a
 * peer that stops reading, whatever the transport (the polling client's sockets are out of reach).
 */
async function startProxy(targetPort: number) {
  const upstreams = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  let paused = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    if (paused) upstream.pause();
    upstreams.add(upstream);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => s.destroy());
      s.once("close", () => sockets.delete(s));
    }
    upstream.once("close", () => upstreams.delete(upstream));
    // Not pipe(): a pipe resumes its source when the destination drains, which would undo a pause.
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    pause() {
      paused = true;
      for (const u of upstreams) u.pause();
    },
    resume() {
      paused = false;
      for (const u of upstreams) u.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A Socket.IO server whose connections get a SocketSink (and nothing else), a proxy, and a client through it. */
async function openSocketSink(transport: Transport, batch: boolean) {
  const httpServer = http.createServer();
  const serverTcp = new Set<net.Socket>();
  httpServer.on("connection", (s) => serverTcp.add(s));
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SinkSocketData>(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    transports: [transport],
    parser: rawJsonParser,
  });
  const sinkReady = new Promise<{ sink: SocketSink; engine: EngineSocket }>((resolve) => {
    io.on("connection", (socket) => {
      socket.data.batch = (socket.handshake.auth as { batch?: unknown }).batch === true;
      const sink = new SocketSink(socket, LIMITS);
      sink.start();
      resolve({ sink, engine: socket.conn as unknown as EngineSocket });
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const proxy = await startProxy((httpServer.address() as net.AddressInfo).port);

  const client: ClientSocket<ServerToClientEvents, ClientToServerEvents> = connectClient(`http://127.0.0.1:${proxy.port}`, {
    path: SOCKET_PATH,
    transports: [transport],
    auth: { batch },
    reconnection: false,
    forceNew: true,
  });
  const received: PeerMessage[] = [];
  let ended = false;
  client.on("event", (event, subscriptionId) => received.push({ kind: "event", subscriptionId, event }));
  client.on("events", (events, subscriptionId) => {
    for (const event of events) received.push({ kind: "event", subscriptionId, event });
  });
  client.on("gap", (notice) => received.push({ kind: "gap", notice }));
  client.on("closing", (notice) => received.push({ kind: "closing", reason: notice.code }));
  client.on("disconnect", () => (ended = true));
  const { sink, engine } = await sinkReady;
  await new Promise<void>((resolve) => (client.connected ? resolve() : client.once("connect", () => resolve())));

  return {
    sink,
    engine,
    serverTcp,
    received: () => received,
    ended: () => ended,
    stopReading: () => proxy.pause(),
    resumeReading: () => proxy.resume(),
    dispose: async () => {
      client.disconnect();
      await proxy.close(); // first: a connection still open would hold up the http server's close
      await io.close(); // closes the http server too
    },
  } satisfies OpenedSink & Record<string, unknown>;
}

const transports: { transport: Transport; batch: boolean }[] = [
  { transport: "websocket", batch: false },
  { transport: "websocket", batch: true },
  { transport: "polling", batch: false },
  { transport: "polling", batch: true },
];
for (const { transport, batch } of transports) {
  describeSubscriberSinkContract(`SocketSink over ${transport}${batch ? ", batched" : ""}`, () => openSocketSink(transport, batch));
}

describe("SocketSink", () => {
  let opened: Awaited<ReturnType<typeof openSocketSink>> | null = null;
  afterEach(async () => {
    await opened?.dispose();
    opened = null;
  });

  it("writes each event as a prebuilt WebSocket frame, whatever the size of its length field", async () => {
    opened = await openSocketSink("websocket", false);
    const base: SwitchboardEvent = { v: 1, id: "a", channel: "c", seq: 1, type: "a.b", ts: "t", agent: null, project: null, payload: {} };
    const sizes = [0, 1_000, 70_000]; // frames of < 126 bytes, < 64 KiB and more
    const events = sizes.map((n, i) => ({ ...base, seq: i + 1, payload: n ? { text: "é".repeat(n / 2) } : {} }));
    const frames: number[] = [];
    const write = opened.engine.write.bind(opened.engine);
    opened.engine.write = (data, options) => {
      for (const f of options?.wsPreEncodedFrame ?? []) frames.push(f.length);
      write(data, options);
    };
    let sent = 0;
    while (sent < events.length) {
      await new Promise<void>((resolve) => (opened!.sink.isWritable() ? resolve() : opened!.sink.onceWritable(resolve)));
      sent += opened.sink.sendEvents(events.slice(sent), "s");
    }
    await expectDelivered(opened.received, events);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toBeLessThan(126 + 2);
    expect(frames[1]).toBeGreaterThan(126);
    expect(frames[2]).toBeGreaterThan(65_536);
  });

  it("close('slow_consumer') drops the transport of a peer that does not read at once, without waiting to flush", async () => {
    opened = await openSocketSink("websocket", false);
    const { sink } = opened;
    opened.stopReading();
    // Fill what the peer's side buffers, and the sink's room, until it is not writable.
    let seq = 1;
    const payload = { text: "x".repeat(16_384) };
    for (let i = 0; i < 2000 && sink.isWritable(); i++) {
      sink.sendEvents([{ v: 1, id: String(seq), channel: "tasks", seq: seq++, type: "task.created", ts: "t", agent: null, project: null, payload }], "s");
      await new Promise((r) => setImmediate(r));
    }
    expect(sink.isWritable()).toBe(false);
    expect(sink.unsentBytes()).toBeGreaterThan(0); // a graceful close would wait for these
    sink.close("slow_consumer");
    await until(() => [...opened!.serverTcp].every((s) => s.destroyed), "the server's TCP socket destroyed");
    expect(opened.engine.readyState).toBe("closed");
  });
});

async function expectDelivered(received: () => readonly PeerMessage[], events: SwitchboardEvent[]) {
  await until(() => received().length === events.length, "the events delivered");
  expect(received()).toEqual(events.map((event) => ({ kind: "event", subscriptionId: "s", event })));
}

async function until(probe: () => boolean, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
