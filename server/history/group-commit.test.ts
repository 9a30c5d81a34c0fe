import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { SwitchboardError } from "../channels/errors";
import { GroupCommitter } from "./group-commit";
import type { NewEvent } from "./store";

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
});
