import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareNewestFirst, NewestFirstBuffer } from "./feed-buffer";
import type { SwitchboardEvent } from "./protocol";

const eventArb = fc
  .record({
    id: fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `id-${i}`)),
    channel: fc.constantFrom("tasks", "agents", "budget"),
    seq: fc.integer({ min: 1, max: 60 }),
    ms: fc.integer({ min: 0, max: 20 }),
  })
  .map(
    ({ id, channel, seq, ms }): SwitchboardEvent => ({
      v: 1,
      id,
      channel,
      seq,
      type: "task.created",
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString(),
      agent: null,
      project: null,
      payload: {},
    }),
  );

/** The reference model, written plainly: first copy of each id wins, sort, keep the newest. */
function expected(events: SwitchboardEvent[], capacity: number) {
  const seen = new Map<string, SwitchboardEvent>();
  for (const e of events) if (!seen.has(e.id)) seen.set(e.id, e);
  return [...seen.values()].sort(compareNewestFirst).slice(0, capacity);
}

describe("NewestFirstBuffer", () => {
  it("keeps the newest distinct events, sorted, whatever order and batches they arrive in", () => {
    fc.assert(
      fc.property(fc.array(fc.array(eventArb, { maxLength: 15 }), { maxLength: 8 }), fc.integer({ min: 1, max: 25 }), (batches, capacity) => {
        const buffer = new NewestFirstBuffer(capacity);
        for (const batch of batches) buffer.add(batch);
        const rows = buffer.toArray();
        expect(rows.length).toBeLessThanOrEqual(capacity);
        expect(new Set(rows.map((e) => e.id)).size).toBe(rows.length);
        expect([...rows].sort(compareNewestFirst)).toEqual(rows);
        // Only when no id was evicted and re-added can the result be compared with the model exactly.
        const all = batches.flat();
        if (new Set(all.map((e) => e.id)).size <= capacity) expect(rows).toEqual(expected(all, capacity));
      }),
      { numRuns: 500 },
    );
  });

  it("reads the same rows however often it is read between batches, and never changes rows it handed out", () => {
    fc.assert(
      fc.property(fc.array(fc.array(eventArb, { maxLength: 15 }), { maxLength: 8 }), fc.integer({ min: 1, max: 25 }), (generated, capacity) => {
        // One event per id, as on the wire (an id that comes again is the same event).
        const byId = new Map<string, SwitchboardEvent>();
        const batches = generated.map((batch) => batch.map((e) => byId.get(e.id) ?? (byId.set(e.id, e), e)));
        const readOnce = new NewestFirstBuffer(capacity);
        const readOften = new NewestFirstBuffer(capacity);
        const handedOut: { rows: readonly SwitchboardEvent[]; copy: SwitchboardEvent[] }[] = [];
        for (const batch of batches) {
          readOnce.add(batch);
          readOften.add(batch);
          const rows = readOften.toArray();
          handedOut.push({ rows, copy: [...rows] });
        }
        expect(readOften.toArray()).toEqual(readOnce.toArray());
        expect(readOften.size).toBe(readOften.toArray().length);
        for (const { rows, copy } of handedOut) expect(rows).toEqual(copy);
      }),
      { numRuns: 500 },
    );
  });

  it("says whether the rows changed, so a duplicate does not cause a render", () => {
    const buffer = new NewestFirstBuffer(10);
    const [event] = fc.sample(eventArb, 1);
    expect(buffer.add([event!])).toBe(true);
    expect(buffer.add([event!])).toBe(false);
  });

  it("orders by time, then seq, newest first", () => {
    const at = (ms: number, seq: number) => ({ ts: new Date(ms).toISOString(), seq, channel: "tasks", id: `${ms}-${seq}` }) as SwitchboardEvent;
    const rows = [at(1000, 1), at(2000, 1), at(2000, 7), at(1500, 9)].sort(compareNewestFirst);
    expect(rows.map((e) => e.id)).toEqual(["2000-7", "2000-1", "1500-9", "1000-1"]);
  });
});
