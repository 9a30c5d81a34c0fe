import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../lib/protocol";
import { SOCKET_PATH } from "../../../lib/protocol";
import { MACHINE_REDIS, createScratchDatabase, freePort, tempDir, waitFor } from "./services";

export const PROJECT_ROOT = path.resolve(import.meta.dirname, "../../..");
export type DatabaseKind = "embedded" | "postgres";
export type ClusterKind = DatabaseKind | "cluster";
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export { waitFor };

/** One server process (a node); also the shape of a whole cluster, see `ServerProcess`. */
export interface NodeProcess {
  url: string;
  /** The current process's pid (a restart changes it). */
  readonly pid: number;
  /** Environment the process was started with (for running the CLI against the same database). */
  env: NodeJS.ProcessEnv;
  /** What the process wrote to stdout and stderr, over every start. */
  output(): string;
  /** SIGTERM, and wait for the exit (SIGKILL after `stopTimeoutMs`); returns the exit code. */
  terminate(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts the process again, same environment and port, and waits until it answers. */
  restart(): Promise<void>;
}

export interface ServerProcess {
  /** A node's URL; with several nodes, a random node's each time it is read. */
  url: string;
  adminToken: string;
  /** Environment the (first) node was started with. */
  env: NodeJS.ProcessEnv;
  /** The nodes, in start order (one for a single server). */
  nodes: NodeProcess[];
  /** The database the nodes share (undefined when each runs its embedded PostgreSQL). */
  databaseUrl?: string;
  output(): string;
  /** SIGTERM every node, wait for clean exits, then remove the data and a scratch database; returns the first non-zero code. */
  stop(): Promise<number | null>;
  /** SIGKILL every node: a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exits, keeping the data for `restart`. */
  terminate(): Promise<number | null>;
  /** Starts every node again on the same data and ports. */
  restart(): Promise<void>;
}

export interface NodeProcessOptions {
  /** The script, relative to the project root (default server/main.ts). */
  script?: string;
  /** The complete environment; PORT is the port the process listens on. */
  env: NodeJS.ProcessEnv;
  /** Node options before `--import tsx`, e.g. ["--cpu-prof"] or ["--inspect=127.0.0.1:0"]. */
  nodeArgs?: string[];
  /** Also write the process's output to this process's stderr ("stderr": only its stderr). */
  echo?: "none" | "stderr" | "all";
  /** Keep at most about this many characters of output (the first 20,000 and the newest ones). */
  maxOutputChars?: number;
  /** How long a start may take until `GET /api/v1/health` answers (default 60 s). */
  startTimeoutMs?: number;
  /** How long `terminate` waits after SIGTERM before SIGKILL (default 30 s). */
  stopTimeoutMs?: number;
}

/** Every process started here and still running, so an error or ^C path can kill them. */
const running = new Set<ChildProcess>();
/** SIGKILLs every server process this process started that is still running. */
export function killAllServerProcesses() {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/**
 * Spawns `node [nodeArgs] --import tsx <script>` and waits until it is ready: until
 * `GET /api/v1/health` on its PORT answers at all (200, or 503 when a dependency is down). The
 * server listens only once it has started everything, so this does not depend on LOG_LEVEL or on
 * any log line.
 */
export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const script = options.script ?? "server/main.ts";
  const url = `http://127.0.0.1:${options.env.PORT}`;
  const maxOutput = options.maxOutputChars ?? Infinity;
  let out = "";
  let child!: ChildProcess;
  const append = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > maxOutput) out = `${out.slice(0, 20_000)}\n[…]\n${out.slice(-(maxOutput / 2))}`;
  };
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const waitExit = (c: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      if (exited(c)) return resolve(c.exitCode);
      c.once("exit", (code) => resolve(code));
    });

  const launch = async () => {
    const c = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", script], { cwd: PROJECT_ROOT, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    running.add(c);
    c.once("exit", () => running.delete(c));
    c.stdout!.on("data", (d: Buffer) => {
      append(d);
      if (options.echo === "all") process.stderr.write(d);
    });
    c.stderr!.on("data", (d: Buffer) => {
      append(d);
      if (options.echo === "all" || options.echo === "stderr") process.stderr.write(d);
    });
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    let answered = false;
    await waitFor(
      async () => {
        if (exited(c)) throw new Error(`${script} exited with ${c.exitCode ?? c.signalCode} before it was ready:\n${out}`);
        answered = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(5_000) }).then(
          async (r) => (await r.arrayBuffer(), true),
          () => false,
        );
        return answered;
      },
      `${script} to answer GET /api/v1/health`,
      timeoutMs,
    ).catch((err: unknown) => {
      if (!answered && !exited(c)) c.kill("SIGKILL");
      throw err instanceof Error && err.message.startsWith("timed out") ? new Error(`${script} did not start within ${timeoutMs / 1000} s:\n${out}`) : err;
    });
  };

  const terminate = async () => {
    const c = child;
    if (exited(c)) return c.exitCode;
    const force = setTimeout(() => {
      console.warn(`${script} (pid ${c.pid}) did not exit within ${(options.stopTimeoutMs ?? 30_000) / 1000} s of SIGTERM; killing it`);
      c.kill("SIGKILL");
    }, options.stopTimeoutMs ?? 30_000);
    c.kill("SIGTERM");
    const code = await waitExit(c);
    clearTimeout(force);
    return code;
  };

  await launch();
  return {
    url,
    get pid() {
      return child.pid!;
    },
    env: options.env,
    output: () => out,
    terminate,
    kill: async () => {
      child.kill("SIGKILL");
      await waitExit(child);
    },
    restart: launch,
  };
}

