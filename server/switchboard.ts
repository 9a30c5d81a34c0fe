import http from "node:http";
import path from "node:path";
import { Server } from "socket.io";
import { SOCKET_PATH } from "../lib/protocol";
import { loadOrCreateAdminToken, TokenVerifier } from "./auth/tokens";
import { MemoryFanout } from "./channels/backends/memory";
import type { FanoutBackend } from "./channels/fanout";
import { createCatalog } from "./channels/catalog";
import { Hub } from "./channels/hub";
import { createPool, createPrismaClient } from "./db/client";
import { openDatabase } from "./db/database";
import { applyMigrations } from "./db/migrate";
import { startDemoFleet } from "./demo/fleet";
import type { Env } from "./env";
import { PostgresHistoryStore } from "./history/postgres-store";
import { createRedisFanout } from "./redis";
import { rawJsonParser } from "./transport/raw-json-parser";
import { startRetention } from "./history/retention";
import type { Logger } from "./logger";
import { SwitchboardError } from "./channels/errors";
import { errorBody, httpStatusOf, toSwitchboardError } from "./transport/errors";
import { createHttpApi, settleUnreadBody, type HealthReport } from "./transport/http-api";
import { pathProblem, queryProblem, requestUrl } from "./transport/request-checks";
import { DashboardViews } from "./views/dashboard-views";
import { createMetrics } from "./transport/metrics";
import { createPageGate } from "./transport/page-gate";
import { PublishRateLimiter } from "./transport/rate-limit";
import { attachSocketGateway, handshakeError, type ConnectionBufferStats, type SwitchboardServer } from "./transport/socket-gateway";

export const PROJECT_ROOT = path.resolve(import.meta.dirname, "..");

