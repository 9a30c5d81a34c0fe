import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { testEvent } from "../testing/events";
import { Backlog, type Gap } from "./backlog";

const ev = (seq: number): SwitchboardEvent => testEvent(seq);

/** Expands drained items to the seqs they stand for: events as themselves, gaps as their range. */
function coverage(items: (SwitchboardEvent[] | Gap)[]) {
  const seqs: number[] = [];
  for (const item of items) {
    if (Array.isArray(item)) seqs.push(...item.map((e) => e.seq));
    else for (let s = item.fromSeq; s <= item.toSeq; s++) seqs.push(s);
  }
  return seqs;
}
/** Drains into a fresh array of runs (copied: the backlog reuses its arrays) and gaps. */
function drained(backlog: Backlog) {
  const out: (SwitchboardEvent[] | Gap)[] = [];
  backlog.drain(
    out,
    (into, events) => (into.push([...events]), events.length),
    (into, gap) => into.push({ ...gap }),
  );
  return out;
}
const eventsIn = (items: (SwitchboardEvent[] | Gap)[]) => items.filter(Array.isArray).flat();
const gapsIn = (items: (SwitchboardEvent[] | Gap)[]) => items.filter((i): i is Gap => !Array.isArray(i));

describe("Backlog, drop-oldest", () => {
  it("keeps at most `capacity` events, and events plus gaps account for every seq in order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 10 }), (capacity, bursts) => {
        const backlog = new Backlog(capacity, "drop-oldest");
        let seq = 0;
        const all: number[] = [];
        const seen: number[] = [];
        for (const burst of bursts) {
          for (let i = 0; i < burst; i++) {
            backlog.push(ev(++seq));
            all.push(seq);
            expect(backlog.size).toBeLessThanOrEqual(capacity);
          }
          const items = drained(backlog);
          expect(eventsIn(items).length).toBeLessThanOrEqual(capacity);
          expect(gapsIn(items).length).toBeLessThanOrEqual(1);
          expect(items.every((i) => !Array.isArray(i) || i.length > 0)).toBe(true);
          seen.push(...coverage(items));
        }
        expect(seen).toEqual(all);
      }),
    );
  });

  it("reports the dropped range as one gap at the head", () => {
    const backlog = new Backlog(3, "drop-oldest");
    for (let s = 1; s <= 7; s++) backlog.push(ev(s));
    const items = drained(backlog);
    expect(items[0]).toEqual({ kind: "gap", fromSeq: 1, toSeq: 4 });
    expect(items.slice(1)).toEqual([[ev(5), ev(6), ev(7)]]);
  });

  it("stays bounded over many drops without draining", () => {
    const backlog = new Backlog(10, "drop-oldest");
    for (let s = 1; s <= 100_000; s++) backlog.push(ev(s));
    expect(backlog.size).toBe(10);
    const items = drained(backlog);
    expect(items).toHaveLength(2);
    expect(eventsIn(items)).toHaveLength(10);
    expect(items[0]).toEqual({ kind: "gap", fromSeq: 1, toSeq: 99_990 });
  });

  it("discardThrough drops what history covered, trimming a gap that straddles it", () => {
    const backlog = new Backlog(2, "drop-oldest");
    for (let s = 1; s <= 6; s++) backlog.push(ev(s)); // gap 1-4, events 5, 6
    backlog.discardThrough(2);
    expect(drained(backlog)).toEqual([{ kind: "gap", fromSeq: 3, toSeq: 4 }, [ev(5), ev(6)]]);
    for (let s = 7; s <= 9; s++) backlog.push(ev(s));
    backlog.discardThrough(8);
    expect(coverage(drained(backlog))).toEqual([9]);
  });
});

describe("Backlog, disconnect", () => {
  it("reports overflow instead of dropping, and keeps what it had", () => {
    const backlog = new Backlog(2, "disconnect");
    expect(backlog.push(ev(1))).toBe("queued");
    expect(backlog.push(ev(2))).toBe("queued");
    expect(backlog.push(ev(3))).toBe("overflow");
    expect(coverage(drained(backlog))).toEqual([1, 2]);
  });
});

describe("Backlog, drain", () => {
  it("hands queued events over as one run, and nothing when empty", () => {
    const backlog = new Backlog(10, "drop-oldest");
    expect(drained(backlog)).toEqual([]);
    for (let s = 1; s <= 4; s++) backlog.push(ev(s));
    expect(drained(backlog)).toEqual([[ev(1), ev(2), ev(3), ev(4)]]);
    expect(backlog.isEmpty).toBe(true);
    expect(backlog.size).toBe(0);
  });

  it("keeps events pushed while a drain's callback runs for the next drain", () => {
    const backlog = new Backlog(10, "drop-oldest");
    backlog.push(ev(1));
    backlog.push(ev(2));
    const first: number[] = [];
    backlog.drain(
      first,
      (seqs, events) => {
        seqs.push(...events.map((e) => e.seq));
        backlog.push(ev(3));
        return events.length;
      },
      () => {},
    );
    expect(first).toEqual([1, 2]);
    expect(drained(backlog)).toEqual([[ev(3)]]);
    expect(drained(backlog)).toEqual([]);
  });

  it("a receiver that takes only part of a run leaves the rest queued, in order, ahead of newer events", () => {
    const backlog = new Backlog(10, "drop-oldest");
    for (let seq = 1; seq <= 5; seq++) backlog.push(ev(seq));
    const got: number[] = [];
    const takeTwo = (into: number[], events: readonly SwitchboardEvent[]) => {
      const n = Math.min(2, events.length);
      for (let i = 0; i < n; i++) into.push(events[i]!.seq);
      if (into.length === 2) backlog.push(ev(6)); // arrives while the receiver runs
      return n;
    };
    expect(backlog.drain(got, takeTwo, () => {})).toBe(false);
    expect(got).toEqual([1, 2]);
    expect(backlog.size).toBe(4);
    // A full receiver takes nothing: everything stays.
    expect(backlog.drain(got, () => 0, () => {})).toBe(false);
    expect(backlog.size).toBe(4);
    expect(drained(backlog)).toEqual([[ev(3), ev(4), ev(5), ev(6)]]);
    expect(backlog.isEmpty).toBe(true);
  });

  it("a partial drain keeps gaps and the capacity bound: every seq is delivered or reported once, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 12 }),
        (capacity, steps) => {
          const backlog = new Backlog(capacity, "drop-oldest");
          let seq = 0;
          const seen: number[] = [];
          const drainUpTo = (room: number) =>
            backlog.drain(
              seen,
              (into, events) => {
                const n = Math.min(room, events.length);
                for (let i = 0; i < n; i++) into.push(events[i]!.seq);
                room -= n;
                return n;
              },
              (into, gap) => {
                for (let s = gap.fromSeq; s <= gap.toSeq; s++) into.push(s);
              },
            );
          for (const [burst, room] of steps) {
            for (let i = 0; i < burst; i++) {
              backlog.push(ev(++seq));
              expect(backlog.size).toBeLessThanOrEqual(capacity);
            }
            const before = backlog.size;
            const done = drainUpTo(room);
            expect(done).toBe(backlog.isEmpty);
            expect(backlog.size).toBe(Math.max(0, before - room));
          }
          while (!drainUpTo(3));
          expect(seen).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
        },
      ),
    );
  });
});
