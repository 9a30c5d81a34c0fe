import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GapNotice, SwitchboardEvent } from "../../lib/protocol";
import type { CloseReason, SubscriberSink } from "./subscriber";

/** What a sink's peer read, in order. */
export type PeerMessage =
  | { kind: "event"; subscriptionId: string; event: SwitchboardEvent }
  | { kind: "gap"; notice: GapNotice }
  | { kind: "closing"; reason: CloseReason };

/** A sink under test, and its peer: the other end of the connection, as the test steers it. */
export interface OpenedSink {
  sink: SubscriberSink;
  /** What the peer has read so far, in order. */
  received(): readonly PeerMessage[];
  /** Whether the peer saw the connection end. */
  ended(): boolean;
  /** The peer stops reading: what is written piles up in its buffers, then in the sink's. */
  stopReading(): void;
  /** The peer reads again, everything that piled up first. */
  resumeReading(): void;
  /** Frees what `open` made; the sink may be closed or not. */
  dispose(): Promise<void>;
}

/** Events of ~4 KiB, so a sink's buffers fill within a few thousand of them. */
const PAYLOAD = "x".repeat(4096);
/** At most this many events are written while waiting for a peer that does not read to back up. */
const MAX_UNREAD_EVENTS = 5000;
/** Turns of the event loop after which a sink that did not become writable is taken as full. */
const SETTLE_TURNS = 20;

let nextSeq = 1;
function events(n: number, channel = "tasks"): SwitchboardEvent[] {
  return Array.from({ length: n }, () => {
    const seq = nextSeq++;
    return {
      v: 1,
      id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
      channel,
      seq,
      type: "task.created",
      ts: new Date(seq).toISOString(),
      agent: seq % 2 ? "agent-1" : null,
      project: null,
      payload: { seq, text: PAYLOAD, nested: { list: [1, "two", null], unicode: "ünïcødé ✓" } },
    };
  });
}

