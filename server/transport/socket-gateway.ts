import type { Server, Socket } from "socket.io";
import type { ZodType } from "zod";
import {
  socketPublishSchema,
  subscribeRequestSchema,
  unsubscribeRequestSchema,
  type Ack,
  type ClientToServerEvents,
  type ClosingNotice,
  type GapNotice,
  type ServerToClientEvents,
  type SwitchboardEvent,
} from "../../lib/protocol";
import { SwitchboardError } from "../channels/errors";
import type { Hub } from "../channels/hub";
import type { CloseReason, Principal, SubscriberSink } from "../channels/subscriber";
import type { TokenVerifier } from "../auth/tokens";
import type { Logger } from "../logger";
import { readCookie } from "./credentials";
import { SESSION_COOKIE } from "../../lib/protocol";
import { describeZodError, toSwitchboardError } from "./errors";
import { encodeEvent, encodeEventBytes, encodeEvents } from "./event-json";
import { RawJson } from "./raw-json-parser";

interface SocketData {
  principal: Principal;
  /** The client asked for batched delivery (`auth.batch`): it takes `events` messages. */
  batch: boolean;
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
  writeBuffer: unknown[];
  /** `wsPreEncodedFrame`: the complete WebSocket frame, which the websocket transport writes as it is. */
  write(data: string, options?: { wsPreEncodedFrame?: Buffer[] }): void;
  on(event: "upgrade", listener: (transport: EngineTransport) => void): void;
}
interface EngineTransport {
  name: string;
  writable: boolean;
  on(event: "ready", listener: () => void): void;
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
 * A Socket.IO socket as a hub sink. "Writable" means the engine has nothing waiting and the transport
 * is not busy sending: while a client does not read, TCP backs up, the transport stays busy, and the
 * hub holds events in the subscriptions' bounded backlogs instead of piling them into Socket.IO's
 * unbounded write buffer. Under load that makes delivery batch by itself: what queues while one
 * write is in flight leaves in the next, as one `events` message for clients that accept it.
 */
class SocketSink implements SubscriberSink {
  private readonly engine: EngineSocket;
  private waiting: (() => void) | null = null;

  constructor(private readonly socket: SwitchboardSocket) {
    this.engine = socket.conn as unknown as EngineSocket;
    // Every transport announces "ready" once it is writable again, after each write it completes.
    // One listener per connection, kept for its life, instead of one per wait.
    this.engine.transport.on("ready", this.onReady);
    this.engine.on("upgrade", (transport) => {
      // The old transport is closed by the upgrade, and its listener with it.
      transport.on("ready", this.onReady);
      this.onReady();
    });
  }

  sendEvents(events: readonly SwitchboardEvent[], subscriptionId: string) {
    if (this.engine.readyState !== "open") return;
    if (events.length > 1 && this.socket.data.batch) {
      this.engine.write(eventPacket("events", encodeEvents(events), subscriptionId));
      return;
    }
    const websocket = this.engine.transport.name === "websocket";
    for (const event of events) {
      const packet = eventPacket("event", encodeEvent(event), subscriptionId);
      this.engine.write(packet, websocket ? { wsPreEncodedFrame: [eventFrame(encodeEventBytes(event), subscriptionId)] } : undefined);
    }
  }

  sendGap(notice: GapNotice) {
    this.socket.emit("gap", notice);
  }

  isWritable() {
    const engine = this.engine;
    return this.socket.connected && engine.readyState === "open" && engine.transport.writable && engine.writeBuffer.length === 0;
  }

  onceWritable(callback: () => void) {
    this.waiting = callback;
  }

  close(reason: CloseReason) {
    this.waiting = null;
    const notice: ClosingNotice = { code: reason, message: closingMessages[reason] };
    this.socket.emit("closing", notice);
    this.socket.disconnect(true);
    // A client that stopped reading would hold a graceful close open until the ping timeout,
    // because the engine waits to flush first; drop its transport at once instead.
    if (reason === "slow_consumer") terminateTransport(this.socket);
  }

  private readonly onReady = () => {
    // The engine flushes its own buffer on the same event, first; wait until that is out too.
    if (!this.waiting || !this.isWritable()) return;
    const callback = this.waiting;
    this.waiting = null;
    callback();
  };
}

/** Ends a socket's connection without the flush and close handshake a dead or stuck peer never completes. */
function terminateTransport(socket: SwitchboardSocket) {
  const engine = socket.conn as unknown as { close(discard: boolean): void; transport: { socket?: { terminate?: () => void } } };
  engine.close(true);
  engine.transport.socket?.terminate?.();
}

export interface SocketGatewayDeps {
  hub: Hub;
  verifier: TokenVerifier;
  logger: Logger;
}

/** Authenticates sockets and turns their messages into hub calls, each answered with an ack. */
export function attachSocketGateway(io: SwitchboardServer, { hub, verifier, logger }: SocketGatewayDeps) {
  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof auth?.token === "string" ? auth.token : readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
    verifier
      .verify(token)
      .then((principal) => {
        if (!principal) return next(new Error("unauthorized"));
        socket.data.principal = principal;
        socket.data.batch = (auth as { batch?: unknown } | undefined)?.batch === true;
        next();
      })
      .catch((err: unknown) => {
        logger.error({ err }, "token verification failed");
        next(new Error("unavailable"));
      });
  });

  io.on("connection", (socket) => {
    const conn = hub.connect(socket.data.principal, new SocketSink(socket));
    socket.on("disconnect", (reason) => {
      hub.disconnect(conn);
      // A peer that stopped answering pings will not answer a websocket close either; ending the
      // TCP connection now frees it instead of holding it for the close handshake's timeout.
      if (reason === "ping timeout") terminateTransport(socket);
    });

    /** Validates the payload, runs the handler and answers the ack with its result or a stable error. */
    function on<T, R extends object>(
      name: keyof ClientToServerEvents,
      schema: ZodType<T>,
      run: (req: T) => Promise<{ result: R; after?: () => void }>,
    ) {
      socket.on(name, (raw: unknown, ack: unknown) => {
        if (typeof ack !== "function") return; // every message of the protocol carries an ack
        const reply = ack as (res: Ack<R>) => void;
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          return reply({ ok: false, error: { code: "invalid_request", message: describeZodError(parsed.error) } });
        }
        run(parsed.data)
          .then(({ result, after }) => {
            reply({ ok: true, ...result });
            after?.();
          })
          .catch((err: unknown) => {
            const error = toSwitchboardError(err);
            if (error.code === "internal") logger.error({ err, message: name }, "socket request failed");
            reply({ ok: false, error: error.toBody() });
          });
      });
    }

    on("subscribe", subscribeRequestSchema, async (req) => {
      const { result, activate } = await hub.subscribeEncoded(conn, req);
      const { historyJson, ...rest } = result;
      // Sent as the database built it (the server's parser splices it in): the client reads `history`.
      return { result: { ...rest, history: new RawJson(historyJson) }, after: activate };
    });
    on("unsubscribe", unsubscribeRequestSchema, async (req) => {
      hub.unsubscribe(conn, req.subscriptionId);
      return { result: {} };
    });
    on("publish", socketPublishSchema, async ({ channel, ...input }) => {
      const [event] = await hub.publish(conn.principal, channel, [input]);
      if (!event) throw new SwitchboardError("internal", "publish returned no event");
      return { result: { event } };
    });
  });
}
