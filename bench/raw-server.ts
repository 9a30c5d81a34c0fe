// The floor: a minimal Socket.IO 4.8 server with the same wire shapes as Switchboard and none of its
// work (no auth, no validation, no database, no ordering, no backpressure). A publish (socket emit with
// ack, or the same HTTP POST as Switchboard's) becomes one envelope broadcast to the channel's room.
// Run: PORT=... node --import tsx bench/raw-server.ts
import { randomUUID } from "node:crypto";
import http from "node:http";
import { Server } from "socket.io";

const SOCKET_PATH = "/api/v1/ws";
const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? "127.0.0.1";

interface Input {
  type: string;
  payload?: Record<string, unknown>;
  agent?: string | null;
  project?: string | null;
}

const seqs = new Map<string, number>();

function envelope(channel: string, input: Input, ts: string) {
  const seq = (seqs.get(channel) ?? 0) + 1;
  seqs.set(channel, seq);
  return {
    v: 1 as const,
    id: randomUUID(),
    channel,
    seq,
    type: input.type,
    ts,
    agent: input.agent ?? null,
    project: input.project ?? null,
    payload: input.payload ?? {},
  };
}

const server = http.createServer((req, res) => {
  const match = /^\/api\/v1\/channels\/([^/?]+)\/events$/.exec(req.url ?? "");
  if (req.method === "GET" && req.url === "/api/v1/health") {
    res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  if (req.method !== "POST" || !match) {
    res.writeHead(404).end();
    return;
  }
  const channel = decodeURIComponent(match[1]!);
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let body: Input | Input[];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Input | Input[];
    } catch {
      res.writeHead(400).end();
      return;
    }
    const inputs = Array.isArray(body) ? body : [body];
    const ts = new Date().toISOString();
    const events = inputs.map((input) => envelope(channel, input, ts));
    for (const event of events) io.to(channel).emit("event", event, `raw.${channel}`);
    const text = JSON.stringify({ events });
    res.writeHead(201, { "Content-Type": "application/json; charset=utf-8" }).end(text);
  });
});

const io = new Server(server, {
  path: SOCKET_PATH,
  serveClient: false,
  pingInterval: 25_000,
  pingTimeout: 20_000,
  maxHttpBufferSize: 64 * 1024 + 16 * 1024,
});

io.on("connection", (socket) => {
  socket.on("subscribe", (req: { channel: string }, ack: (res: unknown) => void) => {
    void socket.join(req.channel);
    ack({ ok: true, subscriptionId: `raw.${req.channel}`, history: [], head: seqs.get(req.channel) ?? 0, truncated: false });
  });
  socket.on("publish", (req: Input & { channel: string }, ack: (res: unknown) => void) => {
    const { channel, ...input } = req;
    const event = envelope(channel, input, new Date().toISOString());
    io.to(channel).emit("event", event, `raw.${channel}`);
    ack({ ok: true, event });
  });
});

const stop = () => {
  io.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  console.log(`raw server listening on http://${host}:${actual}`);
});
