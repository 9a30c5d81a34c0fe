import type { ClientPool } from "./clients";
import { Histogram } from "./histogram";
import { Publisher, batchBody } from "./publisher";
import type { Target } from "./targets";
import { CpuMeter, fmtInt, fmtMs, log, rssBytes, sleep, wallMs } from "./util";

export const FANOUT_CHANNEL = "tasks";
const INGEST_CHANNELS = ["tasks", "agents", "budget", "messages"];

export interface Mode {
  quick: boolean;
  subscriberCounts: number[];
  warmMs: number;
  measureMs: number;
  startDeliveries: number;
  maxDoublings: number;
  refinements: number;
  ingestMs: number;
  ingestProducers: number;
  ingestBatch: number;
  drainTimeoutMs: number;
  /** Longest wait for other processes on the machine to quiet down before a measurement. */
  quietWaitMs: number;
  /** All waits together may take this long; then measurements go on without waiting. */
  quietBudgetMs: number;
  /** How often a disturbed step or ingest run is run again. */
  retries: number;
}

/** RSS of the target's server processes, summed: the median of three reads 300 ms apart. */
async function serverRss(target: Target, gapMs: number): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 3; i++) {
    reads.push(target.pids.reduce((a, p) => a + rssBytes(p), 0));
    await sleep(gapMs);
  }
  return reads.sort((a, b) => a - b)[1]!;
}

export interface MemoryResult {
  connections: number;
  failed: number;
  /** After a forced full GC in the server(s), before and after opening the connections. */
  rssBeforeMB: number;
  rssAfterMB: number;
  perThousandMB: number;
  perConnectionKB: number;
  /** The same without forcing a GC (whatever garbage the heap held at that moment counts). */
  plain: { rssBeforeMB: number; rssAfterMB: number; perConnectionKB: number };
  connectSeconds: number;
}

/**
 * Opens `count` idle subscribed connections and reports the servers' RSS growth, read after a full
 * GC forced through the inspector (and, for reference, without).
 */
export async function measureMemory(target: Target, pool: ClientPool, count: number, mode: Mode): Promise<MemoryResult> {
  const quick = mode.quick;
  await waitForQuiet(target, pool, mode.quietWaitMs);
  const gap = quick ? 100 : 300;
  const plainBefore = await serverRss(target, gap);
  await target.collectGarbage();
  await sleep(500);
  const before = await serverRss(target, gap);
  const c = await pool.connect(target.urls, count, target.token, FANOUT_CHANNEL);
  if (c.failed) log(`  ${c.failed} of ${count} connections failed`);
  await sleep(quick ? 800 : 3000);
  const plainAfter = await serverRss(target, gap);
  await target.collectGarbage();
  await sleep(500);
  const after = await serverRss(target, gap);
  const n = Math.max(1, c.ok);
  const MB = 2 ** 20;
  const r: MemoryResult = {
    connections: c.ok,
    failed: c.failed,
    rssBeforeMB: before / MB,
    rssAfterMB: after / MB,
    perThousandMB: ((after - before) / n) * 1000 / MB,
    perConnectionKB: (after - before) / n / 1024,
    plain: { rssBeforeMB: plainBefore / MB, rssAfterMB: plainAfter / MB, perConnectionKB: (plainAfter - plainBefore) / n / 1024 },
    connectSeconds: c.ms / 1000,
  };
  log(
    `  memory: ${c.ok} idle subscribed connections in ${r.connectSeconds.toFixed(1)} s; RSS after GC ${r.rssBeforeMB.toFixed(1)} → ${r.rssAfterMB.toFixed(1)} MB = ${r.perThousandMB.toFixed(1)} MB per 1,000 (${r.perConnectionKB.toFixed(1)} KB each); without forced GC ${r.plain.rssBeforeMB.toFixed(1)} → ${r.plain.rssAfterMB.toFixed(1)} MB (${r.plain.perConnectionKB.toFixed(1)} KB each)`,
  );
  return r;
}

