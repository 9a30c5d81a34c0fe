import type { SwitchboardEvent } from "../../lib/protocol";
import { compileFilter } from "../channels/filter";
import { encodeReadResult, eventJsonBytes, type HistoryStore, type NewEvent, type ReadQuery, type ReadResult } from "../channels/history-store";

/** An in-process store for unit tests of the hub; it keeps everything in memory and forgets it on exit. */
export class MemoryHistoryStore implements HistoryStore {
  private channels = new Map<string, { lastSeq: number; events: SwitchboardEvent[] }>();

  async start(channels: readonly string[]) {
    for (const c of channels) if (!this.channels.has(c)) this.channels.set(c, { lastSeq: 0, events: [] });
  }

  async stop() {}

  async append(events: readonly NewEvent[]) {
    for (const e of events) this.channelOrThrow(e.channel);
    return events.map((e) => {
      const ch = this.channelOrThrow(e.channel);
      // The envelope only: `payloadBytes` is the store's to keep, not the event's.
      const committed: SwitchboardEvent = { v: e.v, id: e.id, channel: e.channel, seq: ++ch.lastSeq, type: e.type, ts: e.ts, agent: e.agent, project: e.project, payload: e.payload };
      ch.events.push(committed);
      return committed;
    });
  }

  async read(q: ReadQuery): Promise<ReadResult> {
    const ch = this.channelOrThrow(q.channel);
    const head = ch.lastSeq;
    const upTo = Math.min(q.upTo ?? head, head);
    const matches = compileFilter(q.filter ?? {});
    const all = ch.events.filter((e) => e.seq > (q.after ?? 0) && e.seq <= upTo && matches(e));
    // Newest first or oldest first, at most `limit`, then cut at the byte budget (at least one kept).
    const ordered = q.newest ? all.reverse() : all;
    const page: SwitchboardEvent[] = [];
    let bytes = 0;
    for (const event of ordered) {
      if (page.length >= q.limit) break;
      bytes += eventJsonBytes(event);
      if (q.maxBytes !== undefined && page.length > 0 && bytes > q.maxBytes) break;
      page.push(event);
    }
    const hasMore = ordered.length > page.length;
    return { events: q.newest ? page.reverse() : page, head, hasMore };
  }

  async readEncoded(q: ReadQuery) {
    return encodeReadResult(await this.read(q));
  }

  async seqBefore(channel: string, ts: Date) {
    const older = this.channelOrThrow(channel).events.filter((e) => Date.parse(e.ts) < ts.getTime());
    return older.at(-1)?.seq ?? 0;
  }

  async heads() {
    return new Map([...this.channels].map(([name, ch]) => [name, ch.lastSeq]));
  }

  async prune(channel: string, keep: number) {
    const ch = this.channelOrThrow(channel);
    const floor = ch.lastSeq - keep;
    const before = ch.events.length;
    ch.events = ch.events.filter((e) => e.seq > floor);
    return before - ch.events.length;
  }

  async ping() {}

  private channelOrThrow(name: string) {
    const ch = this.channels.get(name);
    if (!ch) throw new Error(`channel ${name} has no counter: start() was not given it`);
    return ch;
  }
}
