import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { CHANNEL_NAMES, ERROR_CODES, MAX_HISTORY, filterSchema, publishInputSchema } from "../../lib/protocol";
import { SwitchboardError } from "../channels/errors";
import { normalizeFilter } from "../channels/filter";
import type { Hub } from "../channels/hub";
import type { TokenVerifier } from "../auth/tokens";
import type { Logger } from "../logger";
import type { DashboardViews } from "../views/dashboard-views";
import { clearedSessionCookie, presentedToken, sessionCookie } from "./credentials";
import { encodeEvents } from "./event-json";
import { readJson } from "./http/body";
import { json, jsonText, empty, text } from "./http/reply";
import { createRouter, routeFor, type Route } from "./http/router";
import { requestUrl } from "./request-checks";

export { settleUnreadBody } from "./http/body";

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

/** Agent and project names: the same rule as `label` in lib/protocol.ts. */
const label = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:@/-]+$/, "letters, digits and _ . : @ / - only");

const listParam = (search: URLSearchParams, name: string) => {
  const values = search.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
};

/**
 * A history page's query: after/before/limit first, then the filters (agent, project, type: each a
 * comma-separated list, possibly repeated). The filters are checked only once the page bounds are
 * valid, so an answer names the problems of one of the two only.
 */
const historyQuerySchema = z
  .looseObject({
    after: z.coerce.number().int().min(0).default(0),
    /** The newest events below this seq instead of the oldest after `after`. */
    before: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_HISTORY).default(100),
  })
  .pipe(
    z.object({
      after: z.number(),
      before: z.number().optional(),
      limit: z.number(),
      agent: filterSchema.shape.agent,
      project: filterSchema.shape.project,
      type: filterSchema.shape.type,
    }),
  );

function readHistoryQuery(search: URLSearchParams): Record<string, unknown> {
  const query: Record<string, unknown> = Object.fromEntries(search);
  query.agent = listParam(search, "agent");
  query.project = listParam(search, "project");
  query.type = listParam(search, "type");
  return query;
}

const viewQuery = {
  activity: z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(30) }),
  agents: z.object({ offlineAfterSeconds: z.coerce.number().int().min(1).max(86_400).default(60) }),
  tasks: z.object({ project: label.optional(), agent: label.optional(), limit: z.coerce.number().int().min(1).max(1000).default(500) }),
  budget: z.object({ hours: z.coerce.number().int().min(1).max(168).default(24), bucketMinutes: z.coerce.number().int().min(1).max(1440).default(15) }),
  conversations: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  seqBefore: z.object({ ts: z.string().datetime() }),
};

/**
 * A conversation's side is the `from`/`to` of its messages: free-form payload text, so any name the
 * path can carry (decoded strictly: no malformed escape, no NUL, no lone surrogate), not only labels.
 */
const conversationName = z.string().min(1).max(1000);

const publishEventsSchema = z.array(publishInputSchema);
const publishEventSchema = publishInputSchema.transform((event) => [event]);
/**
 * One event or an array of them, always as an array. The two are told apart by the JSON itself, so
 * that a single event's errors are not prefixed with an index and an array's are.
 */
const publishBodySchema = z.unknown().transform((json, ctx) => {
  const parsed = Array.isArray(json) ? publishEventsSchema.safeParse(json) : publishEventSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  // The issues are already complete (message and path): passed on as they are.
  for (const issue of parsed.error.issues) ctx.addIssue(issue as z.core.$ZodRawIssue);
  return z.NEVER;
});
const sessionBodySchema = z.object({ token: z.string().min(1).max(256) });

const isHttps = (req: IncomingMessage) =>
  (req.socket as { encrypted?: boolean }).encrypted === true || req.headers["x-forwarded-proto"] === "https";

const SIGNED_OUT = { "Set-Cookie": clearedSessionCookie };

const route = routeFor<HttpApiDeps>();

