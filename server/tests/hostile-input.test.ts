import http from "node:http";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL_NAMES, ERROR_CODES, eventSchema, type Ack, type SubscribeResult, type SwitchboardEvent } from "../../lib/protocol";
import {
  HTTP_LIMITS,
  SOCKET_LIMITS,
  Shown,
  abbreviate,
  eventText,
  eventTypes,
  jsonStringText,
  labels,
  numberText,
  objectText,
  publishBodyText,
  queryText,
  segmentText,
  valueText,
} from "./support/hostile-json";
import { RawSocketIo } from "./support/raw-socket";
import { connect, createToken, startServerProcess, waitFor, type ClientSocket, type ServerProcess } from "./support/server-process";

/**
 * Hostile input against a real server: every HTTP route and socket message gets malformed, oversized
 * and adversarial input from fast-check. Whatever comes in, the server answers with a 4xx and a
 * stable error body (or a 2xx when the input is fine), every socket message with an ack gets one,
 * and nobody else notices: a subscriber that has followed an honest publisher since the start keeps
 * receiving every event in seq order, and everything stored reads back as a valid envelope.
 *
 * By default every batch runs all its cases and reports every violation, grouped (the survey). Set
 * FUZZ_SHRINK=1 to fail on the first violation and let fast-check shrink it; FUZZ_SEED=<n> replays.
 */
const MAX_PAYLOAD_BYTES = 16_384;
const SHRINK = process.env.FUZZ_SHRINK === "1";
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Each batch stops generating after this long, however many runs are left (a slow machine). */
const BATCH_TIME_LIMIT_MS = 25_000;
const ACK_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;
const LISTENED_CHANNEL = "messages";

// ---------------------------------------------------------------------------------------------
// Plumbing: raw HTTP requests, canonical JSON, violations.