export interface StepResult {
  subscribers: number;
  rate: number;
  offeredDeliveriesPerSec: number;
  deliveriesPerSec: number;
  receivedPerSec: number;
  expected: number;
  delivered: number;
  completeness: number;
  p50: number;
  p99: number;
  max: number;
  gaps: number;
  disconnects: number;
  publish: { sent: number; acked: number; failed: number; throttled: number; maxInFlight: number; firstError?: string; ackP50: number; ackP99: number };
  cpu: Record<string, number>;
  /** Server CPU time per delivery, µs (all nodes together). */
  serverUsPerDelivery: number;
  /** Other processes used more than DISTURBED_OTHER_PCT % of a core during the step. */
  disturbed: boolean;
  sustained: boolean;
  why: string;
  refinement: boolean;
}

export interface LadderResult {
  subscribers: number;
  connected: number;
  steps: StepResult[];
  best: StepResult | null;
  /** Steps that were disturbed by other processes and ran again. */
  discarded: StepResult[];
}

/** Other processes' CPU (% of one core) above which a measurement counts as disturbed. */
export const DISTURBED_OTHER_PCT = 30;

/**
 * Waits (bounded) until processes outside this benchmark use less than `maxOther` % of a core,
 * measured over 1 s windows. Returns the last reading.
 */
let quietBudgetLeftMs = Number.POSITIVE_INFINITY;
/** Caps the total time all waits for a quiet machine may take in this run. */
export function setQuietBudget(ms: number) {
  quietBudgetLeftMs = ms;
}

export async function waitForQuiet(target: Target, pool: ClientPool, maxWaitMs: number, maxOther = 20): Promise<number> {
  if (maxWaitMs <= 0) return Number.NaN;
  const started = Date.now();
  const deadline = started + Math.min(maxWaitMs, quietBudgetLeftMs);
  let other: number;
  let told = false;
  for (;;) {
    const services = await target.servicePids();
    const m = new CpuMeter({ server: target.pids, clients: pool.pids, self: [process.pid], postgres: services.postgres, redis: services.redis });
    await sleep(1000);
    other = m.read().other!;
    if (other <= maxOther || Date.now() >= deadline) break;
    if (!told) log(`  waiting for the machine to quiet down: other processes use ${other} % of a core`);
    told = true;
  }
  quietBudgetLeftMs -= Date.now() - started;
  if (told) log(`  ${other <= maxOther ? "quiet now" : "still busy, going on"} (other processes: ${other} % of a core)`);
  return other;
}

/** A latency bound that a server keeping up never reaches and a falling-behind one soon does. */
const SUSTAINED_P99_MS = 500;

/** Waits (bounded) until no delivery arrived for 500 ms. */
async function quiesce(pool: ClientPool, maxMs: number) {
  const deadline = Date.now() + maxMs;
  let last = -1;
  while (Date.now() < deadline) {
    const s = await pool.stats();
    if (s.total === last) return;
    last = s.total;
    await sleep(500);
  }
}

