/**
 * A Switchboard server in a process of the caller's own, for scripts that need a demo fleet or must
 * kill and restart the server: the project's one server harness (server/tests/support/server-process.ts)
 * with the e2e settings: production mode, UI on (needs `next build`), embedded PostgreSQL in a fresh
 * data dir, fixed ports, LOG_LEVEL=warn (readiness is `GET /api/v1/health`, not a log line).
 * `OWN_SERVER_LOG=1` echoes the server's output; its stderr is echoed always.
 */
import { startServerProcess, type ServerProcess } from "../../server/tests/support/server-process";

export type OwnServer = ServerProcess;

export function startOwnServer(options: { port: number; pgPort: number; env?: Record<string, string> }): Promise<OwnServer> {
  return startServerProcess({
    label: "e2e",
    ui: true,
    port: options.port,
    embeddedPgPort: options.pgPort,
    logLevel: "warn",
    env: options.env,
    echo: process.env.OWN_SERVER_LOG ? "all" : "stderr",
    startTimeoutMs: 120_000,
    stopTimeoutMs: 15_000,
  });
}

export { CHROMIUM_ARGS } from "./chromium";
