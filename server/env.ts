import { z } from "zod";

const bool = z
  .enum(["1", "0", "true", "false", "on", "off", "yes", "no", ""])
  .transform((v) => ["1", "true", "on", "yes"].includes(v));
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** Every setting the server reads, validated once at start. README's Configuration table mirrors it. */
const settingsSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: int(3000, 0),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** Unset: an embedded PostgreSQL under DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Unset: a single node with in-memory fanout. */
  REDIS_URL: z.string().url().optional(),
  /** With REDIS_URL: Redis 7 sharded Pub/Sub (for Redis Cluster) instead of classic Pub/Sub. */
  REDIS_SHARDED: bool.default(false),
  /** With REDIS_URL: prefix of the Redis channels; deployments sharing one Redis need different ones. */
  REDIS_PREFIX: z.string().min(1).max(100).default("switchboard"),
  /** With REDIS_URL: how often each node checks the database for events fanout may have lost. */
  CATCH_UP_INTERVAL_MS: int(1000, 50),
  /** Unset: generated on first start and kept in DATA_DIR/admin-token. */
  ADMIN_TOKEN: z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional(),
  DATA_DIR: z.string().min(1).default(".data"),
  EMBEDDED_PG_PORT: int(54329, 1),
  DEMO: bool.default(false),
  /** Events per second the simulated fleet publishes, all channels together. */
  DEMO_RATE: z.coerce.number().positive().max(10_000).default(8),
  /** Off: no Next.js pages, only the API and the socket (an API-only node, and the integration tests). */
  UI: bool.default(true),
  MAX_PAYLOAD_BYTES: int(64 * 1024, 1),
  /** Most containers nested in one another in a payload (the payload object is 1); deeper gets 400. */
  MAX_PAYLOAD_DEPTH: int(64, 1),
  /** Newest events kept per channel. */
  RETENTION_EVENTS: int(100_000, 1),
  RETENTION_INTERVAL_MS: int(60_000, 100),
  /** Events queued per subscription before the backpressure policy applies. */
  BACKLOG_MAX: int(1000, 1),
  BACKPRESSURE: z.enum(["drop-oldest", "disconnect"]).default("drop-oldest"),
  /**
   * Unsent bytes one connection may hold (answers, acks and live events not yet taken by the client)
   * before the server stops reading its requests and stops writing live events to it.
   */
  CONNECTION_BUFFER_SOFT_BYTES: int(8 * 1024 * 1024, 1024),
  /** Unsent bytes past which a connection is closed as a slow consumer; at least soft + MAX_ANSWER_BYTES. */
  CONNECTION_BUFFER_HARD_BYTES: int(16 * 1024 * 1024, 1024),
  /** Connections one token may hold on one node. */
  MAX_CONNECTIONS_PER_TOKEN: int(200, 1),
  /** Subscriptions one token may hold across its connections on one node. */
  MAX_SUBSCRIPTIONS_PER_TOKEN: int(1000, 1),
  PING_INTERVAL_MS: int(25_000, 100),
  PING_TIMEOUT_MS: int(20_000, 100),
  /** Sustained events per second one token may publish; beyond it publishes get 429. */
  PUBLISH_RATE: int(50_000, 1),
  /** Events one token may publish at once after being idle. */
  PUBLISH_BURST: int(100_000, 1),
  /** Sustained payload bytes per second one token may publish; beyond it publishes get 429. */
  PUBLISH_BYTES_RATE: int(16 * 1024 * 1024, 1),
  /** Payload bytes one token may publish at once after being idle. */
  PUBLISH_BYTES_BURST: int(64 * 1024 * 1024, 1),
  /** Largest HTTP request body (a batch of events). */
  MAX_BODY_BYTES: int(8 * 1024 * 1024, 1024),
  /**
   * Most bytes of events one history answer holds (socket subscribe, HTTP pages, views, refills); the
   * rest is paged. A socket request reserves it in its connection's buffer while it runs.
   */
  MAX_ANSWER_BYTES: int(4 * 1024 * 1024, 4096),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
});

export const envSchema = settingsSchema
  // An answer always holds at least one event, so one event of the largest payload must fit.
  .refine((env) => env.MAX_ANSWER_BYTES >= env.MAX_PAYLOAD_BYTES + 1024, {
    path: ["MAX_ANSWER_BYTES"],
    message: "MAX_ANSWER_BYTES must be at least MAX_PAYLOAD_BYTES + 1024 (one event of the largest payload with its envelope)",
  })
  // A connection with a whole answer in flight on top of a full soft buffer is not yet a slow consumer.
  .refine((env) => env.CONNECTION_BUFFER_HARD_BYTES >= env.CONNECTION_BUFFER_SOFT_BYTES + env.MAX_ANSWER_BYTES, {
    path: ["CONNECTION_BUFFER_HARD_BYTES"],
    message: "CONNECTION_BUFFER_HARD_BYTES must be at least CONNECTION_BUFFER_SOFT_BYTES + MAX_ANSWER_BYTES",
  });

export type Env = z.infer<typeof envSchema>;

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
