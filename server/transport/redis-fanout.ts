import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { SwitchboardEvent } from "../../lib/protocol";
import type { FanoutBackend } from "../channels/fanout";
import type { Logger } from "../logger";
import type { SwitchboardServer } from "./socket-gateway";

/** The server-to-server message that carries committed events between nodes. */
export const FANOUT_EVENT = "switchboard:events";

export interface RedisFanoutOptions {
  url: string;
  /** Redis 7 sharded Pub/Sub (SPUBLISH/SSUBSCRIBE), for Redis Cluster. */
  sharded: boolean;
  /** Prefix of the Redis channels: two deployments on one Redis must not hear each other. */
  prefix: string;
  logger: Logger;
  /** Called when Redis comes back after an outage: messages sent meanwhile are lost. */
  onReconnect: () => void;
  /** How long start() waits for Redis before the node starts degraded (fanout down). */
  connectTimeoutMs?: number;
}

/**
 * Fanout between nodes through Socket.IO's Redis adapter: `serverSideEmit` publishes a batch of
 * committed events on the adapter's Redis channel and every other node's hub receives it. Pub/Sub
 * is at most once; the hub's sequencer and the periodic catch-up read anything lost from the
 * database, so this backend only has to be fast.
 */
export class RedisFanout implements FanoutBackend {
  readonly pub: Redis;
  readonly sub: Redis;
  private wasDown = false;
  private lastErrorLog = 0;

  constructor(
    private readonly io: SwitchboardServer,
    private readonly options: RedisFanoutOptions,
  ) {
    // No offline queue on the publishing client: while Redis is down a publish fails at once
    // (and is logged) instead of queueing without bound; the events are safe in the database.
    this.pub = new Redis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    this.sub = new Redis(options.url, { lazyConnect: true });
    for (const [name, client] of [["pub", this.pub], ["sub", this.sub]] as const) {
      client.on("error", (err: Error) => this.logError(name, err));
      client.on("close", () => {
        this.wasDown = true;
      });
      client.on("ready", () => {
        if (!this.wasDown || this.status() !== "up") return;
        this.wasDown = false;
        options.logger.info("Redis is back; catching up on events other nodes published meanwhile");
        options.onReconnect();
      });
    }
  }

  async start(onEvents: (events: SwitchboardEvent[]) => void) {
    const timeout = this.options.connectTimeoutMs ?? 5000;
    const connected = await Promise.race([
      Promise.all([this.pub.connect(), this.sub.connect()]).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), timeout).unref()),
    ]).catch(() => false);
    if (!connected) this.options.logger.warn({ url: redact(this.options.url) }, "Redis is unreachable; starting with fanout down, retrying");
    this.wasDown = false;
    const adapter = this.options.sharded
      ? createShardedAdapter(this.pub, this.sub, { channelPrefix: this.options.prefix })
      : createAdapter(this.pub, this.sub, { key: this.options.prefix });
    this.io.adapter(adapter);
    this.io.of("/").adapter.on("error", (err: Error) => this.logError("adapter", err));
    this.io.on(FANOUT_EVENT, (events: SwitchboardEvent[]) => onEvents(events));
  }

  async stop() {
    this.io.removeAllListeners(FANOUT_EVENT);
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  async publish(events: SwitchboardEvent[]) {
    if (this.pub.status !== "ready") throw new Error(`Redis is ${this.pub.status}`);
    this.io.serverSideEmit(FANOUT_EVENT, events);
  }

  status(): "up" | "down" {
    return this.pub.status === "ready" && this.sub.status === "ready" ? "up" : "down";
  }

  /** At most one error line per 5 s: a Redis outage otherwise logs every reconnect attempt. */
  private logError(source: string, err: Error) {
    const now = Date.now();
    if (now - this.lastErrorLog < 5000) return;
    this.lastErrorLog = now;
    this.options.logger.warn({ source, err: err.message }, "Redis error");
  }
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@");