export interface RunningSwitchboard {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts everything in dependency order and returns a stopper that undoes it in reverse: stop
 * accepting, stop the demo, flush accepted writes, close sockets, then the database and the embedded
 * server.
 */
export async function startSwitchboard(env: Env, logger: Logger, options: { dev: boolean }): Promise<RunningSwitchboard> {
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const stop = async () => {
    for (const step of cleanups.reverse()) {
      await step.run().catch((err: unknown) => logger.error({ err, step: step.name }, "shutdown step failed"));
    }
    cleanups.length = 0;
  };

  try {
    const db = await openDatabase(env, (m) => logger.debug({ pg: m }, "embedded postgres"));
    cleanups.push({ name: "database server", run: db.stop });
    logger.info({ database: db.kind }, db.kind === "embedded" ? `embedded PostgreSQL in ${path.resolve(env.DATA_DIR, "pg")}` : "using DATABASE_URL");
    const migrations = await applyMigrations(db.url);
    if (migrations.applied.length) logger.info({ applied: migrations.applied }, "applied migrations");

    const pool = createPool(db.url, 10, (err) => logger.warn({ err }, "an idle database connection failed; the next query reconnects"));
    cleanups.push({ name: "database pool", run: () => pool.end() });
    const prisma = createPrismaClient(pool);
    cleanups.push({ name: "prisma", run: () => prisma.$disconnect() });
    const admin = await loadOrCreateAdminToken(env.ADMIN_TOKEN, env.DATA_DIR);
    const verifier = new TokenVerifier(prisma, admin.token);

    let hub: Hub | null = null;
    let api: ReturnType<typeof createHttpApi> | null = null;
    let pages: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null = null;
    /** False while starting and once shutdown begins: new requests and sockets are turned away. */
    let accepting = false;
    /** Every answer of this handler goes through the one code->status map; every 5xx is logged with its cause. */
    const answerError = (req: http.IncomingMessage, res: http.ServerResponse, err: unknown, headers: http.OutgoingHttpHeaders = {}) => {
      const error = toSwitchboardError(err);
      const status = httpStatusOf(error);
      if (status >= 500) {
        logger[error.code === "internal" ? "error" : "warn"]({ err: error.cause ?? err, code: error.code, status, method: req.method, url: req.url }, "request answered with a server error");
      }
      if (res.headersSent) return void res.end();
      settleUnreadBody(req, res, env.MAX_BODY_BYTES);
      if (error.retryAfterSeconds) headers["Retry-After"] = String(error.retryAfterSeconds);
      res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" }).end(JSON.stringify(errorBody(error)));
    };
    const server = http.createServer((req, res) => {
      if (!api || !accepting) {
        const cause = new Error(api ? "shutting down" : "starting");
        return answerError(req, res, new SwitchboardError("unavailable", "The server is starting or stopping; retry shortly.", { retryAfterSeconds: 1, cause }), { Connection: "close" });
      }
      // Next.js answers a path it cannot percent-decode with a 500: refuse it here first, and any
      // query that does not decode strictly or holds a NUL or a lone surrogate.
      let problem: string | undefined;
      try {
        const url = requestUrl(req.url);
        problem = pathProblem(url.pathname) ?? queryProblem(url.search);
      } catch (err) {
        return answerError(req, res, err);
      }
      if (problem) return answerError(req, res, new SwitchboardError("invalid_request", problem));
      api(req, res)
        .then(async (handled) => {
          if (handled) return;
          if (pages) return pages(req, res);
          answerError(req, res, new SwitchboardError("not_found", "This node serves the API only (UI=off)."));
        })
        .catch((err: unknown) => answerError(req, res, err));
    });
    server.keepAliveTimeout = 5_000;
    // Upgraded (websocket) connections are not closed by closeAllConnections(); keep every TCP socket
    // so shutdown can end the ones a peer left half-closed.
    const tcpSockets = new Set<import("node:net").Socket>();
    server.on("connection", (socket) => {
      tcpSockets.add(socket);
      socket.once("close", () => tcpSockets.delete(socket));
    });

    const io: SwitchboardServer = new Server(server, {
      path: SOCKET_PATH,
      serveClient: false,
      pingInterval: env.PING_INTERVAL_MS,
      pingTimeout: env.PING_TIMEOUT_MS,
      maxHttpBufferSize: env.MAX_PAYLOAD_BYTES + 16 * 1024,
      // Next.js (dev) owns the other upgrade requests.
      destroyUpgrade: false,
      // The default wire format; subscribe answers carry their history as the database's JSON.
      parser: rawJsonParser,
    });
    // Cleanups run in reverse: stop taking connections, let the hub commit what was accepted
    // (in-flight requests still get their answers) and close its subscribers, then close the rest.
    cleanups.push({
      name: "sockets",
      run: async () => {
        // The hub has sent every subscriber its `closing` notice; give the sockets a moment to
        // flush it before the connections are cut.
        for (let waited = 0; io.engine.clientsCount > 0 && waited < 1000; waited += 20) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise<void>((resolve, reject) => {
          io.close(() => resolve()).catch(reject);
          server.closeAllConnections();
          for (const socket of tcpSockets) socket.destroy();
        });
      },
    });

    let connectionBuffers: (() => ConnectionBufferStats) | null = null;
    const metrics = createMetrics(() => hub, () => connectionBuffers?.() ?? null);
    const fanout: FanoutBackend = env.REDIS_URL
      ? createRedisFanout(env.REDIS_URL, { sharded: env.REDIS_SHARDED, prefix: env.REDIS_PREFIX, logger })
      : new MemoryFanout();
    const catalog = createCatalog({ retention: env.RETENTION_EVENTS, maxBacklog: env.BACKLOG_MAX, backpressure: env.BACKPRESSURE });
    const store = new PostgresHistoryStore(pool);
    const rateLimiter = new PublishRateLimiter({
      ratePerSecond: env.PUBLISH_RATE,
      burst: env.PUBLISH_BURST,
      bytesPerSecond: env.PUBLISH_BYTES_RATE,
      bytesBurst: env.PUBLISH_BYTES_BURST,
    });
    hub = new Hub({
      catalog,
      store,
      fanout,
      logger,
      metrics: metrics.hubMetrics,
      maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
      maxAnswerBytes: env.MAX_ANSWER_BYTES,
      maxPayloadDepth: env.MAX_PAYLOAD_DEPTH,
      maxConnectionsPerToken: env.MAX_CONNECTIONS_PER_TOKEN,
      maxSubscriptionsPerToken: env.MAX_SUBSCRIPTIONS_PER_TOKEN,
      admitPublish: (principal, cost) => rateLimiter.take(principal.tokenId, cost),
      // A transaction's events reach every backlog at once: no larger than a backlog, so a
      // subscriber that keeps up never gets a gap just because many producers published together.
      groupCommit: { maxBatch: Math.min(5000, env.BACKLOG_MAX) },
    });
    await hub.start();
    const runningHub = hub;
    cleanups.push({ name: "hub", run: () => runningHub.stop() });
    if (env.REDIS_URL) {
      // Pub/Sub is at most once: every node also asks the database now and then how far each
      // channel has committed, and reads whatever fanout did not bring.
      const timer = setInterval(() => {
        runningHub.catchUp().catch((err: unknown) => logger.warn({ err }, "catch-up from the database failed"));
      }, env.CATCH_UP_INTERVAL_MS);
      timer.unref();
      cleanups.push({ name: "catch-up", run: async () => clearInterval(timer) });
    }

    const health = async (): Promise<HealthReport> => {
      const db = await Promise.race([
        runningHub.ping().then(() => "up" as const),
        new Promise<"down">((resolve) => setTimeout(() => resolve("down"), 2000).unref()),
      ]).catch(() => "down" as const);
      const redis = fanout.status();
      return { status: db === "up" && redis !== "down" ? "ok" : "degraded", db, redis };
    };

    let upgradePages: ((req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => void) | null = null;
    if (env.UI) {
      const { default: next } = await import("next");
      const app = next({ dev: options.dev, dir: PROJECT_ROOT, hostname: env.HOST, port: env.PORT });
      await app.prepare();
      const handle = app.getRequestHandler();
      const gate = createPageGate(verifier);
      pages = async (req, res) => {
        if (await gate(req, res)) await handle(req, res);
      };
      upgradePages = app.getUpgradeHandler();
      cleanups.push({ name: "next", run: () => app.close() });
    }
    if (upgradePages) {
      const upgrade = upgradePages;
      server.on("upgrade", (req, socket, head) => {
        if (!req.url?.startsWith(SOCKET_PATH)) upgrade(req, socket, head);
      });
    }
    io.use((_socket, next) => (accepting ? next() : next(handshakeError("unavailable", "The server is starting or stopping; retry shortly."))));
    const gateway = attachSocketGateway(io, {
      hub,
      verifier,
      logger,
      limits: {
        softBytes: env.CONNECTION_BUFFER_SOFT_BYTES,
        hardBytes: env.CONNECTION_BUFFER_HARD_BYTES,
        maxAnswerBytes: env.MAX_ANSWER_BYTES,
        maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
      },
    });
    connectionBuffers = gateway.bufferStats;
    api = createHttpApi({
      hub,
      views: new DashboardViews(prisma, [...catalog.keys()], { maxBytes: env.MAX_ANSWER_BYTES }),
      verifier,
      logger,
      maxBodyBytes: env.MAX_BODY_BYTES,
      health,
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    });

    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(env.PORT, env.HOST, () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : env.PORT;
    const url = `http://${env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : env.HOST}:${port}`;

    accepting = true;
    // First step of shutdown. Not server.close(): it would also drop open websockets as "idle"
    // before subscribers are told to resume elsewhere.
    cleanups.push({
      name: "stop accepting",
      run: async () => {
        accepting = false;
      },
    });
    const stopRetention = startRetention(store, catalog, env.RETENTION_INTERVAL_MS, logger);
    cleanups.push({ name: "retention", run: stopRetention });

    if (env.DEMO) {
      // The fleet is a producer like any other: it publishes over HTTP with the admin token (it also
      // raises system errors, which only admins may publish).
      const fleet = startDemoFleet({ baseUrl: `http://127.0.0.1:${port}`, token: admin.token, rate: env.DEMO_RATE, logger });
      cleanups.push({ name: "demo fleet", run: fleet.stop });
    }

    logger.info({ url }, `Switchboard is listening on ${url}`);
    if (admin.created) {
      // Printed once, on the start that created it (it stays in DATA_DIR/admin-token).
      console.log(`\n  Admin token (shown once): ${admin.token}\n  Sign in: ${url}/login#token=${admin.token}\n`);
    } else if (env.UI) {
      console.log(`\n  Sign in at ${url}/login with your admin token (ADMIN_TOKEN or ${path.join(env.DATA_DIR, "admin-token")}).\n`);
    }
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
