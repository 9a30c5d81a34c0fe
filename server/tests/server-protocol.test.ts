import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack, SubscribeRequest, SubscribeResult, SwitchboardEvent } from "../../lib/protocol";
import { nginxAvailable, startBehindNginx } from "./support/nginx";
import { machinePostgresAvailable, machineRedisAvailable } from "./support/services";
import {
  api,
  connect,
  connected,
  createToken,
  startServerProcess,
  waitFor,
  type ClientSocket,
  type ClusterKind,
  type ServerProcess,
} from "./support/server-process";

const postgres = await machinePostgresAvailable();
const redis = postgres && (await machineRedisAvailable());
/**
 * One node on each database; three nodes sharing events through Redis (classic and sharded Pub/Sub)
 * on the PostgreSQL server, each client on a random node; and three nodes behind nginx.
 */
const setups: (ClusterKind | "cluster-sharded" | "nginx")[] = [
  "embedded",
  ...(postgres ? (["postgres"] as const) : []),
  ...(redis ? (["cluster", "cluster-sharded"] as const) : []),
  ...(redis && nginxAvailable() ? (["nginx"] as const) : []),
];

async function subscribe(socket: ClientSocket, req: SubscribeRequest): Promise<SubscribeResult> {
  const res = (await socket.emitWithAck("subscribe", req)) as Ack<SubscribeResult>;
  if (!res.ok) throw new Error(`subscribe failed: ${res.error.code} ${res.error.message}`);
  return res;
}

/** Collects live events per subscription, from `event` and (batched) `events` messages alike. */
function collect(socket: ClientSocket) {
  const bySubscription = new Map<string, SwitchboardEvent[]>();
  const messages = { event: 0, events: 0 };
  const take = (events: SwitchboardEvent[], subscriptionId: string) => {
    const list = bySubscription.get(subscriptionId) ?? [];
    list.push(...events);
    bySubscription.set(subscriptionId, list);
  };
  socket.on("event", (event, subscriptionId) => {
    messages.event++;
    take([event], subscriptionId);
  });
  socket.on("events", (events, subscriptionId) => {
    messages.events++;
    take(events, subscriptionId);
  });
  return Object.assign((subscriptionId: string) => bySubscription.get(subscriptionId) ?? [], { messages });
}

