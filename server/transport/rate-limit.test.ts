import { describe, expect, it } from "vitest";
import { PublishRateLimiter } from "./rate-limit";

describe("PublishRateLimiter", () => {
  it("allows the burst, refuses beyond it with a retry hint, and refills at the rate", () => {
    let now = 0;
    const limiter = new PublishRateLimiter({ ratePerSecond: 10, burst: 20, now: () => now });
    limiter.take("a", 20);
    expect(() => limiter.take("a", 5)).toThrow(expect.objectContaining({ code: "rate_limited", retryAfterSeconds: 1 }));
    now += 500;
    limiter.take("a", 5);
    expect(() => limiter.take("a", 1)).toThrow(expect.objectContaining({ code: "rate_limited" }));
    limiter.take("b", 20); // buckets are per token
  });

  it("never refuses a token that stays under its rate", () => {
    let now = 0;
    const limiter = new PublishRateLimiter({ ratePerSecond: 100, burst: 10, now: () => now });
    for (let i = 0; i < 1000; i++) {
      limiter.take("steady", 1);
      now += 10;
    }
  });

  it("remembers a bounded number of tokens", () => {
    let now = 0;
    const limiter = new PublishRateLimiter({ ratePerSecond: 1, burst: 1, maxTracked: 2, now: () => now });
    limiter.take("a", 1);
    limiter.take("b", 1);
    limiter.take("c", 1); // forgets a
    limiter.take("a", 1); // a starts again with a full bucket
    expect(() => limiter.take("c", 1)).toThrow();
    now += 0;
  });
});
