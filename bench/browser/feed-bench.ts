// node --import tsx bench/browser/feed-bench.ts [--quick] [--trace] – the live feed in Chromium under the
// demo fleet at 1,000 events/s: main-thread long tasks (with long-animation-frame script attribution),
// JS heap over time, publish→on-screen latency. Full: 5 minutes of measurement; --quick: 30 s. --trace
// also records Chromium performance traces (in windows) and attributes every long task: wall vs CPU
// time, script / GC / style+layout / paint, and the functions the V8 profiler sampled.
// Needs a production build (npx next build) and Chromium at /usr/bin/chromium.
// Results: bench/browser/results/feed-<mode>.json and docs/benchmarks-browser.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type CDPSession } from "@playwright/test";
import { CHROMIUM_ARGS, startOwnServer } from "../../e2e/support/own-server";
import { attributeLongTasks, describeLongTask, mainThreadLoad, readTraceEvents, TRACE_CATEGORIES, type CpuProfile, type TraceEvent } from "./trace-summary";

const quick = process.argv.includes("--quick");
const trace = process.argv.includes("--trace");
/** Traces are recorded in windows this long (a whole 5-minute trace would not fit in memory). */
const TRACE_WINDOW_MS = Number(process.env.FEED_BENCH_TRACE_WINDOW_SECONDS ?? 20) * 1000;
const RATE = Number(process.env.FEED_BENCH_RATE ?? 1000);
const WARM_MS = Number(process.env.FEED_BENCH_WARM_SECONDS ?? 10) * 1000;
const MEASURE_MS = Number(process.env.FEED_BENCH_SECONDS ?? (quick ? 30 : 300)) * 1000;
const HEAP_EVERY_MS = quick ? 2_000 : 10_000;
const RESULTS = path.join(import.meta.dirname, "results");

interface LoafScript {
  invoker: string;
  invokerType: string;
  sourceURL: string;
  sourceFunctionName: string;
  sourceCharPosition: number;
  duration: number;
  forcedStyleAndLayoutDuration: number;
  pauseDuration: number;
}

/** A long animation frame (> 50 ms) as the page saw it: what ran in it, and how long rendering took. */
interface Loaf {
  start: number;
  duration: number;
  blockingDuration: number;
  /** From the start of rendering (rAF callbacks, observers) and of style and layout to the frame's end. */
  renderMs: number;
  styleAndLayoutMs: number;
  scripts: LoafScript[];
}

interface PageProbe {
  longTasks: { start: number; duration: number }[];
  loafs: Loaf[];
  latencies: number[];
  rows: number;
}

declare global {
  interface Window {
    __feedBench?: PageProbe & { reset(): void };
  }
}

/**
 * Runs in the page before any script: records long tasks, and for every event row the feed adds,
 * the time from the event's commit (`ts`, stamped by the server) to the next animation frame after
 * the row entered the DOM, i.e. when it can be painted.
 */
