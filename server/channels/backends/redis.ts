import { randomUUID } from "node:crypto";
import type { SwitchboardEvent } from "../../../lib/protocol";
import type { FanoutBackend, FanoutHandlers, FanoutStatus } from "../fanout";
import type { HubLogger } from "../hub";

/**
 * The few methods of a Redis client this backend uses; ioredis' `Redis` has them (the edge,
 * server/redis.ts, creates the clients with `lazyConnect`). `status` is ioredis' connection state:
 * `"ready"` once commands run.
 */
export interface RedisPubSubClient {
  readonly status: string;
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  publish(channel: string, message: string): Promise<unknown>;
  spublish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  ssubscribe(channel: string): Promise<unknown>;
  on(event: "message" | "smessage", listener: (channel: string, message: string) => void): unknown;
  on(event: "ready" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
}

export interface RedisFanoutOptions {
  /** Publishes. Created without an offline queue: while Redis is down a publish fails at once instead of queueing without bound. */
  pub: RedisPubSubClient;
  /** Subscribes (a subscribed Redis connection runs nothing else). */
  sub: RedisPubSubClient;
  /** Redis 7 sharded Pub/Sub (SPUBLISH/SSUBSCRIBE), for Redis Cluster. @default false */
  sharded?: boolean;
  /** Prefix of the Redis channel: two deployments on one Redis must not hear each other. */
  prefix: string;
  logger: HubLogger;
  /** How long start() waits for Redis before the node starts degraded (fanout down). @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * Fanout between nodes over plain Redis Pub/Sub: each batch of committed events is one message on
 * the channel `<prefix>:events`, the node's id first so a node skips its own without parsing it.
 * Pub/Sub is at most once; the hub's sequencer and its catch-up (on `onReconnect` and on an
 * interval) read anything lost from the database, so this backend only has to be fast. It owns the
 * clients it is given: `start` connects them, `stop` closes them.
 */
export class RedisFanout implements FanoutBackend {
  private readonly channel: string;
  /** `<node id>\n`: starts every message this node sends. */
  private readonly selfTag = `${randomUUID()}\n`;
  private handlers: FanoutHandlers | null = null;
  private wasDown = false;
  private lastErrorLog = 0;

  constructor(private readonly options: RedisFanoutOptions) {
    this.channel = `${options.prefix}:events`;
    const { pub, sub } = options;
    for (const [name, client] of [["pub", pub], ["sub", sub]] as const) {
      client.on("error", (err: Error) => this.logError(name, err));
      client.on("close", () => {
        this.wasDown = true;
      });
      client.on("ready", () => {
        if (!this.wasDown || this.status() !== "up") return;
        this.wasDown = false;
        options.logger.info({}, "Redis is back; catching up on events other nodes published meanwhile");
        this.handlers?.onReconnect();
      });
    }
    sub.on(options.sharded ? "smessage" : "message", (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
  }

  async start(handlers: FanoutHandlers) {
    this.handlers = handlers;
    const { pub, sub } = this.options;
    const timeout = this.options.connectTimeoutMs ?? 5000;
    const connected = await Promise.race([
      Promise.all([pub.connect(), sub.connect()]).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), timeout).unref()),
    ]).catch(() => false);
    // The subscribing client queues the command until Redis answers, and subscribes again after
    // every reconnect.
    const subscribed = this.options.sharded ? sub.ssubscribe(this.channel) : sub.subscribe(this.channel);
    if (connected) {
      await subscribed.catch((err: unknown) => this.logError("sub", err instanceof Error ? err : new Error(String(err))));
      this.wasDown = false;
    } else {
      this.options.logger.warn({}, "Redis is unreachable; starting with fanout down, retrying");
      subscribed.catch((err: unknown) => this.logError("sub", err instanceof Error ? err : new Error(String(err))));
      // Whatever other nodes publish until Redis answers is read from the database once it does.
      this.wasDown = true;
    }
  }

  async stop() {
    this.handlers = null;
    const { pub, sub } = this.options;
    // QUIT lets a connected client finish what it sent; one that is not connected would queue it
    // behind its own offline queue (the SUBSCRIBE of start) and never answer: it is just dropped.
    await Promise.allSettled([pub, sub].map((c) => (c.status === "ready" ? c.quit() : undefined)));
    pub.disconnect();
    sub.disconnect();
  }

  async publish(events: readonly SwitchboardEvent[]) {
    const { pub } = this.options;
    if (pub.status !== "ready") throw new Error(`Redis is ${pub.status}`);
    const message = this.selfTag + JSON.stringify(events);
    await (this.options.sharded ? pub.spublish(this.channel, message) : pub.publish(this.channel, message));
  }

  status(): FanoutStatus {
    return this.options.pub.status === "ready" && this.options.sub.status === "ready" ? "up" : "down";
  }

  private receive(message: string) {
    if (!this.handlers || message.startsWith(this.selfTag)) return;
    let events: SwitchboardEvent[];
    try {
      events = JSON.parse(message.slice(message.indexOf("\n") + 1)) as SwitchboardEvent[];
    } catch (err) {
      this.logError("message", err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.handlers.onEvents(events);
  }

  /** At most one error line per 5 s: a Redis outage otherwise logs every reconnect attempt. */
  private logError(source: string, err: Error) {
    const now = Date.now();
    if (now - this.lastErrorLog < 5000) return;
    this.lastErrorLog = now;
    this.options.logger.warn({ source, err: err.message }, "Redis error");
  }
}
