/**
 * lib/live-client.ts (the dashboard's one socket and its resume logic) against a real server process:
 * reconnect after a restart, resume with `since`, resume past one answer (`truncated`), and gap
 * refill for a client that stopped reading. The client runs unchanged in Node with `baseUrl` and
 * `token`. Network trouble is made by a TCP proxy between the client and the server, which can cut
 * every connection (and refuse new ones) or stop carrying the server's bytes to the client.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLiveClient, type ConnectionState, type LiveClient, type SubscriptionOptions } from "../../lib/live-client";
import type { SwitchboardEvent } from "../../lib/protocol";
import { api, startServerProcess, waitFor, type ServerProcess } from "./support/server-process";

interface Proxy {
  url: string;
  /** First line of every request that opened a connection through the proxy (e.g. `GET /api/v1/…`). */
  requests: string[];
  /** Closes every connection and refuses new ones, until `restore`. */
  cut(): void;
  restore(): void;
  /** Stops reading what the server sends on the connections open now (a client that stopped reading). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const targetPort = Number(new URL(target).port);
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; paused: boolean }>();
  const requests: string[] = [];
  let down = false;
  /** Copies `from` to `to`, reading no faster than `to` takes it, and not at all while paused. */
  const forward = (from: net.Socket, to: net.Socket, paused: () => boolean) => {
    from.on("data", (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on("drain", () => {
      if (!paused()) from.resume();
    });
    from.on("end", () => to.end());
    from.on("close", () => to.destroy());
    from.on("error", () => to.destroy());
  };
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream, paused: false };
    pairs.add(pair);
    client.once("data", (chunk: Buffer) => requests.push(chunk.toString("latin1").split("\r\n", 1)[0]!));
    client.once("close", () => pairs.delete(pair));
    forward(client, upstream, () => false);
    forward(upstream, client, () => pair.paused);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cut() {
      down = true;
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
    restore() {
      down = false;
    },
    pause() {
      for (const pair of pairs) {
        pair.paused = true;
        pair.upstream.pause();
      }
    },
    resume() {
      for (const pair of pairs) {
        pair.paused = false;
        pair.upstream.resume();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/** Publishes `count` events to `channel` (at most 1,000 per request); returns them as committed. */
async function publish(server: ServerProcess, channel: string, count: number, event: (i: number) => object = () => ({})) {
  const committed: SwitchboardEvent[] = [];
  for (let from = 0; from < count; from += 1000) {
    const body = Array.from({ length: Math.min(1000, count - from) }, (_, k) => ({ type: "test.event", payload: { i: from + k }, ...event(from + k) }));
    const res = await api(server, "POST", `/api/v1/channels/${channel}/events`, { token: server.adminToken, body });
    expect(res.status).toBe(201);
    committed.push(...(res.body.events as SwitchboardEvent[]));
  }
  return committed;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A subscription that records every `onEvents` call (seqs only), every ready head and every problem. */
function record(client: LiveClient, options: Omit<SubscriptionOptions, "onEvents" | "onReady" | "onProblem">) {
  const calls: number[][] = [];
  const readies: number[] = [];
  const problems: string[] = [];
  const subscription = client.subscribe({
    ...options,
    onEvents: (events) => calls.push(events.map((e) => e.seq)),
    onReady: (head) => readies.push(head),
    onProblem: (key, message) => {
      if (message) problems.push(`${key}: ${message}`);
    },
  });
  return {
    subscription,
    calls,
    readies,
    problems,
    seqs: () => calls.flat(),
    /** Waits until every seq in `expected` was delivered at least once. */
    async delivered(expected: number[], what: string, timeoutMs?: number) {
      await waitFor(() => {
        const seen = new Set(calls.flat());
        return expected.every((s) => seen.has(s));
      }, what, timeoutMs);
    },
  };
}

/** Each call is in seq order, and no seq is delivered twice over all calls. */
function expectOrderedCallsWithoutDuplicates(calls: number[][]) {
  for (const call of calls) expect(call).toEqual([...call].sort((a, b) => a - b));
  const all = calls.flat();
  const twice = all.filter((s, i) => all.indexOf(s) !== i);
  expect(twice).toEqual([]);
}

function watchStates(client: LiveClient) {
  const states: ConnectionState[] = [client.state().connection];
  client.onStateChange(() => {
    if (states.at(-1) !== client.state().connection) states.push(client.state().connection);
  });
  return states;
}

let server: ServerProcess | null = null;
let proxy: Proxy | null = null;
let client: LiveClient | null = null;
afterEach(async () => {
  client?.close();
  client = null;
  await proxy?.close();
  proxy = null;
  await server?.stop();
  server = null;
});

describe("live client (lib/live-client.ts)", () => {
  it("reconnects after the server restarts and resumes where it left off: nothing missed, nothing twice", async () => {
    server = await startServerProcess({ database: "embedded" });
    client = createLiveClient({ baseUrl: server.url, token: server.adminToken });
    const states = watchStates(client);
    const agents = record(client, { channel: "agents", start: { since: 0 } });
    await waitFor(() => agents.readies.length === 1, "first subscribe");
    expect(client.state().connection).toBe("live");

    await publish(server, "agents", 10);
    await agents.delivered(range(1, 10), "the first ten events");

    expect(await server.terminate()).toBe(0);
    await waitFor(() => client!.state().connection !== "live", "the client to notice the server is gone");
    await server.restart();
    await waitFor(() => agents.readies.length === 2, "the resume after the restart", 30_000);
    expect(agents.readies[1]).toBe(10); // the head after the restart
    expect(client.state().connection).toBe("live");
    expect(agents.subscription.lastSeq).toBe(10);

    await publish(server, "agents", 10);
    await agents.delivered(range(1, 20), "the events after the restart");
    expect(agents.seqs()).toEqual(range(1, 20));
    // "offline" may show between, if the restart took more than three reconnection attempts.
    expect(states.slice(0, 3)).toEqual(["connecting", "live", "reconnecting"]);
    expect(states.at(-1)).toBe("live");
    expect(states.slice(3, -1).every((s) => s === "reconnecting" || s === "offline")).toBe(true);
    expect(agents.problems).toEqual([]);
  });

  it("resumes with `since` after a lost connection: the filtered events published meanwhile arrive once, in order", async () => {
    server = await startServerProcess({ database: "embedded" });
    proxy = await startProxy(server.url);
    client = createLiveClient({ baseUrl: proxy.url, token: server.adminToken });
    const agentOf = (i: number) => ({ agent: i % 2 === 0 ? "even" : "odd" });
    const tasks = record(client, { channel: "tasks", filter: { agent: "even" }, start: { history: 0 } });
    await waitFor(() => tasks.readies.length === 1, "first subscribe");

    const before = await publish(server, "tasks", 10, agentOf);
    const evenSeqs = (events: SwitchboardEvent[]) => events.filter((e) => e.agent === "even").map((e) => e.seq);
    await tasks.delivered(evenSeqs(before), "the events before the cut");

    proxy.cut();
    await waitFor(() => client!.state().connection !== "live", "the client to notice the cut");
    const during = await publish(server, "tasks", 20, agentOf); // the client cannot see these live
    proxy.restore();
    await waitFor(() => tasks.readies.length === 2, "the resume", 30_000);
    const after = await publish(server, "tasks", 10, agentOf);
    await tasks.delivered(evenSeqs(after), "the events after the resume");

    // Every matching event exactly once and in seq order across the resume: the history answer of
    // the resume carries exactly the events published during the cut.
    expect(tasks.seqs()).toEqual(evenSeqs([...before, ...during, ...after]));
    expect(tasks.calls).toContainEqual(evenSeqs(during));
    expect(tasks.problems).toEqual([]);
  });

  it("resume past one answer (truncated): the rest comes over HTTP, each event once; catchUp keeps only the newest", async () => {
    server = await startServerProcess({ database: "embedded" });
    proxy = await startProxy(server.url);
    client = createLiveClient({ baseUrl: proxy.url, token: server.adminToken });
    const all = record(client, { channel: "messages", start: { since: 0 } });
    const newest = record(client, { channel: "messages", start: { since: 0 }, catchUp: 50 });
    await waitFor(() => all.readies.length === 1 && newest.readies.length === 1, "first subscribes");
    await publish(server, "messages", 5);
    await all.delivered(range(1, 5), "the first events");
    await newest.delivered(range(1, 5), "the first events (catchUp)");

    proxy.cut();
    await waitFor(() => client!.state().connection !== "live", "the client to notice the cut");
    await publish(server, "messages", 1500); // more than one subscribe answer (MAX_HISTORY = 1,000) holds
    const httpBefore = proxy.requests.filter((r) => r.startsWith("GET /api/v1/channels/messages/events")).length;
    proxy.restore();
    await all.delivered(range(1, 1505), "every missed event, the rest over HTTP", 30_000);
    // The catchUp subscription resubscribes for the newest 50 on its own: let it before more come.
    await newest.delivered(range(1456, 1505), "the newest 50 of the missed events (catchUp)", 30_000);
    await publish(server, "messages", 5);
    await all.delivered(range(1, 1510), "live events after the resume");
    await newest.delivered(range(1506, 1510), "live events after the resume (catchUp)");

    expectOrderedCallsWithoutDuplicates(all.calls);
    expect(new Set(all.seqs()).size).toBe(1510);
    expect(proxy.requests.filter((r) => r.startsWith("GET /api/v1/channels/messages/events")).length).toBeGreaterThan(httpBefore);
    // catchUp: 50 took the newest 50 of the missed events instead of all of them, then live ones.
    expectOrderedCallsWithoutDuplicates(newest.calls);
    expect(newest.seqs()).toEqual([...range(1, 5), ...range(1456, 1505), ...range(1506, 1510)]);
    expect(all.problems).toEqual([]);
    expect(newest.problems).toEqual([]);
  });

  it("a gap (the server dropped events for a client that stopped reading) is refilled over HTTP: every seq once", async () => {
    server = await startServerProcess({ database: "embedded", env: { BACKLOG_MAX: "5" } });
    proxy = await startProxy(server.url);
    client = createLiveClient({ baseUrl: proxy.url, token: server.adminToken });
    const tasks = record(client, { channel: "tasks", start: { since: 0 } });
    await waitFor(() => tasks.readies.length === 1, "first subscribe");
    await publish(server, "tasks", 5);
    await tasks.delivered(range(1, 5), "the first events");

    // Large events fill the TCP buffers quickly; the server's backlog for the client then overflows.
    proxy.pause();
    const blob = "x".repeat(50_000);
    const total = 5 + 400;
    for (let sent = 5; sent < total; sent += 50) await publish(server, "tasks", 50, () => ({ payload: { blob } }));
    const dropped = await fetch(`${server.url}/metrics`)
      .then((r) => r.text())
      .then((text) => Number(/^switchboard_events_dropped_total\{channel="tasks"\} (\d+)/m.exec(text)?.[1] ?? 0));
    expect(dropped).toBeGreaterThan(0);
    proxy.resume();

    await tasks.delivered(range(1, total), "every seq, dropped ones refilled over HTTP", 30_000);
    // Let anything still under way arrive: one more live event, then nothing may be repeated.
    await publish(server, "tasks", 1);
    await tasks.delivered([total + 1], "the last live event");
    expectOrderedCallsWithoutDuplicates(tasks.calls);
    expect(tasks.seqs().sort((a, b) => a - b)).toEqual(range(1, total + 1));
    expect(proxy.requests.some((r) => r.startsWith("GET /api/v1/channels/tasks/events?after="))).toBe(true);
    expect(tasks.problems).toEqual([]);
    expect(client.state().connection).toBe("live");
    // Not asserted, because the client does not promise it: order across calls. Each gap's refill is
    // its own call, delivered after the live events that followed the gap, and several gaps' refills
    // run at once and may finish in any order (seen: …, 401–405, 356–400, 6–50, …, 306–350, 256–300).
    // lib/live-client.ts: "refills may repeat or precede events already delivered"; consumers order
    // or de-duplicate by seq and id.
  });
});
