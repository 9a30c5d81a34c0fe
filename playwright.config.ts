import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { ADMIN_TOKEN, E2E_PORT } from "./e2e/fixtures";

// The runner and every worker load this file: the runner creates the server's data dir (and removes it
// when it exits, after the server has stopped); workers inherit the path through the environment.
const ownsDataDir = !process.env.SWITCHBOARD_E2E_DATA_DIR;
const dataDir = (process.env.SWITCHBOARD_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-e2e-")));
if (ownsDataDir) process.on("exit", () => fs.rmSync(dataDir, { recursive: true, force: true }));

const baseURL = `http://127.0.0.1:${E2E_PORT}`;
const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Runs against a production build: `next build` must have run first. */
export default defineConfig({
  testDir: "./e2e",
  testMatch: "*.e2e.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  workers: 1,
  reporter: process.env.CI ? "dot" : "list",
  use: { baseURL, trace: "retain-on-failure" },
  projects: [
    {
      name: "chromium",
      use: { ...devices["Desktop Chrome"], headless: true, launchOptions: { executablePath: "/usr/bin/chromium", args: chromiumArgs } },
    },
  ],
  webServer: {
    command: "node --import tsx server/main.ts",
    url: `${baseURL}/api/v1/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    // SIGTERM lets the server stop its embedded PostgreSQL cleanly.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    env: {
      NODE_ENV: "production",
      PORT: String(E2E_PORT),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: "54341",
      ADMIN_TOKEN,
      DEMO: "0",
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      CHECKPOINT_DISABLE: "1",
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    },
  },
});
