import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeFilter } from "../channels/filter";
import type { HistoryStore, NewEvent } from "../channels/history-store";

const newEvent = (channel: string, fields: Partial<NewEvent> = {}): NewEvent => ({
  v: 1,
  id: randomUUID(),
  channel,
  type: "task.created",
  ts: new Date().toISOString(),
  agent: null,
  project: null,
  payload: {},
  ...fields,
});

/** Names no other test uses: every test writes to channels of its own, so any test runs alone and in any order. */
const channelNames = (...labels: string[]) => {
  const run = randomUUID().slice(0, 8);
  return labels.map((label) => `${label}-${run}`);
};

/** Three events on two channels, the second of `alpha` with a nested, non-ASCII payload. */
const alphaBetaInput = (alpha: string, beta: string) => [
  newEvent(alpha, { payload: { n: 1 } }),
  newEvent(beta, { payload: { n: 2 } }),
  newEvent(alpha, { payload: { n: 3, nested: { list: [1, "two", null], text: "ünïcødé ✓" } } }),
];

/** 25 events, seqs 1..25. */
const pagingInput = (channel: string) => Array.from({ length: 25 }, (_, i) => newEvent(channel, { payload: { i } }));

/** One plain event (seq 1, which the filter reads skip with `after: 1`), then four to filter (seqs 2..5). */
const filterInput = (channel: string) => [
  newEvent(channel),
  newEvent(channel, { agent: "a1", project: "p1", type: "task.created" }),
  newEvent(channel, { agent: "a2", project: "p1", type: "task.status_changed" }),
  newEvent(channel, { agent: "a1", project: "p2", type: "agent.hired" }),
  newEvent(channel, { agent: null, project: null, type: "task_other.created" }),
];

/**
 * The one suite every HistoryStore implementation passes. `open` gives a started-from-scratch store
 * over an empty database; `close` releases it. The tests share the store, not data: each starts and
 * writes channels of its own.
 */
