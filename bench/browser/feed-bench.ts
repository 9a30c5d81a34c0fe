// node --import tsx bench/browser/feed-bench.ts [--quick] – the live feed in Chromium under the demo fleet
// at 1,000 events/s: main-thread long tasks, JS heap over time, publish→on-screen latency.
// Full: 5 minutes of measurement; --quick: 30 s. Needs a production build (npx next build) and
// Chromium at /usr/bin/chromium. Results: bench/browser/results/feed-<mode>.json and docs/benchmarks-browser.md.
import fs from "node:fs";
import path from "node:path";
import { chromium } from "@playwright/test";
import { CHROMIUM_ARGS, ownServer } from "../../e2e/support/own-server";

const quick = process.argv.includes("--quick");
const RATE = Number(process.env.FEED_BENCH_RATE ?? 1000);
const WARM_MS = Number(process.env.FEED_BENCH_WARM_SECONDS ?? 10) * 1000;
const MEASURE_MS = Number(process.env.FEED_BENCH_SECONDS ?? (quick ? 30 : 300)) * 1000;
const HEAP_EVERY_MS = quick ? 2_000 : 10_000;
const RESULTS = path.join(import.meta.dirname, "results");

interface PageProbe {
  longTasks: { start: number; duration: number }[];
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
    latencies: [] as number[],
    rows: 0,
    reset() {
      probe.longTasks = [];
      probe.latencies = [];
      probe.rows = 0;
    },
  };
  window.__feedBench = probe;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
  let pending: number[] = [];
  // The document itself: its element is replaced once the page's HTML arrives.
  new MutationObserver((mutations) => {
    for (const m of mutations)
      for (const node of m.addedNodes) {
        const ts = node instanceof HTMLElement ? node.dataset.ts : undefined;
        if (ts) pending.push(Date.parse(ts));
      }
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    requestAnimationFrame(() => {
      const now = Date.now();
      probe.rows += batch.length;
      for (const ts of batch) if (probe.latencies.length < 2_000_000) probe.latencies.push(now - ts);
    });
  }).observe(document, { childList: true, subtree: true });
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function channelsTotal(url: string, token: string) {
  const res = await fetch(`${url}/api/v1/channels`, { headers: { Authorization: `Bearer ${token}` } });
  const { channels } = (await res.json()) as { channels: { lastSeq: number }[] };
  return channels.reduce((n, c) => n + c.lastSeq, 0);
}

const server = ownServer({ port: 3130, pgPort: 54346, env: { DEMO: "1", DEMO_RATE: String(RATE) } });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
try {
  console.log(`feed bench: ${quick ? "quick" : "full"}, demo fleet at ${RATE} events/s, ${MEASURE_MS / 1000} s measured after ${WARM_MS / 1000} s warm-up`);
  await server.start();
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

  await page.waitForTimeout(WARM_MS);
  if (process.env.FEED_BENCH_DEBUG) console.log("DEBUG", JSON.stringify(await page.evaluate(() => ({ has: !!window.__feedBench, rows: window.__feedBench?.rows, lat: window.__feedBench?.latencies.length, el: !!document.documentElement }))));
  await page.evaluate(() => window.__feedBench!.reset());
  const seqAtStart = await channelsTotal(server.url, server.adminToken);
  const started = Date.now();
  const heap: { t: number; usedMB: number; domNodes: number }[] = [];
  while (Date.now() - started < MEASURE_MS) {
    const { usedSize } = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
    const { nodes } = (await cdp.send("Memory.getDOMCounters")) as { nodes: number };
    heap.push({ t: Math.round((Date.now() - started) / 1000), usedMB: mb(usedSize), domNodes: nodes });
    await page.waitForTimeout(HEAP_EVERY_MS);
  }
  const elapsed = (Date.now() - started) / 1000;
  const published = (await channelsTotal(server.url, server.adminToken)) - seqAtStart;
  const probe = await page.evaluate(() => {
    const p = window.__feedBench!;
    return { longTasks: p.longTasks, latencies: p.latencies, rows: p.rows };
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
    machine: `${(await import("node:os")).cpus().length} cores`,
    targetRate: RATE,
    publishedPerSecond: Math.round(published / elapsed),
    measuredSeconds: Math.round(elapsed),
    rowsRendered: probe.rows,
    rowsInDom: rowsOnScreen,
    latencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.at(-1) ?? NaN, samples: lat.length },
    longTasks: { count: longTasks.length, over50ms: longTasks.filter((d) => d > 50).length, max: Math.max(0, ...longTasks), total: longTasks.reduce((a, b) => a + b, 0) },
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
      `JS heap: median ${heapFirst} MB in the first third, ${heapLast} MB in the last third (min ${result.heap.minMB}, max ${result.heap.maxMB})`,
    ].join("\n"),
  );
} finally {
  await browser.close();
  await server.stop();
}
