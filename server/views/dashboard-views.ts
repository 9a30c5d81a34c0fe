import type { SwitchboardEvent } from "../../lib/protocol";
import { PROTOCOL_VERSION } from "../../lib/protocol";
import type { ActivityView, AgentView, BudgetView, ConversationView, TaskView } from "../../lib/views";
import type { PrismaClient } from "../db/client";
import { SwitchboardError } from "../channels/errors";

/** A number in a JSON payload, or null when the field is missing or not a number. */
const numberField = (field: string) => `CASE WHEN jsonb_typeof(payload->'${field}') = 'number' THEN (payload->>'${field}')::float8 END`;

const asUnavailable = (err: unknown): never => {
  throw new SwitchboardError("unavailable", "The dashboard views are unavailable: the database cannot be reached.", { retryAfterSeconds: 2, cause: err });
};

/**
 * The dashboard's read models, computed in SQL from the events themselves (the system of record), so
 * they are right however far back the story goes, and need no state of their own.
 */
export class DashboardViews {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly channels: readonly string[],
  ) {}

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
    ]).catch(asUnavailable);
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
           SELECT payload->>'taskId' AS task_id,
                  (array_agg(payload->>'title' ORDER BY seq DESC) FILTER (WHERE payload ? 'title'))[1] AS title,
                  (array_agg(payload->>'status' ORDER BY seq DESC))[1] AS status,
                  (array_agg(project ORDER BY seq DESC))[1] AS project,
                  -- the task's agent is the last one named on any of its events
                  (array_agg(agent ORDER BY seq DESC) FILTER (WHERE agent IS NOT NULL))[1] AS agent,
                  max(ts) AS ts, max(seq) AS seq
             FROM event WHERE channel = 'tasks' AND payload ? 'taskId'
            GROUP BY 1
         ) latest
         WHERE ($1::text IS NULL OR project = $1) AND ($2::text IS NULL OR agent = $2)
         ORDER BY seq DESC LIMIT $3`,
        filter.project ?? null,
        filter.agent ?? null,
        filter.limit,
      )
      .catch(asUnavailable);
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
    const [latest, spend, tasks] = await Promise.all([
      this.prisma.$queryRawUnsafe<{ agent: string; project: string | null; type: string; ts: Date; status: string | null }[]>(
        `SELECT DISTINCT ON (agent) agent, project, type, ts, payload->>'status' AS status
           FROM event WHERE channel = 'agents' AND agent IS NOT NULL ORDER BY agent, seq DESC`,
      ),
      this.prisma.$queryRawUnsafe<{ agent: string; total: number }[]>(
        `SELECT agent, coalesce(sum(${numberField("amount")}), 0)::float8 AS total
           FROM event WHERE channel = 'budget' AND type = 'budget.spent' AND agent IS NOT NULL GROUP BY agent`,
      ),
      this.tasks({ limit: 1000 }),
    ]).catch(asUnavailable);
    const spendOf = new Map(spend.map((s) => [s.agent, s.total]));
    const taskOf = new Map<string, TaskView>();
    for (const t of tasks) {
      if (t.agent && (t.status === "assigned" || t.status === "in_progress") && !taskOf.has(t.agent)) taskOf.set(t.agent, t);
    }
    return latest.map((a) => {
      const task = taskOf.get(a.agent);
      const stale = now.getTime() - a.ts.getTime() > offlineAfterSeconds * 1000;
      const status = stale ? "offline" : a.status === "busy" || task ? "online" : "idle";
      return {
        name: a.agent,
        project: a.project,
        status,
        lastSeen: a.ts.toISOString(),
        currentTask: task ? { taskId: task.taskId, title: task.title, status: task.status } : null,
        spend: Math.round((spendOf.get(a.agent) ?? 0) * 100) / 100,
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
                (array_agg(${numberField("budget")} ORDER BY seq DESC) FILTER (WHERE ${numberField("budget")} IS NOT NULL))[1] AS budget,
                coalesce(sum(${numberField("amount")}) FILTER (WHERE type = 'budget.spent' AND ts >= $1), 0)::float8 AS spent_today,
                (array_agg(payload->>'currency' ORDER BY seq DESC) FILTER (WHERE payload ? 'currency'))[1] AS currency
           FROM event WHERE channel = 'budget' AND project IS NOT NULL GROUP BY project ORDER BY project`,
        midnight,
      ),
      this.prisma.$queryRawUnsafe<{ bucket: Date; project: string | null; agent: string | null; amount: number }[]>(
        `SELECT to_timestamp(floor(extract(epoch FROM ts) / $2) * $2) AS bucket, project, agent,
                coalesce(sum(${numberField("amount")}), 0)::float8 AS amount
           FROM event WHERE channel = 'budget' AND type = 'budget.spent' AND ts >= $1
          GROUP BY 1, 2, 3 ORDER BY 1`,
        from,
        bucketSeconds,
      ),
      this.prisma.event.findMany({ where: { channel: "budget", type: "budget.warning" }, orderBy: { seq: "desc" }, take: 50 }),
    ]).catch(asUnavailable);
    return {
      hours,
      bucketMinutes,
      projects: projects.map((p) => ({ project: p.project, budget: p.budget, spentToday: Math.round(p.spent_today * 100) / 100, currency: p.currency })),
      series: series.map((s) => ({ bucket: s.bucket.toISOString(), project: s.project, agent: s.agent, amount: Math.round(s.amount * 100) / 100 })),
      warnings: warnings.map((w) => ({ seq: Number(w.seq), ts: w.ts.toISOString(), project: w.project, agent: w.agent, payload: w.payload as Record<string, unknown> })),
    };
  }

  async conversations(limit: number): Promise<ConversationView[]> {
    const rows = await this.prisma
      .$queryRawUnsafe<{ a: string; b: string; project: string | null; count: number; ts: Date; seq: bigint; sender: string; text: string | null }[]>(
        `SELECT DISTINCT ON (a, b) a, b, project, count(*) OVER (PARTITION BY a, b)::int AS count, ts, seq, sender, text
           FROM (SELECT least(payload->>'from', payload->>'to') AS a, greatest(payload->>'from', payload->>'to') AS b,
                        project, ts, seq, payload->>'from' AS sender, payload->>'text' AS text
                   FROM event WHERE channel = 'messages' AND payload ? 'from' AND payload ? 'to') m
          ORDER BY a, b, seq DESC`,
      )
      .catch(asUnavailable);
    return rows
      .sort((x, y) => Number(y.seq - x.seq))
      .slice(0, limit)
      .map((r) => ({ agents: [r.a, r.b], project: r.project, count: r.count, last: { ts: r.ts.toISOString(), from: r.sender, text: r.text ?? "" } }));
  }

  /** The newest `limit` messages between two agents, in either direction, oldest first. */
  async conversation(a: string, b: string, limit: number): Promise<SwitchboardEvent[]> {
    const rows = await this.prisma
      .$queryRawUnsafe<{ channel: string; seq: bigint; id: string; type: string; ts: Date; agent: string | null; project: string | null; payload: Record<string, unknown> }[]>(
        `SELECT channel, seq, id, type, ts, agent, project, payload FROM event
          WHERE channel = 'messages' AND least(payload->>'from', payload->>'to') = $1 AND greatest(payload->>'from', payload->>'to') = $2
          ORDER BY seq DESC LIMIT $3`,
        a < b ? a : b,
        a < b ? b : a,
        limit,
      )
      .catch(asUnavailable);
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
