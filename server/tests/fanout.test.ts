import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { MemoryBus, MemoryFanout } from "../channels/backends/memory";
import { RedisFanout } from "../channels/backends/redis";
import type { FanoutBackend } from "../channels/fanout";
import { describeFanoutContract, type FanoutCluster } from "../channels/fanout.contract";
import { createRedisClients } from "../redis";
import { MACHINE_REDIS, machineRedisAvailable } from "./support/services";

const silent = { info() {}, warn() {}, error() {} };

describeFanoutContract("memory bus", async () => {
  const bus = new MemoryBus();
  return { node: () => new MemoryFanout(bus), close: async () => {} };
});

/** Nodes on the machine's Redis under a prefix of their own, so parallel suites never hear each other. */
async function redisCluster(sharded: boolean): Promise<FanoutCluster | null> {
  if (!(await machineRedisAvailable())) return null;
  const prefix = `sb-test-${randomBytes(4).toString("hex")}`;
  const names = new Map<FanoutBackend, string>();
  const admin = new Redis(MACHINE_REDIS, { lazyConnect: true });
  await admin.connect();
  return {
    node() {
      const name = `${prefix}-node${names.size}`;
      const backend = new RedisFanout({ ...createRedisClients(MACHINE_REDIS, { connectionName: name }), sharded, prefix, logger: silent });
      names.set(backend, name);
      return backend;
    },
    async interrupt(node) {
      const name = names.get(node);
      const list = String(await admin.client("LIST"));
      const ids = list
        .split("\n")
        .filter((line) => name && (line.includes(` name=${name}-pub `) || line.includes(` name=${name}-sub `)))
        .map((line) => /\bid=(\d+)/.exec(line)?.[1]);
      if (ids.length !== 2) throw new Error(`expected two connections named ${name}-*, found ${ids.length}`);
      for (const id of ids) await admin.client("KILL", "ID", String(id));
    },
    async close() {
      admin.disconnect();
    },
  };
}

describeFanoutContract("Redis Pub/Sub", () => redisCluster(false));
describeFanoutContract("Redis sharded Pub/Sub (SPUBLISH/SSUBSCRIBE)", () => redisCluster(true));
