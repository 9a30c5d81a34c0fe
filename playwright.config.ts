import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { ADMIN_TOKEN, E2E_PORT, E2E_POSTGRES_PORT, type ServerEnvOptions } from "./e2e/fixtures";
import { CHROMIUM_ARGS } from "./e2e/support/chromium";

// The runner and every worker load this file. The runner creates the servers' data dir and the
// PostgreSQL database (Playwright starts web servers before any globalSetup, so the database must
// exist when the config loads) and removes both when it exits, after the servers have stopped;
// workers inherit them through the environment.
const ownsResources = !process.env.SWITCHBOARD_E2E_DATA_DIR;
const dataDir = (process.env.SWITCHBOARD_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-e2e-")));
const runId = (process.env.SWITCHBOARD_E2E_RUN_ID ??= randomBytes(4).toString("hex"));
const pgDatabase = `switchboard_e2e_${runId}`;
const postgresUrl = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const databaseUrl = `${postgresUrl.replace(/\/[^/]*$/, "")}/${pgDatabase}`;
const testDatabase = (command: "create" | "drop") =>
  execFileSync(process.execPath, ["--import", "tsx", "e2e/support/test-database.ts", command, pgDatabase], { stdio: "inherit", env: process.env });
if (ownsResources) {
  // Run as root, the embedded PostgreSQL runs as the "postgres" user, which must be able to enter it.
  fs.chmodSync(dataDir, 0o755);
  testDatabase("create");
  process.on("exit", () => {
    try {
      testDatabase("drop");
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

const chromium = { ...devices["Desktop Chrome"], headless: true, launchOptions: { executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS } };

const common = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  ADMIN_TOKEN,
  DEMO: "0",
  LOG_LEVEL: "warn",
  NEXT_TELEMETRY_DISABLED: "1",
  CHECKPOINT_DISABLE: "1",
  // Not the project's .env: a developer's DATABASE_URL or REDIS_URL must not reach the test servers.
  ENV_FILE: "/dev/null",
};
/** The embedded-PostgreSQL server (the default deployment). */
const embeddedEnv = { ...common, PORT: String(E2E_PORT), DATA_DIR: path.join(dataDir, "embedded"), EMBEDDED_PG_PORT: "54341" };
/** The same server on the machine's PostgreSQL and Redis. */
const postgresEnv = {
  ...common,
  PORT: String(E2E_POSTGRES_PORT),
  DATA_DIR: path.join(dataDir, "postgres"),
  DATABASE_URL: databaseUrl,
  REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  REDIS_PREFIX: `switchboard-e2e-${runId}`,
};

const webServer = (env: Record<string, string>) => ({
  command: "node --import tsx server/main.ts",
  url: `http://127.0.0.1:${env.PORT}/api/v1/health`,
  reuseExistingServer: false,
  timeout: 120_000,
  // SIGTERM lets the server stop its embedded PostgreSQL cleanly.
  gracefulShutdown: { signal: "SIGTERM" as const, timeout: 15_000 },
  env,
});

/** Runs against a production build: `next build` must have run first. */
export default defineConfig<ServerEnvOptions>({
  testDir: "./e2e",
  testMatch: "*.e2e.ts",
  timeout: 45_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  workers: 2,
  fullyParallel: false,
  reporter: process.env.CI ? "dot" : "list",
  use: { trace: "retain-on-failure" },
  projects: [
    {
      name: "chromium",
      use: { ...chromium, baseURL: `http://127.0.0.1:${E2E_PORT}`, serverEnv: embeddedEnv },
    },
    {
      name: "chromium-postgres-redis",
      // The restart story starts servers of its own on the embedded database.
      testIgnore: "restart.e2e.ts",
      use: { ...chromium, baseURL: `http://127.0.0.1:${E2E_POSTGRES_PORT}`, serverEnv: postgresEnv },
    },
  ],
  webServer: [webServer(embeddedEnv), webServer(postgresEnv)],
});