export interface ServerOptions {
  /**
   * "embedded" (default): each node runs the embedded PostgreSQL in its data directory; "postgres":
   * a scratch database on the machine's PostgreSQL, dropped on stop; { url }: that database, kept.
   */
  database?: DatabaseKind | { url: string };
  /** How many nodes share the database (default 1); more than one needs a shared database. */
  nodes?: number;
  /** Share events between nodes through Redis: true = the machine's, under a prefix of the server's own; a string = that URL. */
  redis?: boolean | string;
  /** Serve the dashboard's pages (needs a `next build`); default off: the API only. */
  ui?: boolean;
  /** Node options before `--import tsx`, e.g. ["--cpu-prof", "--cpu-prof-dir=…"]. */
  nodeArgs?: string[];
  /** The port (one node only; default a free one). */
  port?: number;
  /** The embedded PostgreSQL's port (one node only; default a free one). */
  embeddedPgPort?: number;
  /** The bootstrap admin token (default a random one). */
  adminToken?: string;
  /** LOG_LEVEL (default info). Readiness does not depend on it. */
  logLevel?: string;
  /** More environment, applied last (an empty string removes a variable). */
  env?: Record<string, string>;
  /** Names the data directories, the scratch database and the Redis prefix: sb-<label>-… (default "test"). */
  label?: string;
  /** The PostgreSQL server a "postgres" scratch database is made on (default the machine's). */
  postgresUrl?: string;
  echo?: NodeProcessOptions["echo"];
  maxOutputChars?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/** Stops the embedded PostgreSQL a SIGKILLed server left running in its data directory. */
async function stopLeftoverEmbeddedPostgres(dataDir: string) {
  const pidFile = path.join(dataDir, "pg", "postmaster.pid");
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]) : 0;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!(pid > 0) || !alive()) return;
  process.kill(pid, "SIGINT"); // fast shutdown
  await waitFor(() => !alive(), `the embedded PostgreSQL (pid ${pid}) to stop`, 10_000).catch(() => process.kill(pid, "SIGKILL"));
}

/**
 * The one way tests, e2e and the benchmark start Switchboard: the real server
 * (`node [nodeArgs] --import tsx server/main.ts`, production mode) in child processes, each node
 * with a data directory of its own, ready once `GET /api/v1/health` answers.
 */
