import { SwitchboardError } from "../channels/errors";
import type { PublishCost } from "../channels/hub";

export interface RateLimitOptions {
  /** Sustained events per second per token. */
  ratePerSecond: number;
  /** Events a token may publish at once after being idle. */
  burst: number;
  /** Sustained payload bytes per second per token (unset: bytes are not limited). */
  bytesPerSecond?: number;
  /** Payload bytes a token may publish at once after being idle. */
  bytesBurst?: number;
  /** Tokens remembered at once; the least recently seen is forgotten first. */
  maxTracked?: number;
  now?: () => number;
}

interface Buckets {
  events: number;
  bytes: number;
  updated: number;
}

/**
 * Two token buckets per API token for publishing, one counting events and one counting payload
 * bytes: a runaway producer (many small events or a few huge ones) gets 429 with Retry-After instead
 * of filling the ingest queue that every other producer shares. A publish is admitted only when both
 * buckets hold enough; a refused publish takes nothing. Bounded: at most `maxTracked` tokens.
 */
export class PublishRateLimiter {
  private buckets = new Map<string, Buckets>();
  private readonly now: () => number;
  private readonly maxTracked: number;
  private readonly bytesPerSecond: number;
  private readonly bytesBurst: number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? (() => performance.now());
    this.maxTracked = options.maxTracked ?? 10_000;
    this.bytesPerSecond = options.bytesPerSecond ?? Infinity;
    this.bytesBurst = options.bytesBurst ?? Infinity;
  }

  /** Takes the cost from the token's buckets or throws `rate_limited` (saying which limit). */
  take(tokenId: string, cost: number | PublishCost) {
    const { events, bytes } = typeof cost === "number" ? { events: cost, bytes: 0 } : cost;
    const now = this.now();
    const b = this.buckets.get(tokenId) ?? { events: this.options.burst, bytes: this.bytesBurst, updated: now };
    const elapsed = (now - b.updated) / 1000;
    b.events = Math.min(this.options.burst, b.events + elapsed * this.options.ratePerSecond);
    b.bytes = Math.min(this.bytesBurst, b.bytes + elapsed * this.bytesPerSecond);
    b.updated = now;
    // Larger than a full bucket: waiting would never help, so this is not a 429.
    if (events > this.options.burst || bytes > this.bytesBurst) {
      throw new SwitchboardError(
        "payload_too_large",
        events > this.options.burst
          ? `${events} events at once exceed this token's burst of ${this.options.burst} (PUBLISH_BURST); split the batch.`
          : `${bytes} payload bytes at once exceed this token's burst of ${this.bytesBurst} (PUBLISH_BYTES_BURST); split the batch.`,
      );
    }
    this.buckets.delete(tokenId);
    if (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(tokenId, b);
    if (events > b.events) {
      const waitSeconds = Math.ceil((events - b.events) / this.options.ratePerSecond);
      throw new SwitchboardError(
        "rate_limited",
        `Event rate exceeded: this token publishes more than ${this.options.ratePerSecond} events/s (burst ${this.options.burst}; PUBLISH_RATE, PUBLISH_BURST); slow down.`,
        { retryAfterSeconds: Math.max(1, waitSeconds) },
      );
    }
    if (bytes > b.bytes) {
      const waitSeconds = Math.ceil((bytes - b.bytes) / this.bytesPerSecond);
      throw new SwitchboardError(
        "rate_limited",
        `Byte rate exceeded: this token publishes more than ${this.bytesPerSecond} payload bytes/s (burst ${this.bytesBurst}; PUBLISH_BYTES_RATE, PUBLISH_BYTES_BURST); slow down.`,
        { retryAfterSeconds: Math.max(1, waitSeconds) },
      );
    }
    b.events -= events;
    b.bytes -= bytes;
  }
}
