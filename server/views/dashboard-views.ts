import type { SwitchboardEvent } from "../../lib/protocol";
import { agentStatus } from "../../lib/agent-status";
import { PROTOCOL_VERSION } from "../../lib/protocol";
import type { ActivityView, AgentView, BudgetView, ConversationView, TaskView } from "../../lib/views";
import type { PrismaClient } from "../db/client";
import { SwitchboardError } from "../channels/errors";
import { classifyDatabaseError } from "../db/errors";

/**
 * Bounds on what a view answers, whatever the events hold:
 * - every string taken from a payload (task titles and statuses, message texts and senders,
 *   currencies) is cut in SQL to MAX_VIEW_TEXT characters, the last one an ellipsis when cut;
 * - the agents view lists the MAX_VIEW_AGENTS most recently seen agents (by their latest event on
 *   the agents channel), in name order; the budget view at most MAX_VIEW_PROJECTS projects and the
 *   newest MAX_VIEW_SERIES series rows;
 * - answers that carry whole payloads (a conversation's messages, the budget warnings) stop at a
 *   byte budget of payload text (`maxBytes`, default DEFAULT_VIEW_MAX_BYTES), counted in SQL as a
 *   running sum of octet_length(payload::text), newest first, always including the newest event.
 */
export const MAX_VIEW_TEXT = 500;
export const MAX_VIEW_AGENTS = 1000;
export const MAX_VIEW_PROJECTS = 1000;
export const MAX_VIEW_SERIES = 10_000;
export const DEFAULT_VIEW_MAX_BYTES = 4 * 1024 * 1024;

/** A text expression cut to MAX_VIEW_TEXT characters, ending in "…" when it was longer. */
const cut = (expr: string) => `(CASE WHEN length(${expr}) > ${MAX_VIEW_TEXT} THEN left(${expr}, ${MAX_VIEW_TEXT - 1}) || '…' ELSE ${expr} END)`;

/**
 * A number in a JSON payload as an exact `numeric`, or null when the field is missing or is not a
 * JSON number (a string amount is ignored, never cast). Sums stay in numeric, which cannot overflow
 * on any values a payload holds (1e308 + 1e308 is exact), and become float8 only through `float8`.
 */
const numberField = (field: string) => `CASE WHEN jsonb_typeof(payload->'${field}') = 'number' THEN (payload->>'${field}')::numeric END`;

/** Largest finite float8. */
const FLOAT8_MAX = "1.7976931348623157e308::numeric";
/**
 * A numeric expression as a float8 that always exists: clamped into ±1.7976931348623157e308, and
 * magnitudes below 1e-300 (which float8 might not hold) as 0. JSON has no Infinity, so an answer
 * must never carry one.
 */
const float8 = (expr: string) =>
  `(CASE WHEN ${expr} > ${FLOAT8_MAX} THEN ${FLOAT8_MAX} WHEN ${expr} < -${FLOAT8_MAX} THEN -${FLOAT8_MAX} WHEN abs(${expr}) < 1e-300 THEN 0 ELSE ${expr} END)::float8`;
/** A sum of money: numeric, rounded to cents, then a float8 that exists. */
const moneySum = (expr: string) => float8(`round(coalesce(${expr}, 0), 2)`);

/**
 * A failed view: the database being unreachable is `unavailable` (retry), anything else, such as a
 * value the SQL did not expect, is `internal` (logged), never reported as an unreachable database.
 */
const viewError = (err: unknown): never => {
  if (classifyDatabaseError(err) === "connection") {
    throw new SwitchboardError("unavailable", "The dashboard views are unavailable: the database cannot be reached.", { retryAfterSeconds: 2, cause: err });
  }
  throw new SwitchboardError("internal", "The dashboard view could not be computed; it has been logged.", { cause: err });
};

export interface DashboardViewsOptions {
  /** Payload bytes (as stored) an answer carrying whole payloads may hold; default 4 MiB. */
  maxBytes?: number;
}

type EventRow = { channel: string; seq: bigint; id: string; type: string; ts: Date; agent: string | null; project: string | null; payload: Record<string, unknown> };

/**
 * The dashboard's read models, computed in SQL from the events themselves (the system of record), so
 * they are right however far back the story goes, and need no state of their own.
 */
