import { afterEach, describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { MemoryHistoryStore } from "../history/memory-store";
import type { ReadQuery } from "./history-store";
import { MemoryFanout } from "./backends/memory";
import { createCatalog, type BackpressurePolicy } from "./catalog";
import { Hub, type EncodedSubscribeResult } from "./hub";
import { MemorySink as RecordingSink } from "./memory-sink";
import type { Principal } from "./subscriber";

const admin: Principal = { role: "admin", tokenId: "t-admin" };
const viewer: Principal = { role: "viewer", tokenId: "t-viewer" };
const publisher: Principal = { role: "publisher", tokenId: "t-pub" };
const silent = { info() {}, warn() {}, error() {} };
/** A subscribe answer's history, as a client decodes it. */
const historyOf = (result: EncodedSubscribeResult): SwitchboardEvent[] => JSON.parse(result.historyJson) as SwitchboardEvent[];

/** Yields `n` turns of the event loop: whatever else is ready runs meanwhile (a delay counted in work, not time). */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Waits, a loop turn at a time, until `condition` holds; fails after 5 s. */
async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turns(1);
  }
}

/** A store whose reads and writes finish a random few loop turns later, so publishes really race subscribes. */
class SlowStore extends MemoryHistoryStore {
  override async read(q: ReadQuery) {
    await turns(Math.floor(Math.random() * 6));
    return super.read(q);
  }
  override async append(events: Parameters<MemoryHistoryStore["append"]>[0]) {
    await turns(Math.floor(Math.random() * 3));
    return super.append(events);
  }
}

const hubs: Hub[] = [];
async function startHub(
  options: { maxBacklog?: number; backpressure?: BackpressurePolicy; store?: MemoryHistoryStore; maxConnectionsPerToken?: number; maxSubscriptionsPerToken?: number } = {},
) {
  const hub = new Hub({
    catalog: createCatalog({ retention: 1000, maxBacklog: options.maxBacklog ?? 1000, backpressure: options.backpressure ?? "drop-oldest" }),
    store: options.store ?? new MemoryHistoryStore(),
    fanout: new MemoryFanout(),
    logger: silent,
    maxPayloadBytes: 1024,
    maxConnectionsPerToken: options.maxConnectionsPerToken,
    maxSubscriptionsPerToken: options.maxSubscriptionsPerToken,
  });
  await hub.start();
  hubs.push(hub);
  return hub;
}
/** Lets pending I/O and the delivery run (which happens on `setImmediate`) complete. */
const flush = () => new Promise((r) => setTimeout(() => setImmediate(r), 0));

afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.stop();
});

