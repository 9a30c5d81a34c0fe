/**
 * The Switchboard wire protocol, version 1: the event envelope, the socket messages and the error
 * body. Isomorphic: imported by the server edges, the browser and the tests, never by server/ internals
 * that could pull Node-only code into the browser bundle.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1 as const;
export const SOCKET_PATH = "/api/v1/ws";
export const SESSION_COOKIE = "sb_session";

export const CHANNEL_NAMES = ["tasks", "agents", "budget", "messages", "system"] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export const ROLES = ["admin", "publisher", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** Dotted, lower-case event types: `task.created`, `budget.warning`, `system.notice`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
/** A type filter is an exact type or a prefix wildcard such as `task.*`. */
export const TYPE_FILTER_PATTERN = /^([a-z][a-z0-9_]*)(\.[a-z][a-z0-9_]*)*(\.\*)?$/;

const label = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:@/-]+$/, "letters, digits and _ . : @ / - only");

export const eventTypeSchema = z
  .string()
  .max(100)
  .regex(EVENT_TYPE_PATTERN, "a dotted lower-case type such as task.created");

/**
 * A JSON object, taken as it is. Not `z.record`: that copies the object key by key, and a parsed
 * `"__proto__"` key, an own property of the parsed object, would become the copy's prototype and
 * vanish from the stored payload. What the values may be is checked by lib/payload-rules.ts.
 */
const jsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "expected a JSON object",
);

/** The event envelope. `seq` is per channel, starts at 1 and has no holes. */
export interface SwitchboardEvent {
  v: typeof PROTOCOL_VERSION;
  id: string;
  channel: string;
  seq: number;
  type: string;
  /** ISO-8601, UTC, millisecond precision. */
  ts: string;
  agent: string | null;
  project: string | null;
  payload: Record<string, unknown>;
}

export const eventSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().uuid(),
  channel: z.string(),
  seq: z.number().int().positive(),
  type: eventTypeSchema,
  ts: z.string().datetime(),
  agent: label.nullable(),
  project: label.nullable(),
  payload: jsonObject,
}) satisfies z.ZodType<SwitchboardEvent>;

/** What a producer sends; the server adds id, seq and ts. */
export const publishInputSchema = z.object({
  type: eventTypeSchema,
  payload: jsonObject.default({}),
  agent: label.nullish(),
  project: label.nullish(),
});
export type PublishInput = z.input<typeof publishInputSchema>;

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1).max(50)]);

export const filterSchema = z
  .object({
    agent: oneOrMany(label).optional(),
    project: oneOrMany(label).optional(),
    type: oneOrMany(z.string().max(100).regex(TYPE_FILTER_PATTERN, "a type or a prefix such as task.*")).optional(),
  })
  .strict();
export type EventFilter = z.infer<typeof filterSchema>;

export const MAX_HISTORY = 1000;

export const subscribeRequestSchema = z
  .object({
    channel: z.string().min(1).max(64),
    filter: filterSchema.optional(),
    /** Every matching event after this seq (capped at MAX_HISTORY; `truncated` says so). */
    since: z.number().int().min(0).optional(),
    /** The last n matching events. */
    history: z.number().int().min(0).max(MAX_HISTORY).optional(),
  })
  .strict()
  .refine((r) => r.since === undefined || r.history === undefined, {
    message: "give either since or history, not both",
  });
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

export const unsubscribeRequestSchema = z.object({ subscriptionId: z.string().min(1).max(64) }).strict();

export const socketPublishSchema = publishInputSchema.extend({ channel: z.string().min(1).max(64) });

export const ERROR_CODES = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  unknown_channel: 404,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface SubscribeResult {
  subscriptionId: string;
  history: SwitchboardEvent[];
  /** The channel's last committed seq when history was read; live events start after it. */
  head: number;
  /** True when `since` matched more than MAX_HISTORY events: fetch (last history seq, head] over HTTP. */
  truncated: boolean;
}

/** Sent when a slow subscriber's backlog overflowed and events in [fromSeq, toSeq] were dropped. */
export interface GapNotice {
  subscriptionId: string;
  channel: string;
  fromSeq: number;
  toSeq: number;
}

export interface ChannelInfo {
  name: string;
  lastSeq: number;
  subscribers: number;
}

/** Sent just before the server closes a connection on purpose. */
export interface ClosingNotice {
  code: "slow_consumer" | "shutdown";
  message: string;
}

export interface ServerToClientEvents {
  event: (event: SwitchboardEvent, subscriptionId: string) => void;
  /**
   * Several events of one subscription, in seq order: sent instead of `event` to clients that pass
   * `batch: true` in the handshake's `auth`, whenever more than one event is ready at once.
   */
  events: (events: SwitchboardEvent[], subscriptionId: string) => void;
  gap: (notice: GapNotice) => void;
  closing: (notice: ClosingNotice) => void;
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack: (res: Ack<SubscribeResult>) => void) => void;
  unsubscribe: (req: { subscriptionId: string }, ack: (res: Ack<object>) => void) => void;
  publish: (
    req: PublishInput & { channel: string },
    ack: (res: Ack<{ event: SwitchboardEvent }>) => void,
  ) => void;
}
