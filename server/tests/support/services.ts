import net from "node:net";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startEmbeddedDatabase } from "../../db/embedded";

/** The machine's PostgreSQL server (trust auth). Override with TEST_POSTGRES_URL. */
export const MACHINE_POSTGRES = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The machine's Redis. Override with TEST_REDIS_URL. */
export const MACHINE_REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

async function canConnect(url: string) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the machine's PostgreSQL answers. When it does not, say so loudly; under CI=true that is
 * a failure, not a skip.
 */
export async function machinePostgresAvailable(): Promise<boolean> {
  if (await canConnect(MACHINE_POSTGRES)) return true;
  const message = `PostgreSQL at ${MACHINE_POSTGRES} is unreachable: the suites that need it DID NOT RUN. Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`\n${"!".repeat(100)}\n!! ${message}\n${"!".repeat(100)}\n`);
  return false;
}

function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

/** Whether the machine's Redis answers; like PostgreSQL, loud when not, and a failure under CI=true. */
export async function machineRedisAvailable(): Promise<boolean> {
  if (await redisAnswers(MACHINE_REDIS)) return true;
  const message = `Redis at ${MACHINE_REDIS} is unreachable: the multi-node suites DID NOT RUN. Start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`\n${"!".repeat(100)}\n!! ${message}\n${"!".repeat(100)}\n`);
  return false;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the machine's PostgreSQL server. */
export async function createMachineDatabase(): Promise<TestDatabase> {
  const name = `sb_test_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: MACHINE_POSTGRES });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(MACHINE_POSTGRES);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: MACHINE_POSTGRES });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh embedded PostgreSQL in a temporary directory. */
export async function createEmbeddedDatabase(): Promise<TestDatabase> {
  const dataDir = tempDir("sb-embedded");
  const db = await startEmbeddedDatabase({ dataDir, port: await freePort() });
  return {
    url: db.url,
    drop: async () => {
      await db.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
