import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { CHANNEL_NAMES, MAX_HISTORY, filterSchema, publishInputSchema } from "../../lib/protocol";
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

const viewQuery = {
  activity: z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(30) }),
  agents: z.object({ offlineAfterSeconds: z.coerce.number().int().min(1).max(86_400).default(60) }),
  tasks: z.object({ project: z.string().max(128).optional(), agent: z.string().max(128).optional(), limit: z.coerce.number().int().min(1).max(1000).default(500) }),
  budget: z.object({ hours: z.coerce.number().int().min(1).max(168).default(24), bucketMinutes: z.coerce.number().int().min(1).max(1440).default(15) }),
  conversations: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  seqBefore: z.object({ ts: z.string().datetime() }),
};

function parseQuery<T>(schema: z.ZodType<T>, url: URL): T {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) throw new SwitchboardError("invalid_request", describeZodError(parsed.error));
  return parsed.data;
}

const publishBodySchema = z.union([publishInputSchema, z.array(publishInputSchema)]);
const sessionBodySchema = z.object({ token: z.string().min(1).max(256) });

/**
 * The HTTP API under /api/v1 plus /metrics. Handlers parse, authorize and call the hub; everything
 * else (ordering, persistence, limits) is the hub's. Returns false for paths it does not own.
 */
export function createHttpApi(deps: HttpApiDeps) {
  const { hub, verifier } = deps;

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
        const principal = await authenticate(req);
        const body = publishBodySchema.safeParse(await readJson(req, deps.maxBodyBytes));
        if (!body.success) throw new SwitchboardError("invalid_request", describeZodError(body.error));
        const inputs = Array.isArray(body.data) ? body.data : [body.data];
        const events = await hub.publish(principal, decodeURIComponent(params[0]!), inputs);
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
        const page = await hub.history(decodeURIComponent(params[0]!), {
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
        sendJson(res, 200, { seq: await hub.seqBefore(decodeURIComponent(params[0]!), new Date(ts)) });
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
        sendJson(res, 200, { events: await deps.views.conversation(decodeURIComponent(params[0]!), decodeURIComponent(params[1]!), limit) });
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
        sendJson(res, report.status === "ok" ? 200 : 503, report);
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
        res.writeHead(204).end();
      },
    },
    {
      // GET /metrics – Prometheus exposition
      method: "GET",
      pattern: /^\/metrics$/,
      handler: async ({ res }) => {
        const { contentType, body } = await deps.metrics();
        res.writeHead(200, { "Content-Type": contentType }).end(body);
      },
    },
  ];

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith("/api/v1/") && url.pathname !== "/metrics") return false;
    if (url.pathname.startsWith("/api/v1/ws")) return false; // Socket.IO's own
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    try {
      if (matching.length === 0) throw new SwitchboardError("not_found", `No route for ${url.pathname}.`);
      const route = matching.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader("Allow", matching.map((r) => r.method).join(", "));
        sendJson(res, 405, { error: { code: "invalid_request", message: `${req.method} is not allowed here.` } });
        return true;
      }
      await route.handler({ req, res, url, params: route.pattern.exec(url.pathname)!.slice(1) });
    } catch (err) {
      const error = toSwitchboardError(err);
      if (error.code === "internal") deps.logger.error({ err, path: url.pathname }, "request failed");
      if (error.retryAfterSeconds) res.setHeader("Retry-After", String(error.retryAfterSeconds));
      if (!res.headersSent) sendJson(res, httpStatusOf(error), errorBody(error));
      else res.end();
    }
    return true;
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  sendJsonText(res, status, JSON.stringify(body));
}

function sendJsonText(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" }).end(text);
}

const isHttps = (req: IncomingMessage) =>
  (req.socket as { encrypted?: boolean }).encrypted === true || req.headers["x-forwarded-proto"] === "https";

/** Reads a JSON body of at most `limit` bytes; larger bodies are refused with 413 before parsing. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new SwitchboardError("payload_too_large", `Request body is ${declared} bytes; the limit is ${limit} (MAX_BODY_BYTES).`);
  }
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Keep reading (and discarding) the rest so the 413 reaches the client instead of a reset.
      req.off("data", onData);
      req.resume();
      reject(new SwitchboardError("payload_too_large", `Request body exceeds ${limit} bytes (MAX_BODY_BYTES).`));
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
  const text = body.toString("utf8");
  if (!text) throw new SwitchboardError("invalid_request", "The request body is empty; send JSON.");
  try {
    return JSON.parse(text);
  } catch {
    throw new SwitchboardError("invalid_request", "The request body is not valid JSON.");
  }
}
