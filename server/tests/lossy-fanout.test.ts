import { afterAll, describe, expect, it, vi } from "vitest";
import type { GapNotice, SwitchboardEvent } from "../../lib/protocol";
import { MemoryBus, MemoryFanout } from "../channels/backends/memory";
import { createCatalog } from "../channels/catalog";
import { Hub } from "../channels/hub";
import type { Principal, SubscriberSink } from "../channels/subscriber";
import { createPool } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { PostgresHistoryStore } from "../history/postgres-store";
import { createScratchDatabase, machinePostgresAvailable } from "./support/services";

const silent = { info() {}, warn() {}, error() {} };
const publisher: Principal = { role: "publisher", tokenId: "t-pub" };
const viewer: Principal = { role: "viewer", tokenId: "t-viewer" };

class RecordingSink implements SubscriberSink {
  events: SwitchboardEvent[] = [];
  gaps: GapNotice[] = [];
  sendEvents(events: readonly SwitchboardEvent[]) {
    this.events.push(...events);
    return events.length;
  }
  sendGap(notice: GapNotice) {
    this.gaps.push(notice);
  }
  isWritable() {
    return true;
  }
  onceWritable() {}
  close() {}
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("catch-up from the database repairs what fanout loses", () => {
  it("two nodes on one PostgreSQL store and a bus that loses every third batch: each subscriber of the second gets every event once, in order, the last after catchUp()", async (ctx) => {
    if (!(await machinePostgresAvailable())) return ctx.skip();
    const db = await createScratchDatabase();
    cleanups.push(db.drop);
    await applyMigrations(db.url);
    let batches = 0;
    const lost: number[][] = [];
    // Every third batch is lost, the last one (the 30th) among them.
    const bus = new MemoryBus({
      drop: (events) => {
        if (++batches % 3 !== 0) return false;
        lost.push(events.map((e) => e.seq));
        return true;
      },
    });
    const startNode = async () => {
      const pool = createPool(db.url, 4, () => {});
      const store = new PostgresHistoryStore(pool);
      const hub = new Hub({
        catalog: createCatalog({ retention: 10_000, maxBacklog: 1000, backpressure: "drop-oldest" }),
        store,
        fanout: new MemoryFanout(bus),
        logger: silent,
        maxPayloadBytes: 4096,
        // An event that arrives after a hole waits this long before the hole is read from the database.
        sequencer: { holdMs: 50 },
      });
      await hub.start();
      cleanups.push(async () => {
        await hub.stop();
        await store.stop();
        await pool.end();
      });
      return hub;
    };
    const first = await startNode();
    const second = await startNode();

    const subscribe = async (filter?: { agent: string }) => {
      const sink = new RecordingSink();
      const conn = second.connect(viewer, sink);
      const { result, activate } = await second.subscribeEncoded(conn, { channel: "tasks", since: 0, filter });
      expect(JSON.parse(result.historyJson)).toEqual([]);
      activate();
      return sink;
    };
    const sinks = [await subscribe(), await subscribe(), await subscribe()];
    const filtered = await subscribe({ agent: "a" });

    // Three producers on the first node, 10 publishes each of 1 to 3 events.
    await Promise.all(
      [0, 1, 2].map(async (p) => {
        for (let i = 0; i < 10; i++) {
          const inputs = Array.from({ length: 1 + ((p + i) % 3) }, (_, k) => ({ type: "task.created", agent: k % 2 ? "b" : "a", payload: { p, i, k } }));
          await first.publish(publisher, "tasks", inputs);
        }
      }),
    );
    expect(batches).toBe(30);
    expect(bus.dropped).toBe(10);
    const committed = (await first.history("tasks", { limit: 1000 })).count;
    const all = Array.from({ length: committed }, (_, i) => i + 1);
    const onlyA = JSON.parse((await first.history("tasks", { limit: 1000, filter: { agents: ["a"] } })).eventsJson) as SwitchboardEvent[];

    // A lost batch that later ones reveal is read from the database by the sequencer; the last batch
    // was lost too, and nothing reveals it: the second node stays behind until it catches up.
    const tail = lost.find((seqs) => seqs.includes(committed));
    expect(tail).toBeDefined();
    const beforeTail = (seq: number) => seq < Math.min(...tail!);
    await vi.waitFor(() => {
      for (const sink of sinks) expect(sink.events.map((e) => e.seq)).toEqual(all.filter(beforeTail));
      expect(filtered.events.map((e) => e.seq)).toEqual(onlyA.map((e) => e.seq).filter(beforeTail));
    }, { timeout: 20_000 });
    expect(second.channels().find((c) => c.name === "tasks")?.lastSeq).toBe(Math.min(...tail!) - 1);

    await second.catchUp();
    await vi.waitFor(() => {
      for (const sink of sinks) expect(sink.events.map((e) => e.seq)).toEqual(all);
      expect(filtered.events.map((e) => e.seq)).toEqual(onlyA.map((e) => e.seq));
    }, { timeout: 20_000 });
    for (const sink of [...sinks, filtered]) expect(sink.gaps).toEqual([]);
    expect(second.channels().find((c) => c.name === "tasks")?.lastSeq).toBe(committed);
  });
});
