/**
 * Typed calls to Switchboard's HTTP API for the browser (and for Node, given a base URL and a token).
 * Isomorphic: fetch only, no server imports.
 */
import type { ChannelInfo, ErrorCode, EventFilter, PublishInput, Role, SwitchboardEvent } from "./protocol";
import type { ActivityView, AgentView, BudgetView, ConversationView, TaskView } from "./views";

/** Where the API lives and how to authenticate. In the browser both stay unset: same origin, session cookie. */
export interface ApiTarget {
  baseUrl?: string;
  token?: string;
}

export interface RequestOptions extends ApiTarget {
  signal?: AbortSignal;
}

/** An API answer that was not a success, or no answer at all (`status` 0, code "network"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | "network" | "unexpected_response",
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get isUnauthorized() {
    return this.status === 401;
  }
}

export interface SessionInfo {
  role: Role;
  channels: string[];
}

export interface EventsPage {
  /** Oldest first. */
  events: SwitchboardEvent[];
  head: number;
  hasMore: boolean;
  nextAfter: number;
}

export interface EventsPageQuery {
  after: number;
  limit: number;
  filter?: EventFilter;
}

const errorBodyOf = (body: unknown): { code?: ErrorCode; message?: string } => {
  if (typeof body !== "object" || body === null || !("error" in body)) return {};
  const error = (body as { error: unknown }).error;
  return typeof error === "object" && error !== null ? (error as { code?: ErrorCode; message?: string }) : {};
};

async function requestJson<T>(path: string, init: RequestInit & RequestOptions): Promise<T | undefined> {
  const { baseUrl = "", token, signal, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (rest.body !== undefined) headers.set("Content-Type", "application/json");
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, { ...rest, headers, signal, credentials: "same-origin" });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, "network", "Could not reach the Switchboard server. Check your connection and try again.");
  }
  if (response.status === 204) return undefined;
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const { code, message } = errorBodyOf(body);
    throw new ApiError(response.status, code ?? "unexpected_response", message ?? `The server answered ${response.status}.`);
  }
  if (body === undefined) throw new ApiError(response.status, "unexpected_response", "The server's answer was not JSON.");
  return body as T;
}

async function requestJsonOrThrow<T>(path: string, init: RequestInit & RequestOptions): Promise<T> {
  const body = await requestJson<T>(path, init);
  if (body === undefined) throw new ApiError(204, "unexpected_response", `${path} answered without a body.`);
  return body;
}

// POST /api/v1/session – exchange a token for the httpOnly session cookie
export function signIn(token: string, options: RequestOptions = {}) {
  return requestJsonOrThrow<{ role: Role }>("/api/v1/session", { ...options, method: "POST", body: JSON.stringify({ token }) });
}

// GET /api/v1/session – the signed-in role; 401 without a valid session
export function getSession(options: RequestOptions = {}) {
  return requestJsonOrThrow<SessionInfo>("/api/v1/session", { ...options, method: "GET" });
}

// DELETE /api/v1/session – sign out
export async function signOut(options: RequestOptions = {}) {
  await requestJson<never>("/api/v1/session", { ...options, method: "DELETE" });
}

// GET /api/v1/channels – every channel with its last seq and subscriber count
export async function listChannels(options: RequestOptions = {}) {
  const body = await requestJsonOrThrow<{ channels: ChannelInfo[] }>("/api/v1/channels", { ...options, method: "GET" });
  return body.channels;
}

/** Query string for the history endpoint; list filters are sent comma-separated. */
export function eventsPageSearch({ after, limit, filter }: EventsPageQuery): string {
  const params = new URLSearchParams({ after: String(after), limit: String(limit) });
  for (const key of ["agent", "project", "type"] as const) {
    const value = filter?.[key];
    if (value !== undefined) params.set(key, Array.isArray(value) ? value.join(",") : value);
  }
  return params.toString();
}

// GET /api/v1/channels/:channel/events – one oldest-first page of a channel's history
export function fetchEventsPage(channel: string, query: EventsPageQuery, options: RequestOptions = {}) {
  return requestJsonOrThrow<EventsPage>(`/api/v1/channels/${encodeURIComponent(channel)}/events?${eventsPageSearch(query)}`, {
    ...options,
    method: "GET",
  });
}

// POST /api/v1/channels/:channel/events – publish one event (admins and publishers; system: admins only)
export async function publishEvent(channel: string, input: PublishInput, options: RequestOptions = {}) {
  const body = await requestJsonOrThrow<{ events: SwitchboardEvent[] }>(`/api/v1/channels/${encodeURIComponent(channel)}/events`, {
    ...options,
    method: "POST",
    body: JSON.stringify(input),
  });
  const [event] = body.events;
  if (!event) throw new ApiError(201, "unexpected_response", "The server accepted the event but did not return it.");
  return event;
}

// GET /api/v1/channels/:channel/seq-before?ts= – the last seq older than a time (0 if none)
export async function fetchSeqBefore(channel: string, ts: Date, options: RequestOptions = {}) {
  const body = await requestJsonOrThrow<{ seq: number }>(
    `/api/v1/channels/${encodeURIComponent(channel)}/seq-before?ts=${encodeURIComponent(ts.toISOString())}`,
    { ...options, method: "GET" },
  );
  return body.seq;
}

const viewPath = (path: string, params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(key, String(value));
  const query = search.toString();
  return `/api/v1/views/${path}${query ? `?${query}` : ""}`;
};

// GET /api/v1/views/activity – events per minute per channel
export const fetchActivity = (minutes: number, options: RequestOptions = {}) =>
  requestJsonOrThrow<ActivityView>(viewPath("activity", { minutes }), { ...options, method: "GET" });

// GET /api/v1/views/agents – every agent with its status, current task and spend
export const fetchAgents = async (offlineAfterSeconds: number, options: RequestOptions = {}) =>
  (await requestJsonOrThrow<{ agents: AgentView[] }>(viewPath("agents", { offlineAfterSeconds }), { ...options, method: "GET" })).agents;

// GET /api/v1/views/tasks – the latest state of each task, newest first
export const fetchTasks = async (query: { project?: string; agent?: string; limit?: number }, options: RequestOptions = {}) =>
  (await requestJsonOrThrow<{ tasks: TaskView[] }>(viewPath("tasks", query), { ...options, method: "GET" })).tasks;

// GET /api/v1/views/budget – spend per project and agent over time, budgets, warnings
export const fetchBudget = (query: { hours: number; bucketMinutes: number }, options: RequestOptions = {}) =>
  requestJsonOrThrow<BudgetView>(viewPath("budget", query), { ...options, method: "GET" });

// GET /api/v1/views/conversations – agent pairs that exchanged messages, newest first
export const fetchConversations = async (options: RequestOptions = {}) =>
  (await requestJsonOrThrow<{ conversations: ConversationView[] }>(viewPath("conversations", { limit: 100 }), { ...options, method: "GET" })).conversations;

// GET /api/v1/views/conversations/:a/:b – the messages between two agents, oldest first
export const fetchConversation = async (a: string, b: string, options: RequestOptions = {}) =>
  (
    await requestJsonOrThrow<{ events: SwitchboardEvent[] }>(
      `/api/v1/views/conversations/${encodeURIComponent(a)}/${encodeURIComponent(b)}?limit=200`,
      { ...options, method: "GET" },
    )
  ).events;
