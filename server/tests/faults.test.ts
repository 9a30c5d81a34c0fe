import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { Ack, SubscribeResult, SwitchboardEvent } from "../../lib/protocol";
import { startEmbeddedDatabase } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { createScratchDatabase, freePort, machinePostgresAvailable, tempDir } from "./support/services";
import { api, connect, connected, startServerProcess, waitFor, type ClientSocket, type ServerProcess } from "./support/server-process";

const postgresAvailable = await machinePostgresAvailable();

/** A Redis server of the test's own, so it can be killed and restarted without touching anyone else's. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
      if (out.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return child;
}
const stopProcess = (child: ChildProcess, signal: NodeJS.Signals = "SIGKILL") =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });

/** Tracks everything a client saw on one channel; `resume` re-subscribes from the last seq. */
function follower(channel: string) {
  const seen: SwitchboardEvent[] = [];
  let socket: ClientSocket | null = null;
  const attach = async (server: ServerProcess, url?: string) => {
    socket = connect(url ? { ...server, url } : server, server.adminToken);
    await connected(socket);
    const since = seen.at(-1)?.seq ?? 0;
    // The ack callback runs before any event packet that follows it, so history lands before live
    // events (emitWithAck would resolve a microtask later, after events in the same read).
    await new Promise<void>((resolve, reject) => {
      socket!.emit("subscribe", { channel, since }, (res: Ack<SubscribeResult>) => {
        if (!res.ok) return reject(new Error(res.error.message));
        seen.push(...res.history);
        resolve();
      });
      socket!.on("event", (e) => seen.push(e));
    });
    return socket;
  };
  return { seen, attach, socket: () => socket, seqs: () => seen.map((e) => e.seq), lastSeq: () => seen.at(-1)?.seq ?? 0 };
}

/** How far the publisher may run ahead of the watcher it paces itself by, in events. */
const WINDOW = 100;

/**
 * Publishes one event after another until stopped; counts what was acknowledged. It paces itself by
 * its consumer: the next event waits for the previous answer and until the watcher (`delivered`: the
 * last seq it saw) is less than WINDOW events behind, so the stream stays steady, not a flood.
 */
function steadyPublisher(target: () => string, token: string, channel: string, delivered: () => number) {
  let running = true;
  const acknowledged: number[] = [];
  const refused: number[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const head = acknowledged.length ? Math.max(...acknowledged.slice(-50)) : 0;
      await waitFor(() => !running || head - delivered() < WINDOW, `the watcher to come within ${WINDOW} events of seq ${head}`, 60_000, 5);
      if (!running) break;
      try {
        const res = await fetch(`${target()}/api/v1/channels/${channel}/events`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ type: "task.created", payload: { i } }),
          signal: AbortSignal.timeout(5000),
        });
        if (res.status === 201) acknowledged.push(((await res.json()) as { events: SwitchboardEvent[] }).events[0]!.seq);
        else refused.push(res.status);
      } catch {
        refused.push(0);
        // Not a hot loop against a node that is gone: the next publish once it answers again.
        await waitFor(async () => !running || (await fetch(`${target()}/api/v1/health`).then(() => true, () => false)), "the node to answer again", 60_000);
      }
    }
  })();
  return {
    acknowledged,
    refused,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** Nodes on a fresh database and a Redis of this test's own (so it can be killed); all torn down after the test. */
async function startNodesWithOwnRedis(count: number) {
  const redisPort = await freePort();
  const redis = { port: redisPort, process: await startRedis(redisPort) };
  cleanups.push(() => stopProcess(redis.process));
  const db = await createScratchDatabase();
  cleanups.push(() => db.drop());
  const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, ADMIN_TOKEN: "fault-test-admin-token" };
  const nodes: ServerProcess[] = [];
  for (let i = 0; i < count; i++) {
    const node = await startServerProcess({ database: { url: db.url }, env });
    cleanups.push(() => node.stop());
    nodes.push(node);
  }
  return { redis, nodes };
}