/** Polls `probe` (every 5 ms) until it holds. */
async function until(probe: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets the event loop turn `n` times: pending I/O callbacks, and what they schedule, run. */
async function turns(n: number) {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Resolves once the sink is writable, as the hub waits for it: `isWritable`, else `onceWritable`. */
function writable(sink: SubscriberSink): Promise<void> {
  if (sink.isWritable()) return Promise.resolve();
  return new Promise((resolve) => sink.onceWritable(() => resolve(writable(sink))));
}

/**
 * Writes `batch` the way the hub's pump does (only after `isWritable()`, the rest after `onceWritable`),
 * checking each call's count: at least one, at most what it was offered.
 */
async function sendAll(sink: SubscriberSink, batch: readonly SwitchboardEvent[], subscriptionId: string) {
  let from = 0;
  while (from < batch.length) {
    await writable(sink);
    const offered = batch.slice(from);
    const taken = sink.sendEvents(offered, subscriptionId);
    expect(taken).toBeGreaterThanOrEqual(1);
    expect(taken).toBeLessThanOrEqual(offered.length);
    from += taken;
  }
}

const delivered = (messages: readonly PeerMessage[], subscriptionId?: string) =>
  messages.flatMap((m) => (m.kind === "event" && (subscriptionId === undefined || m.subscriptionId === subscriptionId) ? [m.event] : []));

/**
 * The one suite every SubscriberSink passes, with a peer that reads and one that stops: what the hub
 * relies on when it pumps backlogs into a sink. `open` gives a fresh, writable sink and its peer.
 */
export function describeSubscriberSinkContract(name: string, open: () => Promise<OpenedSink>) {
  describe(`SubscriberSink contract: ${name}`, () => {
    let opened: OpenedSink;
    let sink: SubscriberSink;
    beforeEach(async () => {
      opened = await open();
      sink = opened.sink;
    });
    afterEach(() => opened.dispose());

    it("delivers what sendEvents takes, in order, each event as given, with its subscription", async () => {
      const a = events(12);
      const b = events(5, "agents");
      await sendAll(sink, a.slice(0, 1), "sub-a");
      await sendAll(sink, a.slice(1), "sub-a");
      await sendAll(sink, b, "sub-b");
      await until(() => delivered(opened.received()).length === a.length + b.length, "every event delivered");
      expect(delivered(opened.received(), "sub-a")).toEqual(a);
      expect(delivered(opened.received(), "sub-b")).toEqual(b);
      expect(opened.received().map((m) => (m.kind === "event" ? m.subscriptionId : m.kind))).toEqual([...a.map(() => "sub-a"), ...b.map(() => "sub-b")]);
    });

    it("sends or copies the events during sendEvents: the array may be reused as soon as it returns", async () => {
      const batch = events(3);
      const expected = [...batch];
      await writable(sink);
      const taken = sink.sendEvents(batch, "sub-a");
      const others = events(3);
      batch.splice(0, batch.length, ...others); // the backlog reuses its array
      await until(() => delivered(opened.received()).length === taken, "the events delivered");
      expect(delivered(opened.received())).toEqual(expected.slice(0, taken));
    });

    it("delivers sendGap in place, between the events sent before and after it", async () => {
      const [before, after] = [events(2), events(2)];
      const notice: GapNotice = { subscriptionId: "sub-a", channel: "tasks", fromSeq: 10, toSeq: 20 };
      await sendAll(sink, before, "sub-a");
      await writable(sink);
      sink.sendGap(notice);
      await sendAll(sink, after, "sub-a");
      await until(() => opened.received().length === 5, "events and the gap delivered");
      expect(opened.received()).toEqual([
        ...before.map((event) => ({ kind: "event", subscriptionId: "sub-a", event })),
        { kind: "gap", notice },
        ...after.map((event) => ({ kind: "event", subscriptionId: "sub-a", event })),
      ]);
    });

    it("while the peer does not read: takes part of a batch when full, then is not writable; onceWritable is called once, when the peer has drained it", async () => {
      await writable(sink);
      opened.stopReading();
      const taken: SwitchboardEvent[] = [];
      let partial = false;
      let drains = 0;
      let writableAtDrain: boolean | null = null;
      for (;;) {
        expect(taken.length).toBeLessThan(MAX_UNREAD_EVENTS); // a sink that never fills up is unbounded
        if (sink.isWritable()) {
          const batch = events(64);
          const n = sink.sendEvents(batch, "sub-a");
          expect(n).toBeGreaterThanOrEqual(1);
          if (n < batch.length) partial = true;
          taken.push(...batch.slice(0, n));
          continue;
        }
        let called = false;
        sink.onceWritable(() => {
          called = true;
          drains++;
          writableAtDrain = sink.isWritable();
        });
        await turns(SETTLE_TURNS);
        if (!called) break; // full: the callback waits for the peer
      }
      drains = 0;
      // It stays full while the peer does not read, and the callback waits.
      await turns(SETTLE_TURNS);
      expect(sink.isWritable()).toBe(false);
      expect(drains).toBe(0);
      expect(partial).toBe(true);

      opened.resumeReading();
      await until(() => drains > 0, "onceWritable called after the peer drained the sink");
      expect(writableAtDrain).toBe(true);
      await until(() => delivered(opened.received()).length === taken.length, "everything taken delivered");
      // Exactly what sendEvents took, no more: the rest of each batch was not written.
      expect(delivered(opened.received())).toEqual(taken);
      // Once: writing on (and the sink draining again) does not call it a second time.
      const more = events(3);
      await sendAll(sink, more, "sub-a");
      await until(() => delivered(opened.received()).length === taken.length + more.length, "the next events delivered");
      await turns(SETTLE_TURNS);
      expect(drains).toBe(1);
    });

    it("close('shutdown') delivers what was sent before it, then the closing notice, then ends the connection", async () => {
      const batch = events(3);
      await sendAll(sink, batch, "sub-a");
      sink.close("shutdown");
      await until(() => opened.ended(), "the connection ended");
      const received = opened.received();
      expect(delivered(received)).toEqual(batch);
      expect(received.at(-1)).toEqual({ kind: "closing", reason: "shutdown" });
    });

    it("close('slow_consumer') sends the closing notice and ends the connection", async () => {
      await writable(sink);
      sink.close("slow_consumer");
      await until(() => opened.ended(), "the connection ended");
      expect(opened.received()).toEqual([{ kind: "closing", reason: "slow_consumer" }]);
    });

    it("writes nothing after close: not writable, sendEvents takes nothing, sendGap is dropped, a waiting onceWritable is never called", async () => {
      await sendAll(sink, events(1), "sub-a");
      let called = false;
      // Whatever the sink's state now, the callback must not run once it is closed.
      if (!sink.isWritable()) sink.onceWritable(() => (called = true));
      sink.close("shutdown");
      expect(sink.isWritable()).toBe(false);
      expect(sink.sendEvents(events(2), "sub-a")).toBe(0);
      sink.sendGap({ subscriptionId: "sub-a", channel: "tasks", fromSeq: 1, toSeq: 2 });
      await until(() => opened.ended(), "the connection ended");
      await turns(SETTLE_TURNS);
      expect(called).toBe(false);
      const received = opened.received();
      expect(received.at(-1)).toEqual({ kind: "closing", reason: "shutdown" });
      expect(received.filter((m) => m.kind !== "event")).toHaveLength(1);
      expect(delivered(received)).toHaveLength(1);
    });
  });
}