/**
 * The HTTP API under /api/v1 plus /metrics, one entry per route. Handlers call the hub and the views;
 * everything else (ordering, persistence, limits) is the hub's, and matching, authorization, parsing
 * and errors are the router's (server/transport/http/router.ts).
 */
export const apiRoutes: readonly Route<HttpApiDeps>[] = [
  // POST /api/v1/channels/:channel/events – publish one event or an array of up to 1000
  route({
    method: "POST",
    path: "/api/v1/channels/:channel/events",
    access: "any-token",
    // Cheapest refusals first, all before a byte of the body is read: who, where, how big.
    precheck: ({ deps, principal, params }) => void deps.hub.assertMayPublish(principal, params.channel),
    readBody: async ({ req, deps }) => {
      const json = await readJson(req, deps.maxBodyBytes);
      // Counted before any event is validated: 559,000 tiny events are refused in O(1).
      const maxBatch = deps.maxBatchEvents ?? 1000;
      if (Array.isArray(json) && json.length > maxBatch) {
        throw new SwitchboardError("payload_too_large", `At most ${maxBatch} events per publish; got ${json.length}.`);
      }
      return json;
    },
    body: publishBodySchema,
    handler: async ({ deps, principal, params, body }) => {
      const events = await deps.hub.publish(principal, params.channel, body);
      // The events' JSON was made for the fanout already (or is made here and reused by it).
      return jsonText(201, `{"events":${encodeEvents(events)}}`);
    },
  }),
  // GET /api/v1/channels/:channel/events?after=&before=&limit=&agent=&project=&type= – history, oldest first
  route({
    method: "GET",
    path: "/api/v1/channels/:channel/events",
    access: "any-token",
    query: historyQuerySchema,
    readQuery: readHistoryQuery,
    handler: async ({ deps, params, query }) => {
      const page = await deps.hub.history(params.channel, {
        after: query.after,
        before: query.before,
        limit: query.limit,
        filter: normalizeFilter({ agent: query.agent, project: query.project, type: query.type }),
      });
      // The events' JSON comes from the database as it is; the rest is numbers and a boolean.
      const nextAfter = page.lastSeq ?? query.after;
      return jsonText(200, `{"events":${page.eventsJson},"head":${page.head},"hasMore":${page.hasMore},"nextAfter":${nextAfter}}`);
    },
  }),
  // GET /api/v1/channels/:channel/seq-before?ts= – where a replay from a point in time starts
  route({
    method: "GET",
    path: "/api/v1/channels/:channel/seq-before",
    access: "any-token",
    query: viewQuery.seqBefore,
    handler: async ({ deps, params, query }) => json(200, { seq: await deps.hub.seqBefore(params.channel, new Date(query.ts)) }),
  }),
  // GET /api/v1/views/activity?minutes= – events per minute per channel
  route({
    method: "GET",
    path: "/api/v1/views/activity",
    access: "any-token",
    query: viewQuery.activity,
    handler: async ({ deps, query }) => json(200, await deps.views.activity(query.minutes)),
  }),
  // GET /api/v1/views/agents?offlineAfterSeconds= – agents with status, current task and spend
  route({
    method: "GET",
    path: "/api/v1/views/agents",
    access: "any-token",
    query: viewQuery.agents,
    handler: async ({ deps, query }) => json(200, { agents: await deps.views.agents(query.offlineAfterSeconds) }),
  }),
  // GET /api/v1/views/tasks?project=&agent=&limit= – each task's latest state
  route({
    method: "GET",
    path: "/api/v1/views/tasks",
    access: "any-token",
    query: viewQuery.tasks,
    handler: async ({ deps, query }) => json(200, { tasks: await deps.views.tasks(query) }),
  }),
  // GET /api/v1/views/budget?hours=&bucketMinutes= – spend per project and agent over time, limits, warnings
  route({
    method: "GET",
    path: "/api/v1/views/budget",
    access: "any-token",
    query: viewQuery.budget,
    handler: async ({ deps, query }) => json(200, await deps.views.budget(query.hours, query.bucketMinutes)),
  }),
  // GET /api/v1/views/conversations?limit= – agent-to-agent threads, newest first
  route({
    method: "GET",
    path: "/api/v1/views/conversations",
    access: "any-token",
    query: viewQuery.conversations,
    handler: async ({ deps, query }) => json(200, { conversations: await deps.views.conversations(query.limit) }),
  }),
  // GET /api/v1/views/conversations/:a/:b?limit= – the messages between two agents, oldest first
  route({
    method: "GET",
    path: "/api/v1/views/conversations/:a/:b",
    access: "any-token",
    query: viewQuery.conversations,
    params: { a: conversationName, b: conversationName },
    handler: async ({ deps, params, query }) => json(200, { events: await deps.views.conversation(params.a, params.b, query.limit) }),
  }),
  // GET /api/v1/channels – the declared channels with their last seq and subscriber count
  route({
    method: "GET",
    path: "/api/v1/channels",
    access: "any-token",
    handler: async ({ deps }) => json(200, { channels: deps.hub.channels() }),
  }),
  // GET /api/v1/health – database and Redis status; 503 when degraded
  route({
    method: "GET",
    path: "/api/v1/health",
    access: "public",
    handler: async ({ deps }) => {
      const report = await deps.health();
      if (report.status !== "ok") deps.logger.warn({ err: new Error(`degraded: db ${report.db}, redis ${report.redis}`), report }, "health answered 503");
      return json(report.status === "ok" ? 200 : ERROR_CODES.unavailable, report);
    },
  }),
  // POST /api/v1/session – exchange a token for an httpOnly session cookie
  route({
    method: "POST",
    path: "/api/v1/session",
    // Public: the token to check is in the body, not in the request's credentials.
    access: "public",
    body: sessionBodySchema,
    bodyLimit: 4096,
    handler: async ({ req, deps, body }) => {
      const principal = await deps.verifier.verify(body.token);
      if (!principal) throw new SwitchboardError("unauthorized", "That token is not valid.");
      return json(200, { role: principal.role }, { "Set-Cookie": sessionCookie(body.token, isHttps(req)) });
    },
  }),
  // GET /api/v1/session – who the session belongs to
  route({
    method: "GET",
    path: "/api/v1/session",
    access: "any-token",
    handler: async ({ principal }) => json(200, { role: principal.role, channels: CHANNEL_NAMES }),
  }),
  // DELETE /api/v1/session – sign out
  route({
    method: "DELETE",
    path: "/api/v1/session",
    access: "public",
    handler: async () => empty(204, SIGNED_OUT),
  }),
  // GET /metrics – Prometheus exposition
  route({
    method: "GET",
    path: "/metrics",
    access: "public",
    handler: async ({ deps }) => {
      const { contentType, body } = await deps.metrics();
      return text(200, contentType, body);
    },
  }),
];

/** The paths the API answers; the rest goes to Next.js (Socket.IO's path never reaches it). */
const ownsPath = (pathname: string) => (pathname.startsWith("/api/v1/") || pathname === "/metrics") && !pathname.startsWith("/api/v1/ws");

/** The HTTP API's request handler. Returns false for paths it does not own. */
export function createHttpApi(deps: HttpApiDeps) {
  const router = createRouter({
    routes: apiRoutes,
    deps,
    authenticate: (req) => deps.verifier.verify(presentedToken(req.headers)),
    logger: deps.logger,
    maxBodyBytes: deps.maxBodyBytes,
  });
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let url: URL;
    try {
      url = requestUrl(req.url);
    } catch {
      return false; // not a URL at all: the server's own request handler answers 400
    }
    if (!ownsPath(url.pathname)) return false;
    await router(req, res, url);
    return true;
  };
}