describe.runIf(postgresAvailable)("faults, with nothing acknowledged lost", () => {
  it("Redis restarted mid-stream: health says so, publishing goes on, and subscribers on other nodes get every event in order", async () => {
    const { redis, nodes } = await startNodesWithOwnRedis(2);
    const [a, b] = nodes as [ServerProcess, ServerProcess];

    const watcher = follower("tasks");
    await watcher.attach(b);
    const publisher = steadyPublisher(() => a.url, a.adminToken, "tasks", watcher.lastSeq);
    await waitFor(() => publisher.acknowledged.length >= 20, "events before the outage");

    await stopProcess(redis.process);
    await waitFor(async () => (await api(a, "GET", "/api/v1/health")).body.redis === "down", "health reports redis down");
    const health = await api(a, "GET", "/api/v1/health");
    expect(health.status).toBe(503);
    const before = publisher.acknowledged.length;
    await waitFor(() => publisher.acknowledged.length >= before + 30, "publishes accepted while Redis is down");

    redis.process = await startRedis(redis.port);
    await waitFor(async () => (await api(a, "GET", "/api/v1/health")).body.redis === "up", "health reports redis up again", 15_000);
    const during = publisher.acknowledged.length;
    await waitFor(() => publisher.acknowledged.length >= during + 20, "events after the outage");
    await publisher.stop();

    const last = Math.max(...publisher.acknowledged);
    await waitFor(() => watcher.seen.at(-1)?.seq === last, "the watcher on the other node caught up", 15_000);
    expect(watcher.seqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(publisher.refused).toEqual([]);
  });

  it("a node killed with SIGKILL mid-stream: its clients resume on another node with zero loss", async () => {
    const { nodes } = await startNodesWithOwnRedis(3);
    const [doomed, publishTo, survivor] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const watcher = follower("agents");
    await watcher.attach(doomed);
    const publisher = steadyPublisher(() => publishTo.url, publishTo.adminToken, "agents", watcher.lastSeq);
    await waitFor(() => watcher.seen.length >= 30, "events through the doomed node");

    await doomed.kill();
    const disconnectedAt = watcher.seen.length;
    await waitFor(() => watcher.socket()?.connected === false, "the client notices");
    const whileAway = publisher.acknowledged.length;
    await waitFor(() => publisher.acknowledged.length >= whileAway + 20, "events published while the client is away");
    await watcher.attach(survivor);
    await waitFor(() => watcher.seen.length >= disconnectedAt + 30, "events through the survivor");
    await publisher.stop();
    const last = Math.max(...publisher.acknowledged);
    await waitFor(() => watcher.seen.at(-1)?.seq === last, "caught up", 10_000);
    expect(watcher.seqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });

  it("PostgreSQL unavailable: publish answers 503 with Retry-After, subscribers stay connected, and service resumes by itself", async () => {
    const dataDir = tempDir("sb-fault-pg");
    const pgPort = await freePort();
    let pg = await startEmbeddedDatabase({ dataDir, port: pgPort });
    cleanups.push(() => pg.stop());
    await applyMigrations(pg.url);
    const server = await startServerProcess({ database: { url: pg.url } });
    cleanups.push(() => server.stop());
    const watcher = follower("budget");
    const socket = await watcher.attach(server);
    const post = () => api(server, "POST", "/api/v1/channels/budget/events", { token: server.adminToken, body: { type: "budget.spent", payload: {} } });
    expect((await post()).status).toBe(201);

    await pg.stop();
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe("unavailable");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const health = await api(server, "GET", "/api/v1/health");
    expect(health).toMatchObject({ status: 503, body: { db: "down" } });
    // A round trip on the socket once the outage has been noticed: whatever the server sent before
    // its answer (a `closing` notice, a disconnect) has arrived by then.
    await socket.timeout(10_000).emitWithAck("subscribe", { channel: "tasks" });
    expect(socket.connected).toBe(true);

    pg = await startEmbeddedDatabase({ dataDir, port: pgPort });
    const accepted = await waitFor(async () => {
      const res = await post();
      return res.status === 201 ? res : null;
    }, "publishing works again", 20_000);
    const seq = (accepted.body.events as SwitchboardEvent[])[0]!.seq;
    expect(seq).toBe(2); // the refused publish stored nothing
    await waitFor(() => watcher.seen.at(-1)?.seq === seq, "the subscriber receives the new event");
    expect(watcher.seqs()).toEqual([1, 2]);
    expect(socket.connected).toBe(true);
  });
});