describe.each(setups)("server over Socket.IO and HTTP (%s)", (setup) => {
  const cluster = setup === "cluster" || setup === "cluster-sharded" || setup === "nginx";
  let server: ServerProcess;
  let viewer: string;
  let publisher: string;
  const sockets: ClientSocket[] = [];
  /** Clients take batched delivery unless told otherwise, as the dashboard does. */
  const open = async (token: string | undefined = viewer, options: { batch?: boolean } = {}) => {
    const s = connect(server, token, { batch: options.batch ?? true });
    sockets.push(s);
    await connected(s);
    return s;
  };
  const publish = async (channel: string, events: object | object[], token = server.adminToken) => {
    const res = await api(server, "POST", `/api/v1/channels/${channel}/events`, { token, body: events });
    if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.events as SwitchboardEvent[];
  };

  beforeAll(async () => {
    server =
      setup === "nginx"
        ? await startBehindNginx()
        : setup === "cluster" || setup === "cluster-sharded"
          ? await startServerProcess({ database: "postgres", redis: true, nodes: 3, env: setup === "cluster-sharded" ? { REDIS_SHARDED: "1" } : {} })
          : await startServerProcess({ database: setup });
    [viewer, publisher] = await Promise.all([createToken(server, "viewer"), createToken(server, "publisher")]);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    const code = await server?.stop();
    expect(code).toBe(0); // graceful shutdown exits cleanly
  });

  it("refuses sockets and requests without a valid token", async () => {
    for (const token of [undefined, "not-a-token"]) {
      const s = connect(server, token);
      sockets.push(s);
      await expect(connected(s)).rejects.toThrow("unauthorized");
    }
    const res = await api(server, "GET", "/api/v1/channels", { token: "not-a-token" });
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe("unauthorized");
  });

  it("subscribes with history, then receives live events; the HTTP API lists channels and health", async () => {
    const before = await publish("agents", [{ type: "agent.hired", agent: "h1", payload: { n: 1 } }, { type: "agent.hired", agent: "h2", payload: { n: 2 } }]);
    const s = await open();
    const live = collect(s);
    const sub = await subscribe(s, { channel: "agents", history: 10 });
    expect(sub.history.map((e) => e.id)).toEqual(before.map((e) => e.id));
    expect(sub.head).toBe(before.at(-1)!.seq);
    const [next] = await publish("agents", { type: "agent.heartbeat", agent: "h1", payload: { status: "idle" } });
    await waitFor(() => live(sub.subscriptionId).length === 1, "live event");
    expect(live(sub.subscriptionId)[0]).toEqual(next);

    const health = await api(server, "GET", "/api/v1/health");
    expect(health).toMatchObject({ status: 200, body: { status: "ok", db: "up", redis: cluster ? "up" : "disabled" } });
    if (cluster) return; // lastSeq, subscriber counts and metrics are per node
    const channels = await api(server, "GET", "/api/v1/channels", { token: viewer });
    expect(channels.body.channels).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "agents", lastSeq: next!.seq, subscribers: 1 })]),
    );
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/switchboard_events_published_total\{channel="agents"\} 3/);
    expect(metrics).toMatch(/switchboard_publish_to_fanout_seconds_count \d+/);
    expect(metrics).toMatch(/switchboard_db_write_seconds_count \d+/);
  });

  it("applies every kind of filter to history and to live events", async () => {
    const mixed = [
      { type: "task.created", agent: "fa", project: "fp1", payload: {} },
      { type: "task.status_changed", agent: "fb", project: "fp1", payload: {} },
      { type: "task.completed", agent: "fa", project: "fp2", payload: {} },
      { type: "budget.spent", agent: "fc", project: "fp2", payload: {} },
      { type: "task.created", agent: null, project: null, payload: {} },
    ];
    await publish("messages", mixed);
    const cases: [SubscribeRequest["filter"], number[]][] = [
      [{ agent: "fa" }, [0, 2]],
      [{ agent: ["fa", "fb"] }, [0, 1, 2]],
      [{ project: "fp2" }, [2, 3]],
      [{ type: "task.created" }, [0, 4]],
      [{ type: "task.*" }, [0, 1, 2, 4]],
      [{ type: ["budget.*", "task.completed"] }, [2, 3]],
      [{ type: "task.*", project: "fp1", agent: "fb" }, [1]],
    ];
    const s = await open();
    const live = collect(s);
    const subs: SubscribeResult[] = [];
    for (const [filter, expected] of cases) {
      const sub = await subscribe(s, { channel: "messages", filter, history: 100 });
      expect(sub.history.map((e) => `${e.type}/${e.agent}/${e.project}`)).toEqual(
        expected.map((i) => `${mixed[i]!.type}/${mixed[i]!.agent}/${mixed[i]!.project}`),
      );
      subs.push(sub);
    }
    const published = await publish("messages", mixed);
    // A second round: a subscription delivers in seq order, so once it has its events of the second
    // round, every event of the first it would ever get has arrived (no wait for stray extras).
    const marker = await publish("messages", mixed);
    await waitFor(() => cases.every(([, expected], i) => live(subs[i]!.subscriptionId).length >= 2 * expected.length), "filtered live events of both rounds");
    cases.forEach(([, expected], i) => {
      expect(live(subs[i]!.subscriptionId).map((e) => e.id)).toEqual([...expected.map((k) => published[k]!.id), ...expected.map((k) => marker[k]!.id)]);
    });
  });

  it("delivers in seq order with no gap and no duplicate between history and live while 4 publishers race", async () => {
    const perPublisher = 60;
    const tokens = [server.adminToken, publisher, server.adminToken, publisher];
    const publisherSockets = await Promise.all(tokens.map((t) => open(t)));
    let acknowledged = 0;
    const publishing = publisherSockets.map(async (ps, p) => {
      for (let i = 0; i < perPublisher; i++, acknowledged++) {
        if (i % 2 === 0) {
          const ack = (await ps.emitWithAck("publish", { channel: "budget", type: "budget.spent", agent: `p${p}`, payload: { i } })) as Ack<object>;
          if (!ack.ok) throw new Error(ack.error.message);
        } else {
          await publish("budget", { type: "budget.spent", agent: `p${p}`, payload: { i } }, tokens[p]);
        }
      }
    });
    const observers = Array.from({ length: 6 }, async (_, k) => {
      // Observers join one after another while the publishers are at it: k after 35·k acknowledged events.
      await waitFor(() => acknowledged >= 35 * k, `${35 * k} acknowledged budget events`, 15_000, 5);
      const s = await open();
      const live = collect(s);
      const sub = await subscribe(s, k % 2 ? { channel: "budget", since: 0 } : { channel: "budget", history: 1000 });
      return { sub, live };
    });
    const [, ...results] = await Promise.all([Promise.all(publishing), ...observers]);
    const total = 4 * perPublisher;
    for (const { sub, live } of results) {
      await waitFor(() => sub.history.length + live(sub.subscriptionId).length >= total, "all budget events", 15_000);
      const seqs = [...sub.history, ...live(sub.subscriptionId)].map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
    // The race was real: at least one observer subscribed mid-stream.
    expect(results.some(({ sub }) => sub.history.length > 0 && sub.history.length < total)).toBe(true);
  });

  it("resumes with since after a disconnect and misses nothing", async () => {
    const s1 = await open();
    const live1 = collect(s1);
    const sub1 = await subscribe(s1, { channel: "tasks", history: 0 });
    await publish("tasks", Array.from({ length: 5 }, (_, i) => ({ type: "task.created", payload: { i } })));
    await waitFor(() => live1(sub1.subscriptionId).length === 5, "first five");
    const lastSeen = live1(sub1.subscriptionId).at(-1)!.seq;
    s1.disconnect();
    const whileAway = await publish("tasks", Array.from({ length: 7 }, (_, i) => ({ type: "task.created", payload: { away: i } })));
    const s2 = await open();
    const live2 = collect(s2);
    const sub2 = await subscribe(s2, { channel: "tasks", since: lastSeen });
    expect(sub2.history.map((e) => e.id)).toEqual(whileAway.map((e) => e.id));
    expect(sub2.truncated).toBe(false);
    const after = await publish("tasks", { type: "task.created", payload: { after: true } });
    await waitFor(() => live2(sub2.subscriptionId).length === 1, "live after resume");
    expect(live2(sub2.subscriptionId)[0]!.id).toBe(after[0]!.id);
  });

  it("sends a burst as `events` batches to clients that ask for them, and as single `event` messages to the others", async () => {
    const [batching, plain] = [await open(viewer), await open(viewer, { batch: false })];
    const [liveBatching, livePlain] = [collect(batching), collect(plain)];
    const filter = { agent: "burst" };
    const [subBatching, subPlain] = [await subscribe(batching, { channel: "agents", filter }), await subscribe(plain, { channel: "agents", filter })];
    const burst = await publish("agents", Array.from({ length: 200 }, (_, i) => ({ type: "agent.heartbeat", agent: "burst", payload: { i } })));
    await waitFor(() => liveBatching(subBatching.subscriptionId).length === 200 && livePlain(subPlain.subscriptionId).length === 200, "the burst");
    const ids = burst.map((e) => e.id);
    expect(liveBatching(subBatching.subscriptionId).map((e) => e.id)).toEqual(ids);
    expect(livePlain(subPlain.subscriptionId).map((e) => e.id)).toEqual(ids);
    expect(livePlain.messages).toEqual({ event: 200, events: 0 });
    expect(liveBatching.messages.events).toBeGreaterThan(0);
    expect(liveBatching.messages.event + liveBatching.messages.events).toBeLessThan(200);
  });

  it("delivers events of every frame size intact, one by one and in batches", async () => {
    const [batching, plain] = [await open(viewer), await open(viewer, { batch: false })];
    const [liveBatching, livePlain] = [collect(batching), collect(plain)];
    const filter = { agent: "sizes" };
    const [subBatching, subPlain] = [await subscribe(batching, { channel: "agents", filter }), await subscribe(plain, { channel: "agents", filter })];
    // Under 126 bytes, under 64 KiB and over 64 KiB on the wire: the three WebSocket length forms.
    const payloads = [{}, { text: "ü".repeat(500) }, { blob: "x".repeat(65_400) }];
    const published: SwitchboardEvent[] = [];
    for (const payload of payloads) published.push(...(await publish("agents", { type: "agent.heartbeat", agent: "sizes", payload })));
    published.push(...(await publish("agents", payloads.map((payload) => ({ type: "agent.heartbeat", agent: "sizes", payload })))));
    await waitFor(() => liveBatching(subBatching.subscriptionId).length === 6 && livePlain(subPlain.subscriptionId).length === 6, "every size");
    expect(livePlain(subPlain.subscriptionId)).toEqual(published);
    expect(liveBatching(subBatching.subscriptionId)).toEqual(published);
  });

  it("caps since at 1000 events and says so with truncated and head", async () => {
    await publish("system", Array.from({ length: 1000 }, () => ({ type: "system.notice", payload: {} })));
    await publish("system", Array.from({ length: 5 }, () => ({ type: "system.notice", payload: {} })));
    const s = await open();
    const sub = await subscribe(s, { channel: "system", since: 0 });
    expect(sub.history).toHaveLength(1000);
    expect(sub.truncated).toBe(true);
    expect(sub.head).toBe(sub.history.at(-1)!.seq + 5);
  });

  it("answers bad input with stable codes over HTTP and socket acks", async () => {
    const post = (channel: string, body: unknown, token = server.adminToken, raw?: string) =>
      api(server, "POST", `/api/v1/channels/${channel}/events`, { token, body, rawBody: raw });
    const expectError = (res: Awaited<ReturnType<typeof post>>, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.body.error).toMatchObject({ code, message: expect.any(String) });
    };
    expectError(await post("tasks", undefined, undefined, "{not json"), 400, "invalid_request");
    expectError(await post("tasks", { type: "NotDotted", payload: {} }), 400, "invalid_request");
    expectError(await post("tasks", { type: "task.created", payload: [1] }), 400, "invalid_request");
    expectError(await api(server, "GET", "/api/v1/channels/tasks/events?limit=5000", { token: viewer }), 400, "invalid_request");
    expectError(await post("tasks", { type: "task.created" }, "wrong"), 401, "unauthorized");
    expectError(await post("tasks", { type: "task.created" }, viewer), 403, "forbidden");
    expectError(await post("system", { type: "system.notice" }, publisher), 403, "forbidden");
    expectError(await post("nope", { type: "task.created" }), 404, "unknown_channel");
    expectError(await api(server, "GET", "/api/v1/channels/nope/events", { token: viewer }), 404, "unknown_channel");
    expectError(await post("tasks", { type: "task.created", payload: { blob: "x".repeat(70 * 1024) } }), 413, "payload_too_large");
    expectError(await post("tasks", Array.from({ length: 1001 }, () => ({ type: "task.created" }))), 413, "payload_too_large");
    // Nothing of a refused batch was stored.
    const history = await api(server, "GET", "/api/v1/channels/tasks/events?limit=1000", { token: viewer });
    expect((history.body.events as SwitchboardEvent[]).some((e) => "blob" in e.payload)).toBe(false);

    const s = await open();
    const codeOf = async (event: "subscribe" | "publish" | "unsubscribe", body: unknown) => {
      const ack = (await (s.emitWithAck as (e: string, b: unknown) => Promise<Ack<object>>)(event, body)) as Ack<object>;
      return ack.ok ? "ok" : ack.error.code;
    };
    expect(await codeOf("subscribe", { channel: "nope" })).toBe("unknown_channel");
    expect(await codeOf("subscribe", { channel: "tasks", since: 1, history: 1 })).toBe("invalid_request");
    expect(await codeOf("subscribe", { channel: "tasks", filter: { colour: "red" } })).toBe("invalid_request");
    expect(await codeOf("unsubscribe", { subscriptionId: "nope" })).toBe("not_found");
    expect(await codeOf("publish", { channel: "tasks", type: "task.created", payload: {} })).toBe("forbidden");
    const admin = await open(server.adminToken);
    const adminCode = async (body: unknown) => {
      const ack = (await (admin.emitWithAck as (e: string, b: unknown) => Promise<Ack<object>>)("publish", body)) as Ack<object>;
      return ack.ok ? "ok" : ack.error.code;
    };
    expect(await adminCode({ channel: "tasks", type: "task.created", payload: { blob: "x".repeat(65 * 1024) } })).toBe("payload_too_large");
    expect(await adminCode({ channel: "nope", type: "task.created", payload: {} })).toBe("unknown_channel");
    expect(await adminCode({ channel: "tasks", type: "task.created", payload: {} })).toBe("ok");
  });
});
