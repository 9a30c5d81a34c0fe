import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../lib/protocol";
import { SOCKET_PATH } from "../../../lib/protocol";
import { MACHINE_REDIS, createMachineDatabase, freePort, tempDir, type TestDatabase } from "./services";

export type ClusterKind = DatabaseKind | "cluster";
export const PROJECT_ROOT = path.resolve(import.meta.dirname, "../../..");
export type DatabaseKind = "embedded" | "postgres";
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ServerProcess {
  url: string;
  adminToken: string;
  /** Environment the server was started with (for running the CLI against the same database). */
  env: NodeJS.ProcessEnv;
  output(): string;
  /** SIGTERM, and wait for a clean exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit, keeping the data for `restart`. */
  terminate(): Promise<number | null>;
  /** Starts the server again on the same data and port. */
  restart(): Promise<void>;
}

/**
 * Starts the real server (`node --import tsx server/main.ts`, API only) in a child process, with its
 * own data directory and embedded PostgreSQL, or a fresh database on the PostgreSQL server.
 */
export async function startServerProcess(options: { database: DatabaseKind | { url: string }; env?: Record<string, string> }): Promise<ServerProcess> {
  const dataDir = tempDir("sb-server");
  let machineDb: TestDatabase | null = null;
  if (options.database === "postgres") machineDb = await createMachineDatabase();
  const databaseUrl = typeof options.database === "object" ? options.database.url : machineDb?.url;
  const adminToken = options.env?.ADMIN_TOKEN ?? `test-admin-${randomBytes(12).toString("hex")}`;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    UI: "0",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: "info",
    DATABASE_URL: databaseUrl ?? "",
    // Not the project's .env (a developer's DATABASE_URL must not reach a test server); tests of the
    // file pass their own ENV_FILE.
    ENV_FILE: "/dev/null",
    ...options.env,
  };
  if (!env.DATABASE_URL) delete env.DATABASE_URL;
  let child: ChildProcess;
  let log = "";

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const from = log.length; // a restart must wait for its own "listening" line
      child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${log}`)), 60_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.slice(from).includes("Switchboard is listening")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before it was ready:\n${log}`));
      });
    });

  const waitExit = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once("exit", (code) => resolve(code));
    });

  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    adminToken,
    env,
    output: () => log,
    stop: async () => {
      child.kill("SIGTERM");
      const code = await waitExit();
      await machineDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    kill: async () => {
      child.kill("SIGKILL");
      await waitExit();
    },
    terminate: async () => {
      child.kill("SIGTERM");
      return waitExit();
    },
    restart: launch,
  };
}

/**
 * Three nodes on one PostgreSQL database, sharing events through the machine's Redis under a prefix
 * of their own. `url` answers a random node each time it is read, so every client and request lands
 * on any node.
 */
export async function startCluster(options: { nodes?: number; env?: Record<string, string> } = {}): Promise<ServerProcess & { nodes: ServerProcess[] }> {
  const db = await createMachineDatabase();
  const env = {
    REDIS_URL: MACHINE_REDIS,
    REDIS_PREFIX: `sb-test-${randomBytes(4).toString("hex")}`,
    ADMIN_TOKEN: `test-admin-${randomBytes(12).toString("hex")}`,
    ...options.env,
  };
  const nodes: ServerProcess[] = [];
  for (let i = 0; i < (options.nodes ?? 3); i++) nodes.push(await startServerProcess({ database: { url: db.url }, env }));
  return {
    nodes,
    get url() {
      return nodes[Math.floor(Math.random() * nodes.length)]!.url;
    },
    adminToken: nodes[0]!.adminToken,
    env: nodes[0]!.env,
    output: () => nodes.map((n) => n.output()).join("\n"),
    stop: async () => {
      const codes = await Promise.all(nodes.map((n) => n.stop()));
      await db.drop();
      return codes.find((c) => c !== 0) ?? 0;
    },
    kill: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
    },
    terminate: async () => {
      const codes = await Promise.all(nodes.map((n) => n.terminate()));
      return codes.find((c) => c !== 0) ?? 0;
    },
    restart: async () => {
      await Promise.all(nodes.map((n) => n.restart()));
    },
  };
}

/** Runs `npm run token -- create --role ROLE` against the server's database and returns the token. */
export async function createToken(server: ServerProcess, role: "admin" | "publisher" | "viewer"): Promise<string> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "server/auth/token-cli.ts", "create", "--role", role], {
      cwd: PROJECT_ROOT,
      env: server.env,
    });
    let text = "";
    child.stdout.on("data", (c: Buffer) => (text += c));
    child.stderr.on("data", (c: Buffer) => (text += c));
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`token CLI failed (${code}): ${text}`))));
  });
  const token = /\b(sb_\w+_[\w-]+)/.exec(out)?.[1];
  if (!token) throw new Error(`no token in CLI output: ${out}`);
  return token;
}

export function connect(
  server: ServerProcess,
  token: string | undefined,
  options: { autoConnect?: boolean; batch?: boolean } = {},
): ClientSocket {
  return io(server.url, {
    path: SOCKET_PATH,
    auth: { ...(token === undefined ? {} : { token }), ...(options.batch ? { batch: true } : {}) },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    autoConnect: options.autoConnect ?? true,
  });
}

export function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
}

export async function api(server: ServerProcess, method: string, pathname: string, options: { token?: string; body?: unknown; rawBody?: string } = {}) {
  const res = await fetch(server.url + pathname, {
    method,
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.rawBody !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json as Record<string, unknown> & { error?: { code: string; message: string } } };
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
