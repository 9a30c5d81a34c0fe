import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { z } from "zod";
import { CHANNEL_NAMES, ERROR_CODES, MAX_HISTORY, filterSchema, publishInputSchema } from "../../lib/protocol";
import { SwitchboardError } from "../channels/errors";
import { normalizeFilter } from "../channels/filter";
import type { Hub } from "../channels/hub";
import type { Principal } from "../channels/subscriber";
import type { TokenVerifier } from "../auth/tokens";
import type { Logger } from "../logger";
import type { DashboardViews } from "../views/dashboard-views";
import { clearedSessionCookie, presentedToken, sessionCookie } from "./credentials";
import { describeZodError, errorBody, httpStatusOf, toSwitchboardError } from "./errors";
import { encodeEvents } from "./event-json";
import { decodePathSegment, pathProblem, queryProblem, requestUrl } from "./request-checks";

export interface HealthReport {
  status: "ok" | "degraded";
  db: "up" | "down";
  redis: "up" | "down" | "disabled";
}

export interface HttpApiDeps {
  hub: Hub;
  views: DashboardViews;
  verifier: TokenVerifier;
  logger: Logger;
  maxBodyBytes: number;
  /** Most events in one publish (the hub's own limit; 1000 unless told). */
  maxBatchEvents?: number;
  health: () => Promise<HealthReport>;
  metrics: () => Promise<{ contentType: string; body: string }>;
}

type Handler = (ctx: { req: IncomingMessage; res: ServerResponse; params: string[]; url: URL }) => Promise<void>;

const listParam = (url: URL, name: string) => {
  const values = url.searchParams.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
};

const historyQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  /** The newest events below this seq instead of the oldest after `after`. */
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY).default(100),
});

/** Agent and project names: the same rule as `label` in lib/protocol.ts. */
const label = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:@/-]+$/, "letters, digits and _ . : @ / - only");

const viewQuery = {
  activity: z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(30) }),
  agents: z.object({ offlineAfterSeconds: z.coerce.number().int().min(1).max(86_400).default(60) }),
  tasks: z.object({ project: label.optional(), agent: label.optional(), limit: z.coerce.number().int().min(1).max(1000).default(500) }),
  budget: z.object({ hours: z.coerce.number().int().min(1).max(168).default(24), bucketMinutes: z.coerce.number().int().min(1).max(1440).default(15) }),
  conversations: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  seqBefore: z.object({ ts: z.string().datetime() }),
};

function parseQuery<T>(schema: z.ZodType<T>, url: URL): T {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) throw new SwitchboardError("invalid_request", describeZodError(parsed.error));
  return parsed.data;
}

const publishEventsSchema = z.array(publishInputSchema);
const publishEventSchema = publishInputSchema.transform((event) => [event]);
const sessionBodySchema = z.object({ token: z.string().min(1).max(256) });

/**
 * The HTTP API under /api/v1 plus /metrics. Handlers parse, authorize and call the hub; everything
 * else (ordering, persistence, limits) is the hub's. Returns false for paths it does not own.
 */
