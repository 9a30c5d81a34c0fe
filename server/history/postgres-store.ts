import type { QueryConfig } from "pg";
import type { SwitchboardEvent } from "../../lib/protocol";
import { PROTOCOL_VERSION } from "../../lib/protocol";
import type { Pool } from "../db/client";
import type { NormalizedFilter } from "../channels/filter";
import { SwitchboardError } from "../channels/errors";
import { classifyDatabaseError, databaseMessageOf, sqlStateOf } from "../db/errors";
import { ENVELOPE_JSON_BYTES, type EncodedReadResult, type HistoryStore, type NewEvent, type ReadQuery, type ReadResult } from "../channels/history-store";

/**
 * The columns of a read, in this order, converted by PostgreSQL into what the envelope carries: seq
 * as a float8 (exact up to 2^53) and ts as the ISO string. The payload comes as parsed JSON for
 * `read`, and as its JSON text for `readEncoded`, which never needs it as an object.
 */
const columns = (payload: string) =>
  `seq::float8 AS seq, id::text AS id, type, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts, agent, project, ${payload} AS payload`;
type Row<P> = [seq: number, id: string, type: string, ts: string, agent: string | null, project: string | null, payload: P];
type EventRow = Row<Record<string, unknown>>;
/** A page row: the event's columns, and whether it is the row past the byte budget (no payload). */
type PageRow<P> = [...Row<P>, cut: boolean | null];

const jsonOrNull = (value: string | null) => (value === null ? "null" : JSON.stringify(value));

/**
 * An event's JSON written from its row's text, the payload as PostgreSQL printed it: no object is
 * built and nothing is parsed. Same fields, same order as the envelope `toEvent` builds.
 */
const eventJson = (channelJson: string, row: Row<string>) =>
  `{"v":${PROTOCOL_VERSION},"id":"${row[1]}","channel":${channelJson},"seq":${row[0]},"type":${JSON.stringify(row[2])},"ts":"${row[3]}",` +
  `"agent":${jsonOrNull(row[4])},"project":${jsonOrNull(row[5])},"payload":${row[6]}}`;