async function runOneStep(target: Target, pool: ClientPool, publisher: Publisher, mode: Mode, subscribers: number, rate: number, refinement: boolean, self: () => number[]): Promise<StepResult> {
  const from = wallMs() + 200 + mode.warmMs;
  const until = from + mode.measureMs;
  await pool.window(from, until);
  const services = await target.servicePids();
  const cpu = new CpuMeter({ server: target.pids, clients: pool.pids, publisher: self(), postgres: services.postgres, redis: services.redis });
  const pub = await publisher.run({ channel: FANOUT_CHANNEL, rate, from, until, maxInFlight: Math.max(200, Math.ceil(rate / 2)) });
  const cpuUse = cpu.read();
  const expected = pub.ackedInWindow * subscribers;
  const deadline = Date.now() + mode.drainTimeoutMs;
  let stats = await pool.stats();
  let lastProgress = Date.now();
  let lastCount = stats.inWindow;
  while (stats.inWindow < expected && Date.now() < deadline && Date.now() - lastProgress < 3000) {
    await sleep(200);
    stats = await pool.stats();
    if (stats.inWindow !== lastCount) {
      lastCount = stats.inWindow;
      lastProgress = Date.now();
    }
  }
  const seconds = mode.measureMs / 1000;
  const hist: Histogram = stats.hist;
  const completeness = expected ? stats.inWindow / expected : 0;
  const p99 = hist.quantile(0.99);
  const reasons: string[] = [];
  if (pub.throttled) reasons.push(`${pub.throttled} publishes throttled (acks behind)`);
  if (pub.failed) reasons.push(`${pub.failed} publishes failed (${pub.firstError})`);
  if (pub.sent < rate * ((until - from + mode.warmMs) / 1000) * 0.95) reasons.push("publisher could not keep the rate");
  if (completeness < 0.999) reasons.push(`only ${(completeness * 100).toFixed(1)} % delivered`);
  if (stats.arrivedInWindow / seconds < 0.9 * rate * subscribers) reasons.push(`received only ${fmtInt(stats.arrivedInWindow / seconds)}/s while the window lasted`);
  if (stats.gaps) reasons.push(`${stats.gaps} gap notices`);
  if (stats.disconnects) reasons.push(`${stats.disconnects} disconnects`);
  if (!(p99 <= SUSTAINED_P99_MS)) reasons.push(`p99 ${fmtMs(p99)} ms > ${SUSTAINED_P99_MS} ms`);
  const step: StepResult = {
    subscribers,
    rate,
    offeredDeliveriesPerSec: rate * subscribers,
    deliveriesPerSec: stats.inWindow / seconds,
    receivedPerSec: stats.arrivedInWindow / seconds,
    expected,
    delivered: stats.inWindow,
    completeness,
    p50: hist.quantile(0.5),
    p99,
    max: hist.max,
    gaps: stats.gaps,
    disconnects: stats.disconnects,
    publish: {
      sent: pub.sent,
      acked: pub.acked,
      failed: pub.failed,
      throttled: pub.throttled,
      maxInFlight: pub.maxInFlight,
      firstError: pub.firstError,
      ackP50: pub.ackP50,
      ackP99: pub.ackP99,
    },
    cpu: cpuUse,
    serverUsPerDelivery: stats.arrivedInWindow ? (cpuUse.server! * 10_000) / (stats.arrivedInWindow / seconds) : Number.NaN,
    disturbed: (cpuUse.other ?? 0) > DISTURBED_OTHER_PCT,
    sustained: reasons.length === 0,
    why: reasons.join("; "),
    refinement,
  };
  log(
    `    ${fmtInt(step.offeredDeliveriesPerSec).padStart(9)} deliveries/s offered (${rate.toFixed(rate < 10 ? 2 : 0)} ev/s): received ${fmtInt(step.receivedPerSec)}/s, p50 ${fmtMs(step.p50)} ms, p99 ${fmtMs(step.p99)} ms (ack p50 ${fmtMs(pub.ackP50)} p99 ${fmtMs(pub.ackP99)}), cpu % server ${cpuUse.server} clients ${cpuUse.clients} pub ${cpuUse.publisher} pg ${cpuUse.postgres} redis ${cpuUse.redis} other ${cpuUse.other} → ${step.sustained ? "sustained" : `NOT sustained: ${step.why}`}`,
  );
  if (!step.sustained) await quiesce(pool, mode.drainTimeoutMs);
  return step;
}

/**
 * Finds the highest delivery rate the target sustains with `subscribers` connections: doubles the
 * offered rate until a step fails, then bisects (geometrically) between the last pass and the fail.
 */