interface RequestSpec {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Valid input from a token that may do it: the answer must be a 2xx. */
  mustSucceed?: boolean;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function send(server: ServerProcess, spec: RequestSpec): Promise<Answer> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body, "utf8");
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: spec.method,
        path: spec.path,
        agent,
        headers: { ...spec.headers, ...(body ? { "Content-Type": "application/json", "Content-Length": String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/** JSON with sorted keys, own `__proto__` keys included, and non-finite numbers kept distinct from null. */
function canonical(value: unknown): string {
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : `«${value}»`;
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "«undefined»";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

interface Violation {
  where: string;
  input: string;
  got: string;
}

const describeSpec = (s: RequestSpec) =>
  `${s.method} ${abbreviate(s.path, 160)}${Object.keys(s.headers).length ? ` ${abbreviate(JSON.stringify(s.headers), 200)}` : ""}${s.body === undefined ? "" : ` body=${abbreviate(s.body)}`}`;

/** Groups violations by where and what came back, with a few inputs each. */
function summarize(violations: Violation[]) {
  const groups = new Map<string, Violation[]>();
  for (const v of violations) {
    const key = `${v.where} → ${v.got.replace(/"message":"[^"]*"/, '"message":…').slice(0, 160)}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  return [...groups.entries()]
    .map(([key, list]) => `  ✗ ${key}  (${list.length}×)\n${list.slice(0, 3).map((v) => `      input: ${v.input}\n      got:   ${abbreviate(v.got, 300)}`).join("\n")}`)
    .join("\n");
}

/** Checks an error body: `{ error: { code, message } }` with a declared code. Returns a problem or null. */
function errorBodyProblem(text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "error body is not JSON";
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (!error || typeof error.code !== "string" || !(error.code in ERROR_CODES) || typeof error.message !== "string") {
    return "error body is not { error: { code, message } } with a declared code";
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The server, the honest publisher and the listener that watches it all along.

let server: ServerProcess;
let viewer: string;
let publisher: string;

interface AckedEvent {
  channel: string;
  seq: number;
  payload: string;
  where: string;
}
/** Every event the fuzz got acknowledged, by id, with its payload as sent (canonical). */
const acked = new Map<string, AckedEvent>();

const honest = { acked: [] as number[], refused: [] as string[], running: true, loop: Promise.resolve() };
let progressSeen = 0;
const listener = { seqs: [] as number[], gaps: [] as unknown[], disconnected: null as string | null, socket: null as ClientSocket | null };

function startHonestPublisher() {
  honest.loop = (async () => {
    for (let i = 0; honest.running; i++) {
      try {
        const res = await send(server, {
          label: "honest",
          method: "POST",
          path: `/api/v1/channels/${LISTENED_CHANNEL}/events`,
          headers: { authorization: `Bearer ${publisher}` },
          body: JSON.stringify({ type: "message.sent", agent: "honest", payload: { from: "honest", to: "listener", text: `n${i}` } }),
        });
        if (res.status === 201) honest.acked.push((JSON.parse(res.text) as { events: SwitchboardEvent[] }).events[0]!.seq);
        else honest.refused.push(`${res.status} ${abbreviate(res.text, 200)}`);
      } catch (err) {
        honest.refused.push(`no answer: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
}

async function startListener() {
  const socket = connect(server, viewer);
  listener.socket = socket;
  socket.on("event", (e) => listener.seqs.push(e.seq));
  socket.on("events", (es) => listener.seqs.push(...es.map((e) => e.seq)));
  socket.on("gap", (g) => listener.gaps.push(g));
  socket.on("disconnect", (reason) => (listener.disconnected = reason));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect_error", reject);
    socket.once("connect", () => {
      // The ack callback runs before the event packets that follow it: history lands first.
      socket.emit("subscribe", { channel: LISTENED_CHANNEL, since: 0 }, (res: Ack<SubscribeResult>) => {
        if (!res.ok) return reject(new Error(res.error.message));
        listener.seqs.push(...res.history.map((e) => e.seq));
        resolve();
      });
    });
  });
}

/** After each batch: healthy, the honest publisher still served, the listener still gapless and current. */
async function checkBystanders() {
  const health = await send(server, { label: "health", method: "GET", path: "/api/v1/health", headers: {} });
  expect(`${health.status} ${health.text}`).toMatch(/^200 .*"status":"ok"/);
  const before = progressSeen;
  if (honest.running) await waitFor(() => honest.acked.length > before || honest.refused.length > 0, "the honest publisher to make progress", 15_000);
  expect(honest.refused.slice(0, 5), "the honest publisher's valid publishes were refused").toEqual([]);
  progressSeen = honest.acked.length;
  const target = Math.max(...honest.acked);
  await waitFor(() => listener.seqs.length >= target || listener.disconnected !== null, `the listener to receive seq ${target}`, 15_000);
  expect(listener.disconnected).toBeNull();
  expect(listener.gaps).toEqual([]);
  const holes = listener.seqs.flatMap((s, i) => (s === i + 1 ? [] : [`position ${i}: seq ${s}`])).slice(0, 5);
  expect(holes, "the listener's seqs must be 1, 2, 3, … with nothing missing or repeated").toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// HTTP checks.

const expectedPayloads = (bodyText: string): string[] | null => {
  try {
    const body = JSON.parse(bodyText) as unknown;
    const inputs = Array.isArray(body) ? body : [body];
    return inputs.map((i) => canonical((i as { payload?: unknown }).payload ?? {}));
  } catch {
    return null;
  }
};

/** Every rule a single answer must satisfy; returns what is wrong, or null. */
function httpProblem(spec: RequestSpec, answer: Answer): string | null {
  const { status, text } = answer;
  if (status >= 500) return "5xx";
  if (status >= 400) return errorBodyProblem(text);
  if (spec.mustSucceed && (status < 200 || status >= 300)) return "valid input was refused";
  if (status < 200 || status >= 300) return "neither 2xx nor 4xx";
  if (spec.path.startsWith("/metrics") || status === 204) return null;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return "2xx body is not JSON";
  }
  if (spec.method === "POST" && /\/events(\?|$)/.test(spec.path)) {
    const events = body.events as SwitchboardEvent[] | undefined;
    const sent = expectedPayloads(spec.body ?? "");
    if (!Array.isArray(events) || !sent) return "publish accepted input that is not JSON, or answered without events";
    if (events.length !== sent.length) return `asked for ${sent.length} events, got ${events.length}`;
    for (const [i, e] of events.entries()) {
      if (!eventSchema.safeParse(e).success) return `acknowledged event ${i} is not a valid envelope`;
      const got = canonical(e.payload);
      if (got !== sent[i]) return `acknowledged payload differs from the one sent: sent ${abbreviate(sent[i]!, 200)}, acknowledged ${abbreviate(got, 200)}`;
      acked.set(e.id, { channel: e.channel, seq: e.seq, payload: sent[i]!, where: spec.label });
    }
  } else if (spec.method === "GET" && /\/channels\/[^/]+\/events(\?|$)/.test(spec.path)) {
    const events = body.events as unknown[];
    if (!Array.isArray(events) || events.some((e) => !eventSchema.safeParse(e).success)) return "history holds an invalid envelope";
  }
  return null;
}

const violations: Violation[] = [];

/** What the answers of the current batch were, counted (status or ack code): printed with each batch. */
const outcomes = new Map<string, number>();
const countOutcome = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);

async function runBatch<T>(name: string, arbitrary: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<Violation | null>, options: { concurrency?: number } = {}) {
  violations.length = 0;
  outcomes.clear();
  let runs = 0;
  const inFlight = new Set<Promise<void>>();
  const concurrency = SHRINK ? 1 : (options.concurrency ?? 1);
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      runs++;
      const run = check(value).then((v) => {
        if (v) violations.push(v);
      });
      if (SHRINK) {
        const before = violations.length;
        await run;
        if (violations.length > before) throw new Error(`${violations.at(-1)!.where}: ${violations.at(-1)!.got}`);
        return;
      }
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }),
    { numRuns, seed: SEED, endOnFailure: !SHRINK, interruptAfterTimeLimit: BATCH_TIME_LIMIT_MS, markInterruptAsFailure: false },
  );
  await Promise.all(inFlight);
  console.log(`${name}: ${runs} cases; answers: ${[...outcomes].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ×${n}`).join(", ")}`);
  expect(runs).toBeGreaterThan(0);
  if (violations.length > 0) {
    const text = `${name}: ${violations.length} violation(s) (FUZZ_SEED=${SEED}):\n${summarize(violations)}`;
    console.log(text);
    throw new Error(text);
  }
}

const checkHttp = async (s: Shown<RequestSpec>): Promise<Violation | null> => {
  const spec = s.value;
  try {
    const answer = await send(server, spec);
    countOutcome(answer.status >= 400 ? `${answer.status} ${(/"code":"(\w+)"/.exec(answer.text) ?? [])[1] ?? "?"}` : String(answer.status));
    const problem = httpProblem(spec, answer);
    return problem ? { where: `${spec.label} (${problem})`, input: describeSpec(spec), got: `${answer.status} ${answer.text}` } : null;
  } catch (err) {
    return { where: `${spec.label} (no answer)`, input: describeSpec(spec), got: (err as Error).message };
  }
};

// ---------------------------------------------------------------------------------------------
// Request arbitraries (they need the tokens, so they are built once the server is up).

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, "");

function credentials() {
  const cookie = fc.oneof(
    fc.constantFrom("%", "%E0%A4%A", "%ZZ", "%00", "%ED%A0%80", "%C0%80", "%%%", "a%2", "", encodeURIComponent(server.adminToken), server.adminToken).map((v) => `sb_session=${v}`),
    fc.string({ maxLength: 20 }).map((s) => `sb_session=${printable(s).replace(/;/g, "")}`),
    fc.constantFrom(`a=b; sb_session=%E0%A4%A; sb_session=${server.adminToken}`, "sb_session", "=; ;;", "%=%", `sb_session=${server.adminToken}%`),
  );
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant({ authorization: `Bearer ${server.adminToken}` }) },
    { weight: 2, arbitrary: fc.constantFrom(viewer, publisher).map((t) => ({ authorization: `Bearer ${t}` })) },
    { weight: 1, arbitrary: fc.constant({}) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom("Bearer", "Bearer ", "bearer x", "Basic YWJjOmRlZg==", `Bearer ${"x".repeat(300)}`, `Bearer  ${server.adminToken}  `, `Bearer ${server.adminToken}x`, "Bearer %00"),
          fc.string({ maxLength: 40 }).map((s) => `Bearer ${printable(s)}`),
        )
        .map((a) => ({ authorization: a })),
    },
    { weight: 2, arbitrary: cookie.map((c) => ({ cookie: c })) },
    { weight: 1, arbitrary: cookie.map((c) => ({ authorization: `Bearer ${server.adminToken}`, cookie: c })) },
  );
}

const shown = (spec: RequestSpec) => new Shown(spec, describeSpec(spec));

const cleanPayload = fc
  .dictionary(
    fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__"),
    fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })),
    { maxKeys: 5 },
  )
  .map((p) => JSON.stringify(p));

function publishRequests() {
  const hostile = fc
    .tuple(segmentText, publishBodyText(HTTP_LIMITS), credentials())
    .map(([channel, body, headers]) => shown({ label: "POST /api/v1/channels/:channel/events", method: "POST", path: `/api/v1/channels/${channel}/events`, headers, body }));
  const valid = fc
    .tuple(fc.constantFrom("tasks", "agents", "budget", "messages"), fc.array(fc.tuple(fc.constantFrom(...eventTypes), fc.option(fc.constantFrom(...labels)), cleanPayload), { minLength: 1, maxLength: 5 }))
    .map(([channel, events]) =>
      shown({
        label: "POST /api/v1/channels/:channel/events (valid)",
        method: "POST",
        path: `/api/v1/channels/${channel}/events`,
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify(events.map(([type, agent, payload]) => ({ type, ...(agent ? { agent } : {}), payload: JSON.parse(payload) as unknown }))),
        mustSucceed: true,
      }),
    );
  return fc.oneof({ weight: 5, arbitrary: hostile }, { weight: 1, arbitrary: valid });
}

function getRequests() {
  const get = (label: string, path: fc.Arbitrary<string>) =>
    fc.tuple(path, credentials()).map(([p, headers]) => shown({ label, method: "GET", path: p, headers }));
  return {
    history: fc.oneof(
      { weight: 4, arbitrary: get("GET /api/v1/channels/:channel/events", fc.tuple(segmentText, queryText(["after", "limit", "agent", "project", "type"])).map(([c, q]) => `/api/v1/channels/${c}/events${q}`)) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...CHANNEL_NAMES), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.option(fc.constantFrom("agent=honest", "type=message.*", "project=a,b", "agent=atlas-coder&type=task.created")))
          .map(([c, after, limit, filter]) =>
            shown({
              label: "GET /api/v1/channels/:channel/events (valid)",
              method: "GET",
              path: `/api/v1/channels/${c}/events?after=${after}&limit=${limit}${filter ? `&${filter}` : ""}`,
              headers: { authorization: `Bearer ${viewer}` },
              mustSucceed: true,
            }),
          ),
      },
    ),
    seqBefore: fc.oneof(
      { weight: 4, arbitrary: get("GET /api/v1/channels/:channel/seq-before", fc.tuple(segmentText, queryText(["ts"])).map(([c, q]) => `/api/v1/channels/${c}/seq-before${q}`)) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...CHANNEL_NAMES), fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }))
          .map(([c, d]) => shown({ label: "GET /api/v1/channels/:channel/seq-before (valid)", method: "GET", path: `/api/v1/channels/${c}/seq-before?ts=${d.toISOString()}`, headers: { authorization: `Bearer ${viewer}` }, mustSucceed: true })),
      },
    ),
    views: fc.oneof(
      get("GET /api/v1/views/activity", queryText(["minutes"]).map((q) => `/api/v1/views/activity${q}`)),
      get("GET /api/v1/views/agents", queryText(["offlineAfterSeconds"]).map((q) => `/api/v1/views/agents${q}`)),
      get("GET /api/v1/views/tasks", queryText(["project", "agent", "limit"]).map((q) => `/api/v1/views/tasks${q}`)),
      get("GET /api/v1/views/budget", queryText(["hours", "bucketMinutes"]).map((q) => `/api/v1/views/budget${q}`)),
      get("GET /api/v1/views/conversations", queryText(["limit"]).map((q) => `/api/v1/views/conversations${q}`)),
      get("GET /api/v1/views/conversations/:a/:b", fc.tuple(segmentText, segmentText, queryText(["limit"])).map(([a, b, q]) => `/api/v1/views/conversations/${a}/${b}${q}`)),
      fc
        .constantFrom("/api/v1/views/activity?minutes=30", "/api/v1/views/agents", "/api/v1/views/tasks?project=atlas&limit=10", "/api/v1/views/budget?hours=24&bucketMinutes=15", "/api/v1/views/conversations?limit=5", "/api/v1/views/conversations/honest/listener")
        .map((path) => shown({ label: `GET ${path.split("?")[0]} (valid)`, method: "GET", path, headers: { authorization: `Bearer ${viewer}` }, mustSucceed: true })),
    ),
    misc: fc.oneof(
      get("GET /api/v1/channels", queryText(["x"]).map((q) => `/api/v1/channels${q}`)),
      get("GET /api/v1/health", queryText(["x"]).map((q) => `/api/v1/health${q}`)),
      get("GET /metrics", queryText(["x"]).map((q) => `/metrics${q}`)),
      fc
        .tuple(fc.constantFrom("PUT", "PATCH", "DELETE", "OPTIONS", "POST", "GET"), fc.constantFrom("/api/v1/channels", "/api/v1/health", "/metrics", "/api/v1/channels/tasks/events", "/api/v1/views/tasks", "/api/v1/session"), credentials())
        .map(([method, path, headers]) => shown({ label: `${method} ${path}`, method, path, headers })),
      fc
        .tuple(segmentText, segmentText, credentials())
        .chain(([a, b, headers]) =>
          fc
            .constantFrom(`/api/v1/${a}`, `/api/v1/channels/${a}/events/${b}`, `/api/v1/channels/${a}/${b}`, "/api/v1/", "/api/v1//channels", "/api/v1/channels/", `/api/v1/views/${a}`, `/api/v1/views/conversations/${a}`)
            .map((path) => shown({ label: "GET unknown path", method: "GET", path, headers })),
        ),
    ),
  };
}

function sessionRequests() {
  const body = fc.oneof(
    fc.constant(JSON.stringify({ token: server.adminToken })),
    fc.constantFrom(viewer, "nope", "", "x".repeat(300)).map((token) => JSON.stringify({ token })),
    jsonStringText(HTTP_LIMITS).map((t) => `{"token":${t}}`),
    valueText(HTTP_LIMITS),
    publishBodyText(HTTP_LIMITS),
  );
  return fc.oneof(
    fc.tuple(body, credentials()).map(([b, headers]) => shown({ label: "POST /api/v1/session", method: "POST", path: "/api/v1/session", headers, body: b })),
    fc.tuple(credentials(), queryText(["x"])).map(([headers, q]) => shown({ label: "GET /api/v1/session", method: "GET", path: `/api/v1/session${q}`, headers })),
    fc.tuple(credentials(), queryText(["x"])).map(([headers, q]) => shown({ label: "DELETE /api/v1/session", method: "DELETE", path: `/api/v1/session${q}`, headers })),
  );
}

// ---------------------------------------------------------------------------------------------
// Socket messages.

interface SocketSpec {
  label: string;
  as: "admin" | "viewer";
  name: string;
  args: string[];
  ack: boolean;
}

const sockets: { admin: RawSocketIo | null; viewer: RawSocketIo | null } = { admin: null, viewer: null };
const subscriptionIds: string[] = [];

async function openRaw(token: string) {
  const opened = await RawSocketIo.open(server.url, { authJson: JSON.stringify({ token }) });
  if (!("socket" in opened)) throw new Error(`could not connect: ${opened.refused}`);
  return opened.socket;
}

/** Object-ish argument texts for one message: the right shape with hostile fields, other values, non-objects. */
function argumentText(name: string) {
  const o = SOCKET_LIMITS;
  const channel = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...CHANNEL_NAMES).map((c) => JSON.stringify(c)) },
    { weight: 1, arbitrary: jsonStringText({ ...o, maxHugeString: 100 }) },
    { weight: 1, arbitrary: valueText({ ...o, maxDepth: 20 }) },
  );
  const opt = (key: string, v: fc.Arbitrary<string>, freq = 2) => fc.option(v.map((x) => `"${key}":${x}`), { freq });
  /** Mostly counts a request may carry, sometimes any number at all. */
  const count = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 1200 }).map(String) }, { weight: 1, arbitrary: numberText });
  const filter = fc.oneof(
    fc.constantFrom('{"agent":"a"}', '{"type":"task.*"}', '{"project":["a","b"]}', '{"type":"*"}', '{"agent":[]}', '{"x":1}', `{"agent":[${Array(60).fill('"a"').join(",")}]}`),
    objectText({ ...o, maxHugeString: 200 }),
  );
  const obj = (...fields: fc.Arbitrary<string | null>[]) =>
    fc.tuple(...fields).map((fs) => `{${fs.filter((f): f is string => f !== null).join(",")}}`);
  const shaped =
    name === "subscribe"
      ? fc.oneof(
          obj(opt("channel", channel, 6), opt("filter", filter), opt("history", count), opt("since", count), fc.option(fc.constant('"extra":1'), { freq: 8 })),
          // The right shape with ordinary values, to reach the hub and the history read behind validation.
          fc
            .tuple(fc.constantFrom(...CHANNEL_NAMES), fc.option(fc.constantFrom('{"agent":"honest"}', '{"type":"task.*"}', '{"project":["a","b"],"type":["message.sent","a.b"]}')), fc.option(fc.integer({ min: 0, max: 1000 })), fc.boolean())
            .map(([c, f, n, since]) => JSON.stringify({ channel: c, ...(f ? { filter: JSON.parse(f) as unknown } : {}), ...(n === null ? {} : since ? { since: n } : { history: n }) })),
        )
      : name === "unsubscribe"
        ? fc.oneof(
            // Subscriptions the fuzz opened so far (read when the case is generated), or a made-up one.
            fc.nat().map((i) => JSON.stringify({ subscriptionId: subscriptionIds.length ? subscriptionIds[i % subscriptionIds.length] : "c1.deadbeef" })),
            obj(opt("subscriptionId", jsonStringText({ ...o, maxHugeString: 100 }))),
          )
        : fc.oneof(
            { weight: 3, arbitrary: eventText(o).chain((e) => channel.map((c) => (e === "{}" ? `{"channel":${c}}` : `{"channel":${c},${e.slice(1)}`))) },
            {
              weight: 1,
              arbitrary: fc
                .tuple(fc.constantFrom("tasks", "agents", "budget", "messages", "system"), fc.constantFrom(...eventTypes), fc.option(fc.constantFrom(...labels)), cleanPayload)
                .map(([c, type, agent, payload]) => `{"channel":${JSON.stringify(c)},"type":${JSON.stringify(type)},${agent ? `"agent":${JSON.stringify(agent)},` : ""}"payload":${payload}}`),
            },
          );
  return fc.oneof(
    { weight: 6, arbitrary: shaped },
    { weight: 2, arbitrary: valueText(o) },
    { weight: 1, arbitrary: fc.constantFrom("null", "0", '"subscribe"', "[]", "true", "{}", "[{}]") },
  );
}

function socketMessages(kind: "subscribe" | "unsubscribe" | "publish" | "unknown") {
  const name =
    kind === "unknown"
      ? fc.oneof(
          fc.constantFrom("nope", "", "Subscribe", "publish ", "__proto__", "constructor", "toString", "hasOwnProperty", "event", "events", "gap", "closing", "ping", "error"),
          fc.string({ unit: "binary", maxLength: 20 }).filter((s) => !["subscribe", "unsubscribe", "publish", "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"].includes(s)),
        )
      : fc.constant(kind);
  return fc
    .tuple(name, fc.constantFrom<"admin" | "viewer">("admin", "admin", "admin", "viewer"), fc.integer({ min: 0, max: 9 }).map((n) => n < 8))
    .chain(([n, as, ack]) =>
      fc
        .oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) })
        .chain((count) => fc.array(argumentText(kind === "unknown" ? "publish" : n), { minLength: count, maxLength: count }))
        .filter((args) => args.join(",").length < 28_000)
        .map((args) => {
          const spec: SocketSpec = { label: `socket ${kind === "unknown" ? "unknown message" : n}`, as, name: n, args, ack };
          return new Shown(spec, `${as} emits ${JSON.stringify(n)} with ${args.length} argument(s)${ack ? " and an ack" : ", no ack"}: [${args.map((a) => abbreviate(a, 160)).join(", ")}]`);
        }),
    );
}

function ackProblem(spec: SocketSpec, args: unknown[]): string | null {
  const res = args[0] as { ok?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
  if (args.length !== 1 || !res || typeof res !== "object") return "ack is not one object";
  if (res.ok === false) {
    const code = res.error?.code;
    if (typeof code !== "string" || !(code in ERROR_CODES) || typeof res.error?.message !== "string") return "error ack is not { ok: false, error: { code, message } } with a declared code";
    if (ERROR_CODES[code as keyof typeof ERROR_CODES] >= 500) return `server-side error code ${code}`;
    return null;
  }
  if (res.ok !== true) return "ack has neither ok: true nor ok: false";
  if (spec.label === "socket unknown message") return "an unknown message was acknowledged with ok: true";
  if (spec.name === "subscribe") {
    const r = res as unknown as SubscribeResult;
    if (typeof r.subscriptionId !== "string" || !Array.isArray(r.history) || typeof r.head !== "number" || typeof r.truncated !== "boolean") return "subscribe ack lacks subscriptionId, history, head or truncated";
    if (r.history.some((e) => !eventSchema.safeParse(e).success)) return "subscribe history holds an invalid envelope";
    subscriptionIds.push(r.subscriptionId);
  }
  if (spec.name === "publish") {
    const event = (res as { event?: SwitchboardEvent }).event;
    if (!event || !eventSchema.safeParse(event).success) return "publish ack without a valid event";
    let sent: string;
    try {
      sent = canonical((JSON.parse(spec.args[0]!) as { payload?: unknown }).payload ?? {});
    } catch {
      return "publish acknowledged an argument that is not JSON";
    }
    if (canonical(event.payload) !== sent) return `acknowledged payload differs from the one sent: acknowledged ${abbreviate(canonical(event.payload), 200)}`;
    acked.set(event.id, { channel: event.channel, seq: event.seq, payload: sent, where: spec.label });
  }
  return null;
}

const checkSocket = async (s: Shown<SocketSpec>): Promise<Violation | null> => {
  const spec = s.value;
  let socket = sockets[spec.as];
  if (!socket?.connected) {
    const why = socket?.closed;
    socket = sockets[spec.as] = await openRaw(spec.as === "admin" ? server.adminToken : viewer);
    if (why) return { where: `${spec.label} (the server closed the connection)`, input: "an earlier message on this connection", got: why };
  }
  const nameJson = JSON.stringify(spec.name);
  if (!spec.ack) {
    socket.emit(nameJson, spec.args);
    return null;
  }
  try {
    const args = await socket.emitWithAck(nameJson, spec.args, ACK_TIMEOUT_MS);
    const first = args[0] as { ok?: unknown; error?: { code?: unknown } } | undefined;
    countOutcome(first?.ok === true ? "ok" : String(first?.error?.code ?? "odd ack"));
    const problem = ackProblem(spec, args);
    return problem ? { where: `${spec.label} (${problem})`, input: String(s), got: abbreviate(JSON.stringify(args), 400) } : null;
  } catch (err) {
    countOutcome("no ack");
    return { where: `${spec.label} (no ack)`, input: String(s), got: (err as Error).message };
  }
};

// ---------------------------------------------------------------------------------------------

describe("hostile input: every route and socket message, against a real server", () => {
  beforeAll(async () => {
    server = await startServerProcess({
      database: "postgres",
      // A small payload limit, so oversized payloads are cheap to make; a backlog the listener never fills.
      env: { MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES), BACKLOG_MAX: "100000" },
    });
    [viewer, publisher] = await Promise.all([createToken(server, "viewer"), createToken(server, "publisher")]);
    await startListener();
    startHonestPublisher();
    await waitFor(() => honest.acked.length > 0, "the honest publisher's first event");
    sockets.admin = await openRaw(server.adminToken);
    sockets.viewer = await openRaw(viewer);
    console.log(`hostile-input: FUZZ_SEED=${SEED}${SHRINK ? " (shrinking)" : ""}`);
  });
  afterEach(checkBystanders);
  afterAll(async () => {
    honest.running = false;
    await honest.loop;
    sockets.admin?.close();
    sockets.viewer?.close();
    listener.socket?.disconnect();
    agent.destroy();
    await server?.stop();
  });

  describe("fuzz: 4xx or 2xx, never 5xx or silence", () => {
    it("POST /api/v1/channels/:channel/events", () => runBatch("POST events", publishRequests(), 1200, checkHttp));
    it("GET /api/v1/channels/:channel/events", () => runBatch("GET events", getRequests().history, 500, checkHttp));
    it("GET /api/v1/channels/:channel/seq-before", () => runBatch("seq-before", getRequests().seqBefore, 150, checkHttp));
    it("GET /api/v1/views/*", () => runBatch("views", getRequests().views, 800, checkHttp));
    it("GET /api/v1/channels, /api/v1/health, /metrics, other methods and unknown paths", () => runBatch("misc", getRequests().misc, 250, checkHttp));
    it("POST, GET and DELETE /api/v1/session", () => runBatch("session", sessionRequests(), 250, checkHttp));

    it("socket handshakes: connected or refused with unauthorized, always answered", () =>
      runBatch(
        "socket handshake",
        fc
          .tuple(
            fc.oneof(
              fc.constant(JSON.stringify({ token: server.adminToken })),
              fc.constant(JSON.stringify({ token: server.adminToken, batch: true })),
              valueText({ ...SOCKET_LIMITS, maxHugeString: 300, maxDepth: 50 }).map((v) => `{"token":${v}}`),
              valueText({ ...SOCKET_LIMITS, maxHugeString: 300, maxDepth: 50 }).map((v) => `{"token":${JSON.stringify(server.adminToken)},"batch":${v}}`),
              fc.constantFrom("", "{}", '{"token":""}', '{"token":"%E0%A4%A"}', '{"token":"\\u0000"}', '{"__proto__":{"token":"x"}}'),
            ),
            fc.option(fc.constantFrom("sb_session=%E0%A4%A", "sb_session=%", "sb_session=%ZZ", `sb_session=${encodeURIComponent(server.adminToken)}`, "sb_session=%00", "sb_session")),
          )
          .map(([authJson, cookie]) => new Shown({ authJson, cookie }, `auth=${abbreviate(authJson, 160)} cookie=${cookie ?? "none"}`)),
        100,
        async (s) => {
          const { authJson, cookie } = s.value;
          const mustConnect = authJson.startsWith(JSON.stringify({ token: server.adminToken }).slice(0, -1));
          try {
            const opened = await RawSocketIo.open(server.url, { authJson, headers: cookie ? { cookie } : undefined, timeoutMs: ACK_TIMEOUT_MS });
            countOutcome("socket" in opened ? "connected" : `refused: ${opened.refused}`);
            if ("socket" in opened) {
              opened.socket.close();
              return null;
            }
            if (opened.refused !== "unauthorized") return { where: "socket handshake (refused, but not as unauthorized)", input: String(s), got: opened.refused };
            if (mustConnect) return { where: "socket handshake (a valid token was refused)", input: String(s), got: opened.refused };
            return null;
          } catch (err) {
            return { where: "socket handshake (no answer)", input: String(s), got: (err as Error).message };
          }
        },
        { concurrency: 8 },
      ));
    it("socket subscribe", () => runBatch("socket subscribe", socketMessages("subscribe"), 300, checkSocket, { concurrency: 40 }));
    it("socket unsubscribe", () => runBatch("socket unsubscribe", socketMessages("unsubscribe"), 150, checkSocket, { concurrency: 40 }));
    it("socket publish", () => runBatch("socket publish", socketMessages("publish"), 500, checkSocket, { concurrency: 40 }));
    it("socket messages of unknown names", () => runBatch("socket unknown", socketMessages("unknown"), 200, checkSocket, { concurrency: 40 }));
  });

  describe("targeted: the exact answer for each known kind of hostile input", () => {
    const publishPath = "/api/v1/channels/tasks/events";
    const admin = () => ({ authorization: `Bearer ${server.adminToken}` });
    const event = (payloadText: string) => `{"type":"task.created","payload":${payloadText}}`;
    const nested = (n: number) => '{"a":'.repeat(n - 1) + "{}" + "}".repeat(n - 1);

    const httpCases: [string, number, string | null, () => RequestSpec][] = [
      ["NUL in a payload key", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a\\u0000b":1}') })],
      ["NUL in a payload value", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":"x\\u0000"}') })],
      ["NUL deep in a payload", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":[{"b":["ok","\\u0000"]}]}') })],
      ["a lone high surrogate in a value", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":"\\ud800"}') })],
      ["a lone low surrogate in a key", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"\\udc00":1}') })],
      ["a lone surrogate deep in an array", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":[[["x\\udbff"]]]}') })],
      ["NUL in the second event of a batch", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: `[${event("{}")},${event('{"a":"\\u0000"}')}]` })],
      ["nesting 100 deep", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event(nested(100)) })],
      ["nesting 5,000 deep (arrays)", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event(`{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`) })],
      ["1e400 (Infinity)", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":1e400}') })],
      ["-1e400 in an array", 400, "invalid_request", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":[1,-1e400]}') })],
      ["a payload string over MAX_PAYLOAD_BYTES", 413, "payload_too_large", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event(`{"a":"${"x".repeat(MAX_PAYLOAD_BYTES + 1)}"}`) })],
      ["60 × 1e308: small as sent, ~18.6 KB stored (jsonb prints every digit)", 413, "payload_too_large", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event(`{"n":[${Array(60).fill("1e308").join(",")}]}`) })],
      ["60 × 5e-324: small as sent, ~19.6 KB stored", 413, "payload_too_large", () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event(`{"n":[${Array(60).fill("5e-324").join(",")}]}`) })],
      ["control: nesting 10 deep", 201, null, () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event(nested(10)) })],
      ["control: 1e308, 5e-324 and -0 once each", 201, null, () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"a":1e308,"b":5e-324,"c":-0}') })],
      ["control: a valid surrogate pair and a constructor key", 201, null, () => ({ label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"constructor":"\\ud83d\\ude00","toString":1}') })],
      ["a malformed escape in the channel (GET events)", 400, "invalid_request", () => ({ label: "", method: "GET", path: "/api/v1/channels/%E0%A4%A/events", headers: admin() })],
      ["a malformed escape in the channel (POST events)", 400, "invalid_request", () => ({ label: "", method: "POST", path: "/api/v1/channels/%ZZ/events", headers: admin(), body: event("{}") })],
      ["a malformed escape in the channel (seq-before)", 400, "invalid_request", () => ({ label: "", method: "GET", path: "/api/v1/channels/%/seq-before?ts=2026-01-01T00:00:00.000Z", headers: admin() })],
      ["a malformed escape in a conversation's agent", 400, "invalid_request", () => ({ label: "", method: "GET", path: "/api/v1/views/conversations/%ED%A0%80/b", headers: admin() })],
      ["a malformed session cookie beside a valid bearer token", 200, null, () => ({ label: "", method: "GET", path: "/api/v1/channels", headers: { ...admin(), cookie: "sb_session=%E0%A4%A" } })],
      ["a malformed session cookie alone", 401, "unauthorized", () => ({ label: "", method: "GET", path: "/api/v1/channels", headers: { cookie: "sb_session=%E0%A4%A" } })],
      ["GET /api/v1/session with a malformed cookie", 401, "unauthorized", () => ({ label: "", method: "GET", path: "/api/v1/session", headers: { cookie: "sb_session=%" } })],
      ["POST /api/v1/session with a malformed cookie", 200, null, () => ({ label: "", method: "POST", path: "/api/v1/session", headers: { cookie: "sb_session=%ZZ" }, body: JSON.stringify({ token: server.adminToken }) })],
    ];

    it.each(httpCases)("HTTP: %s → %i %s", async (_name, status, code, make) => {
      const spec = make();
      const headBefore = await channelHead("tasks");
      const answer = await send(server, spec);
      expect({ status: answer.status, code: status >= 400 ? (JSON.parse(answer.text) as { error?: { code?: string } }).error?.code : null }, abbreviate(answer.text, 300)).toEqual({ status, code });
      // A refused publish stores nothing, not even part of a batch.
      if (status >= 400 && spec.method === "POST" && spec.path.includes("/channels/tasks/")) expect(await channelHead("tasks")).toBe(headBefore);
      if (status === 201) {
        const sent = expectedPayloads(spec.body!)!;
        const events = (JSON.parse(answer.text) as { events: SwitchboardEvent[] }).events;
        expect(events.map((e) => canonical(e.payload))).toEqual(sent);
        for (const [i, e] of events.entries()) acked.set(e.id, { channel: e.channel, seq: e.seq, payload: sent[i]!, where: "targeted" });
      }
    });

    /** Inputs whose right answer may be a 400 or an empty 200, but never the 5xx they got once. */
    const never5xx: [string, string][] = [
      ["NUL in GET /api/v1/views/tasks?project=", "/api/v1/views/tasks?project=%00"],
      ["NUL in GET /api/v1/views/tasks?agent=", "/api/v1/views/tasks?agent=a%00b"],
      ["NUL in a conversation's first agent", "/api/v1/views/conversations/%00/b"],
      ["NUL in a conversation's second agent", "/api/v1/views/conversations/a/b%00"],
      ["a malformed escape (%FF) in the channel", "/api/v1/channels/%FF/events"],
    ];
    it.each(never5xx)("HTTP: %s → a 4xx or 200, not a 5xx", async (_name, path) => {
      const answer = await send(server, { label: "", method: "GET", path, headers: admin() });
      expect(answer.status, abbreviate(answer.text, 300)).toBeLessThan(500);
      if (answer.status >= 400) expect(errorBodyProblem(answer.text)).toBeNull();
    });

    it("HTTP: a __proto__ key in a payload is stored as sent, or refused with 400, never dropped", async () => {
      const answer = await send(server, { label: "", method: "POST", path: publishPath, headers: admin(), body: event('{"__proto__":{"polluted":true},"a":1}') });
      if (answer.status === 400) return expect((JSON.parse(answer.text) as { error: { code: string } }).error.code).toBe("invalid_request");
      expect(answer.status).toBe(201);
      const [stored] = (JSON.parse(answer.text) as { events: SwitchboardEvent[] }).events;
      expect(canonical(stored!.payload)).toBe('{"__proto__":{"polluted":true},"a":1}');
      const history = JSON.parse((await send(server, { label: "", method: "GET", path: `/api/v1/channels/tasks/events?after=${stored!.seq - 1}&limit=1`, headers: admin() })).text) as { events: SwitchboardEvent[] };
      expect(canonical(history.events[0]!.payload)).toBe('{"__proto__":{"polluted":true},"a":1}');
    });

    it("HTTP: hostile publishes do not fail the honest publishes committed beside them", async () => {
      const poisoned = Array.from({ length: 20 }, (_, i) => send(server, { label: "", method: "POST", path: publishPath, headers: admin(), body: event(`{"i":${i},"bad":"\\u0000"}`) }));
      const fine = Array.from({ length: 20 }, (_, i) => send(server, { label: "", method: "POST", path: publishPath, headers: { authorization: `Bearer ${publisher}` }, body: event(`{"i":${i}}`) }));
      const [bad, good] = await Promise.all([Promise.all(poisoned), Promise.all(fine)]);
      expect(good.map((a) => a.status)).toEqual(Array(20).fill(201));
      expect(bad.every((a) => a.status >= 400 && a.status < 500)).toBe(true);
    });

    const socketCases: [string, string, string, string[]][] = [
      ["an unknown message", "not_found", '"nope"', ['{"channel":"tasks"}']],
      ["an unknown message without arguments", "not_found", '"nope"', []],
      ["a message named __proto__", "not_found", '"__proto__"', ["{}"]],
      ["a message named constructor", "not_found", '"constructor"', ["{}"]],
      ["subscribe with no argument", "invalid_request", '"subscribe"', []],
      ["subscribe with two arguments", "invalid_request", '"subscribe"', ['{"channel":"tasks"}', "{}"]],
      ["subscribe with three arguments", "invalid_request", '"subscribe"', ['{"channel":"tasks"}', "1", '"x"']],
      ["unsubscribe with no argument", "invalid_request", '"unsubscribe"', []],
      ["unsubscribe with two arguments", "invalid_request", '"unsubscribe"', ['{"subscriptionId":"x"}', "null"]],
      ["publish with no argument", "invalid_request", '"publish"', []],
      ["publish with two arguments", "invalid_request", '"publish"', ['{"channel":"tasks","type":"task.created","payload":{}}', "{}"]],
      ["publish with three arguments", "invalid_request", '"publish"', ['{"channel":"tasks","type":"task.created","payload":{}}', "{}", "{}"]],
      ["publish with NUL in a key", "invalid_request", '"publish"', ['{"channel":"tasks","type":"task.created","payload":{"\\u0000":1}}']],
      ["publish with a lone surrogate", "invalid_request", '"publish"', ['{"channel":"tasks","type":"task.created","payload":{"a":["\\udfff"]}}']],
      ["publish with 1e400", "invalid_request", '"publish"', ['{"channel":"tasks","type":"task.created","payload":{"a":1e400}}']],
      ["publish nested 100 deep", "invalid_request", '"publish"', [`{"channel":"tasks","type":"task.created","payload":${nested(100)}}`]],
      ["publish 60 × 1e308", "payload_too_large", '"publish"', [`{"channel":"tasks","type":"task.created","payload":{"n":[${Array(60).fill("1e308").join(",")}]}}`]],
      ["unsubscribe from an unknown subscription", "not_found", '"unsubscribe"', ['{"subscriptionId":"c1.nothing"}']],
    ];

    /**
     * The socket cases run all at once before their assertions, each on a connection of its own, so
     * the ones that get no ack today cost one ack timeout together rather than one each.
     */
    const socketResults = new Map<string, unknown>();
    const handshakeResults: Record<"alone" | "withToken", unknown> = { alone: null, withToken: null };
    beforeAll(async () => {
      const noAnswer = (err: Error) => ({ refused: `no answer: ${err.message}` });
      await Promise.all([
        ...socketCases.map(async ([name, , nameJson, args]) => {
          const socket = await openRaw(server.adminToken);
          try {
            socketResults.set(name, await socket.emitWithAck(nameJson, args, ACK_TIMEOUT_MS).catch((err: Error) => [`no ack: ${err.message}`]));
          } finally {
            socket.close();
          }
        }),
        RawSocketIo.open(server.url, { authJson: "{}", headers: { cookie: "sb_session=%E0%A4%A" } })
          .catch(noAnswer)
          .then((r) => (handshakeResults.alone = r)),
        RawSocketIo.open(server.url, { authJson: JSON.stringify({ token: server.adminToken }), headers: { cookie: "sb_session=%" } })
          .catch(noAnswer)
          .then((r) => {
            if ("socket" in r) r.socket.close();
            handshakeResults.withToken = "socket" in r ? "connected" : r;
          }),
      ]);
    });

    it.each(socketCases)("socket: %s → %s", (name, code) => {
      expect(socketResults.get(name)).toEqual([{ ok: false, error: { code, message: expect.any(String) } }]);
    });

    it("socket: a malformed session cookie in the handshake is ignored", () => {
      expect(handshakeResults.alone).toEqual({ refused: "unauthorized" });
      expect(handshakeResults.withToken).toBe("connected");
    });
  });

  it("at the end: every stored event reads back as a valid envelope within MAX_PAYLOAD_BYTES, gapless, and every acknowledged one as acknowledged", async () => {
    honest.running = false;
    await honest.loop;
    const problems: string[] = [];
    const stored = new Map<string, SwitchboardEvent>();
    for (const channel of CHANNEL_NAMES) {
      let after = 0;
      let expectedSeq = 1;
      for (let page = 0; ; page++) {
        if (page > 1000) throw new Error(`history of ${channel} did not end`);
        const answer = await send(server, { label: "", method: "GET", path: `/api/v1/channels/${channel}/events?after=${after}&limit=1000`, headers: { authorization: `Bearer ${viewer}` } });
        expect(answer.status, abbreviate(answer.text, 300)).toBe(200);
        const body = JSON.parse(answer.text) as { events: SwitchboardEvent[]; head: number; hasMore: boolean; nextAfter: number };
        for (const e of body.events) {
          const parsed = eventSchema.safeParse(e);
          if (!parsed.success) problems.push(`${channel}#${e.seq} is not a valid envelope: ${abbreviate(JSON.stringify(e), 200)}`);
          const bytes = Buffer.byteLength(JSON.stringify(e.payload));
          if (bytes > MAX_PAYLOAD_BYTES) problems.push(`${channel}#${e.seq}: payload of ${bytes} bytes, over MAX_PAYLOAD_BYTES`);
          if (e.seq !== expectedSeq) problems.push(`${channel}: expected seq ${expectedSeq}, read ${e.seq}`);
          expectedSeq = e.seq + 1;
          if (stored.has(e.id)) problems.push(`duplicate id ${e.id}`);
          stored.set(e.id, e);
        }
        if (!body.hasMore) {
          if (expectedSeq - 1 !== body.head) problems.push(`${channel}: read up to seq ${expectedSeq - 1}, head is ${body.head}`);
          break;
        }
        after = body.nextAfter;
      }
    }
    for (const [id, a] of acked) {
      const e = stored.get(id);
      if (!e) problems.push(`acknowledged ${a.channel}#${a.seq} (${a.where}) is missing`);
      else if (e.seq !== a.seq || e.channel !== a.channel) problems.push(`acknowledged ${a.channel}#${a.seq} is stored as ${e.channel}#${e.seq}`);
      else if (canonical(e.payload) !== a.payload) problems.push(`${a.channel}#${a.seq} (${a.where}): stored payload ${abbreviate(canonical(e.payload), 200)} differs from the acknowledged ${abbreviate(a.payload, 200)}`);
    }
    expect(acked.size).toBeGreaterThan(0);
    expect(problems.slice(0, 20), `${problems.length} problem(s)`).toEqual([]);
  });
});

async function channelHead(channel: string) {
  const answer = await send(server, { label: "", method: "GET", path: `/api/v1/channels/${channel}/events?limit=1`, headers: { authorization: `Bearer ${server.adminToken}` } });
  return (JSON.parse(answer.text) as { head: number }).head;
}
