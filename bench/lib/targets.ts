import pg from "pg";
import WebSocket from "ws";
import { killAllServerProcesses, startNodeProcess, startServerProcess, type NodeProcess } from "../../server/tests/support/server-process";
import { createScratchDatabase, type TestDatabase } from "../../server/tests/support/services";
import { freePort, log } from "./util";

export const MACHINE_POSTGRES = process.env.BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const MACHINE_REDIS = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

export type TargetKey = "raw" | "single" | "cluster";
export const TARGET_LABELS: Record<TargetKey, string> = {
  raw: "(a) raw Socket.IO floor",
  single: "(b) Switchboard, 1 node",
  cluster: "(c) Switchboard, 2 nodes + Redis",
};

export interface Target {
  key: TargetKey;
  label: string;
  /** One URL per node; clients and producers pick among them. */
  urls: string[];
  token: string;
  /** The server processes (node, not a wrapper: `node --import tsx` runs in-process). */
  pids: number[];
  /** Forces a full garbage collection in every server process (through its inspector). */
  collectGarbage(): Promise<void>;
  databaseUrl?: string;
  /** The PostgreSQL backends serving this target's database, and the Redis server, for CPU accounting. */
  servicePids(): Promise<{ postgres: number[]; redis: number[] }>;
  stop(): Promise<void>;
}

/** PIDs of the PostgreSQL backends connected to a database (this query's own backend excluded). */
export async function postgresPids(databaseUrl: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    return rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

let redisPid: number | null = null;
async function redisServerPid(): Promise<number[]> {
  if (redisPid !== null) return [redisPid];
  const { Redis } = await import("ioredis");
  const r = new Redis(MACHINE_REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const pid = Number(/process_id:(\d+)/.exec(await r.info("server"))?.[1]);
    if (pid) redisPid = pid;
    return pid ? [pid] : [];
  } finally {
    r.disconnect();
  }
}

/** Every server process this run started, so an error or ^C path can still kill them. */
export const killAllChildren = killAllServerProcesses;

/**
 * Runs HeapProfiler.collectGarbage over the process's inspector websocket (the process was started
 * with --inspect=127.0.0.1:PORT), twice, so RSS is read without the garbage the last requests left.
 */
async function inspectorGc(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("inspector did not answer")), 10_000);
      ws.once("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once("error", reject);
    });
    for (const id of [1, 2]) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("inspector GC timed out")), 20_000);
        const onMessage = (data: WebSocket.RawData) => {
          if ((JSON.parse(data.toString()) as { id?: number }).id !== id) return;
          clearTimeout(timer);
          ws.off("message", onMessage);
          resolve();
        };
        ws.on("message", onMessage);
        ws.send(JSON.stringify({ id, method: "HeapProfiler.collectGarbage" }));
      });
    }
  } finally {
    ws.close();
  }
}

/** The inspector's GC for a node started with --inspect (its URL is in the node's output). */
function inspectorGcOf(node: NodeProcess, what: string) {
  return async () => {
    const inspectorUrl = [...node.output().matchAll(/Debugger listening on (ws:\/\/\S+)/g)].at(-1)?.[1];
    if (!inspectorUrl) throw new Error(`no inspector URL in the output of ${what}`);
    await inspectorGc(inspectorUrl);
  };
}

/** Every node has an inspector on a port of its own, for `collectGarbage`. */
const INSPECT = "--inspect=127.0.0.1:0";
/** Bench servers log a lot under load; keep only so much of it. */
const MAX_OUTPUT_CHARS = 200_000;

export type BenchDatabase = TestDatabase;

/** A fresh database on the machine's PostgreSQL server (the project's one scratch-database helper). */
export function createDatabase(): Promise<BenchDatabase> {
  return createScratchDatabase({ server: MACHINE_POSTGRES, prefix: "bench" });
}

/** On an error or ^C path: drops every database this run created and has not dropped yet. */
export { dropLeftoverDatabases } from "../../server/tests/support/services";

const stopping = async (what: string, terminate: () => Promise<unknown>) => {
  await terminate().catch((err: unknown) => log(`  could not stop ${what}: ${String(err)}`));
};

export async function startRawServer(extraArgs: string[] = []): Promise<Target> {
  const port = await freePort();
  const script = "bench/raw-server.ts";
  const node = await startNodeProcess({
    script,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
    nodeArgs: [INSPECT, ...extraArgs],
    maxOutputChars: MAX_OUTPUT_CHARS,
    stopTimeoutMs: 20_000,
  });
  return {
    key: "raw",
    label: TARGET_LABELS.raw,
    urls: [node.url],
    token: "unused",
    pids: [node.pid],
    collectGarbage: inspectorGcOf(node, script),
    servicePids: async () => ({ postgres: [], redis: [] }),
    stop: () => stopping(script, node.terminate),
  };
}

export interface SwitchboardOptions {
  nodes: number;
  /** An existing database (kept); otherwise a fresh one, dropped on stop. */
  databaseUrl?: string;
  redis?: boolean;
  env?: Record<string, string>;
  extraNodeArgs?: string[];
}

/** One or more real Switchboard nodes (`node --import tsx server/main.ts`, UI=0) on one database. */
export async function startSwitchboard(options: SwitchboardOptions): Promise<Target> {
  const server = await startServerProcess({
    label: "bench",
    nodes: options.nodes,
    // An existing database is kept; otherwise a fresh one, dropped on stop.
    database: options.databaseUrl ? { url: options.databaseUrl } : "postgres",
    postgresUrl: MACHINE_POSTGRES,
    redis: options.redis ? MACHINE_REDIS : false,
    nodeArgs: [INSPECT, ...(options.extraNodeArgs ?? [])],
    env: {
      // The bench opens up to 5,000 subscriber connections with one token: far past the per-token
      // defaults (200 connections, 1,000 subscriptions), which guard against exactly that.
      MAX_CONNECTIONS_PER_TOKEN: "20000",
      MAX_SUBSCRIPTIONS_PER_TOKEN: "100000",
      ...options.env,
    },
    maxOutputChars: MAX_OUTPUT_CHARS,
    stopTimeoutMs: 20_000,
  });
  const databaseUrl = server.databaseUrl!;
  const key: TargetKey = options.nodes > 1 ? "cluster" : "single";
  return {
    key,
    label: TARGET_LABELS[key],
    urls: server.nodes.map((n) => n.url),
    token: server.adminToken,
    pids: server.nodes.map((n) => n.pid),
    collectGarbage: async () => {
      await Promise.all(server.nodes.map((n) => inspectorGcOf(n, "server/main.ts")()));
    },
    databaseUrl,
    servicePids: async () => ({ postgres: await postgresPids(databaseUrl), redis: options.redis ? await redisServerPid() : [] }),
    stop: () => stopping("the bench servers", server.stop),
  };
}
