import type { Socket } from "socket.io";
import type { ClientToServerEvents, ClosingNotice, GapNotice, ServerToClientEvents, SwitchboardEvent } from "../../lib/protocol";
import type { CloseReason, SubscriberSink } from "../channels/subscriber";
import { ConnectionBudget, type BudgetedConnection, type BudgetLimits } from "./connection-budget";
import { encodeEvent, encodeEventBytes } from "./event-json";

/** What the sink reads of its socket's data. */
export interface SinkSocketData {
  /** The client asked for batched delivery (`auth.batch`): it takes `events` messages. */
  batch: boolean;
}
/**
 * A Socket.IO socket the sink writes to. It sends no inter-server messages (`never`); the gateway's
 * sockets, which carry more data, are SinkSockets.
 */
export type SinkSocket = Socket<ClientToServerEvents, ServerToClientEvents, never, SinkSocketData>;

/** The parts of engine.io's socket and transport the sink uses; `writeBuffer` is not in the public typings. */
export interface EngineSocket {
  readyState: string;
  transport: EngineTransport;
  writeBuffer: EnginePacket[];
  /** `wsPreEncodedFrame`: the complete WebSocket frame, which the websocket transport writes as it is. */
  write(data: string, options?: { wsPreEncodedFrame?: Buffer[] }): void;
  on(event: "upgrade", listener: (transport: EngineTransport) => void): void;
}
export interface EngineTransport {
  name: string;
  writable: boolean;
  on(event: "ready", listener: () => void): void;
  removeListener(event: "ready", listener: () => void): void;
  /** The websocket transport's `ws` WebSocket. */
  socket?: { bufferedAmount: number; pause?(): void; resume?(): void };
}
export interface EnginePacket {
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
export class SocketSink implements SubscriberSink, BudgetedConnection {
  private readonly engine: EngineSocket;
  private waiting: (() => void) | null = null;
  /** Bytes the current pump may still write: measured by `isWritable`, spent by `sendEvents`. */
  private room = 0;
  readonly budget: ConnectionBudget;
  /** Set by the gateway: closes the connection as a slow consumer. */
  onOverflow: (unsent: number) => void = () => {};

  constructor(
    private readonly socket: SinkSocket,
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
export function terminateTransport(socket: SinkSocket) {
  const engine = socket.conn as unknown as { close(discard: boolean): void; transport: { socket?: { terminate?: () => void } } };
  engine.close(true);
  engine.transport.socket?.terminate?.();
}
