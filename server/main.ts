// The Switchboard server: one process, one port, Next.js pages and the Socket.IO channels layer.
import "./load-env-file"; // first: .env is in process.env before anything reads the configuration
import { startSwitchboard } from "./switchboard";
import { parseEnv } from "./env";
import { createLogger } from "./logger";

const dev = process.argv.includes("--dev");
let env;
try {
  env = parseEnv({ ...process.env, NODE_ENV: dev ? "development" : (process.env.NODE_ENV ?? "production") });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const logger = createLogger(env.LOG_LEVEL);

process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled promise rejection"));

try {
  const server = await startSwitchboard(env, logger, { dev });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
} catch (err) {
  logger.fatal({ err }, "Switchboard failed to start");
  process.exit(1);
}
