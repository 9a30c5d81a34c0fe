// npm run bench [-- --quick] – Switchboard against a raw Socket.IO floor, side by side, with the same
// load generator, client processes and payloads. See docs/benchmarks.md.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { ClientPool } from "./lib/clients";
import { formatSummary, summarize, type CpuProfile, type ProfileSummary } from "./cpuprofile-summary";
import { HISTORY_CHANNEL, PlanLog, historyLoad, queryHistory, seedHistory, type HistoryCaseResult } from "./lib/history";
import { Publisher } from "./lib/publisher";
import { writeReports } from "./lib/report";
import { FANOUT_CHANNEL, ingest, ladder, measureMemory, setQuietBudget, waitForQuiet, warmUp, type IngestResult, type LadderResult, type MemoryResult, type Mode } from "./lib/scenarios";
import { MACHINE_POSTGRES, MACHINE_REDIS, TARGET_LABELS, createDatabase, dropLeftoverDatabases, killAllChildren, startRawServer, startSwitchboard, type Target, type TargetKey } from "./lib/targets";
import { CpuMeter, RESULTS_DIR, log, monoMicros, sleep, wallMs } from "./lib/util";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
/** `--only=raw,single,cluster,history,profile`: re-run those parts and merge them into the last results. */
const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const want = (part: string) => !only || only.includes(part);

const mode: Mode = quick
  ? {
      quick,
      subscriberCounts: [200, 50],
      warmMs: 200,
      measureMs: 800,
      startDeliveries: 20_000,
      maxDoublings: 4,
      refinements: 0,
      ingestMs: 2000,
      ingestProducers: 4,
      ingestBatch: 1000,
      drainTimeoutMs: 8000,
      quietWaitMs: 0,
      quietBudgetMs: 0,
      retries: 0,
    }
  : {
      quick,
      subscriberCounts: [5000, 1000, 100],
      warmMs: 1000,
      measureMs: 3000,
      startDeliveries: 10_000,
      maxDoublings: 9,
      refinements: 2,
      ingestMs: 10_000,
      ingestProducers: 4,
      ingestBatch: 1000,
      drainTimeoutMs: 20_000,
      quietWaitMs: 45_000,
      quietBudgetMs: 240_000,
      retries: 2,
    };
const HISTORY_EVENTS = quick ? 100_000 : 1_000_000;
const HISTORY_SAMPLES = quick ? 20 : 200;
const PROFILE_PHASE_MS = quick ? 1500 : 8000;
const CLIENT_WORKERS = 2;
const INGEST_SUBSCRIBERS = 4;

export interface TargetResult {
  key: TargetKey;
  label: string;
  nodes: number;
  memory?: MemoryResult;
  ladders: LadderResult[];
  ingest?: IngestResult;
  ingestMoreProducers?: IngestResult;
  /** HEAD when this target's processes started (the code they loaded). */
  commit?: string;
  error?: string;
}

export interface ProfilePhase {
  name: string;
  description: string;
  summary: ProfileSummary;
  /** CPU % of a core during the phase, per process group (other = processes outside the benchmark). */
  cpu: Record<string, number>;
}

export interface BenchResults {
  version: 1;
  mode: "quick" | "full";
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  command: string;
  machine: Record<string, string | number>;
  settings: Record<string, unknown>;
  targets: TargetResult[];
  history?: { events: number; seedSeconds: number; tableMB: number; cases: HistoryCaseResult[]; commit?: string };
  profile?: { switchboard: ProfilePhase[]; raw: ProfilePhase[]; files: string[] };
  notes: string[];
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", timeout: 10_000 }).trim();
  } catch {
    return "unknown";
  }
}

