import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { testEvent } from "../testing/events";
import { ChannelSequencer } from "./sequencer";

afterEach(() => {
  vi.useRealTimers();
});

function harness(start: number, history: SwitchboardEvent[] = []) {
  const released: number[] = [];
  const fills: [number, number][] = [];
  const sequencer = new ChannelSequencer(start, {
    holdMs: 50,
    maxHeld: 100,
    fill: async (after, upTo) => {
      fills.push([after, upTo]);
      return history.filter((e) => e.seq > after && e.seq <= upTo);
    },
    deliver: (events) => released.push(...events.map((e) => e.seq)),
    onError: (err) => {
      throw err;
    },
  });
  return { sequencer, released, fills };
}

describe("ChannelSequencer", () => {
  it("releases every seq once and in order, whatever order and repeats fanout delivers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys(), ...Array(n).keys()], { minLength: 2 * n, maxLength: 2 * n })),
        ),
        ([n, order]) => {
          const { sequencer, released } = harness(0);
          for (const i of order) sequencer.offer([testEvent(i + 1)]);
          expect(released).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          sequencer.stop();
        },
      ),
    );
  });

  it("ignores events at or below where it started", () => {
    const { sequencer, released } = harness(10);
    sequencer.offer([testEvent(9), testEvent(10), testEvent(11)]);
    expect(released).toEqual([11]);
  });

  it("reads a hole from history when the missing event does not arrive in time", async () => {
    vi.useFakeTimers();
    const history = [1, 2, 3, 4].map((s) => testEvent(s));
    const { sequencer, released, fills } = harness(0, history);
    sequencer.offer([testEvent(1), testEvent(4)]);
    expect(released).toEqual([1]);
    await vi.advanceTimersByTimeAsync(60);
    expect(fills).toEqual([[1, 3]]);
    expect(released).toEqual([1, 2, 3, 4]);
  });

  it("skips seqs that history no longer has (pruned) instead of waiting forever", async () => {
    vi.useFakeTimers();
    // Retention removes the oldest events: 1 and 2 are gone, 3 and 4 are still there.
    const { sequencer, released } = harness(0, [testEvent(3), testEvent(4)]);
    sequencer.offer([testEvent(5)]);
    await vi.advanceTimersByTimeAsync(60);
    expect(released).toEqual([3, 4, 5]);
  });

  it("reads a large hole page by page until it has all of it", async () => {
    vi.useFakeTimers();
    const history = Array.from({ length: 25 }, (_, i) => testEvent(i + 1));
    const reads: [number, number][] = [];
    const released: number[] = [];
    const sequencer = new ChannelSequencer(0, {
      holdMs: 50,
      maxHeld: 100,
      fill: async (after, upTo) => {
        reads.push([after, upTo]);
        return history.filter((e) => e.seq > after && e.seq <= upTo).slice(0, 10);
      },
      deliver: (events) => released.push(...events.map((e) => e.seq)),
      onError: (err) => {
        throw err;
      },
    });
    sequencer.catchUp(25);
    await vi.advanceTimersByTimeAsync(5);
    expect(released).toEqual(history.map((e) => e.seq));
    expect(reads).toEqual([[0, 25], [10, 25], [20, 25]]);
  });

  it("catchUp reads committed events fanout never delivered", async () => {
    vi.useFakeTimers();
    const { sequencer, released } = harness(2, [1, 2, 3, 4, 5].map((s) => testEvent(s)));
    sequencer.catchUp(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(released).toEqual([3, 4, 5]);
  });
});
