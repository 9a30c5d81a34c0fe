import { afterEach, describe, expect, it } from "vitest";
import { MemoryHistoryStore } from "../history/memory-store";
import { MemoryFanout } from "./backends/memory";
import { createCatalog } from "./catalog";
import { Hub, type PublishCost } from "./hub";
import type { Principal } from "./subscriber";

const admin: Principal = { role: "admin", tokenId: "t-admin" };
const silent = { info() {}, warn() {}, error() {} };
const hubs: Hub[] = [];

async function startHub(options: { maxPayloadBytes?: number; maxPayloadDepth?: number } = {}) {
  const costs: PublishCost[] = [];
  const store = new MemoryHistoryStore();
  const hub = new Hub({
    catalog: createCatalog({ retention: 1000, maxBacklog: 1000, backpressure: "drop-oldest" }),
    store,
    fanout: new MemoryFanout(),
    logger: silent,
    maxPayloadBytes: options.maxPayloadBytes ?? 1024,
    maxPayloadDepth: options.maxPayloadDepth,
    admitPublish: (_principal, cost) => void costs.push(cost),
  });
  await hub.start();
  hubs.push(hub);
  return { hub, costs, store };
}

afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.stop();
});

describe("Hub publish payload rules", () => {
  it("refuses what PostgreSQL would refuse with invalid_request naming the path, and stores nothing of the call", async () => {
    const { hub, store, costs } = await startHub();
    await expect(hub.publish(admin, "tasks", [{ type: "task.created", payload: { steps: [{}, { name: "a\u0000" }] } }])).rejects.toMatchObject({
      code: "invalid_request",
      message: "payload.steps[1].name: the string contains a NUL character (\\u0000), which PostgreSQL cannot store",
    });
    await expect(
      hub.publish(admin, "tasks", [
        { type: "task.created", payload: {} },
        { type: "task.created", payload: { ["\ud800"]: 1 } },
      ]),
    ).rejects.toMatchObject({ code: "invalid_request", message: expect.stringMatching(/^\[1\]\.payload\["\\ud800"\]: the key contains a lone UTF-16 surrogate/) });
    expect(costs).toEqual([]);
    expect((await store.read({ channel: "tasks", limit: 10 })).events).toEqual([]);
  });

  it("refuses nesting deeper than maxPayloadDepth (default 64)", async () => {
    const { hub } = await startHub({ maxPayloadBytes: 1 << 20 });
    const nested = (depth: number) => {
      let v: unknown = {};
      for (let i = 1; i < depth; i++) v = { a: v };
      return v as Record<string, unknown>;
    };
    await expect(hub.publish(admin, "tasks", [{ type: "task.created", payload: nested(64) }])).resolves.toHaveLength(1);
    await expect(hub.publish(admin, "tasks", [{ type: "task.created", payload: nested(65) }])).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("nested deeper than 64 levels (MAX_PAYLOAD_DEPTH)"),
    });
    await expect(hub.publish(admin, "tasks", [{ type: "task.created", payload: nested(50_000) }])).rejects.toMatchObject({ code: "invalid_request" });
    const shallow = (await startHub({ maxPayloadDepth: 2 })).hub;
    await expect(shallow.publish(admin, "tasks", [{ type: "task.created", payload: nested(3) }])).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("measures payloads as stored: the limit applies to 1e308's 309 digits, and admitPublish is told the stored bytes", async () => {
    const { hub, costs } = await startHub({ maxPayloadBytes: 1024 });
    // 24 bytes as JSON.stringify writes it; {"a": [1000…000, 1000…000, 1000…000, 1000…000]} as stored.
    await expect(hub.publish(admin, "tasks", [{ type: "task.created", payload: { a: [1e308, 1e308, 1e308, 1e308] } }])).rejects.toMatchObject({
      code: "payload_too_large",
      message: "payload is 1251 bytes as stored; the limit is 1024 (MAX_PAYLOAD_BYTES).",
    });
    await hub.publish(admin, "tasks", [
      { type: "task.created", payload: { a: 1, b: [1, 2] } },
      { type: "task.created", payload: { n: 1e308 } },
    ]);
    expect(costs).toEqual([{ events: 2, bytes: '{"a": 1, "b": [1, 2]}'.length + '{"n": }'.length + 309 }]);
  });
});
