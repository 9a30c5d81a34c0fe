import type { Server } from "socket.io";
import type { z, ZodType } from "zod";
import {
  ERROR_CODES,
  MAX_HISTORY,
  socketPublishSchema,
  subscribeRequestSchema,
  unsubscribeRequestSchema,
  type Ack,
  type ClientToServerEvents,
  type ErrorBody,
  type ErrorCode,
  type ServerToClientEvents,
} from "../../lib/protocol";
import { SwitchboardError } from "../channels/errors";
import type { Hub } from "../channels/hub";
import type { Principal, SubscriberConnection } from "../channels/subscriber";
import type { TokenVerifier } from "../auth/tokens";
import type { Logger } from "../logger";
import { readCookie } from "./credentials";
import { SESSION_COOKIE } from "../../lib/protocol";
import { describeZodError, toSwitchboardError } from "./errors";
import type { BudgetLimits, Release } from "./connection-budget";
import { RawJson } from "./raw-json-parser";
import { SocketSink, terminateTransport, type EnginePacket, type SinkSocketData } from "./socket-sink";

interface SocketData extends SinkSocketData {
  principal: Principal;
  conn: SubscriberConnection;
  sink: SocketSink;
}
/** Nodes exchange events through the fanout backend, not through Socket.IO: no inter-server events. */
export type SwitchboardServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * A refused handshake: `message` is the code (what clients have always matched on), and `data`
 * carries `{ code, message }` like every other error; Socket.IO hands `data` to the client's
 * `connect_error`.
 */
export function handshakeError(code: ErrorCode, message: string): Error & { data: ErrorBody } {
  return Object.assign(new Error(code), { data: { code, message } });
}

export interface ConnectionLimits {
  /** CONNECTION_BUFFER_SOFT_BYTES */
  softBytes: number;
  /** CONNECTION_BUFFER_HARD_BYTES */
  hardBytes: number;
  /** MAX_ANSWER_BYTES: the largest answer, reserved while a subscribe runs. */
  maxAnswerBytes: number;
  /** MAX_PAYLOAD_BYTES: sizes the reservation of a history answer. */
  maxPayloadBytes: number;
  /** Requests that may wait while a connection is over its soft limit; beyond, `rate_limited`. */
  maxQueuedRequests: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  softBytes: 8 * 1024 * 1024,
  hardBytes: 16 * 1024 * 1024,
  maxAnswerBytes: 4 * 1024 * 1024,
  maxPayloadBytes: 64 * 1024,
  maxQueuedRequests: 128,
};

export interface SocketGatewayDeps {
  hub: Hub;
  verifier: TokenVerifier;
  logger: Logger;
  limits?: Partial<ConnectionLimits>;
}

/** Unsent bytes over this node's connections, read at scrape time. */
export interface ConnectionBufferStats {
  connections: number;
  unsentBytes: number;
  maxUnsentBytes: number;
  /** Connections whose requests are not being read because they are over their soft limit. */
  readPaused: number;
}

/** What an answer without history (an error, an unsubscribe) is reserved: generous for an ack. */
const SMALL_ANSWER_BYTES = 1024;
/** An event's JSON beyond its payload (id, seq, ts, type, agent, project, keys), at most. */
const EVENT_ENVELOPE_BYTES = 1024;

type AckFn = (res: Ack<object>) => void;

/** The messages clients send: each one takes a request and an ack. */
type MessageName = keyof ClientToServerEvents;
/** A message's request, as the client sends it. */
type RequestOf<M extends MessageName> = Parameters<ClientToServerEvents[M]>[0];
/** What a message's ack carries when it succeeds. */
type ResultOf<M extends MessageName> = Parameters<ClientToServerEvents[M]>[1] extends (res: Ack<infer R>) => void ? R : never;
/** A result as it is written: a field may be JSON the server built already, sent as it is (`RawJson`). */
type Wire<T> = { [K in keyof T]: T[K] | RawJson };

interface Answer<R> {
  result: Wire<R>;
  /** Runs once the answer is written (a subscribe goes live then). */
  after?: () => void;
  /** The answer's size when it is large enough to check against the hard limit before writing it. */
  answerBytes?: number;
}