export class DashboardViews {
  private readonly maxBytes: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly channels: readonly string[],
    options: DashboardViewsOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_VIEW_MAX_BYTES;
  }

  /**
   * The newest events of `where` (a condition on `event`, parameters from $2), newest first, while
   * their payloads' stored bytes stay within the budget ($1); the newest always.
   */
  private newestWithinBudget(where: string, limit: number, ...params: unknown[]) {
    return this.prisma.$queryRawUnsafe<EventRow[]>(
      `SELECT channel, seq, id, type, ts, agent, project, payload FROM (
         SELECT *, sum(octet_length(payload::text)) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS running,
                row_number() OVER (ORDER BY seq DESC) AS n
           FROM (SELECT channel, seq, id, type, ts, agent, project, payload FROM event WHERE ${where} ORDER BY seq DESC LIMIT ${Number(limit)}) newest
       ) counted
       WHERE n = 1 OR running <= $1
       ORDER BY seq DESC`,
      this.maxBytes,
      ...params,
    );
  }

  async activity(minutes: number, now = new Date()): Promise<ActivityView> {
    const currentMinute = Math.floor(now.getTime() / 60_000);
    const firstMinute = currentMinute - minutes + 1;
    const from = new Date(firstMinute * 60_000);
    const [rows, heads] = await Promise.all([
      this.prisma.$queryRawUnsafe<{ channel: string; minute: bigint; count: number }[]>(
        `SELECT channel, floor(extract(epoch FROM ts) / 60)::bigint AS minute, count(*)::int AS count
           FROM event WHERE channel = ANY($1) AND ts >= $2 GROUP BY 1, 2`,
        this.channels,
        from,
      ),
      this.prisma.channelCounter.findMany(),
    ]).catch(viewError);
    const lastSeq = new Map(heads.map((h) => [h.channel, Number(h.lastSeq)]));
    return {
      minutes,
      from: from.toISOString(),
      channels: this.channels.map((name) => {
        const perMinute = new Array<number>(minutes).fill(0);
        for (const r of rows) {
          const i = Number(r.minute) - firstMinute;
          if (r.channel === name && i >= 0 && i < minutes) perMinute[i] = r.count;
        }
        return { name, lastSeq: lastSeq.get(name) ?? 0, perMinute };
      }),
    };
  }

  async tasks(filter: { project?: string; agent?: string; limit: number }): Promise<TaskView[]> {
    const rows = await this.prisma
      .$queryRawUnsafe<{ task_id: string; title: string | null; status: string | null; project: string | null; agent: string | null; ts: Date; seq: bigint }[]>(
        `SELECT * FROM (
           SELECT ${cut("payload->>'taskId'")} AS task_id,
                  ${cut("(array_agg(payload->>'title' ORDER BY seq DESC) FILTER (WHERE payload ? 'title'))[1]")} AS title,
                  ${cut("(array_agg(payload->>'status' ORDER BY seq DESC))[1]")} AS status,
                  (array_agg(project ORDER BY seq DESC))[1] AS project,
                  -- the task's agent is the last one named on any of its events
                  (array_agg(agent ORDER BY seq DESC) FILTER (WHERE agent IS NOT NULL))[1] AS agent,
                  max(ts) AS ts, max(seq) AS seq
             FROM event WHERE channel = 'tasks' AND payload ? 'taskId'
            GROUP BY payload->>'taskId'
         ) latest
         WHERE ($1::text IS NULL OR project = $1) AND ($2::text IS NULL OR agent = $2)
         ORDER BY seq DESC LIMIT $3`,
        filter.project ?? null,
        filter.agent ?? null,
        filter.limit,
      )
      .catch(viewError);
    return rows.map((r) => ({
      taskId: r.task_id,
      title: r.title,
      status: r.status ?? "created",
      project: r.project,
      agent: r.agent,
      updatedAt: r.ts.toISOString(),
      seq: Number(r.seq),
    }));
  }

  async agents(offlineAfterSeconds: number, now = new Date()): Promise<AgentView[]> {
    const [latest, tasks] = await Promise.all([
      this.prisma.$queryRawUnsafe<{ agent: string; project: string | null; type: string; ts: Date; status: string | null }[]>(
        `SELECT agent, project, type, ts, status FROM (
           SELECT * FROM (
             SELECT DISTINCT ON (agent) agent, project, type, ts, seq, ${cut("payload->>'status'")} AS status
               FROM event WHERE channel = 'agents' AND agent IS NOT NULL ORDER BY agent, seq DESC
           ) latest ORDER BY seq DESC LIMIT ${MAX_VIEW_AGENTS}
         ) recent ORDER BY agent`,
      ),
      this.tasks({ limit: 1000 }),
    ]).catch(viewError);
    const spend = await this.prisma
      .$queryRawUnsafe<{ agent: string; total: number }[]>(
        `SELECT agent, ${moneySum(`sum(${numberField("amount")})`)} AS total
           FROM event WHERE channel = 'budget' AND type = 'budget.spent' AND agent = ANY($1::text[]) GROUP BY agent`,
        latest.map((a) => a.agent),
      )
      .catch(viewError);
    const spendOf = new Map(spend.map((s) => [s.agent, s.total]));
    const taskOf = new Map<string, TaskView>();
    for (const t of tasks) {
      if (t.agent && (t.status === "assigned" || t.status === "in_progress") && !taskOf.has(t.agent)) taskOf.set(t.agent, t);
    }
    return latest.map((a) => {
      const task = taskOf.get(a.agent);
      const status = agentStatus({ lastSeen: a.ts, busy: a.status === "busy", holdsOpenTask: task !== undefined }, now, offlineAfterSeconds);
      return {
        name: a.agent,
        project: a.project,
        status,
        lastSeen: a.ts.toISOString(),
        currentTask: task ? { taskId: task.taskId, title: task.title, status: task.status } : null,
        spend: spendOf.get(a.agent) ?? 0,
      };
    });
  }

  async budget(hours: number, bucketMinutes: number, now = new Date()): Promise<BudgetView> {
    const from = new Date(now.getTime() - hours * 3600_000);
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const bucketSeconds = bucketMinutes * 60;
    const [projects, series, warnings] = await Promise.all([
      this.prisma.$queryRawUnsafe<{ project: string; budget: number | null; spent_today: number; currency: string | null }[]>(
        `SELECT project,
                ${float8(`(array_agg(${numberField("budget")} ORDER BY seq DESC) FILTER (WHERE ${numberField("budget")} IS NOT NULL))[1]`)} AS budget,
                ${moneySum(`sum(${numberField("amount")}) FILTER (WHERE type = 'budget.spent' AND ts >= $1)`)} AS spent_today,
                ${cut("(array_agg(payload->>'currency' ORDER BY seq DESC) FILTER (WHERE payload ? 'currency'))[1]")} AS currency
           FROM event WHERE channel = 'budget' AND project IS NOT NULL GROUP BY project ORDER BY project LIMIT ${MAX_VIEW_PROJECTS}`,
        midnight,
      ),
      this.prisma.$queryRawUnsafe<{ bucket: Date; project: string | null; agent: string | null; amount: number }[]>(
        `SELECT to_timestamp(floor(extract(epoch FROM ts) / $2) * $2) AS bucket, project, agent,
                ${moneySum(`sum(${numberField("amount")})`)} AS amount
           FROM event WHERE channel = 'budget' AND type = 'budget.spent' AND ts >= $1
          GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3 LIMIT ${MAX_VIEW_SERIES}`,
        from,
        bucketSeconds,
      ),
      this.newestWithinBudget(`channel = 'budget' AND type = 'budget.warning'`, 50),
    ]).catch(viewError);
    series.reverse();
    return {
      hours,
      bucketMinutes,
      projects: projects.map((p) => ({ project: p.project, budget: p.budget, spentToday: p.spent_today, currency: p.currency })),
      series: series.map((s) => ({ bucket: s.bucket.toISOString(), project: s.project, agent: s.agent, amount: s.amount })),
      warnings: warnings.map((w) => ({ seq: Number(w.seq), ts: w.ts.toISOString(), project: w.project, agent: w.agent, payload: w.payload })),
    };
  }

  async conversations(limit: number): Promise<ConversationView[]> {
    const rows = await this.prisma
      .$queryRawUnsafe<{ a: string; b: string; project: string | null; count: number; ts: Date; seq: bigint; sender: string; text: string | null }[]>(
        `SELECT ${cut("a")} AS a, ${cut("b")} AS b, project, count, ts, seq, ${cut("sender")} AS sender, ${cut("text")} AS text FROM (
           SELECT DISTINCT ON (a, b) a, b, project, count(*) OVER (PARTITION BY a, b)::int AS count, ts, seq, sender, text
             FROM (SELECT least(payload->>'from', payload->>'to') AS a, greatest(payload->>'from', payload->>'to') AS b,
                          project, ts, seq, payload->>'from' AS sender, payload->>'text' AS text
                     FROM event WHERE channel = 'messages' AND payload ? 'from' AND payload ? 'to') m
            ORDER BY a, b, seq DESC
         ) latest ORDER BY seq DESC LIMIT $1`,
        limit,
      )
      .catch(viewError);
    return rows.map((r) => ({ agents: [r.a, r.b], project: r.project, count: r.count, last: { ts: r.ts.toISOString(), from: r.sender, text: r.text ?? "" } }));
  }

  /**
   * The newest `limit` messages between two agents, in either direction, oldest first; fewer when
   * their payloads would pass `maxBytes` (the newest always comes).
   */
  async conversation(a: string, b: string, limit: number): Promise<SwitchboardEvent[]> {
    const rows = await this.newestWithinBudget(
      `channel = 'messages' AND least(payload->>'from', payload->>'to') = $2 AND greatest(payload->>'from', payload->>'to') = $3`,
      limit,
      a < b ? a : b,
      a < b ? b : a,
    ).catch(viewError);
    return rows.reverse().map((r) => ({
      v: PROTOCOL_VERSION,
      id: r.id,
      channel: r.channel,
      seq: Number(r.seq),
      type: r.type,
      ts: r.ts.toISOString(),
      agent: r.agent,
      project: r.project,
      payload: r.payload,
    }));
  }
}
