import { io, type Socket } from "socket.io-client";
import { Histogram } from "./histogram";
import { sleep, wallMs } from "./util";

const SOCKET_PATH = "/api/v1/ws";

/** ~64 characters of text: with the envelope, an event is ~330 bytes on the wire. */
const TITLE = "benchmark event: a modest payload of about sixty-four characters";

export interface StepPublishResult {
  sent: number;
  acked: number;
  failed: number;
  /** Publishes not sent because too many were waiting for their ack (the server fell behind). */
  throttled: number;
  /** Acknowledged publishes whose timestamp is inside the measurement window. */
  ackedInWindow: number;
  maxInFlight: number;
  firstError?: string;
  /** publish → ack of the measured publishes (for Switchboard: the commit). */
  ackP50: number;
  ackP99: number;
}

/**
 * The load generator for fanout: one socket per node, round-robin, open loop at a fixed rate. Every
 * event carries `payload.t`, the wall-clock ms at which it was published.
 */
export class Publisher {
  private next = 0;
  private counter = 0;
  private inFlight = 0;

  private constructor(private readonly sockets: Socket[]) {}

  static async open(urls: string[], token: string): Promise<Publisher> {
    const sockets = await Promise.all(
      urls.map(
        (url) =>
          new Promise<Socket>((resolve, reject) => {
            const s = io(url, { path: SOCKET_PATH, auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
            const timer = setTimeout(() => reject(new Error(`publisher could not connect to ${url}`)), 15_000);
            s.once("connect", () => {
              clearTimeout(timer);
              resolve(s);
            });
            s.once("connect_error", (err) => {
              clearTimeout(timer);
              reject(err);
            });
          }),
      ),
    );
    return new Publisher(sockets);
  }

  close() {
    for (const s of this.sockets) s.disconnect();
  }

  /**
   * Publishes `rate` events/s on `channel` from now until `until` (wall ms). Events stamped within
   * [from, until) are the measured ones. Never more than `maxInFlight` publishes wait for an ack.
   */
  async run(opts: { channel: string; rate: number; from: number; until: number; maxInFlight: number }): Promise<StepPublishResult> {
    const r: StepPublishResult = { sent: 0, acked: 0, failed: 0, throttled: 0, ackedInWindow: 0, maxInFlight: 0, ackP50: Number.NaN, ackP99: Number.NaN };
    const acks = new Histogram();
    const start = wallMs();
    let due = 0;
    while (wallMs() < opts.until) {
      const target = Math.floor(((wallMs() - start) / 1000) * opts.rate) + 1;
      while (due < target) {
        due++;
        if (this.inFlight >= opts.maxInFlight) {
          r.throttled++;
          continue;
        }
        this.publishOne(opts.channel, opts.from, opts.until, r, acks);
      }
      await sleep(1);
    }
    const deadline = Date.now() + 15_000;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(5);
    r.ackP50 = acks.quantile(0.5);
    r.ackP99 = acks.quantile(0.99);
    return r;
  }

  private publishOne(channel: string, from: number, until: number, r: StepPublishResult, acks: Histogram) {
    const socket = this.sockets[this.next++ % this.sockets.length]!;
    const i = this.counter++;
    const t = wallMs();
    this.inFlight++;
    if (this.inFlight > r.maxInFlight) r.maxInFlight = this.inFlight;
    r.sent++;
    socket.emit(
      "publish",
      { channel, type: "task.bench", agent: `bench-agent-${i % 16}`, project: "bench", payload: { t, i, title: TITLE } },
      (ack: { ok: boolean; error?: { code: string } }) => {
        this.inFlight--;
        if (ack.ok) {
          r.acked++;
          if (t >= from && t < until) {
            r.ackedInWindow++;
            acks.record(wallMs() - t);
          }
        } else {
          r.failed++;
          r.firstError ??= ack.error?.code;
        }
      },
    );
  }
}

/** The same event shape for HTTP batches (ingest). */
export function batchBody(size: number, producer: number): string {
  const t = wallMs();
  return JSON.stringify(
    Array.from({ length: size }, (_, i) => ({
      type: "task.bench",
      agent: `bench-agent-${i % 16}`,
      project: `producer-${producer}`,
      payload: { t, i, title: TITLE },
    })),
  );
}
