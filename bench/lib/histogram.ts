/**
 * A log-bucketed latency histogram (about 1 % relative precision from 0.01 ms to ~10 min) that can be
 * shipped between processes as sparse [bucket, count] pairs and merged. Bounded memory whatever the
 * number of samples, so a client process can record millions of deliveries.
 */
const MIN_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / LOG_GROWTH) + 2;

export type SparseHistogram = [bucket: number, count: number][];

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  private maxMs = 0;
  private sumMs = 0;

  record(ms: number) {
    const v = ms < MIN_MS ? MIN_MS : ms;
    let i = Math.floor(Math.log(v / MIN_MS) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i]! += 1;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  reset() {
    this.counts.fill(0);
    this.count = 0;
    this.maxMs = 0;
    this.sumMs = 0;
  }

  toSparse(): { buckets: SparseHistogram; count: number; maxMs: number; sumMs: number } {
    const buckets: SparseHistogram = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) buckets.push([i, this.counts[i]!]);
    return { buckets, count: this.count, maxMs: this.maxMs, sumMs: this.sumMs };
  }

  merge(other: { buckets: SparseHistogram; count: number; maxMs: number; sumMs: number }) {
    for (const [i, c] of other.buckets) this.counts[i]! += c;
    this.count += other.count;
    this.sumMs += other.sumMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  /** Upper edge of the bucket holding the q-quantile (q in 0..1), in ms; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(MIN_MS * GROWTH ** (i + 1), this.maxMs);
    }
    return this.maxMs;
  }

  get max() {
    return this.maxMs;
  }

  get mean() {
    return this.count ? this.sumMs / this.count : Number.NaN;
  }
}

/** Exact quantile of a small array of samples (history queries): nearest-rank. */
export function quantileOf(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