export async function ladder(target: Target, pool: ClientPool, publisher: Publisher, mode: Mode, subscribers: number, self: () => number[]): Promise<LadderResult> {
  const connected = (await pool.stats()).connected;
  log(`  fanout ladder with ${connected} subscribers`);
  await waitForQuiet(target, pool, mode.quietWaitMs);
  const steps: StepResult[] = [];
  const discarded: StepResult[] = [];
  /**
   * A step during which other processes took a share of the CPU runs again (up to `mode.retries`
   * times, each after a wait for a quiet machine). If it is still disturbed it is kept, marked.
   */
  const runStep = async (rate: number, refinement: boolean) => {
    let s = await runOneStep(target, pool, publisher, mode, connected, rate, refinement, self);
    for (let attempt = 1; !mode.quick && s.disturbed && attempt <= mode.retries; attempt++) {
      log(`    disturbed (other processes used ${s.cpu.other} % of a core): running this step again`);
      discarded.push(s);
      await waitForQuiet(target, pool, mode.quietWaitMs);
      s = await runOneStep(target, pool, publisher, mode, connected, rate, refinement, self);
    }
    steps.push(s);
    return s;
  };
  // lo: highest rate sustained; hi: lowest rate that failed on a quiet machine. A failure while the
  // machine was disturbed says nothing, so it neither stops the doubling nor bounds the bisection.
  let lo: number | null = null;
  let hi: number | null = null;
  let deliveries = mode.startDeliveries;
  for (let k = 0; k < mode.maxDoublings && hi === null; k++) {
    const s = await runStep(deliveries / connected, false);
    if (s.sustained) lo = deliveries;
    else if (!s.disturbed) hi = deliveries;
    deliveries *= 2;
  }
  if (lo === null && hi !== null) {
    // Even the first step failed: go down instead (bounded).
    let down: number = hi;
    for (let k = 0; k < 3 && lo === null; k++) {
      down /= 2;
      const s = await runStep(down / connected, true);
      if (s.sustained) lo = down;
      else if (!s.disturbed) hi = down;
    }
  }
  if (lo !== null && hi !== null) {
    for (let k = 0; k < mode.refinements; k++) {
      const mid = Math.sqrt(lo * hi);
      const s = await runStep(mid / connected, true);
      if (s.sustained) lo = mid;
      else if (!s.disturbed) hi = mid;
    }
  }
  const sustained = steps.filter((s) => s.sustained);
  const best = sustained.length ? sustained.reduce((a, b) => (b.offeredDeliveriesPerSec > a.offeredDeliveriesPerSec ? b : a)) : null;
  log(`  → max sustained with ${connected} subscribers: ${best ? `${fmtInt(best.offeredDeliveriesPerSec)} deliveries/s (p99 ${fmtMs(best.p99)} ms)` : "none"}`);
  return { subscribers, connected, steps, best, discarded };
}

/**
 * Warms every target's code paths (JIT) before anything is measured: 100 subscribers, socket
 * publishes at 200 events/s for `ms`, and a few HTTP batches; then the subscribers leave again.
 */
export async function warmUp(target: Target, pool: ClientPool, publisher: Publisher, ms: number) {
  const before = (await pool.stats()).sockets;
  await pool.connect(target.urls, 100, target.token, FANOUT_CHANNEL);
  await pool.window(0, 0);
  const from = wallMs();
  await publisher.run({ channel: FANOUT_CHANNEL, rate: 200, from, until: from + ms, maxInFlight: 1000 });
  const body = batchBody(1000, 0);
  for (let i = 0; i < (ms < 1000 ? 2 : 5); i++) {
    const url = target.urls[i % target.urls.length]!;
    const res = await fetch(`${url}/api/v1/channels/${FANOUT_CHANNEL}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${target.token}`, "Content-Type": "application/json" },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
  }
  await quiesce(pool, ms < 1000 ? 1500 : 3000);
  await pool.closeTo(before);
}

export interface IngestResult {
  producers: number;
  batch: number;
  seconds: number;
  eventsPerSec: number;
  acked: number;
  failedRequests: number;
  statuses: Record<string, number>;
  requestP50: number;
  requestP99: number;
  subscribers: number;
  fanout: { expected: number; received: number; gaps: number };
  cpu: Record<string, number>;
}

/**
 * Several producers POST batches of `batch` events to /api/v1/channels/:channel/events as fast as
 * they are acknowledged (one request in flight each), each request to a node chosen round-robin.
 * Counts acknowledged (committed and handed to fanout) events per second.
 */
