import { describe, expect, it } from "vitest";
import { createLiveSnapshot, type LiveSnapshot } from "./live-snapshot";
import { applyActivityEvents } from "./reducers/activity";
import type { SwitchboardEvent } from "./protocol";
import type { ActivityView } from "./views";

const from = Date.UTC(2026, 0, 1, 12, 0);
const view = (lastSeq: number, count: number): ActivityView => ({ minutes: 1, from: new Date(from).toISOString(), channels: [{ name: "tasks", lastSeq, perMinute: [count] }] });
const event = (seq: number): SwitchboardEvent => ({ v: 1, id: `e${seq}`, channel: "tasks", seq, type: "x", ts: new Date(from + seq).toISOString(), agent: null, project: null, payload: {} });

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

/** What the hook does with a live batch: record it for fetches in flight, apply it to the cache. */
const receive = (live: LiveSnapshot, cached: ActivityView, events: SwitchboardEvent[]) => {
  live.record("k", events);
  return applyActivityEvents(cached, events);
};

describe("live snapshot", () => {
  it("counts each event once when a refetch answers with some of the events that arrived meanwhile", async () => {
    const live = createLiveSnapshot();
    let cached = view(2, 2);
    const answer = deferred<ActivityView>();
    const fetching = live.fetch("k", () => answer.promise, applyActivityEvents);
    // Events 3 and 4 arrive while the refetch is in flight; the server counted 3 but not 4.
    cached = receive(live, cached, [event(3), event(4)]);
    expect(cached.channels[0]).toMatchObject({ lastSeq: 4, perMinute: [4] });
    answer.resolve(view(3, 3));
    cached = await fetching;
    expect(cached.channels[0]).toMatchObject({ lastSeq: 4, perMinute: [4] });
    // Later events go to the cache only.
    cached = receive(live, cached, [event(5)]);
    expect(cached.channels[0]).toMatchObject({ lastSeq: 5, perMinute: [5] });
  });

  it("keeps events that arrive before the first snapshot for it, and forgets them after", async () => {
    const live = createLiveSnapshot();
    const answer = deferred<ActivityView>();
    const fetching = live.fetch("k", () => answer.promise, applyActivityEvents);
    live.record("k", [event(3)]);
    answer.resolve(view(2, 2));
    expect((await fetching).channels[0]).toMatchObject({ lastSeq: 3, perMinute: [3] });
    const again = await live.fetch("k", async () => view(3, 3), applyActivityEvents);
    expect(again.channels[0]).toMatchObject({ lastSeq: 3, perMinute: [3] });
  });

  it("stops collecting for a fetch that failed", async () => {
    const live = createLiveSnapshot();
    await expect(live.fetch("k", () => Promise.reject(new Error("down")), applyActivityEvents)).rejects.toThrow("down");
    const cached = receive(live, view(2, 2), [event(3)]);
    expect(cached.channels[0]).toMatchObject({ lastSeq: 3, perMinute: [3] });
    expect((await live.fetch("k", async () => view(2, 2), applyActivityEvents)).channels[0]).toMatchObject({ perMinute: [2] });
  });
});

describe("live snapshot keys", () => {
  it("records events for the fetches of their own key only", async () => {
    const live = createLiveSnapshot();
    const answer = deferred<ActivityView>();
    const fetching = live.fetch("old", () => answer.promise, applyActivityEvents);
    live.record("new", [event(3)]);
    answer.resolve(view(2, 2));
    expect((await fetching).channels[0]).toMatchObject({ lastSeq: 2, perMinute: [2] });
  });
});
