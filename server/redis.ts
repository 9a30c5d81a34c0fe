import { Redis } from "ioredis";
import { RedisFanout, type RedisFanoutOptions } from "./channels/backends/redis";

/**
 * The two ioredis clients Redis fanout needs, unconnected (the backend connects them on start):
 * the publishing one without an offline queue, so that while Redis is down a publish fails at once
 * (and is logged) instead of queueing without bound; the events are safe in the database.
 */
export function createRedisClients(url: string, options: { /** CLIENT SETNAME of both, suffixed `-pub` and `-sub`. */ connectionName?: string } = {}) {
  const name = (suffix: string) => (options.connectionName ? { connectionName: `${options.connectionName}-${suffix}` } : {});
  return {
    pub: new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, ...name("pub") }),
    sub: new Redis(url, { lazyConnect: true, ...name("sub") }),
  };
}

/** Redis fanout on new ioredis clients for `url`. */
export function createRedisFanout(url: string, options: Omit<RedisFanoutOptions, "pub" | "sub">) {
  return new RedisFanout({ ...createRedisClients(url), ...options });
}