const toEvent = (channel: string, row: EventRow): SwitchboardEvent => ({
  v: PROTOCOL_VERSION,
  id: row[1],
  channel,
  seq: row[0],
  type: row[2],
  ts: row[3],
  agent: row[4],
  project: row[5],
  payload: row[6],
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

/**
 * A failed read as the error its caller gets: a database that cannot be reached is `unavailable`
 * (retry shortly), anything else `internal` (logged where it is answered), never the other way round.
 */
function readError(err: unknown): never {
  if (err instanceof SwitchboardError) throw err;
  if (classifyDatabaseError(err) === "connection") {
    throw new SwitchboardError("unavailable", "History is unavailable: the database cannot be reached. Retry shortly.", { retryAfterSeconds: 2, cause: err });
  }
  throw new SwitchboardError("internal", "History could not be read; it has been logged.", { cause: err });
}

/**
 * Appends one channel's events in one statement: the counter update draws the seqs and takes the
 * channel's row lock until commit, so two transactions on one channel commit in the order they drew
 * their seqs, and a rolled-back transaction gives its seqs back. The events travel as one JSON array
 * parameter, so the statement has three parameters however many events it carries, and the driver
 * has no array literals to escape.
 */
const APPEND_SQL = `
  WITH counter AS (
    UPDATE channel_counter SET last_seq = last_seq + $2 WHERE channel = $1 RETURNING last_seq - $2 AS base
  ), inserted AS (
    -- Without a counter row, base is NULL and so is seq: the NOT NULL constraint fails the whole
    -- transaction, as it must when a batch names a channel that has no counter.
    INSERT INTO event (channel, seq, id, type, ts, agent, project, payload, payload_bytes)
    SELECT $1, (SELECT base FROM counter) + t.ord, (t.e->>'id')::uuid, t.e->>'type', (t.e->>'ts')::timestamptz,
           t.e->>'agent', t.e->>'project', t.e->'payload', (t.e->>'bytes')::int
      FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(e, ord)
    RETURNING 1
  )
  SELECT base::float8 AS base, (SELECT count(*) FROM inserted)::int AS inserted FROM counter`;

/** The JSON of one channel's part of a batch, in the shape APPEND_SQL reads. */
const batchJson = (events: readonly NewEvent[]) => {
  try {
    return JSON.stringify(events.map((e) => ({ id: e.id, type: e.type, ts: e.ts, agent: e.agent, project: e.project, payload: e.payload, bytes: e.payloadBytes })));
  } catch (err) {
    // Too deep (RangeError) or too long to encode: the events' fault, not the database's.
    throw new SwitchboardError("invalid_request", `The events could not be encoded for the database: ${String(err)}`, { cause: err });
  }
};

/**
 * A failed append as the error its callers get. A database that cannot be reached is `unavailable`
 * (retry); a refusal of the values (SQLSTATE 22, 54) is `invalid_request`, which the group committer
 * narrows down to the calls that carried them; anything else is `internal`. Nothing was stored.
 */
function appendError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  switch (classifyDatabaseError(err)) {
    case "connection":
      return new SwitchboardError("unavailable", "The event store cannot be reached; nothing was stored. Retry shortly.", { retryAfterSeconds: 2, cause: err });
    case "data":
      return new SwitchboardError("invalid_request", `The database refused the event (SQLSTATE ${sqlStateOf(err)}): ${databaseMessageOf(err)}. Nothing was stored.`, {
        cause: err,
      });
    default:
      return new SwitchboardError("internal", "The event store failed to commit; nothing was stored. It has been logged.", { cause: err });
  }
}

/**
 * PostgreSQL through `pg`, with hand-written SQL: appends and reads are each one statement, and a
 * profile showed Prisma's runtime to be the largest cost per event on both paths (docs/decisions/0008).
 * Prisma still owns the schema and its migrations.
 */
export class PostgresHistoryStore implements HistoryStore {
  constructor(private readonly pool: Pool) {}

  async start(channels: readonly string[]) {
    await this.pool.query(`INSERT INTO channel_counter (channel) SELECT unnest($1::text[]) ON CONFLICT (channel) DO NOTHING`, [[...channels]]);
  }

  /** The pool belongs to whoever created it (the server shares it with Prisma) and is closed there. */
  async stop() {}

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
    const statements = channels.map((channel): QueryConfig => {
      const list = byChannel.get(channel)!;
      return { text: APPEND_SQL, values: [channel, list.length, batchJson(list)] };
    });
    const bases = await this.inTransaction(statements).catch((err: unknown) => {
      throw appendError(err);
    });
    const seqOf = new Map<NewEvent, number>();
    bases.forEach((base, i) => {
      byChannel.get(channels[i]!)!.forEach((e, k) => seqOf.set(e, base + k + 1));
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

  /** Runs append statements, all or nothing; one statement is a transaction of its own. */
  private async inTransaction(statements: QueryConfig[]): Promise<number[]> {
    const baseOf = (rows: { base: number }[], i: number) => {
      if (rows.length !== 1) throw new Error(`channel ${String(statements[i]!.values![0])} has no counter row`);
      return rows[0]!.base;
    };
    if (statements.length === 1) return [baseOf((await this.pool.query<{ base: number }>(statements[0]!)).rows, 0)];
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query("BEGIN");
      const bases: number[] = [];
      for (const [i, statement] of statements.entries()) bases.push(baseOf((await client.query<{ base: number }>(statement)).rows, i));
      await client.query("COMMIT");
      return bases;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => (broken = rollbackErr));
      throw err;
    } finally {
      // A connection whose rollback failed is in an unknown state: do not hand it out again.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async read(q: ReadQuery): Promise<ReadResult> {
    return this.readOrThrow(q).catch(readError);
  }

  async readEncoded(q: ReadQuery): Promise<EncodedReadResult> {
    return this.readEncodedOrThrow(q).catch(readError);
  }

  /**
   * The statement both reads share: the matching rows, at most `limit` + 1 (the extra row tells
   * whether there is more), and the channel's head. One statement, so the head and the events come
   * from one snapshot: every event at or below the head is visible in it, because commits follow
   * seq order.
   */
  private selectPage(q: ReadQuery, params: Params) {
    const channel = params.add(q.channel);
    const after = params.add(q.after ?? 0, "::bigint");
    const upTo = params.add(q.upTo ?? Number.MAX_SAFE_INTEGER, "::bigint");
    const limit = params.add(q.limit <= 0 ? 0 : q.limit + 1, "::int");
    const order = q.newest ? "DESC" : "ASC";
    const branches = filterBranches(q.filter, params).map(
      (conditions) => `(SELECT seq, id, type, ts, agent, project, payload, payload_bytes FROM event
          WHERE channel = ${channel} AND seq > ${after} AND seq <= least((SELECT last_seq FROM head), ${upTo})${conditions}
          ORDER BY seq ${order} LIMIT ${limit})`,
    );
    return {
      order,
      head: `head AS MATERIALIZED (SELECT last_seq FROM channel_counter WHERE channel = ${channel})`,
      page: `SELECT * FROM (${branches.join(" UNION ALL ")}) matching ORDER BY seq ${order} LIMIT ${limit}`,
    };
  }

  /**
   * The page's rows (in the order of the read, with the extra row), cut where their JSON would pass
   * the byte budget, and the head, which comes as an extra last row, the only one without an id. The
   * cut happens in the database, so a page of large events never reaches this process whole: each
   * row counts its payload as stored (`payload_bytes`, kept at append; printed only for rows stored
   * before it was) plus the envelope (`eventJsonBytes`), and only the rows kept are printed.
   */
  private async queryPage<P>(q: ReadQuery, payload: "payload" | "payload::text") {
    const params = new Params();
    const { order, head, page } = this.selectPage(q, params);
    const budget = params.add(q.maxBytes ?? Number.MAX_SAFE_INTEGER, "::bigint");
    const fixed = params.add(ENVELOPE_JSON_BYTES + q.channel.length, "::int");
    // Every row up to the budget, and the first row past it without its payload (`cut`): it says
    // the page stopped short.
    const { rows } = await this.pool.query<PageRow<P>>({
      text: `WITH ${head}
       (SELECT ${columns(`CASE WHEN cut THEN NULL ELSE ${payload} END`)}, cut FROM (
          SELECT *, n > 1 AND running > ${budget} AS cut FROM (
            SELECT *, sum(size) OVER w AS running, row_number() OVER w AS n
              FROM (SELECT *, ${fixed} + coalesce(payload_bytes, octet_length(payload::text)) + octet_length(type) + coalesce(octet_length(agent), 0) + coalesce(octet_length(project), 0) AS size
                      FROM (${page}) page) sized
            WINDOW w AS (ORDER BY seq ${order} ROWS UNBOUNDED PRECEDING)
          ) windowed WHERE n <= 2 OR running - size <= ${budget}
        ) kept ORDER BY kept.seq ${order})
       UNION ALL
       SELECT last_seq::float8, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM head`,
      values: params.values,
      rowMode: "array",
    });
    const headRow = rows.at(-1);
    const hasHead = headRow !== undefined && headRow[1] === null;
    if (hasHead) rows.pop();
    // The read asked for one more than `limit`, and a page cut at the budget ends in a `cut` row.
    let hasMore = false;
    if (rows.at(-1)?.[7] === true) {
      rows.pop();
      hasMore = true;
    }
    if (rows.length > q.limit) {
      rows.length = q.limit;
      hasMore = true;
    }
    if (q.newest) rows.reverse();
    return { rows: rows as unknown as Row<P>[], head: hasHead ? headRow[0] : 0, hasMore };
  }

  private async readOrThrow(q: ReadQuery): Promise<ReadResult> {
    const { rows, head, hasMore } = await this.queryPage<EventRow[6]>(q, "payload");
    return { events: rows.map((row) => toEvent(q.channel, row)), head, hasMore };
  }

  private async readEncodedOrThrow(q: ReadQuery): Promise<EncodedReadResult> {
    const { rows, head, hasMore } = await this.queryPage<string>(q, "payload::text");
    const channelJson = JSON.stringify(q.channel);
    const eventsJson = `[${rows.map((row) => eventJson(channelJson, row)).join(",")}]`;
    return { eventsJson, count: rows.length, lastSeq: rows.at(-1)?.[0] ?? null, head, hasMore };
  }

  async seqBefore(channel: string, ts: Date) {
    const { rows } = await this.pool
      .query<{ seq: number }>(`SELECT seq::float8 AS seq FROM event WHERE channel = $1 AND ts < $2 ORDER BY ts DESC, seq DESC LIMIT 1`, [channel, ts])
      .catch(readError);
    return rows[0]?.seq ?? 0;
  }

  async heads() {
    const { rows } = await this.pool.query<{ channel: string; last_seq: number }>(`SELECT channel, last_seq::float8 AS last_seq FROM channel_counter`);
    return new Map(rows.map((r) => [r.channel, r.last_seq]));
  }

  async prune(channel: string, keep: number) {
    const { rowCount } = await this.pool.query(
      `DELETE FROM event WHERE channel = $1 AND seq <= (SELECT last_seq FROM channel_counter WHERE channel = $1) - $2`,
      [channel, keep],
    );
    return rowCount ?? 0;
  }

  async ping() {
    await this.pool.query("SELECT 1");
  }
}
