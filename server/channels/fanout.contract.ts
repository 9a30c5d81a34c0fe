import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { testEvent } from "../testing/events";
import type { FanoutBackend } from "./fanout";

/** Backends of several nodes on one medium (one bus, one Redis under one prefix). */
export interface FanoutCluster {
  /** A new node's backend, not started. */
  node(): FanoutBackend;
  /**
   * Cuts a started node off the medium (its connections dropped): it must come back by itself and
   * call `onReconnect`. Absent for a medium that cannot be cut.
   */
  interrupt?(node: FanoutBackend): Promise<void>;
  close(): Promise<void>;
}

interface Node {
  backend: FanoutBackend;
  received: SwitchboardEvent[][];
  reconnects: number;
}

/** Generous: the machine may be busy, and a wait ends as soon as its condition holds. */
const wait = { timeout: 10_000 };

const seqsOf = (batches: SwitchboardEvent[][]) => batches.flat().map((e) => `${e.channel}:${e.seq}`).sort();

/**
 * The one suite every multi-node `FanoutBackend` passes (server/channels/fanout.ts). `open` gives a
 * cluster on a fresh medium, or null when the medium is not available here (the suite is skipped).
 */
export function describeFanoutContract(name: string, open: () => Promise<FanoutCluster | null>) {
  describe(`FanoutBackend contract: ${name}`, () => {
    let cluster: FanoutCluster | null = null;
    const started: FanoutBackend[] = [];

    beforeAll(async () => {
      cluster = await open();
    });
    afterEach(async () => {
      for (const backend of started.splice(0)) await backend.stop();
    });
    afterAll(async () => {
      await cluster?.close();
    });

    async function startNodes(count: number, skip: () => void): Promise<Node[]> {
      if (!cluster) {
        skip();
        return [];
      }
      const nodes: Node[] = [];
      for (let i = 0; i < count; i++) {
        const node: Node = { backend: cluster.node(), received: [], reconnects: 0 };
        await node.backend.start({
          onEvents: (events) => node.received.push(events),
          onReconnect: () => node.reconnects++,
        });
        started.push(node.backend);
        nodes.push(node);
      }
      return nodes;
    }

    it("is up once started, and a batch one node publishes reaches every other node as it was published", async (ctx) => {
      const [a, b, c] = await startNodes(3, () => ctx.skip());
      for (const node of [a!, b!, c!]) expect(node.backend.status()).toBe("up");
      const batch = [
        testEvent(1, { agent: "agent-1", project: "p", payload: { text: "ünïcødé ✓", list: [1, null, { deep: true }] } }),
        testEvent(2, { type: "task.updated", payload: { n: 2 } }),
      ];
      await a!.backend.publish(batch);
      await vi.waitFor(() => {
        expect(b!.received).toEqual([batch]);
        expect(c!.received).toEqual([batch]);
      }, wait);
      // Echoes are allowed, but never anything else.
      for (const got of a!.received) expect(got).toEqual(batch);
    });

    it("carries every batch of several publishing nodes to a listening one", async (ctx) => {
      const [a, b, c] = await startNodes(3, () => ctx.skip());
      const expected: string[] = [];
      await Promise.all(
        [a!, b!].map(async (node, n) => {
          const channel = n === 0 ? "tasks" : "agents";
          for (let seq = 1; seq <= 25; seq++) {
            expected.push(`${channel}:${seq}`);
            await node.backend.publish([testEvent(seq, { channel })]);
          }
        }),
      );
      await vi.waitFor(() => expect(seqsOf(c!.received)).toEqual(expected.sort()), wait);
    });

    it("hands a stopped node nothing more, while the others go on", async (ctx) => {
      const [a, b, c] = await startNodes(3, () => ctx.skip());
      await a!.backend.publish([testEvent(1)]);
      await vi.waitFor(() => expect(b!.received).toHaveLength(1), wait);
      await b!.backend.stop();
      await a!.backend.publish([testEvent(2)]);
      await vi.waitFor(() => expect(seqsOf(c!.received)).toEqual(["tasks:1", "tasks:2"]), wait);
      // c received the second batch; b, stopped, gets nothing (a delivery to b would be as quick as c's).
      await a!.backend.publish([testEvent(3)]);
      await vi.waitFor(() => expect(c!.received).toHaveLength(3), wait);
      expect(seqsOf(b!.received)).toEqual(["tasks:1"]);
    });

    it("comes back by itself after its connection is cut, calls onReconnect for catch-up, and carries batches again", async (ctx) => {
      const [a, b] = await startNodes(2, () => ctx.skip());
      if (!cluster?.interrupt) return ctx.skip();
      await cluster.interrupt(b!.backend);
      await vi.waitFor(() => {
        expect(b!.reconnects).toBeGreaterThanOrEqual(1);
        expect(b!.backend.status()).toBe("up");
      }, { timeout: 10_000 });
      // Resubscribed: a batch published now arrives (one sent before the resubscription may be lost,
      // which is what onReconnect's catch-up is for; so publish until one arrives).
      let seq = 0;
      await vi.waitFor(async () => {
        await a!.backend.publish([testEvent(++seq)]);
        expect(b!.received.length).toBeGreaterThan(0);
      }, { timeout: 10_000, interval: 100 });
    });
  });
}
