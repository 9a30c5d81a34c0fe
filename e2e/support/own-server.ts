/**
 * A Switchboard server in a process of the caller's own (`node --import tsx server/main.ts`,
 * production mode, UI on, embedded PostgreSQL in a fresh data dir), for scripts that need a demo
 * fleet or must kill and restart the server. `stop()` also stops the embedded PostgreSQL when a
 * SIGKILL left it running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface OwnServer {
  url: string;
  adminToken: string;
  start(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export function ownServer(options: { port: number; pgPort: number; env?: Record<string, string> }): OwnServer {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-own-"));
  // Run as root, the embedded PostgreSQL runs as the "postgres" user, which must be able to enter it.
  fs.chmodSync(dataDir, 0o755);
  const adminToken = `own-admin-${Math.random().toString(36).slice(2)}-token`;
  const url = `http://127.0.0.1:${options.port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(options.port),
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(options.pgPort),
    ADMIN_TOKEN: adminToken,
    DEMO: "0",
    LOG_LEVEL: "warn",
    NEXT_TELEMETRY_DISABLED: "1",
    CHECKPOINT_DISABLE: "1",
    ENV_FILE: "/dev/null", // not the project's .env (its DATABASE_URL would undo the deletes below)
    ...options.env,
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  let child: ChildProcess | null = null;

  const kill = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once("exit", () => resolve());
      c.kill(signal);
    });

  return {
    url,
    adminToken,
    async start() {
      child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { env, stdio: ["ignore", process.env.OWN_SERVER_LOG ? "inherit" : "ignore", "inherit"] });
      for (let i = 0; i < 1_200; i++) {
        if (await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the server did not start within 120 s");
    },
    kill,
    async stop() {
      await kill("SIGTERM");
      const pidFile = path.join(dataDir, "pg", "postmaster.pid");
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]) : 0;
      if (pid > 0) {
        try {
          process.kill(pid, "SIGINT");
          for (let i = 0; i < 100; i++) {
            process.kill(pid, 0);
            await new Promise((r) => setTimeout(r, 100));
          }
        } catch {
          // stopped
        }
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