/** One message's handling: `schema` validates its request, whose parsed form `reserve` and `run` get. */
interface Handler<S extends ZodType, R> {
  schema: S;
  /** The largest answer `req` can get, reserved while it runs; `requestBytes` is its packet's size. */
  reserve(req: z.output<S>, requestBytes: number): number;
  /** Handles `req` for the connection it came on (one table serves every connection). */
  run(req: z.output<S>, conn: SubscriberConnection): Promise<Answer<R>>;
}

/**
 * One handler per message of `ClientToServerEvents`: a message cannot be added without a schema
 * whose output is that message's request and a run whose answer is its ack's result.
 */
type HandlerTable = { [M in MessageName]: Handler<ZodType<RequestOf<M>>, ResultOf<M>> };

/** Infers a handler's request from its schema (what a table entry alone would not). */
const handler = <S extends ZodType, R>(h: Handler<S, R>) => h;

/** Authenticates sockets and turns their messages into hub calls, each answered with an ack. */
export function attachSocketGateway(io: SwitchboardServer, { hub, verifier, logger, limits: given }: SocketGatewayDeps) {
  const limits: ConnectionLimits = { ...defaultConnectionLimits, ...given };
  const budgetLimits: BudgetLimits = { softBytes: limits.softBytes, hardBytes: limits.hardBytes, maxQueued: limits.maxQueuedRequests };
  const sinks = new Set<SocketSink>();

  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof auth?.token === "string" ? auth.token : readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
    verifier
      .verify(token)
      .then((principal) => {
        if (!principal) return next(handshakeError("unauthorized", "A valid token is required: pass it as `auth.token`, or sign in."));
        socket.data.principal = principal;
        socket.data.batch = (auth as { batch?: unknown } | undefined)?.batch === true;
        const sink = new SocketSink(socket, budgetLimits);
        let conn: SubscriberConnection;
        try {
          conn = hub.connect(principal, sink);
        } catch (err) {
          const error = toSwitchboardError(err);
          if (ERROR_CODES[error.code] >= 500) logger.error({ err }, "socket handshake failed");
          return next(handshakeError(error.code, error.message));
        }
        sink.start();
        sinks.add(sink);
        socket.data.conn = conn;
        socket.data.sink = sink;
        // Released when the transport closes, also if the socket never finishes connecting.
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          sinks.delete(sink);
          sink.budget.close();
          hub.disconnect(conn);
        };
        socket.conn.once("close", release);
        socket.once("disconnect", release);
        sink.onOverflow = (unsent) => {
          logger.warn({ connection: conn.id, unsentBytes: unsent, limit: limits.hardBytes }, "connection went past its buffer limit; closing it as a slow consumer");
          release();
          sink.close("slow_consumer");
        };
        next();
      })
      .catch((err: unknown) => {
        logger.error({ err }, "token verification failed");
        next(handshakeError("unavailable", "Could not verify the token right now; retry shortly."));
      });
  });

  const historyReservation = (n: number) =>
    n === 0 ? SMALL_ANSWER_BYTES : Math.min(limits.maxAnswerBytes, n * (limits.maxPayloadBytes + EVENT_ENVELOPE_BYTES) + SMALL_ANSWER_BYTES);

  // The handlers and their helpers exist once for the server, not once per connection: an idle
  // connection costs only its own state (docs/benchmarks.md, memory per idle connection).
  const handlers: HandlerTable = {
    subscribe: handler({
      schema: subscribeRequestSchema,
      reserve: (req) => historyReservation(req.since !== undefined ? MAX_HISTORY : (req.history ?? 0)),
      run: async (req, conn) => {
        const { result, activate } = await hub.subscribeEncoded(conn, req);
        const { historyJson, ...rest } = result;
        // Sent as the database built it (the server's parser splices it in): the client reads `history`.
        return { result: { ...rest, history: new RawJson(historyJson) }, after: activate, answerBytes: historyJson.length + SMALL_ANSWER_BYTES };
      },
    }),
    unsubscribe: handler({
      schema: unsubscribeRequestSchema,
      reserve: () => SMALL_ANSWER_BYTES,
      run: async (req, conn) => {
        hub.unsubscribe(conn, req.subscriptionId);
        return { result: {} };
      },
    }),
    publish: handler({
      schema: socketPublishSchema,
      // The answer is the event: the request's payload and the envelope.
      reserve: (_req, requestBytes) => Math.min(limits.maxAnswerBytes, requestBytes + EVENT_ENVELOPE_BYTES),
      run: async ({ channel, ...input }, conn) => {
        const [event] = await hub.publish(conn.principal, channel, [input]);
        if (!event) throw new SwitchboardError("internal", "publish returned no event");
        return { result: { event } };
      },
    }),
  };
  const names = Object.keys(handlers).join(", ");

  const answerError = (conn: SubscriberConnection, name: string, err: unknown, ack: AckFn) => {
    const error = toSwitchboardError(err);
    if (ERROR_CODES[error.code] >= 500) {
      logger[error.code === "internal" ? "error" : "warn"]({ err, cause: error.cause, connection: conn.id, message: name, code: error.code }, "socket request failed");
    }
    ack({ ok: false, error: error.toBody() });
  };

  const runRequest = async (conn: SubscriberConnection, sink: SocketSink, name: string, h: Handler<ZodType, object>, req: unknown, ack: AckFn, release: Release) => {
    try {
      const { result, after, answerBytes } = await h.run(req, conn);
      // An answer that would take the connection past its hard limit is not written at all.
      if (answerBytes !== undefined && sink.budget.wouldOverflow(answerBytes)) {
        sink.budget.close();
        sink.overflow(sink.unsentBytes() + answerBytes);
        return;
      }
      ack({ ok: true, ...result });
      after?.();
    } catch (err) {
      answerError(conn, name, err, ack);
    } finally {
      release();
      sink.onReady();
    }
  };

  io.on("connection", (socket) => {
    const { conn, sink } = socket.data;
    socket.on("disconnect", (reason) => {
      // A peer that stopped answering pings will not answer a websocket close either; ending the
      // TCP connection now frees it instead of holding it for the close handshake's timeout.
      if (reason === "ping timeout") terminateTransport(socket);
    });
    // The size of the packet being handled: engine.io reports each packet before Socket.IO decodes it.
    let packetSize = 0;
    socket.conn.on("packet", (packet: EnginePacket) => {
      packetSize = packet.data?.length ?? 0;
    });

    // Every message goes through here, known or not: each one with an ack gets an answer, in turn
    // with the connection's budget. Listeners are never called (`next` is not), so nothing else runs.
    socket.use((event, _next) => {
      const ack = event[event.length - 1] as unknown;
      if (event.length < 2 || typeof ack !== "function") return; // no ack: nothing to answer, nothing done
      const reply = ack as AckFn;
      const name = String(event[0]);
      const args = event.slice(1, -1) as unknown[];
      const requestBytes = packetSize;
      const h: Handler<ZodType, object> | undefined = Object.hasOwn(handlers, name) ? handlers[name as MessageName] : undefined;
      let reserve = SMALL_ANSWER_BYTES;
      let run: (release: Release) => void;
      const refuse = (error: SwitchboardError) => (release: Release) => {
        answerError(conn, name, error, reply);
        release();
        sink.onReady();
      };
      if (!h) {
        run = refuse(new SwitchboardError("not_found", `Unknown message "${name.slice(0, 64)}"; this server takes ${names}.`));
      } else if (args.length !== 1) {
        run = refuse(new SwitchboardError("invalid_request", `"${name}" takes one argument (an object) and an ack; got ${args.length} arguments before the ack.`));
      } else {
        const parsed = h.schema.safeParse(args[0]);
        if (!parsed.success) {
          run = refuse(new SwitchboardError("invalid_request", describeZodError(parsed.error)));
        } else {
          reserve = h.reserve(parsed.data, requestBytes);
          run = (release) => void runRequest(conn, sink, name, h, parsed.data, reply, release);
        }
      }
      if (!sink.budget.admit(reserve, run)) {
        reply({
          ok: false,
          error: {
            code: "rate_limited",
            message: "Too many requests are waiting on this connection: it is over its buffer limit because its answers and events are not being read. Read them, then retry.",
          },
        });
      }
    });
  });

  return {
    bufferStats(): ConnectionBufferStats {
      let unsentBytes = 0;
      let maxUnsentBytes = 0;
      let readPaused = 0;
      for (const sink of sinks) {
        const unsent = sink.unsentBytes();
        unsentBytes += unsent;
        if (unsent > maxUnsentBytes) maxUnsentBytes = unsent;
        if (sink.budget.isPaused) readPaused++;
      }
      return { connections: sinks.size, unsentBytes, maxUnsentBytes, readPaused };
    },
  };
}
