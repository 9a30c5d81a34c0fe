import type { Server, Socket } from "socket.io";
import type { ZodType } from "zod";
import {
  ERROR_CODES,
  MAX_HISTORY,
  socketPublishSchema,
  subscribeRequestSchema,
  unsubscribeRequestSchema,
  type Ack,
  type ClientToServerEvents,
  type ClosingNotice,
  type ErrorBody,
  type ErrorCode,
  type GapNotice,
  type ServerToClientEvents,
  type SwitchboardEvent,
} from "../../lib/protocol";
import { SwitchboardError } from "../channels/errors";
import type { Hub } from "../channels/hub";
import type { CloseReason, Principal, SubscriberConnection, SubscriberSink } from "../channels/subscriber";
import type { TokenVerifier } from "../auth/tokens";
import type { Logger } from "../logger";
import { readCookie } from "./credentials";
import { SESSION_COOKIE } from "../../lib/protocol";
import { describeZodError, toSwitchboardError } from "./errors";
import { ConnectionBudget, type BudgetedConnection, type BudgetLimits, type Release } from "./connection-budget";
import { encodeEvent, encodeEventBytes } from "./event-json";
import { RawJson } from "./raw-json-parser";

interface SocketData {
  principal: Principal;
  /** The client asked for batched delivery (`auth.batch`): it takes `events` messages. */
  batch: boolean;
  conn: SubscriberConnection;
  sink: SocketSink;
}
/** Messages between Switchboard nodes (through the Redis adapter's serverSideEmit). */
export interface InterServerEvents {
  "switchboard:events": (events: SwitchboardEvent[]) => void;
}
export type SwitchboardServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type SwitchboardSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** The parts of engine.io's socket and transport the sink uses; `writeBuffer` is not in the public typings. */
interface EngineSocket {
  readyState: string;
  transport: EngineTransport;
  writeBuffer: EnginePacket[];
  /** `wsPreEncodedFrame`: the complete WebSocket frame, which the websocket transport writes as it is. */
  write(data: string, options?: { wsPreEncodedFrame?: Buffer[] }): void;
  on(event: "upgrade", listener: (transport: EngineTransport) => void): void;
}
interface EngineTransport {
  name: string;
  writable: boolean;
  on(event: "ready", listener: () => void): void;
  removeListener(event: "ready", listener: () => void): void;
  /** The websocket transport's `ws` WebSocket. */
  socket?: { bufferedAmount: number; pause?(): void; resume?(): void };
}
interface EnginePacket {
  data?: string | Buffer;
  options?: { wsPreEncodedFrame?: Buffer[] };
}

/** Bytes of one packet in engine.io's write buffer: its prebuilt frame, or its data (string length, close enough). */
function packetBytes(packet: EnginePacket): number {
  const frames = packet.options?.wsPreEncodedFrame;
  if (frames) {
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    return bytes;
  }
  return (packet.data?.length ?? 0) + 1;
}

const closingMessages: Record<CloseReason, string> = {
  slow_consumer: "This connection fell too far behind its subscriptions and was closed; reconnect and resume with `since`.",
  shutdown: "The server is shutting down; reconnect and resume with `since`.",
};

/**
 * Socket.IO's encoding of an EVENT packet to the main namespace (`2` then the JSON array of the event
 * name and its arguments), built from the cached event JSON instead of encoding the event again for
 * every socket, as `socket.emit` would.
 */
function eventPacket(name: "event" | "events", body: string, subscriptionId: string) {
  return `2["${name}",${body},${JSON.stringify(subscriptionId)}]`;
}

/** Engine.io's message type (`4`) and Socket.IO's EVENT packet head for one event. */
const EVENT_FRAME_PREFIX = Buffer.from('42["event",');

/**
 * One event's packet as a complete, unmasked WebSocket text frame: the event's bytes are made once
 * and copied into each socket's frame, instead of each socket's string being built, measured and
 * encoded again by ws (what Socket.IO's own broadcasts avoid the same way, with `wsPreEncodedFrame`).
 */
function eventFrame(body: Buffer, subscriptionId: string): Buffer {
  const suffix = `,${JSON.stringify(subscriptionId)}]`;
  const payloadLength = EVENT_FRAME_PREFIX.length + body.length + Buffer.byteLength(suffix);
  const headerLength = payloadLength < 126 ? 2 : payloadLength < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + payloadLength);
  frame[0] = 0x81; // FIN, text
  if (headerLength === 2) {
    frame[1] = payloadLength;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(payloadLength, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(payloadLength), 2);
  }
  let offset = headerLength + EVENT_FRAME_PREFIX.copy(frame, headerLength);
  offset += body.copy(frame, offset);
  frame.write(suffix, offset);
  return frame;
}

