import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { SwitchboardError } from "./errors";
import { GroupCommitter } from "./group-commit";
import type { NewEvent } from "./history-store";

const newEvent = (n: number): NewEvent => ({
  v: 1,
  id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  channel: "tasks",
  type: "task.created",
  ts: new Date(0).toISOString(),
  agent: null,
  project: null,
  payload: { n },
});

function countingWriter(fail = false) {
  const batches: number[] = [];
  let seq = 0;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  return {
    batches,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
    write: async (events: readonly NewEvent[]): Promise<SwitchboardEvent[]> => {
      await gate;
      batches.push(events.length);
      if (fail) throw new Error("connection refused");
      return events.map((e) => ({ ...e, seq: ++seq }));
    },
  };
}

describe("GroupCommitter", () => {
  it("groups appends that arrive during a transaction into the next one, and gives each caller its own events", async () => {
    const writer = countingWriter();
    const committer = new GroupCommitter(writer.write, { maxBatch: 1000, maxPending: 10_000 });
    writer.hold();
    const first = committer.append([newEvent(0)]);
    const rest = Array.from({ length: 20 }, (_, i) => committer.append([newEvent(i + 1), newEvent(i + 100)]));
    writer.release();
    const results = await Promise.all([first, ...rest]);
    expect(writer.batches).toEqual([1, 40]);
    results.slice(1).forEach((events, i) => {
      expect(events.map((e) => e.payload.n)).toEqual([i + 1, i + 100]);
    });
    const seqs = results.flat().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("rejects every caller of a failed transaction with `unavailable`", async () => {
    const writer = countingWriter(true);
    const committer = new GroupCommitter(writer.write, { maxBatch: 1000, maxPending: 10_000 });
    const results = await Promise.allSettled([committer.append([newEvent(1)]), committer.append([newEvent(2)])]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SwitchboardError);
      expect((r as PromiseRejectedResult).reason.code).toBe("unavailable");
    }
  });

  it("refuses appends beyond maxPending instead of queueing without bound", async () => {
    const writer = countingWriter();
    writer.hold();
    const committer = new GroupCommitter(writer.write, { maxBatch: 10, maxPending: 5 });
    const accepted = committer.append([1, 2, 3, 4].map(newEvent));
    await expect(committer.append([5, 6].map(newEvent))).rejects.toMatchObject({ code: "unavailable" });
    writer.release();
    await expect(accepted).resolves.toHaveLength(4);
  });

  it("close() waits for accepted appends and refuses new ones", async () => {
    const writer = countingWriter();
    writer.hold();
    const committer = new GroupCommitter(writer.write, { maxBatch: 10, maxPending: 100 });
    const accepted = committer.append([newEvent(1)]);
    const closing = committer.close();
    await expect(committer.append([newEvent(2)])).rejects.toMatchObject({ code: "unavailable" });
    writer.release();
    await closing;
    await expect(accepted).resolves.toHaveLength(1);
  });

  it("isolates the calls whose events the store refuses for their data: the others commit, in arrival order", async () => {
    // A store that refuses any transaction carrying a poisoned event, as PostgreSQL refuses a whole
    // statement for one bad value; validation catches every such value first, so a fake is the only
    // way to make the store refuse one.
    const poisoned = new Set([3, 7, 8]);
    const transactions: number[][] = [];
    let seq = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    const write = async (events: readonly NewEvent[]): Promise<SwitchboardEvent[]> => {
      if (first) {
        first = false;
        await gate;
      }
      transactions.push(events.map((e) => e.payload.n as number));
      if (events.some((e) => poisoned.has(e.payload.n as number))) {
        throw new SwitchboardError("invalid_request", "The database refused the event (SQLSTATE 22P05): unsupported Unicode escape sequence.");
      }
      return events.map((e) => ({ ...e, seq: ++seq }));
    };
    const commits: number[] = [];
    const committer = new GroupCommitter(write, { maxBatch: 1000, maxPending: 10_000, onCommit: (n) => commits.push(n) });
    const head = committer.append([newEvent(0)]);
    // 1..10 wait together behind the held transaction; 3, 7 and 8 are poisoned.
    const calls = Array.from({ length: 10 }, (_, i) => committer.append([newEvent(i + 1), newEvent(100 + i + 1)]));
    release();
    await head;
    const results = await Promise.allSettled(calls);
    results.forEach((r, i) => {
      const n = i + 1;
      if (poisoned.has(n)) {
        expect(r.status, `call ${n}`).toBe("rejected");
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "invalid_request", message: expect.stringContaining("refused the event") });
      } else {
        expect(r.status, `call ${n}`).toBe("fulfilled");
        expect((r as PromiseFulfilledResult<SwitchboardEvent[]>).value.map((e) => e.payload.n)).toEqual([n, 100 + n]);
      }
    });
    // Seqs are gapless and follow arrival: the good calls' events in queue order.
    const stored = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 2));
    expect(stored.map((e) => e.payload.n)).toEqual([1, 101, 2, 102, 4, 104, 5, 105, 6, 106, 9, 109, 10, 110]);
    // The whole batch was tried once, then halves: never more transactions than a bisection needs.
    expect(transactions[1]).toHaveLength(20);
    expect(transactions.length).toBeLessThanOrEqual(2 + 2 * 3 * Math.ceil(Math.log2(10)));
    expect(commits.reduce((a, b) => a + b, 0)).toBe(1 + 14);
    await committer.close();
    expect(committer.pendingEvents).toBe(0);
  });

  it("refuses a lone call the store refuses for its data with that refusal, and goes on with the next", async () => {
    let seq = 0;
    const write = async (events: readonly NewEvent[]): Promise<SwitchboardEvent[]> => {
      if (events.some((e) => e.payload.n === 1)) throw new SwitchboardError("invalid_request", "The database refused the event.");
      return events.map((e) => ({ ...e, seq: ++seq }));
    };
    const committer = new GroupCommitter(write, { maxBatch: 1000, maxPending: 10_000 });
    await expect(committer.append([newEvent(1)])).rejects.toMatchObject({ code: "invalid_request" });
    await expect(committer.append([newEvent(2)])).resolves.toMatchObject([{ seq: 1 }]);
  });

  it("does not split a batch the store could not write for other reasons", async () => {
    const transactions: number[] = [];
    // The first write is in flight until the other four calls have queued up behind it.
    let queued!: () => void;
    const allQueued = new Promise<void>((resolve) => (queued = resolve));
    const write = async (events: readonly NewEvent[]): Promise<SwitchboardEvent[]> => {
      transactions.push(events.length);
      await allQueued;
      throw new SwitchboardError("unavailable", "The event store cannot be reached.", { retryAfterSeconds: 2 });
    };
    const committer = new GroupCommitter(write, { maxBatch: 1000, maxPending: 10_000 });
    const first = committer.append([newEvent(0)]);
    const rest = [1, 2, 3, 4].map((n) => committer.append([newEvent(n)]));
    expect(committer.pendingEvents).toBe(5);
    queued();
    const results = await Promise.allSettled([first, ...rest]);
    expect(results.every((r) => r.status === "rejected" && (r.reason as SwitchboardError).code === "unavailable")).toBe(true);
    expect(transactions).toEqual([1, 4]);
  });
});
