import type { SwitchboardEvent } from "../../lib/protocol";
import { PROTOCOL_VERSION } from "../../lib/protocol";
import type { PrismaClient } from "../db/generated/client";
import type { NormalizedFilter } from "../channels/filter";
import { SwitchboardError } from "../channels/errors";
import type { HistoryStore, NewEvent, ReadQuery, ReadResult } from "./store";

interface EventRow {
  channel: string;
  seq: bigint;
  id: string;
  type: string;
  ts: Date;
  agent: string | null;
  project: string | null;
  payload: Record<string, unknown>;
}

const toEvent = (row: EventRow): SwitchboardEvent => ({
  v: PROTOCOL_VERSION,
  id: row.id,
  channel: row.channel,
  seq: Number(row.seq),
  type: row.type,
  ts: row.ts.toISOString(),
  agent: row.agent,
  project: row.project,
  payload: row.payload,
});

/** A LIKE pattern matching every string that starts with `prefix`. */
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, "\\$&")}%`;

/** Builds a statement's parameter list: `add(value)` returns its placeholder. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = "") {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/**
 * The WHERE branches of a filtered read. PostgreSQL reads the newest (or oldest) n rows of one index
 * value in order and stops, but for `agent = ANY(list)` it reads every matching row and sorts them.
 * So each value of one listed field gets its own branch, read in order with its own LIMIT, and the
 * branches are merged afterwards; the other fields are conditions inside every branch. The field is
 * the one likely to match fewest events: agent (a fleet has many), then exact type, then project.
 */
function filterBranches(filter: NormalizedFilter | undefined, params: Params): string[] {
  const conditions: string[] = [];
  const typeConditions = (types: string[] | undefined) => {
    const clauses: string[] = [];
    if (types?.length) clauses.push(`type = ANY(${params.add(types, "::text[]")})`);
    for (const prefix of filter?.typePrefixes ?? []) clauses.push(`type LIKE ${params.add(likePrefix(prefix))}`);
    return clauses.length ? [`(${clauses.join(" OR ")})`] : [];
  };
  const join = (extra: string[]) => [...conditions, ...extra].map((c) => ` AND ${c}`).join("");
  if (filter?.agents?.length) {
    if (filter.projects) conditions.push(`project = ANY(${params.add(filter.projects, "::text[]")})`);
    conditions.push(...typeConditions(filter.types));
    return filter.agents.map((agent) => join([`agent = ${params.add(agent)}`]));
  }
  if (filter?.types?.length && !filter.typePrefixes?.length) {
    if (filter.projects) conditions.push(`project = ANY(${params.add(filter.projects, "::text[]")})`);
    return filter.types.map((type) => join([`type = ${params.add(type)}`]));
  }
  if (filter?.projects?.length) {
    conditions.push(...typeConditions(filter.types));
    return filter.projects.map((project) => join([`project = ${params.add(project)}`]));
  }
  return [join(typeConditions(filter?.types))];
}

/** A failed read is the database being unreachable far more often than a bug: tell clients to retry. */
function asUnavailable(err: unknown): never {
  throw new SwitchboardError("unavailable", "History is unavailable: the database cannot be reached. Retry shortly.", { retryAfterSeconds: 2, cause: err });
}

/**
 * Appends one channel's events in one statement: the counter update draws the seqs and takes the
 * channel's row lock until commit, so two transactions on one channel commit in the order they drew
 * their seqs, and a rolled-back transaction gives its seqs back. Rows travel as arrays (unnest), so
 * the statement has eight parameters however many events it carries.
 */
const APPEND_SQL = `
  WITH counter AS (
    UPDATE channel_counter SET last_seq = last_seq + $2 WHERE channel = $1 RETURNING last_seq - $2 AS base
  ), inserted AS (
    -- Without a counter row, base is NULL and so is seq: the NOT NULL constraint fails the whole
    -- transaction, as it must when a batch names a channel that has no counter.
    INSERT INTO event (channel, seq, id, type, ts, agent, project, payload)
    SELECT $1, (SELECT base FROM counter) + t.ord, t.id, t.type, t.ts, t.agent, t.project, t.payload
      FROM unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::jsonb[])
           WITH ORDINALITY AS t(id, type, ts, agent, project, payload, ord)
    RETURNING 1
  )
  SELECT base, (SELECT count(*) FROM inserted)::int AS inserted FROM counter`;

/**
 * PostgreSQL through Prisma. The hot paths (append and read) are single SQL statements run with
 * Prisma's raw queries: Prisma's query compiler was most of the CPU spent per event
 * (docs/benchmarks.md).
 */
export class PrismaHistoryStore implements HistoryStore {
  constructor(private readonly prisma: PrismaClient) {}

  async start(channels: readonly string[]) {
    await this.prisma.channelCounter.createMany({
      data: channels.map((channel) => ({ channel })),
      skipDuplicates: true,
    });
  }

  async stop() {
    await this.prisma.$disconnect();
  }

  async append(events: readonly NewEvent[]): Promise<SwitchboardEvent[]> {
    if (events.length === 0) return [];
    const byChannel = new Map<string, NewEvent[]>();
    for (const e of events) {
      const list = byChannel.get(e.channel);
      if (list) list.push(e);
      else byChannel.set(e.channel, [e]);
    }
    // Lock counters in name order so that two nodes' batches over the same channels cannot deadlock.
    const channels = [...byChannel.keys()].sort();
    const statements = channels.map((channel) => {
      const list = byChannel.get(channel)!;
      return this.prisma.$queryRawUnsafe<{ base: bigint; inserted: number }[]>(
        APPEND_SQL,
        channel,
        list.length,
        list.map((e) => e.id),
        list.map((e) => e.type),
        list.map((e) => e.ts),
        list.map((e) => e.agent),
        list.map((e) => e.project),
        list.map((e) => JSON.stringify(e.payload)),
      );
    });
    // One statement is a transaction of its own; several run in one transaction, all or nothing.
    const results = statements.length === 1 ? [await statements[0]!] : await this.prisma.$transaction(statements);
    const seqOf = new Map<NewEvent, number>();
    results.forEach((rows, i) => {
      const channel = channels[i]!;
      const list = byChannel.get(channel)!;
      if (rows.length !== 1) throw new Error(`channel ${channel} has no counter row`);
      const base = Number(rows[0]!.base);
      list.forEach((e, k) => seqOf.set(e, base + k + 1));
    });
    return events.map((e) => ({
      v: e.v,
      id: e.id,
      channel: e.channel,
      seq: seqOf.get(e)!,
      type: e.type,
      ts: e.ts,
      agent: e.agent,
      project: e.project,
      payload: e.payload,
    }));
  }

  async read(q: ReadQuery): Promise<ReadResult> {
    return this.readOrThrow(q).catch(asUnavailable);
  }

  /**
   * One statement, so the head and the events come from one snapshot: every event at or below the
   * head is visible in it, because commits follow seq order. The head comes as an extra last row.
   */
  private async readOrThrow(q: ReadQuery): Promise<ReadResult> {
    const params = new Params();
    const channel = params.add(q.channel);
    const after = params.add(q.after ?? 0, "::bigint");
    const upTo = params.add(q.upTo ?? Number.MAX_SAFE_INTEGER, "::bigint");
    const limit = params.add(q.limit <= 0 ? 0 : q.newest ? q.limit : q.limit + 1, "::int");
    const order = q.newest ? "DESC" : "ASC";
    const branches = filterBranches(q.filter, params).map(
      (conditions) => `(SELECT channel, seq, id, type, ts, agent, project, payload FROM event
          WHERE channel = ${channel} AND seq > ${after} AND seq <= least((SELECT last_seq FROM head), ${upTo})${conditions}
          ORDER BY seq ${order} LIMIT ${limit})`,
    );
    const rows = await this.prisma.$queryRawUnsafe<(EventRow & { head: bigint | null })[]>(
      `WITH head AS MATERIALIZED (SELECT last_seq FROM channel_counter WHERE channel = ${channel})
       (SELECT NULL::bigint AS head, * FROM (${branches.join(" UNION ALL ")}) matching ORDER BY seq ${order} LIMIT ${limit})
       UNION ALL
       SELECT last_seq, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM head`,
      ...params.values,
    );
    const headRow = rows.at(-1);
    const head = headRow && headRow.head !== null ? Number(headRow.head) : 0;
    const found = (headRow && headRow.head !== null ? rows.slice(0, -1) : rows).map(toEvent);
    if (q.newest) return { events: found.reverse(), head, hasMore: false };
    return { events: found.slice(0, q.limit), head, hasMore: found.length > q.limit };
  }

  async seqBefore(channel: string, ts: Date) {
    const rows = await this.prisma
      .$queryRawUnsafe<{ seq: bigint }[]>(`SELECT seq FROM event WHERE channel = $1 AND ts < $2 ORDER BY ts DESC, seq DESC LIMIT 1`, channel, ts)
      .catch(asUnavailable);
    return Number(rows[0]?.seq ?? 0);
  }

  async heads() {
    const rows = await this.prisma.channelCounter.findMany();
    return new Map(rows.map((r) => [r.channel, Number(r.lastSeq)]));
  }

  async prune(channel: string, keep: number) {
    return this.prisma.$executeRaw`
      DELETE FROM event WHERE channel = ${channel}
        AND seq <= (SELECT last_seq FROM channel_counter WHERE channel = ${channel}) - ${keep}`;
  }

  async ping() {
    await this.prisma.$queryRaw`SELECT 1`;
  }
}