function installProbe() {
  const probe = {
    longTasks: [] as { start: number; duration: number }[],
    loafs: [] as Loaf[],
    latencies: [] as number[],
    rows: 0,
    reset() {
      probe.longTasks = [];
      probe.loafs = [];
      probe.latencies = [];
      probe.rows = 0;
    },
  };
  window.__feedBench = probe;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
  type LoafEntry = PerformanceEntry & { blockingDuration: number; renderStart: number; styleAndLayoutStart: number; scripts: LoafScript[] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as LoafEntry[]) {
      const end = entry.startTime + entry.duration;
      probe.loafs.push({
        start: entry.startTime,
        duration: entry.duration,
        blockingDuration: entry.blockingDuration,
        renderMs: entry.renderStart ? end - entry.renderStart : 0,
        styleAndLayoutMs: entry.styleAndLayoutStart ? end - entry.styleAndLayoutStart : 0,
        scripts: entry.scripts.map((s) => ({
          invoker: s.invoker,
          invokerType: s.invokerType,
          sourceURL: s.sourceURL,
          sourceFunctionName: s.sourceFunctionName,
          sourceCharPosition: s.sourceCharPosition,
          duration: s.duration,
          forcedStyleAndLayoutDuration: s.forcedStyleAndLayoutDuration,
          pauseDuration: s.pauseDuration,
        })),
      });
    }
  }).observe({ type: "long-animation-frame", buffered: true });
  let pending: number[] = [];
  // The document itself: its element is replaced once the page's HTML arrives. A row either enters
  // the DOM or, in a busy feed, an existing row takes another event (its data-ts changes).
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === "attributes") {
        const ts = m.target instanceof HTMLElement ? m.target.dataset.ts : undefined;
        if (ts) pending.push(Date.parse(ts));
        continue;
      }
      for (const node of m.addedNodes) {
        const ts = node instanceof HTMLElement ? node.dataset.ts : undefined;
        if (ts) pending.push(Date.parse(ts));
      }
    }
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    requestAnimationFrame(() => {
      const now = Date.now();
      probe.rows += batch.length;
      for (const ts of batch) if (probe.latencies.length < 2_000_000) probe.latencies.push(now - ts);
    });
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-ts"] });
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function channelsTotal(url: string, token: string) {
  const res = await fetch(`${url}/api/v1/channels`, { headers: { Authorization: `Bearer ${token}` } });
  const { channels } = (await res.json()) as { channels: { lastSeq: number }[] };
  return channels.reduce((n, c) => n + c.lastSeq, 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round2 = (n: number) => Math.round(n * 100) / 100;
const NEXT_DIR = path.join(import.meta.dirname, "..", "..", ".next");

/** Records a Chromium trace for `ms` and returns its events. */
async function traceFor(cdp: CDPSession, ms: number) {
  const complete = new Promise<string>((resolve) => cdp.once("Tracing.tracingComplete", (e) => resolve(e.stream!)));
  await cdp.send("Tracing.start", { transferMode: "ReturnAsStream", traceConfig: { includedCategories: TRACE_CATEGORIES, recordMode: "recordUntilFull" } });
  await sleep(ms);
  await cdp.send("Tracing.end");
  const handle = await complete;
  const chunks: string[] = [];
  for (;;) {
    const { data, eof, base64Encoded } = await cdp.send("IO.read", { handle, size: 4 << 20 });
    chunks.push(base64Encoded ? Buffer.from(data, "base64").toString("utf8") : data);
    if (eof) break;
  }
  await cdp.send("IO.close", { handle });
  return readTraceEvents(chunks.join(""));
}

/** Trace windows' main-thread load, weighted by how long each window traced. */
function averageLoad(loads: ReturnType<typeof mainThreadLoad>[]) {
  const total = loads.reduce((n, l) => n + l.tracedMs, 0) || 1;
  const avg = (pick: (l: ReturnType<typeof mainThreadLoad>) => number) => round2(loads.reduce((n, l) => n + pick(l) * l.tracedMs, 0) / total);
  const kinds = Object.keys(loads[0]!.cpuMsPerSecondByKind) as (keyof ReturnType<typeof mainThreadLoad>["cpuMsPerSecondByKind"])[];
  return {
    cpuMsPerSecond: avg((l) => l.cpuMsPerSecond),
    cpuMsPerSecondByKind: Object.fromEntries(kinds.map((k) => [k, avg((l) => l.cpuMsPerSecondByKind[k])])),
    taskWallMsPerSecond: avg((l) => l.taskWallMsPerSecond),
    framesPerSecond: avg((l) => l.framesPerSecond),
  };
}

/** The long animation frames that held a long task, each with the scripts that ran in it. */
function summarizeLoafs(loafs: Loaf[]) {
  const blocking = loafs
    .filter((f) => f.blockingDuration > 0)
    .map((f) => {
      const scriptMs = f.scripts.reduce((n, s) => n + s.duration, 0);
      return {
        atS: Math.round(f.start / 100) / 10,
        durationMs: Math.round(f.duration),
        blockingMs: Math.round(f.blockingDuration),
        scriptMs: Math.round(scriptMs),
        renderMs: Math.round(f.renderMs),
        styleAndLayoutMs: Math.round(f.styleAndLayoutMs),
        /** Neither script nor rendering: GC outside script, parsing, or a thread waiting for a core. */
        unattributedMs: Math.max(0, Math.round(f.duration - scriptMs - f.renderMs)),
        scripts: f.scripts
          .filter((s) => s.duration >= 5)
          .sort((a, b) => b.duration - a.duration)
          .slice(0, 5)
          .map((s) => ({
            ms: Math.round(s.duration),
            invoker: s.invoker,
            invokerType: s.invokerType,
            source: `${s.sourceFunctionName || "(anonymous)"} ${s.sourceURL.replace(/^.*\/_next\//, "")}@${s.sourceCharPosition}`,
            forcedStyleAndLayoutMs: Math.round(s.forcedStyleAndLayoutDuration),
            code: codeAtChar(s.sourceURL, s.sourceCharPosition),
          })),
      };
    });
  return { count: loafs.length, withLongTask: blocking.length, maxMs: Math.round(Math.max(0, ...loafs.map((f) => f.duration))), blocking };
}

function codeAtChar(url: string, at: number) {
  const match = /\/_next\/(static\/.+?\.js)/.exec(url);
  if (!match || at < 0) return undefined;
  try {
    return fs.readFileSync(path.join(NEXT_DIR, match[1]!), "utf8").slice(Math.max(0, at - 20), at + 100);
  } catch {
    return undefined;
  }
}

function describeLoaf(f: ReturnType<typeof summarizeLoafs>["blocking"][number]) {
  const scripts = f.scripts.map((s) => `${s.invokerType} ${s.invoker} ${s.ms} ms (${s.source})`).join("; ");
  return `${f.durationMs} ms (blocking ${f.blockingMs}): script ${f.scriptMs}, rendering ${f.renderMs} (style+layout ${f.styleAndLayoutMs}), unattributed ${f.unattributedMs}${scripts ? `; ${scripts}` : ""}`;
}

console.log(`feed bench: ${quick ? "quick" : "full"}, demo fleet at ${RATE} events/s, ${MEASURE_MS / 1000} s measured after ${WARM_MS / 1000} s warm-up`);
const server = await startOwnServer({ port: 3130, pgPort: 54346, env: { DEMO: "1", DEMO_RATE: String(RATE) } });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }).catch(async (err: unknown) => {
  await server.stop();
  throw err;
});
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url });
  await context.addInitScript(installProbe);
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("API token").fill(server.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/`);
  await page.goto("/feed");
  await page.getByRole("status", { name: "Connection status" }).filter({ hasText: "Live" }).waitFor();
  const cdp = await context.newCDPSession(page);

  if (trace) {
    // Started once, during the warm-up: starting the profiler is itself a long task.
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
    await cdp.send("Profiler.start");
  }
  await page.waitForTimeout(WARM_MS);
  if (process.env.FEED_BENCH_DEBUG) console.log("DEBUG", JSON.stringify(await page.evaluate(() => ({ has: !!window.__feedBench, rows: window.__feedBench?.rows, lat: window.__feedBench?.latencies.length, el: !!document.documentElement }))));
  await page.evaluate(() => window.__feedBench!.reset());
  const seqAtStart = await channelsTotal(server.url, server.adminToken);
  const loadAtStart = os.loadavg();
  const started = Date.now();
  const deadline = started + MEASURE_MS;
  const heap: { t: number; usedMB: number; domNodes: number }[] = [];
  const sampleHeap = async () => {
    while (Date.now() < deadline) {
      const { usedSize } = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
      const { nodes } = (await cdp.send("Memory.getDOMCounters")) as { nodes: number };
      heap.push({ t: Math.round((Date.now() - started) / 1000), usedMB: mb(usedSize), domNodes: nodes });
      await sleep(Math.min(HEAP_EVERY_MS, Math.max(0, deadline - Date.now())));
    }
  };
  // Trace windows are attributed once the profile (all windows' samples) is in.
  const windows: { windowStartS: number; events: TraceEvent[]; load: ReturnType<typeof mainThreadLoad> }[] = [];
  const traceWindows = async () => {
    while (trace && Date.now() < deadline) {
      const windowStartS = Math.round((Date.now() - started) / 1000);
      const events = await traceFor(cdp, Math.min(TRACE_WINDOW_MS, deadline - Date.now()));
      // Only the first window and those with a long task are kept: a window holds tens of MB of events.
      const keep = windows.length === 0 || attributeLongTasks(events).tasks.length > 0;
      windows.push({ windowStartS, events: keep ? events : [], load: mainThreadLoad(events) });
    }
  };
  await Promise.all([sampleHeap(), traceWindows()]);
  const cpuProfile = trace ? ((await cdp.send("Profiler.stop")) as { profile: CpuProfile }).profile : undefined;
  const traced = windows.map(({ windowStartS, events, load: roughLoad }) => {
    // With the profile, the first window also says which functions the main thread spent its time in.
    const load = events.length ? mainThreadLoad(events, cpuProfile) : roughLoad;
    console.log(`  trace window at ${windowStartS} s: main thread ${JSON.stringify(load)}`);
    const { tasks } = attributeLongTasks(events, { nextDir: NEXT_DIR, cpuProfile });
    for (const t of tasks) console.log(`  trace window at ${windowStartS} s, long task ${describeLongTask(t)}`);
    return { windowStartS, tracedMs: load.tracedMs, mainThread: load, longTasks: tasks };
  });
  const mainThread = traced.length ? averageLoad(traced.map((w) => w.mainThread)) : undefined;
  const elapsed = (Date.now() - started) / 1000;
  const loadAtEnd = os.loadavg();
  const published = (await channelsTotal(server.url, server.adminToken)) - seqAtStart;
  const probe = await page.evaluate(() => {
    const p = window.__feedBench!;
    return { longTasks: p.longTasks, loafs: p.loafs, latencies: p.latencies, rows: p.rows };
  });
  const rowsOnScreen = await page.getByRole("grid", { name: "Live events" }).getByRole("row").count();

  const lat = [...probe.latencies].sort((a, b) => a - b);
  const longTasks = probe.longTasks.map((t) => Math.round(t.duration));
  const third = Math.max(1, Math.floor(heap.length / 3));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const heapFirst = median(heap.slice(0, third).map((h) => h.usedMB));
  const heapLast = median(heap.slice(-third).map((h) => h.usedMB));
  const result = {
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores`,
    loadAverage: { atStart: loadAtStart.map(round2), atEnd: loadAtEnd.map(round2) },
    targetRate: RATE,
    publishedPerSecond: Math.round(published / elapsed),
    measuredSeconds: Math.round(elapsed),
    rowsRendered: probe.rows,
    rowsInDom: rowsOnScreen,
    latencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.at(-1) ?? NaN, samples: lat.length },
    longTasks: { count: longTasks.length, over50ms: longTasks.filter((d) => d > 50).length, max: Math.max(0, ...longTasks), total: longTasks.reduce((a, b) => a + b, 0) },
    longAnimationFrames: summarizeLoafs(probe.loafs),
    ...(trace ? { trace: { windowSeconds: TRACE_WINDOW_MS / 1000, tracedSeconds: Math.round(traced.reduce((n, w) => n + w.tracedMs, 0) / 1000), mainThread, windows: traced } } : {}),
    heap: { firstThirdMedianMB: heapFirst, lastThirdMedianMB: heapLast, minMB: Math.min(...heap.map((h) => h.usedMB)), maxMB: Math.max(...heap.map((h) => h.usedMB)), samples: heap },
  };
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, `feed-${result.mode}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const { samples: _samples, ...heapSummary } = result.heap;
  console.log(JSON.stringify({ ...result, heap: heapSummary }, null, 2));
  console.log(
    [
      `published ${result.publishedPerSecond}/s (target ${RATE}/s); rows rendered ${probe.rows}; rows in DOM at the end ${rowsOnScreen}`,
      `publish→on-screen latency p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms (target < 250), p99 ${result.latencyMs.p99} ms`,
      `long tasks > 50 ms: ${result.longTasks.over50ms} (max ${result.longTasks.max} ms, target: none)`,
      ...result.longAnimationFrames.blocking.map((f) => `  long task in a frame at ${f.atS} s: ${describeLoaf(f)}`),
      ...(mainThread ? [`main thread per second (traced): ${mainThread.cpuMsPerSecond} ms CPU (${Object.entries(mainThread.cpuMsPerSecondByKind).map(([k, v]) => `${k} ${v}`).join(", ")}), ${mainThread.taskWallMsPerSecond} ms in tasks (wall), ${mainThread.framesPerSecond} frames`] : []),
      `load average (1/5/15 min): ${loadAtStart.map(round2).join(" ")} at the start, ${loadAtEnd.map(round2).join(" ")} at the end`,
      `JS heap: median ${heapFirst} MB in the first third, ${heapLast} MB in the last third (min ${result.heap.minMB}, max ${result.heap.maxMB})`,
    ].join("\n"),
  );
} finally {
  await browser.close();
  await server.stop();
}