export function describeHistoryStoreContract(
  name: string,
  open: () => Promise<{ store: HistoryStore; close: () => Promise<void> } | null>,
) {
  describe(`HistoryStore contract: ${name}`, () => {
    let store: HistoryStore;
    let close: () => Promise<void> = async () => {};
    /** Fresh channels, started. */
    const channels = async (...labels: string[]) => {
      const names = channelNames(...labels);
      await store.start(names);
      return names as [string, ...string[]];
    };

    beforeAll(async () => {
      const opened = await open();
      if (!opened) return;
      store = opened.store;
      close = opened.close;
    });
    afterAll(() => close());

    it("starts every channel at seq 0 and is idempotent to start again", async () => {
      const names = channelNames("alpha", "beta", "gamma");
      await store.start(names);
      await store.start(names);
      const heads = await store.heads();
      for (const c of names) expect(heads.get(c)).toBe(0);
    });

    it("assigns each channel's seqs from 1 in array order, and returns the events as committed", async () => {
      const [alpha, beta] = (await channels("alpha", "beta")) as [string, string];
      const out = await store.append(alphaBetaInput(alpha, beta));
      expect(out.map((e) => [e.channel, e.seq])).toEqual([[alpha, 1], [beta, 1], [alpha, 2]]);
      const read = await store.read({ channel: alpha, limit: 10 });
      expect(read.events).toEqual([out[0], out[2]]);
      expect(read.head).toBe(2);
    });

    it("is atomic: a call that fails stores nothing and burns no seq", async () => {
      const [gamma] = await channels("gamma");
      const [undeclared] = channelNames("undeclared");
      const before = (await store.heads()).get(gamma);
      await expect(store.append([newEvent(gamma), newEvent(undeclared!)])).rejects.toThrow();
      expect((await store.heads()).get(gamma)).toBe(before);
      expect((await store.read({ channel: gamma, limit: 10 })).events).toEqual([]);
      const [next] = await store.append([newEvent(gamma)]);
      expect(next!.seq).toBe(before! + 1);
    });

    it("keeps seqs gapless under concurrent appends, each call's events in its own order", async () => {
      const [race] = await channels("race");
      const calls = Array.from({ length: 8 }, (_, c) => store.append(Array.from({ length: 25 }, (_, i) => newEvent(race, { payload: { c, i } }))));
      const results = await Promise.all(calls);
      for (const events of results) {
        const seqs = events.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      const all = results.flat().map((e) => e.seq).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    });

    it("never shows an event without all earlier ones of its channel (commit order is seq order)", async () => {
      const [delta] = await channels("delta");
      let stop = false;
      const writers = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 15 && !stop; i++) await store.append([newEvent(delta), newEvent(delta)]);
      });
      const reader = (async () => {
        for (let i = 0; i < 40; i++) {
          const { events, head } = await store.read({ channel: delta, limit: 1000 });
          expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, k) => k + 1));
          expect(events.length).toBe(head);
        }
      })();
      await reader.finally(() => {
        stop = true;
      });
      await Promise.all(writers);
    });

    it("pages oldest-first with after/limit/hasMore, reads the newest n, and stops at upTo", async () => {
      const [paging] = await channels("paging");
      await store.append(pagingInput(paging));
      const first = await store.read({ channel: paging, limit: 10 });
      expect(first.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(first.hasMore).toBe(true);
      const last = await store.read({ channel: paging, after: 20, limit: 10 });
      expect(last.events.map((e) => e.seq)).toEqual([21, 22, 23, 24, 25]);
      expect(last.hasMore).toBe(false);
      const newest = await store.read({ channel: paging, limit: 3, newest: true });
      expect(newest.events.map((e) => e.seq)).toEqual([23, 24, 25]);
      const bounded = await store.read({ channel: paging, after: 5, upTo: 8, limit: 100 });
      expect(bounded.events.map((e) => e.seq)).toEqual([6, 7, 8]);
      const none = await store.read({ channel: paging, limit: 0 });
      expect(none).toMatchObject({ events: [], head: 25 });
    });

    it("stops a page at maxBytes of event JSON, always with one event, and says there is more", async () => {
      // 20 events of about 1 KB, with a multi-byte character and escapes so bytes and characters differ.
      const [bytes] = await channels("bytes");
      const text = `ü"\\${"x".repeat(1000)}`;
      await store.append(Array.from({ length: 20 }, (_, i) => newEvent(bytes, { agent: "a1", payload: { i, text } })));
      const jsonBytes = (events: unknown[]) => Buffer.byteLength(JSON.stringify(events));
      const budget = 5 * 1024;
      const seen: number[] = [];
      let after = 0;
      for (let pages = 0; pages < 20; pages++) {
        const page = await store.readEncoded({ channel: bytes, after, limit: 100, maxBytes: budget });
        expect(Buffer.byteLength(page.eventsJson)).toBeLessThanOrEqual(budget);
        const events = JSON.parse(page.eventsJson) as { seq: number }[];
        expect(events.length).toBeGreaterThan(0);
        seen.push(...events.map((e) => e.seq));
        if (!page.hasMore) break;
        after = page.lastSeq!;
      }
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

      const read = await store.read({ channel: bytes, limit: 100, maxBytes: budget });
      expect(read.events.length).toBeGreaterThan(1);
      expect(read.events.length).toBeLessThan(20);
      expect(jsonBytes(read.events)).toBeLessThanOrEqual(budget);
      expect(read.hasMore).toBe(true);

      // The newest n, cut at the budget: the newest ones are kept, and hasMore says older ones were left out.
      const newest = await store.readEncoded({ channel: bytes, limit: 20, newest: true, maxBytes: budget, filter: normalizeFilter({ agent: "a1" }) });
      const newestSeqs = (JSON.parse(newest.eventsJson) as { seq: number }[]).map((e) => e.seq);
      expect(newestSeqs.at(-1)).toBe(20);
      expect(newestSeqs).toEqual(Array.from({ length: newestSeqs.length }, (_, i) => 21 - newestSeqs.length + i));
      expect(newestSeqs.length).toBeLessThan(20);
      expect(newest.hasMore).toBe(true);

      // A budget smaller than one event still returns that event, so a reader always moves on.
      const tiny = await store.readEncoded({ channel: bytes, after: 3, limit: 100, maxBytes: 10 });
      expect(tiny).toMatchObject({ count: 1, lastSeq: 4, hasMore: true });
      // Without a cut, hasMore is about the limit only, also for the newest n.
      expect((await store.read({ channel: bytes, limit: 20, newest: true })).hasMore).toBe(false);
      expect((await store.read({ channel: bytes, limit: 19, newest: true })).hasMore).toBe(true);
    });

    it("filters by agent, project, exact type and type prefix, combined with AND", async () => {
      const [beta] = await channels("beta");
      await store.append(filterInput(beta));
      const types = async (filter: Parameters<typeof normalizeFilter>[0]) =>
        (await store.read({ channel: beta, after: 1, limit: 100, filter: normalizeFilter(filter) })).events.map((e) => `${e.agent}/${e.project}/${e.type}`);
      expect(await types({ agent: "a1" })).toEqual(["a1/p1/task.created", "a1/p2/agent.hired"]);
      expect(await types({ agent: ["a1", "a2"], project: "p1" })).toEqual(["a1/p1/task.created", "a2/p1/task.status_changed"]);
      expect(await types({ type: "task.*" })).toEqual(["a1/p1/task.created", "a2/p1/task.status_changed"]);
      expect(await types({ type: ["agent.hired", "task.status_changed"] })).toEqual(["a2/p1/task.status_changed", "a1/p2/agent.hired"]);
      expect(await types({ type: "task.*", agent: "a1" })).toEqual(["a1/p1/task.created"]);
      expect(await types({ project: "nobody" })).toEqual([]);
      expect(await types({ type: "task.created", project: ["p1", "p2"] })).toEqual(["a1/p1/task.created"]);
      // The newest n across several values of a field come merged in seq order.
      const newest = await store.read({ channel: beta, after: 1, limit: 2, newest: true, filter: normalizeFilter({ agent: ["a2", "a1"] }) });
      expect(newest.events.map((e) => `${e.agent}/${e.type}`)).toEqual(["a2/task.status_changed", "a1/agent.hired"]);
    });

    it("readEncoded answers every read as read does, with the events as their JSON", async () => {
      const [alpha, beta, paging] = (await channels("alpha", "beta", "paging")) as [string, string, string];
      await store.append([...alphaBetaInput(alpha, beta), ...pagingInput(paging)]);
      await store.append(filterInput(beta).slice(1)); // beta's seq 1 is the one alphaBetaInput wrote
      const queries: Parameters<HistoryStore["read"]>[0][] = [
        { channel: alpha, limit: 10 },
        { channel: paging, limit: 10 },
        { channel: paging, after: 20, limit: 10 },
        { channel: paging, limit: 3, newest: true },
        { channel: paging, after: 5, upTo: 8, limit: 100 },
        { channel: paging, limit: 0 },
        { channel: beta, after: 1, limit: 2, newest: true, filter: normalizeFilter({ agent: ["a2", "a1"] }) },
        { channel: beta, after: 1, limit: 100, filter: normalizeFilter({ type: "task.*" }) },
        { channel: beta, limit: 100, filter: normalizeFilter({ project: "nobody" }) },
      ];
      for (const query of queries) {
        const [read, encoded] = await Promise.all([store.read(query), store.readEncoded(query)]);
        expect(JSON.parse(encoded.eventsJson)).toEqual(read.events);
        expect(encoded).toMatchObject({ count: read.events.length, lastSeq: read.events.at(-1)?.seq ?? null, head: read.head, hasMore: read.hasMore });
      }
    });

    it("prunes all but the newest N of a channel, and keeps counting from where it was", async () => {
      const [prune] = await channels("prune");
      await store.append(Array.from({ length: 10 }, () => newEvent(prune)));
      expect(await store.prune(prune, 4)).toBe(6);
      const read = await store.read({ channel: prune, limit: 100 });
      expect(read.events.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
      const [next] = await store.append([newEvent(prune)]);
      expect(next!.seq).toBe(11);
    });

    it("finds where a replay from a point in time starts", async () => {
      const t0 = Date.parse("2026-01-01T00:00:00.000Z");
      const at = (ms: number) => new Date(t0 + ms).toISOString();
      const [timeline] = await channels("timeline");
      await store.append([0, 1000, 2000, 3000].map((ms) => newEvent(timeline, { ts: at(ms) })));
      expect(await store.seqBefore(timeline, new Date(t0))).toBe(0);
      expect(await store.seqBefore(timeline, new Date(t0 + 1))).toBe(1);
      expect(await store.seqBefore(timeline, new Date(t0 + 1500))).toBe(2);
      expect(await store.seqBefore(timeline, new Date(t0 + 60_000))).toBe(4);
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
