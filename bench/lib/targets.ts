import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import WebSocket from "ws";
import { BENCH_DIR, PROJECT_ROOT, freePort, log } from "./util";

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

/** Every child this process started, so an error or ^C path can still kill them. */
const children = new Set<ChildProcess>();
export function killAllChildren() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

interface NodeProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
  collectGarbage(): Promise<void>;
}

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

/** Spawns `node [extraArgs] --import tsx <script>` and waits for its ready line. */
async function startNode(script: string, env: NodeJS.ProcessEnv, ready: string, extraArgs: string[] = []): Promise<NodeProcess> {
  const port = Number(env.PORT);
  const inspectPort = await freePort();
  const args = [`--inspect=127.0.0.1:${inspectPort}`, ...extraArgs, "--import", "tsx", script];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes(ready)) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        child.stderr!.off("data", check);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready:\n${out}`));
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => {
        log(`  ${script} (pid ${child.pid}) did not exit within 20 s of SIGTERM; killing it`);
        child.kill("SIGKILL");
      }, 20_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(out)?.[1];
  const collectGarbage = async () => {
    if (!inspectorUrl) throw new Error(`no inspector URL in the output of ${script}`);
    await inspectorGc(inspectorUrl);
  };
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, stop, collectGarbage };
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

const databases = new Set<string>();

async function dropDatabase(name: string) {
  const c = new pg.Client({ connectionString: MACHINE_POSTGRES });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    databases.delete(name);
  } finally {
    await c.end();
  }
}

/** On an error or ^C path: drops every database this run created and has not dropped yet. */
export async function dropLeftoverDatabases() {
  await Promise.allSettled([...databases].map(dropDatabase));
}

/** A fresh database on the machine's PostgreSQL server. */
export async function createDatabase(): Promise<BenchDatabase> {
  const name = `sb_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: MACHINE_POSTGRES });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  databases.add(name);
  const url = new URL(MACHINE_POSTGRES);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropDatabase(name),
  };
}

export async function startRawServer(extraArgs: string[] = []): Promise<Target> {
  const port = await freePort();
  const node = await startNode(path.join(BENCH_DIR, "raw-server.ts"), { ...process.env, PORT: String(port), HOST: "127.0.0.1" }, "raw server listening", extraArgs);
  return {
    key: "raw",
    label: TARGET_LABELS.raw,
    urls: [node.url],
    token: "unused",
    pids: [node.child.pid!],
    collectGarbage: node.collectGarbage,
    servicePids: async () => ({ postgres: [], redis: [] }),
    stop: node.stop,
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
  const db = options.databaseUrl ? null : await createDatabase();
  const databaseUrl = options.databaseUrl ?? db!.url;
  const token = `bench-admin-${randomBytes(12).toString("hex")}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-bench-"));
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    UI: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: token,
    LOG_LEVEL: "info",
    ENV_FILE: "/dev/null", // not the project's .env: its settings would change what is measured
    // The bench opens up to 5,000 subscriber connections with one token: far past the per-token
    // defaults (200 connections, 1,000 subscriptions), which guard against exactly that.
    MAX_CONNECTIONS_PER_TOKEN: "20000",
    MAX_SUBSCRIPTIONS_PER_TOKEN: "100000",
    ...(options.redis ? { REDIS_URL: MACHINE_REDIS, REDIS_PREFIX: `sb-bench-${randomBytes(4).toString("hex")}` } : {}),
    ...options.env,
  };
  const nodes: NodeProcess[] = [];
  try {
    for (let i = 0; i < options.nodes; i++) {
      const port = await freePort();
      nodes.push(await startNode("server/main.ts", { ...shared, PORT: String(port) }, "Switchboard is listening", options.extraNodeArgs));
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop().catch(() => {});
    throw err;
  }
  const key: TargetKey = options.nodes > 1 ? "cluster" : "single";
  return {
    key,
    label: TARGET_LABELS[key],
    urls: nodes.map((n) => n.url),
    token,
    pids: nodes.map((n) => n.child.pid!),
    collectGarbage: async () => {
      await Promise.all(nodes.map((n) => n.collectGarbage()));
    },
    databaseUrl,
    servicePids: async () => ({ postgres: await postgresPids(databaseUrl), redis: options.redis ? await redisServerPid() : [] }),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await db?.drop().catch((err: unknown) => log(`  could not drop the bench database: ${String(err)}`));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