async function machineInfo(): Promise<Record<string, string | number>> {
  const c = new pg.Client({ connectionString: MACHINE_POSTGRES });
  let pgVersion: string;
  try {
    await c.connect();
    pgVersion = (await c.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version;
  } catch (err) {
    throw new Error(`PostgreSQL at ${MACHINE_POSTGRES} is unreachable (${String(err)}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, { cause: err });
  } finally {
    await c.end().catch(() => {});
  }
  const redisInfo = sh("redis-cli", ["-u", MACHINE_REDIS, "INFO", "server"]);
  const dirty = sh("git", ["status", "--porcelain", "--", "server", "lib", "prisma", "package.json"]);
  return {
    commit: sh("git", ["rev-parse", "--short", "HEAD"]),
    serverTreeDirty: dirty === "" ? "no" : `yes (${dirty.split("\n").length} changed files under server/, lib/, prisma/)`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pgVersion,
    redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? "unknown",
    kernel: os.release(),
    loadAverageAtStart: os.loadavg().map((l) => l.toFixed(2)).join(" "),
  };
}

async function benchTarget(key: TargetKey, pool: ClientPool, results: BenchResults): Promise<TargetResult> {
  const nodes = key === "cluster" ? 2 : 1;
  const r: TargetResult = { key, label: TARGET_LABELS[key], nodes, ladders: [], commit: sh("git", ["rev-parse", "--short", "HEAD"]) };
  log(`${r.label}: starting`);
  const target = key === "raw" ? await startRawServer() : await startSwitchboard({ nodes, redis: key === "cluster" });
  let publisher: Publisher | null = null;
  try {
    log(`  up: ${target.urls.join(", ")} (pids ${target.pids.join(", ")})`);
    const maxN = Math.max(...mode.subscriberCounts);
    publisher = await Publisher.open(target.urls, target.token);
    await warmUp(target, pool, publisher, quick ? 500 : 3000);
    r.memory = await measureMemory(target, pool, maxN, mode);
    await logSplit(target);
    for (const n of [...mode.subscriberCounts].sort((a, b) => b - a)) {
      await pool.closeTo(n);
      await sleep(1000);
      r.ladders.push(await ladder(target, pool, publisher, mode, n, () => [process.pid]));
    }
    await pool.closeTo(0);
    await sleep(500);
    const c = await pool.connect(target.urls, INGEST_SUBSCRIBERS, target.token, FANOUT_CHANNEL);
    if (c.failed) throw new Error(`${c.failed} ingest subscribers could not connect`);
    r.ingest = await ingest(target, pool, mode, () => [process.pid]);
    // The same with more producers in flight: does ingest scale with concurrency, or is it bound?
    if (!quick) r.ingestMoreProducers = await ingest(target, pool, { ...mode, ingestProducers: 16 }, () => [process.pid]);
  } catch (err) {
    r.error = String((err as Error).stack ?? err);
    log(`  ERROR: ${String(err)}`);
    results.notes.push(`${r.label}: ${String(err)}`);
  } finally {
    publisher?.close();
    await pool.closeTo(0).catch(() => {});
    await target.stop();
    log(`${r.label}: stopped`);
  }
  return r;
}

/** How the random assignment spread subscribers over the nodes (GET /api/v1/channels per node). */
async function logSplit(target: Target) {
  if (target.urls.length < 2) return;
  const counts = await Promise.all(
    target.urls.map(async (u) => {
      const res = await fetch(`${u}/api/v1/channels`, { headers: { Authorization: `Bearer ${target.token}` } });
      const body = (await res.json()) as { channels: { name: string; subscribers: number }[] };
      return body.channels.find((c) => c.name === FANOUT_CHANNEL)?.subscribers ?? 0;
    }),
  );
  log(`  subscribers per node: ${counts.join(" / ")}`);
}

/**
 * History on a seeded table, then one profiled Switchboard node (node --cpu-prof) under three
 * phases — fanout, ingest, history — whose windows are cut out of the one profile; and the raw floor
 * profiled under the same fanout phase.
 */
async function historyAndProfile(pool: ClientPool, results: BenchResults) {
  const db = await createDatabase();
  try {
    log(`history: seeding ${HISTORY_EVENTS.toLocaleString("en-US")} events`);
    const seed = await seedHistory(db.url, HISTORY_EVENTS);
    log(`  seeded in ${seed.seconds.toFixed(1)} s; event table ${seed.tableMB.toFixed(0)} MB`);
    // Retention would prune a channel to 100,000 events (the default) within a minute: keep them all.
    const env = { RETENTION_EVENTS: String(HISTORY_EVENTS) };
    // Log the plans of the server's statements slower than 5 ms (this database only).
    const planLog = await PlanLog.enable(db.url, 5);
    if (want("history")) {
      const commit = sh("git", ["rev-parse", "--short", "HEAD"]);
      const target = await startSwitchboard({ nodes: 1, databaseUrl: db.url, env });
      try {
        const cases = await queryHistory(target, HISTORY_EVENTS, HISTORY_SAMPLES, planLog);
        results.history = { events: HISTORY_EVENTS, seedSeconds: seed.seconds, tableMB: seed.tableMB, cases, commit };
      } finally {
        await target.stop();
      }
    }
    if (want("profile")) {
      const profDir = path.join(RESULTS_DIR, quick ? "profiles-quick" : "profiles");
      fs.rmSync(profDir, { recursive: true, force: true });
      fs.mkdirSync(profDir, { recursive: true });
      // Fixed loads that one node sustains on a quiet machine, the same for Switchboard and the floor.
      const fanoutLoads = quick
        ? [{ name: "fanout", subs: 200, rate: 100 }]
        : [
            { name: "fanout", subs: 1000, rate: 20 },
            { name: "fanout-5000", subs: 5000, rate: 3 },
          ];
      const phases = [
        ...fanoutLoads.map((f) => ({
          name: f.name,
          description: `${f.subs.toLocaleString("en-US")} subscribers, ${f.rate} events/s published over the socket (${(f.rate * f.subs).toLocaleString("en-US")} deliveries/s)`,
        })),
        { name: "ingest", description: `${mode.ingestProducers} producers POSTing batches of ${mode.ingestBatch}, ${INGEST_SUBSCRIBERS} subscribers` },
        { name: "history", description: `sequential subscribes with history: 1000 and a filter, on ${HISTORY_EVENTS.toLocaleString("en-US")} events` },
      ];
      const profileOne = async (kind: "switchboard" | "raw") => {
        const dir = path.join(profDir, kind);
        const args = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
        const target = kind === "raw" ? await startRawServer(args) : await startSwitchboard({ nodes: 1, databaseUrl: db.url, env, extraNodeArgs: args });
        const windows: { name: string; from: number; to: number; cpu: Record<string, number> }[] = [];
        /** Runs one phase on a quiet machine and remembers its window (monotonic µs) and CPU split. */
        const phase = async (name: string, run: () => Promise<string>) => {
          log(`profile (${kind}, node --cpu-prof): ${name} phase`);
          await waitForQuiet(target, pool, mode.quietWaitMs);
          const services = await target.servicePids();
          const meter = new CpuMeter({ server: target.pids, clients: pool.pids, bench: [process.pid], postgres: services.postgres, redis: services.redis });
          const from = monoMicros();
          const what = await run();
          const cpu = meter.read();
          windows.push({ name, from, to: monoMicros(), cpu });
          log(`  ${what}; cpu % server ${cpu.server} clients ${cpu.clients} bench ${cpu.bench} pg ${cpu.postgres} other ${cpu.other}`);
        };
        let publisher: Publisher | null = null;
        try {
          publisher = await Publisher.open(target.urls, target.token);
          await warmUp(target, pool, publisher, quick ? 500 : 3000);
          const pub = publisher;
          for (const f of fanoutLoads) {
            const have = (await pool.stats()).sockets;
            await pool.connect(target.urls, f.subs - have, target.token, FANOUT_CHANNEL);
            await pool.window(0, 0);
            await phase(f.name, async () => {
              const t = wallMs();
              const r = await pub.run({ channel: FANOUT_CHANNEL, rate: f.rate, from: t, until: t + PROFILE_PHASE_MS, maxInFlight: 1000 });
              return `published ${r.acked} events to ${f.subs} subscribers`;
            });
          }
          await pool.closeTo(0);
          if (kind === "switchboard") {
            await pool.connect(target.urls, INGEST_SUBSCRIBERS, target.token, FANOUT_CHANNEL);
            await phase("ingest", async () => {
              const r = await ingest(target, pool, { ...mode, ingestMs: PROFILE_PHASE_MS, quietWaitMs: 0 }, () => [process.pid]);
              return `${Math.round(r.eventsPerSec)} events/s`;
            });
            await pool.closeTo(0);
            await phase("history", async () => `${await historyLoad(target, PROFILE_PHASE_MS)} history queries`);
          }
        } finally {
          publisher?.close();
          await pool.closeTo(0).catch(() => {});
          await target.stop();
        }
        // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile); tsx's loader runs in a
        // second thread: take the main thread's.
        const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) : [];
        if (files.length !== 1) throw new Error(`expected one main-thread .cpuprofile in ${dir}, found ${files.length}`);
        const file = path.join(dir, files[0]!);
        const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
        const out: ProfilePhase[] = windows.map((w) => ({
          name: w.name,
          description: phases.find((p) => p.name === w.name)!.description,
          summary: summarize(profile, { fromUs: w.from, toUs: w.to, top: 20 }),
          cpu: w.cpu,
        }));
        for (const p of out) log(`profile ${kind} / ${p.name}:\n${formatSummary({ ...p.summary, topFunctions: p.summary.topFunctions.slice(0, 12), byPackage: p.summary.byPackage.slice(0, 10) })}`);
        return { phases: out, file: path.relative(RESULTS_DIR, file) };
      };
      const sb = await profileOne("switchboard");
      const raw = await profileOne("raw");
      results.profile = { switchboard: sb.phases, raw: raw.phases, files: [sb.file, raw.file] };
    }
  } finally {
    await db.drop().catch(() => {});
  }
}

/** The last results of the same mode, to merge a partial re-run into. */
function loadPrevious(): BenchResults | null {
  const file = path.join(RESULTS_DIR, quick ? "latest-quick.json" : "latest.json");
  if (!fs.existsSync(file)) return null;
  const prev = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  return prev.mode === (quick ? "quick" : "full") ? prev : null;
}

async function main() {
  if (argv.includes("--report-only")) {
    // Rewrites the markdown and the chart from the last JSON results (no measurement).
    const previous = loadPrevious();
    if (!previous) throw new Error("no previous results to report");
    log(`wrote ${writeReports(previous, quick).join(", ")}`);
    return;
  }
  const started = Date.now();
  const results: BenchResults = {
    version: 1,
    mode: quick ? "quick" : "full",
    startedAt: new Date().toISOString(),
    command: `${process.env.BENCH_CLIENT_BATCH === "0" ? "BENCH_CLIENT_BATCH=0 " : ""}npm run bench${quick ? " -- --quick" : ""}`,
    machine: await machineInfo(),
    settings: {
      ...mode,
      clientWorkers: CLIENT_WORKERS,
      historyEvents: HISTORY_EVENTS,
      historySamples: HISTORY_SAMPLES,
      profilePhaseMs: PROFILE_PHASE_MS,
      channel: FANOUT_CHANNEL,
      historyChannel: HISTORY_CHANNEL,
      sustainedMeans: "every event published in the window reached every subscriber, arrivals ≥ 90 % of the offered rate during the window, no gap notices or disconnects, no publish throttled or failed, p99 ≤ 500 ms",
    },
    targets: [],
    notes:
      process.env.BENCH_CLIENT_BATCH === "0"
        ? ["BENCH_CLIENT_BATCH=0: the clients did not ask for batched delivery; Switchboard sent one `event` message per event, as the floor does."]
        : [],
  };
  log(`Switchboard benchmark (${results.mode}): ${JSON.stringify(results.machine)}`);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  setQuietBudget(mode.quietBudgetMs);
  const pool = await ClientPool.start(CLIENT_WORKERS);
  log(`client workers: pids ${pool.pids.join(", ")}`);
  try {
    const previous = only ? loadPrevious() : null;
    for (const key of ["raw", "single", "cluster"] as const) {
      if (want(key)) results.targets.push(await benchTarget(key, pool, results));
      else if (previous?.targets.find((t) => t.key === key)) results.targets.push(previous.targets.find((t) => t.key === key)!);
    }
    if (previous) {
      results.history = previous.history;
      results.profile = previous.profile;
      results.notes.push(...previous.notes, `${new Date().toISOString()}: re-ran ${only!.join(", ")} (npm run bench -- ${argv.join(" ")}) and merged into the results of ${previous.startedAt}.`);
    }
    if (want("history") || want("profile")) await historyAndProfile(pool, results);
  } finally {
    await pool.stop().catch(() => pool.kill());
    results.finishedAt = new Date().toISOString();
    results.durationSeconds = Math.round((Date.now() - started) / 1000);
    const written = writeReports(results, quick);
    log(`wrote ${written.join(", ")} in ${results.durationSeconds} s`);
  }
}

const onSignal = (signal: string) => {
  log(`${signal}: stopping every process this benchmark started`);
  killAllChildren();
  void dropLeftoverDatabases().finally(() => process.exit(130));
  setTimeout(() => process.exit(130), 5000).unref();
};
process.on("SIGINT", () => onSignal("SIGINT"));
process.on("SIGTERM", () => onSignal("SIGTERM"));
process.on("exit", () => killAllChildren());

main().catch(async (err: unknown) => {
  console.error(err);
  killAllChildren();
  await dropLeftoverDatabases();
  process.exitCode = 1;
});
