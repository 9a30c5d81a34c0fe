import fs from "node:fs";
import pg from "pg";
import { io } from "socket.io-client";
import { applyMigrations } from "../../server/db/migrate";
import { quantileOf } from "./histogram";
import { MACHINE_POSTGRES, type Target } from "./targets";
import { fmtMs, log } from "./util";

export const HISTORY_CHANNEL = "tasks";
const TYPES = ["task.created", "task.status_changed", "task.completed", "task.failed", "agent.heartbeat", "agent.hired", "budget.spent", "budget.warning", "message.sent", "system.notice"];

/**
 * Seeds `count` events into channel "tasks" of a migrated database with one INSERT … SELECT
 * generate_series: 20 agents (agent = seq mod 20), 10 types (4 of them task.*), 5 projects, a
 * ~100-byte JSON payload. The secondary indexes are dropped first and rebuilt afterwards with their
 * exact definitions (much faster than maintaining them row by row); then ANALYZE, as autovacuum would.
 */
export async function seedHistory(databaseUrl: string, count: number): Promise<{ seconds: number; tableMB: number }> {
  await applyMigrations(databaseUrl);
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  const started = performance.now();
  try {
    const { rows: indexes } = await c.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'event' AND indexname <> 'event_pkey'`,
    );
    for (const ix of indexes) await c.query(`DROP INDEX "${ix.indexname}"`);
    await c.query(
      // payload_bytes as the server keeps it at publish: the payload's size as stored.
      `INSERT INTO event (channel, seq, id, type, ts, agent, project, payload, payload_bytes)
       SELECT $1, g, gen_random_uuid(),
         ($2::text[])[1 + (g / 20) % 10],
         now() - make_interval(secs => ($3 - g) / 100.0),
         'agent-' || lpad((g % 20)::text, 2, '0'),
         'proj-' || ((g / 200) % 5),
         p.payload, octet_length(p.payload::text)
       FROM generate_series(1, $3::bigint) g,
         LATERAL (SELECT jsonb_build_object('taskId', 'T-' || g, 'title', 'seeded event number ' || g || ' for the history benchmark', 'n', g) AS payload) p`,
      [HISTORY_CHANNEL, TYPES, count],
    );
    for (const ix of indexes) await c.query(ix.indexdef);
    await c.query(
      `INSERT INTO channel_counter (channel, last_seq) VALUES ($1, $2)
       ON CONFLICT (channel) DO UPDATE SET last_seq = EXCLUDED.last_seq`,
      [HISTORY_CHANNEL, count],
    );
    await c.query("ANALYZE event");
    const { rows } = await c.query<{ mb: string }>(`SELECT pg_total_relation_size('event') / 1048576.0 AS mb`);
    return { seconds: (performance.now() - started) / 1000, tableMB: Number(rows[0]!.mb) };
  } finally {
    await c.end();
  }
}

/**
 * The plans PostgreSQL really ran for the server's statements: auto_explain (plans only, no
 * ANALYZE, so no timing overhead) for statements slower than `thresholdMs`, set on the bench
 * database alone, logged to the server's log file, which is read back (Debian's default path).
 */
export class PlanLog {
  private constructor(
    private readonly file: string | null,
    private readonly database: string,
  ) {}

  static async enable(databaseUrl: string, thresholdMs: number): Promise<PlanLog> {
    const database = new URL(databaseUrl).pathname.slice(1);
    const c = new pg.Client({ connectionString: MACHINE_POSTGRES });
    await c.connect();
    try {
      const major = Math.floor(Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v) / 10000);
      const file = process.env.BENCH_PG_LOG ?? `/var/log/postgresql/postgresql-${major}-main.log`;
      if (!fs.existsSync(file)) return new PlanLog(null, database);
      await c.query(`ALTER DATABASE "${database}" SET session_preload_libraries = 'auto_explain'`);
      await c.query(`ALTER DATABASE "${database}" SET auto_explain.log_min_duration = '${thresholdMs}ms'`);
      return new PlanLog(file, database);
    } finally {
      await c.end();
    }
  }

  /** Where the log ends now: pass it to `read` to see what was logged after this point. */
  mark(): number {
    return this.file ? fs.statSync(this.file).size : 0;
  }

  /** Slow statements of this database logged since `from`: count, durations, and the most common plan. */
  read(from: number): { available: boolean; slow: number; p50: number; max: number; plan?: string; query?: string } {
    if (!this.file) return { available: false, slow: 0, p50: Number.NaN, max: Number.NaN };
    const size = fs.statSync(this.file).size;
    const fd = fs.openSync(this.file, "r");
    const buf = Buffer.alloc(Math.max(0, Math.min(size - from, 64 * 2 ** 20)));
    fs.readSync(fd, buf, 0, buf.length, from);
    fs.closeSync(fd);
    const lines = buf.toString("utf8").split("\n");
    const blocks: { ms: number; body: string[] }[] = [];
    const head = new RegExp(`@${this.database} LOG:\\s+duration: ([\\d.]+) ms\\s+plan:`);
    for (let i = 0; i < lines.length; i++) {
      const m = head.exec(lines[i]!);
      if (!m) continue;
      const body: string[] = [];
      while (i + 1 < lines.length && /^\s/.test(lines[i + 1]!)) body.push(lines[++i]!);
      blocks.push({ ms: Number(m[1]), body });
    }
    if (!blocks.length) return { available: true, slow: 0, p50: Number.NaN, max: Number.NaN };
    // The body is "Query Text: <SQL over several lines>" and then the plan, whose top node is the
    // first line indented by a single tab.
    const shape = (b: string[]) => {
      const start = b.findIndex((l) => /^\t[A-Z]/.test(l) && !/^\tQuery Text:/.test(l));
      return b
        .slice(start < 0 ? 0 : start)
        .map((l) => l.replace(/\s*\(cost=[^)]*\)/g, "").trimEnd())
        .join("\n");
    };
    const counts = new Map<string, number>();
    for (const b of blocks) counts.set(shape(b.body), (counts.get(shape(b.body)) ?? 0) + 1);
    const plan = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const query = blocks[0]!.body.find((l) => /Query Text:/.test(l))?.replace(/^\s*Query Text:\s*/, "").replace(/\s+/g, " ").slice(0, 300);
    const ms = blocks.map((b) => b.ms);
    return { available: true, slow: blocks.length, p50: quantileOf(ms, 0.5), max: Math.max(...ms), plan, query };
  }
}

export interface HistoryFilterCase {
  name: string;
  filter: { agent?: string | string[]; project?: string | string[]; type?: string | string[] };
  /** The same filter as SQL, for EXPLAIN ANALYZE of the query Prisma sends. */
  sql: string;
}

export const HISTORY_CASES: HistoryFilterCase[] = [
  { name: "agent = agent-07 (5 %)", filter: { agent: "agent-07" }, sql: `agent IN ('agent-07')` },
  { name: "type = task.* (40 %)", filter: { type: "task.*" }, sql: `(type LIKE 'task.%')` },
  { name: "agent ∈ {07,13} and type = task.* (4 %)", filter: { agent: ["agent-07", "agent-13"], type: "task.*" }, sql: `agent IN ('agent-07','agent-13') AND (type LIKE 'task.%')` },
  { name: "type = task.failed and project = proj-3 (2 %)", filter: { type: "task.failed", project: "proj-3" }, sql: `project IN ('proj-3') AND (type IN ('task.failed'))` },
];

export interface HistoryCaseResult {
  name: string;
  path: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  events: number;
  /** EXPLAIN ANALYZE of the same filter written as literal SQL (IN (…), LIKE) ordered by seq. */
  dbExecutionMs?: number;
  plan?: string;
  /** What auto_explain logged for the server's own statements during this case. */
  serverPlans?: ReturnType<PlanLog["read"]>;
}

/**
 * Times "the newest 1,000 matching events" the way a dashboard asks for them: a socket subscribe
 * with `history: 1000` and a filter (then unsubscribe), sequentially, `samples` times per filter.
 * Also GET /api/v1/channels/tasks/events?after=…&limit=1000&agent=… (1,000 filtered events near the
 * head), and EXPLAIN ANALYZE of the SQL, to tell database time from the rest.
 */
export async function queryHistory(target: Target, count: number, samples: number, planLog?: PlanLog): Promise<HistoryCaseResult[]> {
  const url = target.urls[0]!;
  const socket = io(url, { path: "/api/v1/ws", auth: { token: target.token }, transports: ["websocket"], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  const results: HistoryCaseResult[] = [];
  const pgc = new pg.Client({ connectionString: target.databaseUrl });
  await pgc.connect();
  try {
    for (const c of HISTORY_CASES) {
      const times: number[] = [];
      let events = 0;
      const mark = planLog?.mark() ?? 0;
      for (let i = 0; i < samples + 10; i++) {
        const t0 = performance.now();
        const ack = (await socket.timeout(30_000).emitWithAck("subscribe", { channel: HISTORY_CHANNEL, filter: c.filter, history: 1000 })) as {
          ok: boolean;
          subscriptionId: string;
          history: unknown[];
          error?: unknown;
        };
        const dt = performance.now() - t0;
        if (!ack.ok) throw new Error(`history subscribe failed: ${JSON.stringify(ack.error)}`);
        events = ack.history.length;
        if (i >= 10) times.push(dt);
        await socket.timeout(30_000).emitWithAck("unsubscribe", { subscriptionId: ack.subscriptionId });
      }
      const explain = await pgc.query<{ "QUERY PLAN": string }>(
        `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM event WHERE channel = '${HISTORY_CHANNEL}' AND seq > 0 AND seq <= ${count} AND ${c.sql} ORDER BY seq DESC LIMIT 1000`,
      );
      const plan = explain.rows.map((r) => r["QUERY PLAN"]);
      const exec = Number(/Execution Time: ([\d.]+) ms/.exec(plan.join("\n"))?.[1]);
      const r: HistoryCaseResult = {
        name: c.name,
        path: "socket subscribe {history: 1000, filter}",
        samples: times.length,
        p50: quantileOf(times, 0.5),
        p99: quantileOf(times, 0.99),
        max: Math.max(...times),
        events,
        dbExecutionMs: exec,
        plan: plan.find((l) => l.includes("Scan"))?.trim(),
        serverPlans: planLog?.read(mark),
      };
      results.push(r);
      const sp = r.serverPlans;
      log(
        `  history ${c.name}: ${events} events, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms; literal SQL alone ${fmtMs(exec)} ms (${r.plan?.replace(/\s+\(.*$/, "")})` +
          (sp?.available ? `; server statements ≥ threshold: ${sp.slow}${sp.slow ? `, p50 ${fmtMs(sp.p50)} ms, plan:\n${sp.plan}` : ""}` : ""),
      );
    }
    // The HTTP read path: 1,000 agent-07 events after head - 25,000 (5 % match: 1,250 candidates).
    const times: number[] = [];
    let events = 0;
    const mark = planLog?.mark() ?? 0;
    for (let i = 0; i < samples + 10; i++) {
      const t0 = performance.now();
      const res = await fetch(`${url}/api/v1/channels/${HISTORY_CHANNEL}/events?after=${count - 25_000}&limit=1000&agent=agent-07`, {
        headers: { Authorization: `Bearer ${target.token}` },
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { events: unknown[] };
      const dt = performance.now() - t0;
      if (res.status !== 200) throw new Error(`history GET answered ${res.status}`);
      events = body.events.length;
      if (i >= 10) times.push(dt);
    }
    const r: HistoryCaseResult = {
      name: "agent = agent-07 (5 %)",
      path: "GET /api/v1/channels/tasks/events?after=…&limit=1000&agent=agent-07",
      samples: times.length,
      p50: quantileOf(times, 0.5),
      p99: quantileOf(times, 0.99),
      max: Math.max(...times),
      events,
      serverPlans: planLog?.read(mark),
    };
    results.push(r);
    const sp = r.serverPlans;
    log(
      `  history GET agent=agent-07 limit=1000: ${events} events, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms` +
        (sp?.available ? `; server statements ≥ threshold: ${sp.slow}${sp.slow ? `, p50 ${fmtMs(sp.p50)} ms, plan:\n${sp.plan}` : ""}` : ""),
    );
  } finally {
    socket.disconnect();
    await pgc.end();
  }
  return results;
}

/** A steady stream of history subscribes for the profiler (bounded by time). */
export async function historyLoad(target: Target, ms: number) {
  const socket = io(target.urls[0]!, { path: "/api/v1/ws", auth: { token: target.token }, transports: ["websocket"], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  const deadline = performance.now() + ms;
  let n = 0;
  try {
    while (performance.now() < deadline) {
      const c = HISTORY_CASES[n++ % HISTORY_CASES.length]!;
      const ack = (await socket.timeout(30_000).emitWithAck("subscribe", { channel: HISTORY_CHANNEL, filter: c.filter, history: 1000 })) as { ok: boolean; subscriptionId: string };
      if (ack.ok) await socket.timeout(30_000).emitWithAck("unsubscribe", { subscriptionId: ack.subscriptionId });
    }
  } finally {
    socket.disconnect();
  }
  return n;
}