/**
 * A Socket.IO socket as a hub sink. "Writable" means the engine has nothing waiting, the transport
 * is not busy sending, and the connection is under its soft buffer limit: while a client does not
 * read, TCP backs up, the transport stays busy, and the hub holds events in the subscriptions'
 * bounded backlogs instead of piling them into Socket.IO's unbounded write buffer. One pump writes
 * at most the room left under the soft limit (`room`), so draining many full backlogs at once cannot
 * put more than that into one socket. Under load that makes delivery batch by itself: what queues
 * while one write is in flight leaves in the next, as one `events` message for clients that accept it.
 */
class SocketSink implements SubscriberSink, BudgetedConnection {
  private readonly engine: EngineSocket;
  private waiting: (() => void) | null = null;
  /** Bytes the current pump may still write: measured by `isWritable`, spent by `sendEvents`. */
  private room = 0;
  readonly budget: ConnectionBudget;
  /** Set by the gateway: closes the connection as a slow consumer. */
  onOverflow: (unsent: number) => void = () => {};

  constructor(
    private readonly socket: SwitchboardSocket,
    limits: BudgetLimits,
  ) {
    this.engine = socket.conn as unknown as EngineSocket;
    this.budget = new ConnectionBudget(limits, this);
  }

  /** Starts listening to the transport; once the hub has accepted the connection. */
  start() {
    // Every transport announces "ready" once it is writable again, after each write it completes.
    // One listener per connection, kept for its life, instead of one per wait.
    this.engine.transport.on("ready", this.onReady);
    this.engine.on("upgrade", (transport) => {
      // The old transport is closed by the upgrade, and its listener with it.
      transport.on("ready", this.onReady);
      if (this.budget.isPaused) this.pauseReading();
      this.onReady();
    });
  }

  sendEvents(events: readonly SwitchboardEvent[], subscriptionId: string): number {
    if (this.engine.readyState !== "open" || this.room <= 0) return 0;
    if (events.length > 1 && this.socket.data.batch) {
      let body = encodeEvent(events[0]!);
      let n = 1;
      while (n < events.length && body.length < this.room) body += "," + encodeEvent(events[n++]!);
      if (n > 1) {
        this.engine.write(eventPacket("events", `[${body}]`, subscriptionId));
        this.room -= body.length;
        return n;
      }
      // Only one fits: it goes as a single event, below.
    }
    const websocket = this.engine.transport.name === "websocket";
    let sent = 0;
    while (sent < events.length && this.room > 0) {
      const event = events[sent++]!;
      const packet = eventPacket("event", encodeEvent(event), subscriptionId);
      if (websocket) {
        const frame = eventFrame(encodeEventBytes(event), subscriptionId);
        this.engine.write(packet, { wsPreEncodedFrame: [frame] });
        this.room -= frame.length;
      } else {
        this.engine.write(packet);
        this.room -= packet.length;
      }
    }
    return sent;
  }

  sendGap(notice: GapNotice) {
    this.socket.emit("gap", notice);
  }

  isWritable() {
    const engine = this.engine;
    if (!(this.socket.connected && engine.readyState === "open" && engine.transport.writable && engine.writeBuffer.length === 0)) return false;
    // The engine's buffer is empty here: what is unsent sits in the transport.
    this.room = this.budget.room(this.transportBytes());
    return this.room > 0;
  }

  onceWritable(callback: () => void) {
    this.waiting = callback;
  }

  close(reason: CloseReason) {
    this.waiting = null;
    this.budget.close();
    const notice: ClosingNotice = { code: reason, message: closingMessages[reason] };
    this.socket.emit("closing", notice);
    this.socket.disconnect(true);
    // A client that stopped reading would hold a graceful close open until the ping timeout,
    // because the engine waits to flush first; drop its transport at once instead.
    if (reason === "slow_consumer") terminateTransport(this.socket);
  }

  /**
   * Bytes written to this connection that the client has not taken: packets in engine.io's write
   * buffer not yet handed to the transport, plus what the websocket (ws and the TCP socket under
   * it) holds unsent. For the polling transport, the buffered packets.
   */
  unsentBytes(): number {
    let bytes = 0;
    for (const packet of this.engine.writeBuffer) bytes += packetBytes(packet);
    return bytes + this.transportBytes();
  }

  pauseReading() {
    // Polling has no socket of its own to pause; its requests wait in the budget's queue instead.
    this.engine.transport.socket?.pause?.();
  }

  resumeReading() {
    this.engine.transport.socket?.resume?.();
  }

  overflow(unsent: number) {
    this.onOverflow(unsent);
  }