describe("Hub", () => {
  it("never leaves a hole or a duplicate between history and live while publishers race the subscribe", async () => {
    const hub = await startHub({ store: new SlowStore() });
    const perPublisher = 150;
    let published = 0;
    const publishers = Array.from({ length: 4 }, async (_, p) => {
      for (let i = 0; i < perPublisher; i++, published++) {
        await hub.publish(publisher, "tasks", [{ type: "task.created", payload: { p, i } }]);
      }
    });
    const sinks: RecordingSink[] = [];
    const histories: number[][] = [];
    const subscribers = Array.from({ length: 8 }, async (_, k) => {
      // Subscribers join one after another while the publishers are at it: k after 60·k published events.
      await until(() => published >= 60 * k, `${60 * k} published events`);
      const sink = new RecordingSink();
      sinks.push(sink);
      const conn = hub.connect(viewer, sink);
      const { result, activate } = await hub.subscribeEncoded(conn, { channel: "tasks", since: 0 });
      histories[sinks.indexOf(sink)] = historyOf(result).map((e) => e.seq);
      activate();
    });
    await Promise.all([...publishers, ...subscribers]);
    await flush();
    const total = 4 * perPublisher;
    // The race really happened: some subscriber's history stopped mid-stream.
    expect(histories.some((h) => h.length > 0 && h.length < total)).toBe(true);
    sinks.forEach((sink, i) => {
      const seen = [...histories[i]!, ...sink.events.map((e) => e.event.seq)];
      expect(seen).toEqual(Array.from({ length: total }, (_, n) => n + 1));
    });
  });

  it("history: n returns the newest n matching events and live events continue after them", async () => {
    const hub = await startHub();
    for (let i = 1; i <= 10; i++) await hub.publish(admin, "tasks", [{ type: "task.created", agent: i % 2 ? "odd" : "even", payload: { i } }]);
    const sink = new RecordingSink();
    const conn = hub.connect(viewer, sink);
    const { result, activate } = await hub.subscribeEncoded(conn, { channel: "tasks", history: 3, filter: { agent: "odd" } });
    activate();
    expect(historyOf(result).map((e) => e.payload.i)).toEqual([5, 7, 9]);
    expect(result.head).toBe(10);
    await hub.publish(admin, "tasks", [{ type: "task.created", agent: "even", payload: { i: 11 } }, { type: "task.created", agent: "odd", payload: { i: 12 } }]);
    await flush();
    expect(sink.events.map((e) => e.event.payload.i)).toEqual([12]);
  });

  it("enforces who may publish where, and refuses undeclared channels and oversized payloads", async () => {
    const hub = await startHub();
    await expect(hub.publish(viewer, "tasks", [{ type: "task.created", payload: {} }])).rejects.toMatchObject({ code: "forbidden" });
    await expect(hub.publish(publisher, "system", [{ type: "system.notice", payload: {} }])).rejects.toMatchObject({ code: "forbidden" });
    await expect(hub.publish(admin, "system", [{ type: "system.notice", payload: {} }])).resolves.toHaveLength(1);
    await expect(hub.publish(admin, "nope", [{ type: "x.y", payload: {} }])).rejects.toMatchObject({ code: "unknown_channel" });
    await expect(hub.publish(admin, "tasks", [{ type: "x.y", payload: { big: "x".repeat(2000) } }])).rejects.toMatchObject({ code: "payload_too_large" });
    const conn = hub.connect(viewer, new RecordingSink());
    await expect(hub.subscribeEncoded(conn, { channel: "nope" })).rejects.toMatchObject({ code: "unknown_channel" });
  });

  it("drop-oldest: a subscriber that cannot keep up gets a gap for what was dropped, then the newest events", async () => {
    const hub = await startHub({ maxBacklog: 5 });
    const sink = new RecordingSink();
    const conn = hub.connect(viewer, sink);
    const { activate } = await hub.subscribeEncoded(conn, { channel: "tasks" });
    activate();
    sink.writable = false;
    for (let i = 0; i < 20; i++) await hub.publish(admin, "tasks", [{ type: "task.created", payload: {} }]);
    await flush();
    expect(sink.events).toHaveLength(0);
    expect(hub.stats().queuedEvents).toBe(5);
    sink.setWritable();
    await flush();
    expect(sink.gaps).toEqual([expect.objectContaining({ channel: "tasks", fromSeq: 1, toSeq: 15 })]);
    expect(sink.events.map((e) => e.event.seq)).toEqual([16, 17, 18, 19, 20]);
    // What queued while the sink was busy leaves in one call.
    expect(sink.batches).toEqual([5]);
  });

  it("disconnect: a subscriber that falls a full backlog behind is closed as a slow consumer", async () => {
    const hub = await startHub({ maxBacklog: 3, backpressure: "disconnect" });
    const sink = new RecordingSink();
    const conn = hub.connect(viewer, sink);
    const { activate } = await hub.subscribeEncoded(conn, { channel: "tasks" });
    activate();
    sink.writable = false;
    for (let i = 0; i < 4; i++) await hub.publish(admin, "tasks", [{ type: "task.created", payload: {} }]);
    expect(sink.closedWith).toBe("slow_consumer");
    expect(hub.stats()).toMatchObject({ connections: 0, subscriptions: 0 });
  });

  it("unsubscribe stops delivery and unknown subscriptions are not_found", async () => {
    const hub = await startHub();
    const sink = new RecordingSink();
    const conn = hub.connect(viewer, sink);
    const { result, activate } = await hub.subscribeEncoded(conn, { channel: "tasks" });
    activate();
    hub.unsubscribe(conn, result.subscriptionId);
    await hub.publish(admin, "tasks", [{ type: "task.created", payload: {} }]);
    await flush();
    expect(sink.events).toHaveLength(0);
    expect(() => hub.unsubscribe(conn, result.subscriptionId)).toThrow(expect.objectContaining({ code: "not_found" }));
  });

  it("limits one token's connections and subscriptions across them, and frees them exactly on unsubscribe and disconnect", async () => {
    const hub = await startHub({ maxConnectionsPerToken: 3, maxSubscriptionsPerToken: 4 });
    const conns = [hub.connect(viewer, new RecordingSink()), hub.connect(viewer, new RecordingSink()), hub.connect(viewer, new RecordingSink())];
    expect(() => hub.connect(viewer, new RecordingSink())).toThrow(expect.objectContaining({ code: "rate_limited" }));
    // Another token is not affected.
    const other = hub.connect(admin, new RecordingSink());
    hub.disconnect(conns[2]!);
    hub.disconnect(conns[2]!); // twice: released once
    conns[2] = hub.connect(viewer, new RecordingSink());
    expect(() => hub.connect(viewer, new RecordingSink())).toThrow(expect.objectContaining({ code: "rate_limited" }));

    const subscribe = (i: number) => hub.subscribeEncoded(conns[i]!, { channel: "tasks" }).then((p) => p.result.subscriptionId);
    const ids = [await subscribe(0), await subscribe(0), await subscribe(1), await subscribe(2)];
    await expect(subscribe(1)).rejects.toMatchObject({ code: "rate_limited" });
    await expect(hub.subscribeEncoded(other, { channel: "tasks" })).resolves.toBeTruthy();
    hub.unsubscribe(conns[0]!, ids[0]!);
    ids[0] = await subscribe(1);
    await expect(subscribe(2)).rejects.toMatchObject({ code: "rate_limited" });
    // A refused subscribe holds nothing.
    hub.disconnect(conns[1]!); // held two
    await subscribe(2);
    await subscribe(0);
    await expect(subscribe(0)).rejects.toMatchObject({ code: "rate_limited" });
    for (const conn of conns) hub.disconnect(conn);
    hub.disconnect(other);
    expect(hub.stats()).toMatchObject({ connections: 0, subscriptions: 0, tokens: 0 });
    // Everything came back: the full allowance again.
    const fresh = [hub.connect(viewer, new RecordingSink()), hub.connect(viewer, new RecordingSink()), hub.connect(viewer, new RecordingSink())];
    for (let i = 0; i < 4; i++) await hub.subscribeEncoded(fresh[i % 3]!, { channel: "tasks" });
    await expect(hub.subscribeEncoded(fresh[0]!, { channel: "tasks" })).rejects.toMatchObject({ code: "rate_limited" });
  });

  it("releases the subscription of a subscribe whose history read fails", async () => {
    class FailingStore extends MemoryHistoryStore {
      fail = false;
      override async read(q: ReadQuery) {
        if (this.fail) throw new Error("read failed");
        return super.read(q);
      }
    }
    const store = new FailingStore();
    const hub = await startHub({ store, maxSubscriptionsPerToken: 1 });
    const conn = hub.connect(viewer, new RecordingSink());
    store.fail = true;
    await expect(hub.subscribeEncoded(conn, { channel: "tasks" })).rejects.toThrow("read failed");
    store.fail = false;
    await expect(hub.subscribeEncoded(conn, { channel: "tasks" })).resolves.toBeTruthy();
    await expect(hub.subscribeEncoded(conn, { channel: "tasks" })).rejects.toMatchObject({ code: "rate_limited" });
  });

  it("a full sink takes part of a backlog; the rest follows, in order, and the next pump serves the others first", async () => {
    const hub = await startHub();
    const sink = new RecordingSink();
    const conn = hub.connect(viewer, sink);
    const a = await hub.subscribeEncoded(conn, { channel: "tasks" });
    const b = await hub.subscribeEncoded(conn, { channel: "tasks" });
    a.activate();
    b.activate();
    sink.room = 4;
    await hub.publish(admin, "tasks", Array.from({ length: 6 }, (_, i) => ({ type: "task.created", payload: { i } })));
    await flush();
    expect(sink.events.map((e) => e.subscriptionId)).toEqual(Array(4).fill(a.result.subscriptionId));
    sink.room = 4;
    sink.setWritable();
    await flush();
    // b was not reached by the first pump: it goes first now.
    expect(sink.events.slice(4).map((e) => e.subscriptionId)).toEqual(Array(4).fill(b.result.subscriptionId));
    sink.room = Number.POSITIVE_INFINITY;
    sink.setWritable();
    await flush();
    expect(sink.batches).toEqual([4, 4, 2, 2]);
    for (const { result } of [a, b]) {
      expect(sink.events.filter((e) => e.subscriptionId === result.subscriptionId).map((e) => e.event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(hub.stats().queuedEvents).toBe(0);
  });
});