export async function startServerProcess(options: ServerOptions = {}): Promise<ServerProcess> {
  const label = options.label ?? "test";
  const count = options.nodes ?? 1;
  const database = options.database ?? "embedded";
  if (count > 1 && database === "embedded") throw new Error("several nodes need a shared database: database \"postgres\" or { url }");
  if (count > 1 && (options.port !== undefined || options.embeddedPgPort !== undefined)) throw new Error("fixed ports are for one node");
  const scratch = database === "postgres" ? await createScratchDatabase({ server: options.postgresUrl, prefix: label }) : null;
  const databaseUrl = typeof database === "object" ? database.url : scratch?.url;
  const adminToken = options.adminToken ?? options.env?.ADMIN_TOKEN ?? `${label}-admin-${randomBytes(12).toString("hex")}`;
  const redisUrl = options.redis === true ? MACHINE_REDIS : options.redis || undefined;
  const shared: Record<string, string | undefined> = {
    NODE_ENV: "production",
    UI: options.ui ? "1" : "0",
    HOST: "127.0.0.1",
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: options.logLevel ?? "info",
    DEMO: "0",
    NEXT_TELEMETRY_DISABLED: "1",
    CHECKPOINT_DISABLE: "1",
    // Not the project's .env (a developer's DATABASE_URL or REDIS_URL must not reach a test server);
    // tests of the file pass their own ENV_FILE.
    ENV_FILE: "/dev/null",
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisUrl ? `sb-${label}-${randomBytes(4).toString("hex")}` : undefined,
  };
  const dataDirs: string[] = [];
  const nodes: NodeProcess[] = [];
  const removeData = async () => {
    for (const dir of dataDirs) {
      await stopLeftoverEmbeddedPostgres(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await scratch?.drop();
  };
  try {
    for (let i = 0; i < count; i++) {
      const dataDir = tempDir(`sb-${label}`);
      // Run as root, the embedded PostgreSQL runs as the "postgres" user, which must be able to enter it.
      fs.chmodSync(dataDir, 0o755);
      dataDirs.push(dataDir);
      // A free port found now can be taken by another process before the server binds it: a start
      // that fails on EADDRINUSE tries again on other ports (only when the test chose no port).
      for (let attempt = 1; ; attempt++) {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          ...shared,
          PORT: String(options.port ?? (await freePort())),
          DATA_DIR: dataDir,
          EMBEDDED_PG_PORT: String(options.embeddedPgPort ?? (await freePort())),
          ...options.env,
        };
        for (const [k, v] of Object.entries(env)) if (v === undefined || v === "") delete env[k];
        try {
          nodes.push(
            await startNodeProcess({
              env,
              nodeArgs: options.nodeArgs,
              echo: options.echo,
              maxOutputChars: options.maxOutputChars,
              startTimeoutMs: options.startTimeoutMs,
              stopTimeoutMs: options.stopTimeoutMs,
            }),
          );
          break;
        } catch (err) {
          const portChosenHere = options.port === undefined && options.env?.PORT === undefined;
          if (attempt >= 3 || !portChosenHere || !/EADDRINUSE|address already in use/i.test(String(err))) throw err;
          await stopLeftoverEmbeddedPostgres(dataDir);
        }
      }
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.terminate()));
    await removeData().catch(() => {});
    throw err;
  }
  const firstFailure = (codes: (number | null)[]) => codes.find((c) => c !== 0) ?? 0;
  return {
    nodes,
    get url() {
      return nodes[Math.floor(Math.random() * nodes.length)]!.url;
    },
    adminToken,
    env: nodes[0]!.env,
    databaseUrl,
    output: () => nodes.map((n) => n.output()).join("\n"),
    stop: async () => {
      const codes = await Promise.all(nodes.map((n) => n.terminate()));
      await removeData();
      return firstFailure(codes);
    },
    kill: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
    },
    terminate: async () => firstFailure(await Promise.all(nodes.map((n) => n.terminate()))),
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
