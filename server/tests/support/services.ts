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
  /** The database's name on the PostgreSQL server (undefined for an embedded one). */
  name?: string;
  drop(): Promise<void>;
}

/** Scratch databases created on a PostgreSQL server and not dropped yet: name -> admin URL. */
const undropped = new Map<string, string>();

async function adminQuery(server: string, sql: string) {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const SCRATCH_DATABASE_NAME = /^[a-z0-9_]+$/;

/** Drops a scratch database on a PostgreSQL server (no error when it is gone already). */
export async function dropScratchDatabase(name: string, server = MACHINE_POSTGRES) {
  if (!SCRATCH_DATABASE_NAME.test(name)) throw new Error(`not a scratch database name: ${name}`);
  await adminQuery(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  undropped.delete(name);
}

/**
 * The one way tests, e2e and the benchmark make a scratch database:
 * - `kind: "postgres"` (default): a fresh, empty database on a PostgreSQL server (`server`, default
 *   the machine's), named `name` or `sb_<prefix>_<random>`; `drop()` removes it;
 * - `kind: "embedded"`: a fresh embedded PostgreSQL in a temporary directory; `drop()` stops it and
 *   removes the directory.
 */
export async function createScratchDatabase(options: { kind?: "postgres" | "embedded"; server?: string; name?: string; prefix?: string } = {}): Promise<TestDatabase> {
  if (options.kind === "embedded") {
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
  const server = options.server ?? MACHINE_POSTGRES;
  const name = options.name ?? `sb_${options.prefix ?? "test"}_${randomBytes(5).toString("hex")}`;
  if (!SCRATCH_DATABASE_NAME.test(name)) throw new Error(`a scratch database name is lower-case letters, digits and _: ${name}`);
  await adminQuery(server, `CREATE DATABASE "${name}"`);
  undropped.set(name, server);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => dropScratchDatabase(name, server) };
}

/** On an error or ^C path: drops every scratch database this process created and has not dropped. */
export async function dropLeftoverDatabases() {
  await Promise.allSettled([...undropped].map(([name, server]) => dropScratchDatabase(name, server)));
}

/**
 * Waits for a condition, not for a time: polls `probe` (every `intervalMs`) until it returns a truthy
 * value, which it returns; fails after `timeoutMs`.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
