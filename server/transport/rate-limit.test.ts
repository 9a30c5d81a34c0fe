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

describe("PublishRateLimiter, bytes", () => {
  it("refuses beyond the bytes burst with a retry hint that names the byte limit, and refills at the byte rate", () => {
    let now = 0;
    const limiter = new PublishRateLimiter({ ratePerSecond: 1000, burst: 1000, bytesPerSecond: 100, bytesBurst: 1000, now: () => now });
    limiter.take("a", { events: 1, bytes: 1000 });
    let error: unknown;
    try {
      limiter.take("a", { events: 1, bytes: 250 });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: "rate_limited", retryAfterSeconds: 3 });
    expect((error as Error).message).toMatch(/^Byte rate exceeded/);
    expect((error as Error).message).toContain("PUBLISH_BYTES_RATE");
    now += 2500;
    limiter.take("a", { events: 1, bytes: 250 });
    expect(() => limiter.take("a", { events: 1, bytes: 1 })).toThrow(expect.objectContaining({ code: "rate_limited" }));
  });

  it("names the event limit when events run out first", () => {
    const limiter = new PublishRateLimiter({ ratePerSecond: 10, burst: 10, bytesPerSecond: 100, bytesBurst: 1000, now: () => 0 });
    limiter.take("a", { events: 10, bytes: 10 });
    expect(() => limiter.take("a", { events: 1, bytes: 1 })).toThrow(/^Event rate exceeded.*PUBLISH_RATE/);
  });

  it("a refused publish takes from neither bucket", () => {
    const now = 0;
    const limiter = new PublishRateLimiter({ ratePerSecond: 10, burst: 10, bytesPerSecond: 100, bytesBurst: 100, now: () => now });
    limiter.take("a", { events: 5, bytes: 90 });
    expect(() => limiter.take("a", { events: 5, bytes: 20 })).toThrow(/Byte rate/); // events would fit, bytes do not
    limiter.take("a", { events: 5, bytes: 10 }); // the refused publish took no events
    expect(() => limiter.take("a", { events: 1, bytes: 0 })).toThrow(/Event rate/);
  });

  it("answers a publish larger than a full bucket with payload_too_large, since waiting cannot help", () => {
    const limiter = new PublishRateLimiter({ ratePerSecond: 10, burst: 10, bytesPerSecond: 100, bytesBurst: 100, now: () => 0 });
    expect(() => limiter.take("a", { events: 1, bytes: 101 })).toThrow(expect.objectContaining({ code: "payload_too_large" }));
    expect(() => limiter.take("a", { events: 11, bytes: 1 })).toThrow(expect.objectContaining({ code: "payload_too_large" }));
    limiter.take("a", { events: 10, bytes: 100 }); // neither took anything
  });

  it("keeps the two buckets per token", () => {
    const limiter = new PublishRateLimiter({ ratePerSecond: 10, burst: 10, bytesPerSecond: 100, bytesBurst: 100, now: () => 0 });
    limiter.take("a", { events: 1, bytes: 100 });
    limiter.take("b", { events: 1, bytes: 100 });
    expect(() => limiter.take("a", { events: 1, bytes: 1 })).toThrow(/Byte rate/);
  });
});