export function createHttpApi(deps: HttpApiDeps) {
  const { hub, verifier } = deps;
  const maxBatch = deps.maxBatchEvents ?? 1000;

  async function authenticate(req: IncomingMessage): Promise<Principal> {
    const principal = await verifier.verify(presentedToken(req.headers));
    if (!principal) {
      throw new SwitchboardError("unauthorized", "Missing or invalid token: send `Authorization: Bearer <token>` or sign in.");
    }
    return principal;
  }

  const routes: { method: string; pattern: RegExp; handler: Handler }[] = [
    {
      // POST /api/v1/channels/:channel/events – publish one event or an array of up to 1000
      method: "POST",
      pattern: /^\/api\/v1\/channels\/([^/]+)\/events$/,
      handler: async ({ req, res, params }) => {
        // Cheapest refusals first, all before a byte of the body is read: who, where, how big.
        const principal = await authenticate(req);
        const channel = decodePathSegment(params[0]!);
        hub.assertMayPublish(principal, channel);
        const json = await readJson(req, deps.maxBodyBytes);
        // Counted before any event is validated: 559,000 tiny events are refused in O(1).
        if (Array.isArray(json) && json.length > maxBatch) {
          throw new SwitchboardError("payload_too_large", `At most ${maxBatch} events per publish; got ${json.length}.`);
        }
        const body = Array.isArray(json) ? publishEventsSchema.safeParse(json) : publishEventSchema.safeParse(json);
        if (!body.success) throw new SwitchboardError("invalid_request", describeZodError(body.error));
        const events = await hub.publish(principal, channel, body.data);
        // The events' JSON was made for the fanout already (or is made here and reused by it).
        sendJsonText(res, 201, `{"events":${encodeEvents(events)}}`);
      },
    },
    {
      // GET /api/v1/channels/:channel/events?after=&limit=&agent=&project=&type= – history, oldest first
      method: "GET",
      pattern: /^\/api\/v1\/channels\/([^/]+)\/events$/,
      handler: async ({ req, res, params, url }) => {
        await authenticate(req);
        const query = historyQuerySchema.safeParse(Object.fromEntries(url.searchParams));
        if (!query.success) throw new SwitchboardError("invalid_request", describeZodError(query.error));
        const filter = filterSchema.safeParse(
          Object.fromEntries(
            (["agent", "project", "type"] as const).map((k) => [k, listParam(url, k)]).filter(([, v]) => v !== undefined),
          ),
        );
        if (!filter.success) throw new SwitchboardError("invalid_request", describeZodError(filter.error));
        const page = await hub.history(decodePathSegment(params[0]!), {
          after: query.data.after,
          before: query.data.before,
          limit: query.data.limit,
          filter: normalizeFilter(filter.data),
        });
        // The events' JSON comes from the database as it is; the rest is numbers and a boolean.
        const nextAfter = page.lastSeq ?? query.data.after;
        sendJsonText(res, 200, `{"events":${page.eventsJson},"head":${page.head},"hasMore":${page.hasMore},"nextAfter":${nextAfter}}`);
      },
    },
    {
      // GET /api/v1/channels/:channel/seq-before?ts= – where a replay from a point in time starts
      method: "GET",
      pattern: /^\/api\/v1\/channels\/([^/]+)\/seq-before$/,
      handler: async ({ req, res, params, url }) => {
        await authenticate(req);
        const { ts } = parseQuery(viewQuery.seqBefore, url);
        sendJson(res, 200, { seq: await hub.seqBefore(decodePathSegment(params[0]!), new Date(ts)) });
      },
    },
    {
      // GET /api/v1/views/activity?minutes= – events per minute per channel
      method: "GET",
      pattern: /^\/api\/v1\/views\/activity$/,
      handler: async ({ req, res, url }) => {
        await authenticate(req);
        sendJson(res, 200, await deps.views.activity(parseQuery(viewQuery.activity, url).minutes));
      },
    },
    {
      // GET /api/v1/views/agents?offlineAfterSeconds= – agents with status, current task and spend
      method: "GET",
      pattern: /^\/api\/v1\/views\/agents$/,
      handler: async ({ req, res, url }) => {
        await authenticate(req);
        sendJson(res, 200, { agents: await deps.views.agents(parseQuery(viewQuery.agents, url).offlineAfterSeconds) });
      },
    },
    {
      // GET /api/v1/views/tasks?project=&agent=&limit= – each task's latest state
      method: "GET",
      pattern: /^\/api\/v1\/views\/tasks$/,
      handler: async ({ req, res, url }) => {
        await authenticate(req);
        sendJson(res, 200, { tasks: await deps.views.tasks(parseQuery(viewQuery.tasks, url)) });
      },
    },
    {
      // GET /api/v1/views/budget?hours=&bucketMinutes= – spend per project and agent over time, limits, warnings
      method: "GET",
      pattern: /^\/api\/v1\/views\/budget$/,
      handler: async ({ req, res, url }) => {
        await authenticate(req);
        const q = parseQuery(viewQuery.budget, url);
        sendJson(res, 200, await deps.views.budget(q.hours, q.bucketMinutes));
      },
    },
    {
      // GET /api/v1/views/conversations?limit= – agent-to-agent threads, newest first
      method: "GET",
      pattern: /^\/api\/v1\/views\/conversations$/,
      handler: async ({ req, res, url }) => {
        await authenticate(req);
        sendJson(res, 200, { conversations: await deps.views.conversations(parseQuery(viewQuery.conversations, url).limit) });
      },
    },
    {
      // GET /api/v1/views/conversations/:a/:b?limit= – the messages between two agents, oldest first
      method: "GET",
      pattern: /^\/api\/v1\/views\/conversations\/([^/]+)\/([^/]+)$/,
      handler: async ({ req, res, params, url }) => {
        await authenticate(req);
        const { limit } = parseQuery(viewQuery.conversations, url);
        const a = conversationAgent("a", params[0]!);
        const b = conversationAgent("b", params[1]!);
        sendJson(res, 200, { events: await deps.views.conversation(a, b, limit) });
      },
    },
    {
      // GET /api/v1/channels – the declared channels with their last seq and subscriber count
      method: "GET",
      pattern: /^\/api\/v1\/channels$/,
      handler: async ({ req, res }) => {
        await authenticate(req);
        sendJson(res, 200, { channels: hub.channels() });
      },
    },
    {
      // GET /api/v1/health – database and Redis status; 503 when degraded
      method: "GET",
      pattern: /^\/api\/v1\/health$/,
      handler: async ({ res }) => {
        const report = await deps.health();
        if (report.status !== "ok") deps.logger.warn({ err: new Error(`degraded: db ${report.db}, redis ${report.redis}`), report }, "health answered 503");
        sendJson(res, report.status === "ok" ? 200 : ERROR_CODES.unavailable, report);
      },
    },
    {
      // POST /api/v1/session – exchange a token for an httpOnly session cookie
      method: "POST",
      pattern: /^\/api\/v1\/session$/,
      handler: async ({ req, res }) => {
        const body = sessionBodySchema.safeParse(await readJson(req, 4096));
        if (!body.success) throw new SwitchboardError("invalid_request", describeZodError(body.error));
        const principal = await verifier.verify(body.data.token);
        if (!principal) throw new SwitchboardError("unauthorized", "That token is not valid.");
        res.setHeader("Set-Cookie", sessionCookie(body.data.token, isHttps(req)));
        sendJson(res, 200, { role: principal.role });
      },
    },
    {
      // GET /api/v1/session – who the session belongs to
      method: "GET",
      pattern: /^\/api\/v1\/session$/,
      handler: async ({ req, res }) => {
        const principal = await authenticate(req);
        sendJson(res, 200, { role: principal.role, channels: CHANNEL_NAMES });
      },
    },
    {
      // DELETE /api/v1/session – sign out
      method: "DELETE",
      pattern: /^\/api\/v1\/session$/,
      handler: async ({ res }) => {
        res.setHeader("Set-Cookie", clearedSessionCookie);
        answer(res, 204, {});
      },
    },
    {
      // GET /metrics – Prometheus exposition
      method: "GET",
      pattern: /^\/metrics$/,
      handler: async ({ res }) => {
        const { contentType, body } = await deps.metrics();
        answer(res, 200, { "Content-Type": contentType }, body);
      },
    },
  ];

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let url: URL;
    try {
      url = requestUrl(req.url);
    } catch {
      return false; // not a URL at all: the server's own request handler answers 400
    }
    if (!url.pathname.startsWith("/api/v1/") && url.pathname !== "/metrics") return false;
    if (url.pathname.startsWith("/api/v1/ws")) return false; // Socket.IO's own
    drainLimits.set(req, deps.maxBodyBytes);
    try {
      const problem = pathProblem(url.pathname) ?? queryProblem(url.search);
      if (problem) throw new SwitchboardError("invalid_request", problem);
      const matching = routes.filter((r) => r.pattern.test(url.pathname));
      if (matching.length === 0) throw new SwitchboardError("not_found", `No route for ${url.pathname}.`);
      const route = matching.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader("Allow", matching.map((r) => r.method).join(", "));
        throw new SwitchboardError("method_not_allowed", `${req.method} is not allowed here; use ${matching.map((r) => r.method).join(" or ")}.`);
      }
      await route.handler({ req, res, url, params: route.pattern.exec(url.pathname)!.slice(1) });
    } catch (err) {
      const error = toSwitchboardError(err);
      const status = httpStatusOf(error);
      if (status >= 500) {
        const level = error.code === "internal" ? "error" : "warn";
        deps.logger[level]({ err: error.cause ?? err, code: error.code, status, method: req.method, path: url.pathname }, "request answered with a server error");
      }
      if (error.retryAfterSeconds) res.setHeader("Retry-After", String(error.retryAfterSeconds));
      if (!res.headersSent) sendJson(res, status, errorBody(error));
      else res.end();
    }
    return true;
  };
}