/** Ingest, run again (up to `mode.retries` times) when other processes disturbed it. */
export async function ingest(target: Target, pool: ClientPool, mode: Mode, self: () => number[]): Promise<IngestResult> {
  let r = await ingestOnce(target, pool, mode, self);
  for (let attempt = 1; !mode.quick && (r.cpu.other ?? 0) > DISTURBED_OTHER_PCT && attempt <= mode.retries; attempt++) {
    log(`  ingest disturbed (other processes used ${r.cpu.other} % of a core): running it again`);
    r = await ingestOnce(target, pool, mode, self);
  }
  return r;
}

async function ingestOnce(target: Target, pool: ClientPool, mode: Mode, self: () => number[]): Promise<IngestResult> {
  const subscribers = (await pool.stats()).connected;
  await waitForQuiet(target, pool, mode.quietWaitMs);
  await pool.window(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  const before = await pool.stats();
  const bodies = INGEST_CHANNELS.map((_, i) => batchBody(mode.ingestBatch, i));
  const reqHist = new Histogram();
  const statuses: Record<string, number> = {};
  let acked = 0;
  let ackedTasks = 0;
  let failed = 0;
  let rr = 0;
  const services = await target.servicePids();
  const cpu = new CpuMeter({ server: target.pids, clients: pool.pids, producers: self(), postgres: services.postgres, redis: services.redis });
  const start = performance.now();
  const deadline = start + mode.ingestMs;
  const producer = async (p: number) => {
    const channel = INGEST_CHANNELS[p % INGEST_CHANNELS.length]!;
    while (performance.now() < deadline) {
      const url = target.urls[rr++ % target.urls.length]!;
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/api/v1/channels/${channel}/events`, {
          method: "POST",
          headers: { Authorization: `Bearer ${target.token}`, "Content-Type": "application/json" },
          body: bodies[p % bodies.length],
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 201) {
          reqHist.record(performance.now() - t0);
          acked += mode.ingestBatch;
          if (channel === "tasks") ackedTasks += mode.ingestBatch;
        } else {
          failed++;
          await sleep(100);
        }
      } catch (err) {
        failed++;
        statuses[String((err as Error).name)] = (statuses[String((err as Error).name)] ?? 0) + 1;
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: mode.ingestProducers }, (_, p) => producer(p)));
  const seconds = (performance.now() - start) / 1000;
  const cpuUse = cpu.read();
  // Let fanout finish, then see what the "tasks" subscribers got.
  const expected = ackedTasks * subscribers;
  const fanDeadline = Date.now() + 10_000;
  let s = await pool.stats();
  let lastTotal = s.total;
  let lastProgress = Date.now();
  while (s.total - before.total < expected && Date.now() < fanDeadline && Date.now() - lastProgress < 1500) {
    await sleep(250);
    s = await pool.stats();
    if (s.total !== lastTotal) {
      lastTotal = s.total;
      lastProgress = Date.now();
    }
  }
  const r: IngestResult = {
    producers: mode.ingestProducers,
    batch: mode.ingestBatch,
    seconds,
    eventsPerSec: acked / seconds,
    acked,
    failedRequests: failed,
    statuses,
    requestP50: reqHist.quantile(0.5),
    requestP99: reqHist.quantile(0.99),
    subscribers,
    fanout: { expected, received: s.total - before.total, gaps: s.gaps },
    cpu: cpuUse,
  };
  log(
    `  ingest: ${fmtInt(r.eventsPerSec)} events/s acknowledged (${fmtInt(acked)} in ${seconds.toFixed(1)} s, ${failed} failed requests, POST p50 ${fmtMs(r.requestP50)} ms p99 ${fmtMs(r.requestP99)} ms); subscribers on "tasks" got ${fmtInt(r.fanout.received)} of ${fmtInt(expected)} deliveries, ${r.fanout.gaps} gap notices; cpu % server ${cpuUse.server} producers ${cpuUse.producers} pg ${cpuUse.postgres} redis ${cpuUse.redis} other ${cpuUse.other}`,
  );
  await quiesce(pool, 5000);
  return r;
}
