import { SwitchboardError } from "../channels/errors";

export interface RateLimitOptions {
  /** Sustained events per second per token. */
  ratePerSecond: number;
  /** Events a token may publish at once after being idle. */
  burst: number;
  /** Tokens remembered at once; the least recently seen is forgotten first. */
  maxTracked?: number;
  now?: () => number;
}

interface Bucket {
  level: number;
  updated: number;
}

/**
 * A token bucket per API token for publishing: a runaway producer gets 429 with Retry-After instead
 * of filling the ingest queue that every other producer shares. Bounded: at most `maxTracked` buckets.
 */
export class PublishRateLimiter {
  private buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxTracked: number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? (() => performance.now());
    this.maxTracked = options.maxTracked ?? 10_000;
  }

  /** Takes `events` from the token's bucket or throws `rate_limited`. */
  take(tokenId: string, events: number) {
    const now = this.now();
    const bucket = this.buckets.get(tokenId) ?? { level: this.options.burst, updated: now };
    bucket.level = Math.min(this.options.burst, bucket.level + ((now - bucket.updated) / 1000) * this.options.ratePerSecond);
    bucket.updated = now;
    this.buckets.delete(tokenId);
    if (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(tokenId, bucket);
    if (events > bucket.level) {
      const waitSeconds = Math.ceil((Math.min(events, this.options.burst) - bucket.level) / this.options.ratePerSecond);
      throw new SwitchboardError(
        "rate_limited",
        `This token publishes more than ${this.options.ratePerSecond} events/s (burst ${this.options.burst}); slow down.`,
        { retryAfterSeconds: Math.max(1, waitSeconds) },
      );
    }
    bucket.level -= events;
  }
}