/**
 * A conversation's side is the `from`/`to` of its messages: free-form payload text, so any name the
 * path can carry (decoded strictly: no malformed escape, no NUL, no lone surrogate), not only labels.
 */
const conversationName = z.string().min(1).max(1000);

function conversationAgent(name: "a" | "b", segment: string): string {
  const parsed = conversationName.safeParse(decodePathSegment(segment));
  if (!parsed.success) throw new SwitchboardError("invalid_request", `${name}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  sendJsonText(res, status, JSON.stringify(body));
}

function sendJsonText(res: ServerResponse, status: number, text: string) {
  answer(res, status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" }, text);
}

/** Every answer goes out here, so a request body it did not read is dealt with first. */
function answer(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body?: string) {
  settleUnreadBody(res.req, res, drainLimits.get(res.req) ?? 0);
  res.writeHead(status, headers).end(body);
}

/** How long a connection answered with `Connection: close` mid-upload stays half-open (see below). */
const LINGER_MS = 2000;

/**
 * An answer may go out before the request body was read (a refusal: 401, 403, 404, 413) or after it
 * was read only in part. The client must still get that answer, never a reset mid-upload:
 * - a declared body within MAX_BODY_BYTES is drained after the answer (read and discarded; Node
 *   does it once nothing else reads the request) and the connection stays usable;
 * - a body declared larger, or of unknown length (chunked), is not read further: the answer says
 *   `Connection: close`, and the connection is closed gracefully. Node would end and close the
 *   socket at once, and closing with the client's unread upload in the receive buffer makes the
 *   kernel send a reset that can arrive before the client has read the answer. So the socket is
 *   half-closed after the answer (FIN: the client sees the answer and the end) and only destroyed
 *   LINGER_MS later; it reads nothing meanwhile, so a hostile upload costs no CPU.
 */
export function settleUnreadBody(req: IncomingMessage, res: ServerResponse, limit: number) {
  if (req.complete || req.readableEnded || res.headersSent) return;
  const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
  req.removeAllListeners("data");
  if (declared !== undefined && Number.isFinite(declared) && declared <= limit) {
    req.resume();
    return;
  }
  req.pause();
  res.setHeader("Connection", "close");
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}

/** MAX_BODY_BYTES of the API that took the request: how much of an unread body is drained. */
const drainLimits = new WeakMap<IncomingMessage, number>();

const isHttps = (req: IncomingMessage) =>
  (req.socket as { encrypted?: boolean }).encrypted === true || req.headers["x-forwarded-proto"] === "https";

/**
 * Reads a JSON body of at most `limit` bytes. A declared Content-Length over the limit is refused
 * with 413 before a byte is read; a body of unknown length is cut off at the limit. Either way the
 * rest is left unread for settleUnreadBody.
 */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    throw new SwitchboardError("payload_too_large", `Request body is ${declared} bytes; the limit is ${limit} (MAX_BODY_BYTES).`);
  }
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.pause();
      reject(new SwitchboardError("payload_too_large", `Request body exceeds ${limit} bytes (MAX_BODY_BYTES).`));
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(new SwitchboardError("invalid_request", "The request body was cut off.", { cause: err }));
    };
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(new SwitchboardError("invalid_request", "The request body was cut off."));
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("close", onClose);
  });
  const text = body.toString("utf8");
  if (!text) throw new SwitchboardError("invalid_request", "The request body is empty; send JSON.");
  try {
    return JSON.parse(text);
  } catch {
    throw new SwitchboardError("invalid_request", "The request body is not valid JSON.");
  }
}
