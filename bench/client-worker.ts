// A benchmark client process: holds many socket.io-client connections (websocket transport only),
// each subscribed to one channel, and measures publish→receive latency from the timestamp the
// publisher put in every event's payload. Driven by its parent over IPC (see lib/clients.ts).
import { io, type Socket } from "socket.io-client";
import { Histogram } from "./lib/histogram";
import type { WorkerReply, WorkerRequest, WorkerStats } from "./lib/clients";

const SOCKET_PATH = "/api/v1/ws";
const CONNECT_PARALLEL = 50;
const CONNECT_TIMEOUT_MS = 20_000;

interface BenchEvent {
  seq: number;
  payload: { t?: number };
}

const sockets: Socket[] = [];
const hist = new Histogram();
let windowFrom = Number.POSITIVE_INFINITY;
let windowTo = Number.NEGATIVE_INFINITY;
let total = 0;
let inWindow = 0;
let arrivedInWindow = 0;
let gaps = 0;
let disconnects = 0;

const now = () => performance.timeOrigin + performance.now();

function record(event: BenchEvent, arrived: number) {
  total++;
  const t = event.payload.t;
  if (arrived >= windowFrom && arrived < windowTo) arrivedInWindow++;
  if (typeof t === "number" && t >= windowFrom && t < windowTo) {
    inWindow++;
    hist.record(arrived - t);
  }
}
const onEvent = (event: BenchEvent) => record(event, now());
/** Switchboard's batched delivery (`auth.batch`); the floor never sends it. */
const onEvents = (events: BenchEvent[]) => {
  const arrived = now();
  for (const event of events) record(event, arrived);
};

async function openOne(url: string, token: string, channel: string): Promise<boolean> {
  const socket = io(url, {
    path: SOCKET_PATH,
    // Same clients for every target: Switchboard sends `events` batches to clients that ask; the
    // floor ignores the option. BENCH_CLIENT_BATCH=0 measures Switchboard without batches.
    auth: { token, batch: process.env.BENCH_CLIENT_BATCH !== "0" },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: CONNECT_TIMEOUT_MS,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connect timeout")), CONNECT_TIMEOUT_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("connect_error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const ack = (await socket.timeout(CONNECT_TIMEOUT_MS).emitWithAck("subscribe", { channel, history: 0 })) as { ok: boolean };
    if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
    socket.on("event", onEvent);
    socket.on("events", onEvents);
    socket.on("gap", () => gaps++);
    socket.on("disconnect", () => disconnects++);
    sockets.push(socket);
    return true;
  } catch {
    socket.disconnect();
    return false;
  }
}

async function connect(urls: string[], count: number, token: string, channel: string) {
  let ok = 0;
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const url = urls[Math.floor(Math.random() * urls.length)]!;
      if (await openOne(url, token, channel)) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_PARALLEL, count) }, lane));
  return { ok, failed };
}

function stats(): WorkerStats {
  const usage = process.cpuUsage();
  return {
    sockets: sockets.length,
    connected: sockets.filter((s) => s.connected).length,
    total,
    inWindow,
    arrivedInWindow,
    gaps,
    disconnects,
    hist: hist.toSparse(),
    cpuMicros: usage.user + usage.system,
  };
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.op) {
    case "connect": {
      const started = performance.now();
      const r = await connect(req.urls, req.count, req.token, req.channel);
      return { id: req.id, ok: true, data: { ...r, ms: performance.now() - started } };
    }
    case "close": {
      while (sockets.length > req.keep) sockets.pop()!.disconnect();
      return { id: req.id, ok: true, data: { sockets: sockets.length } };
    }
    case "window": {
      windowFrom = req.from;
      windowTo = req.to;
      inWindow = 0;
      arrivedInWindow = 0;
      gaps = 0;
      disconnects = 0;
      hist.reset();
      return { id: req.id, ok: true, data: {} };
    }
    case "stats":
      return { id: req.id, ok: true, data: stats() };
    case "exit":
      for (const s of sockets) s.disconnect();
      setTimeout(() => process.exit(0), 50);
      return { id: req.id, ok: true, data: {} };
  }
}

process.on("message", (req: WorkerRequest) => {
  handle(req)
    .then((reply) => process.send?.(reply))
    .catch((err: unknown) => process.send?.({ id: req.id, ok: false, error: String(err) } satisfies WorkerReply));
});
// The parent went away: never outlive it.
process.on("disconnect", () => process.exit(0));
process.send?.({ id: 0, ok: true, data: { ready: true } } satisfies WorkerReply);
