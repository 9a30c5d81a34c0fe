import type { SwitchboardEvent } from "../../lib/protocol";
import { compileFilter } from "../channels/filter";
import { encodeReadResult, type HistoryStore, type NewEvent, type ReadQuery, type ReadResult } from "./store";

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
      const committed = { ...e, seq: ++ch.lastSeq };
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
    if (q.newest) return { events: all.slice(Math.max(0, all.length - q.limit)), head, hasMore: false };
    return { events: all.slice(0, q.limit), head, hasMore: all.length > q.limit };
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
