import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it, vi } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { MemoryBus, MemoryFanout } from "../channels/backends/memory";
import { RedisFanout } from "../channels/backends/redis";
import type { FanoutBackend } from "../channels/fanout";
import { describeFanoutContract, type FanoutCluster } from "../channels/fanout.contract";
import { createRedisClients } from "../redis";
import { testEvent } from "../testing/events";
import { MACHINE_REDIS, freePort, machineRedisAvailable } from "./support/services";

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

describe("Redis fanout", () => {
  it("keeps deployments with different REDIS_PREFIXes apart", async (ctx) => {
    if (!(await machineRedisAvailable())) return ctx.skip();
    const start = async (prefix: string) => {
      const received: SwitchboardEvent[][] = [];
      const backend = new RedisFanout({ ...createRedisClients(MACHINE_REDIS), prefix, logger: silent });
      await backend.start({ onEvents: (events) => received.push(events), onReconnect: () => {} });
      return { backend, received };
    };
    const ours = `sb-test-${randomBytes(4).toString("hex")}`;
    const theirs = `sb-test-${randomBytes(4).toString("hex")}`;
    const [a, b, other] = [await start(ours), await start(ours), await start(theirs)];
    try {
      await a.backend.publish([testEvent(1)]);
      await other.backend.publish([testEvent(1, { channel: "agents" })]);
      await vi.waitFor(() => expect(b.received).toEqual([[testEvent(1)]]), { timeout: 10_000 });
      // Nothing orders `other`'s message with a's: publish on `a` again after it, and once b has that
      // one, check that `other`'s never came.
      await a.backend.publish([testEvent(2)]);
      await vi.waitFor(() => expect(b.received).toHaveLength(2), { timeout: 10_000 });
      expect(b.received.flat().map((e) => e.channel)).toEqual(["tasks", "tasks"]);
      expect(other.received).toEqual([]);
    } finally {
      for (const node of [a, b, other]) await node.backend.stop();
    }
  });

  it("starts degraded when Redis does not answer: status down, publish fails fast", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const backend = new RedisFanout({ ...createRedisClients(url), prefix: "sb-test-unreachable", logger: silent, connectTimeoutMs: 300 });
    await backend.start({ onEvents: () => {}, onReconnect: () => {} });
    try {
      expect(backend.status()).toBe("down");
      await expect(backend.publish([testEvent(1)])).rejects.toThrow(/Redis is/);
    } finally {
      await backend.stop();
    }
  });
});
