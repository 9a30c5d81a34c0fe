import type { SwitchboardEvent } from "../../lib/protocol";
import { PROTOCOL_VERSION } from "../../lib/protocol";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { NormalizedFilter } from "../channels/filter";
import { SwitchboardError } from "../channels/errors";
import type { HistoryStore, NewEvent, ReadQuery, ReadResult } from "./store";

type EventRow = Prisma.EventGetPayload<object>;

const toEvent = (row: EventRow): SwitchboardEvent => ({
  v: PROTOCOL_VERSION,
  id: row.id,
  channel: row.channel,
  seq: Number(row.seq),
  type: row.type,
  ts: row.ts.toISOString(),
  agent: row.agent,
  project: row.project,
  payload: row.payload as Record<string, unknown>,
});

function filterWhere(filter: NormalizedFilter | undefined): Prisma.EventWhereInput {
  if (!filter) return {};
  const where: Prisma.EventWhereInput = {};
  if (filter.agents) where.agent = { in: filter.agents };
  if (filter.projects) where.project = { in: filter.projects };
  const typeClauses: Prisma.EventWhereInput[] = [];
  if (filter.types?.length) typeClauses.push({ type: { in: filter.types } });
  for (const prefix of filter.typePrefixes ?? []) typeClauses.push({ type: { startsWith: prefix } });
  if (typeClauses.length) where.OR = typeClauses;
  return where;
}

/** A failed read is the database being unreachable far more often than a bug: tell clients to retry. */
function asUnavailable(err: unknown): never {
  throw new SwitchboardError("unavailable", "History is unavailable: the database cannot be reached. Retry shortly.", { retryAfterSeconds: 2, cause: err });
}

/**
 * PostgreSQL through Prisma. Seqs come from `channel_counter`: the `UPDATE … RETURNING` in the insert
 * transaction takes the channel's row lock until commit, so two transactions on one channel commit in
 * the order they drew their seqs, and a rolled-back transaction gives its seqs back.
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
      const list = byChannel.get(e.channel) ?? [];
      list.push(e);
      byChannel.set(e.channel, list);
    }
    // Lock counters in name order so that two nodes' batches over the same channels cannot deadlock.
    const channels = [...byChannel.keys()].sort();
    const seqOf = new Map<NewEvent, number>();
    await this.prisma.$transaction(async (tx) => {
      for (const channel of channels) {
        const list = byChannel.get(channel)!;
        const rows = await tx.$queryRaw<{ last_seq: bigint }[]>`
          UPDATE channel_counter SET last_seq = last_seq + ${list.length} WHERE channel = ${channel}
          RETURNING last_seq`;
        if (rows.length !== 1) throw new Error(`channel ${channel} has no counter row`);
        const first = Number(rows[0]!.last_seq) - list.length + 1;
        list.forEach((e, i) => seqOf.set(e, first + i));
      }
      await tx.event.createMany({
        data: events.map((e) => ({
          channel: e.channel,
          seq: BigInt(seqOf.get(e)!),
          id: e.id,
          type: e.type,
          ts: new Date(e.ts),
          agent: e.agent,
          project: e.project,
          payload: e.payload as Prisma.InputJsonObject,
        })),
      });
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

  private async readOrThrow(q: ReadQuery): Promise<ReadResult> {
    const counter = await this.prisma.channelCounter.findUnique({ where: { channel: q.channel } });
    const head = Number(counter?.lastSeq ?? 0);
    const upTo = Math.min(q.upTo ?? head, head);
    const after = q.after ?? 0;
    if (q.limit <= 0 || upTo <= after) return { events: [], head, hasMore: false };
    const where: Prisma.EventWhereInput = {
      channel: q.channel,
      seq: { gt: BigInt(after), lte: BigInt(upTo) },
      ...filterWhere(q.filter),
    };
    if (q.newest) {
      const rows = await this.prisma.event.findMany({ where, orderBy: { seq: "desc" }, take: q.limit });
      return { events: rows.reverse().map(toEvent), head, hasMore: false };
    }
    const rows = await this.prisma.event.findMany({ where, orderBy: { seq: "asc" }, take: q.limit + 1 });
    const hasMore = rows.length > q.limit;
    return { events: rows.slice(0, q.limit).map(toEvent), head, hasMore };
  }

  async seqBefore(channel: string, ts: Date) {
    const row = await this.prisma.event
      .findFirst({ where: { channel, ts: { lt: ts } }, orderBy: { ts: "desc" }, select: { seq: true } })
      .catch(asUnavailable);
    return Number(row?.seq ?? 0);
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