  /** Re-checks waiting requests and a waiting pump: after something changed the room. */
  readonly onReady = () => {
    if (this.budget.isPaused || this.budget.queued > 0) this.budget.check();
    // The engine flushes its own buffer on the same event, first; wait until that is out too.
    if (!this.waiting || !this.isWritable()) return;
    const callback = this.waiting;
    this.waiting = null;
    callback();
  };

  private transportBytes(): number {
    const transport = this.engine.transport;
    return transport.name === "websocket" ? (transport.socket?.bufferedAmount ?? 0) : 0;
  }
}

/** Ends a socket's connection without the flush and close handshake a dead or stuck peer never completes. */
function terminateTransport(socket: SwitchboardSocket) {
  const engine = socket.conn as unknown as { close(discard: boolean): void; transport: { socket?: { terminate?: () => void } } };
  engine.close(true);
  engine.transport.socket?.terminate?.();
}

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
interface Handler<T> {
  schema: ZodType<T>;
  /** The largest answer `req` can get, reserved while it runs; `requestBytes` is its packet's size. */
  reserve(req: T, requestBytes: number): number;
  run(req: T): Promise<{ result: object; after?: () => void; answerBytes?: number }>;
}

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

    const handlers: Record<string, Handler<never>> = {
      subscribe: handler(subscribeRequestSchema, {
        reserve: (req) => historyReservation(req.since !== undefined ? MAX_HISTORY : (req.history ?? 0)),
        run: async (req) => {
          const { result, activate } = await hub.subscribeEncoded(conn, req);
          const { historyJson, ...rest } = result;
          // Sent as the database built it (the server's parser splices it in): the client reads `history`.
          return { result: { ...rest, history: new RawJson(historyJson) }, after: activate, answerBytes: historyJson.length + SMALL_ANSWER_BYTES };
        },
      }),
      unsubscribe: handler(unsubscribeRequestSchema, {
        reserve: () => SMALL_ANSWER_BYTES,
        run: async (req) => {
          hub.unsubscribe(conn, req.subscriptionId);
          return { result: {} };
        },
      }),
      publish: handler(socketPublishSchema, {
        // The answer is the event: the request's payload and the envelope.
        reserve: (_req, requestBytes) => Math.min(limits.maxAnswerBytes, requestBytes + EVENT_ENVELOPE_BYTES),
        run: async ({ channel, ...input }) => {
          const [event] = await hub.publish(conn.principal, channel, [input]);
          if (!event) throw new SwitchboardError("internal", "publish returned no event");
          return { result: { event } };
        },
      }),
    };
    const names = Object.keys(handlers).join(", ");

    const answerError = (name: string, err: unknown, ack: AckFn) => {
      const error = toSwitchboardError(err);
      if (ERROR_CODES[error.code] >= 500) {
        logger[error.code === "internal" ? "error" : "warn"]({ err, cause: error.cause, connection: conn.id, message: name, code: error.code }, "socket request failed");
      }
      ack({ ok: false, error: error.toBody() });
    };

    const runRequest = async <T>(name: string, h: Handler<T>, req: T, ack: AckFn, release: Release) => {
      try {
        const { result, after, answerBytes } = await h.run(req);
        // An answer that would take the connection past its hard limit is not written at all.
        if (answerBytes !== undefined && sink.budget.wouldOverflow(answerBytes)) {
          sink.budget.close();
          sink.overflow(sink.unsentBytes() + answerBytes);
          return;
        }
        ack({ ok: true, ...result });
        after?.();
      } catch (err) {
        answerError(name, err, ack);
      } finally {
        release();
        sink.onReady();
      }
    };

    // Every message goes through here, known or not: each one with an ack gets an answer, in turn
    // with the connection's budget. Listeners are never called (`next` is not), so nothing else runs.
    socket.use((event, _next) => {
      const ack = event[event.length - 1] as unknown;
      if (event.length < 2 || typeof ack !== "function") return; // no ack: nothing to answer, nothing done
      const reply = ack as AckFn;
      const name = String(event[0]);
      const args = event.slice(1, -1) as unknown[];
      const requestBytes = packetSize;
      const h = Object.hasOwn(handlers, name) ? (handlers[name] as Handler<unknown>) : undefined;
      let reserve = SMALL_ANSWER_BYTES;
      let run: (release: Release) => void;
      const refuse = (error: SwitchboardError) => (release: Release) => {
        answerError(name, error, reply);
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
          run = (release) => void runRequest(name, h, parsed.data, reply, release);
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

function handler<T>(schema: ZodType<T>, h: Omit<Handler<T>, "schema">): Handler<never> {
  return { schema, ...h } as unknown as Handler<never>;
}
