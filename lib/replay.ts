/**
 * Replay: where a window of history starts on each channel, and the page-by-page reading of it.
 * Pages are read oldest first per channel (`after=` cursors), so the last loaded seq of each channel
 * is exactly where a live subscription (`since`) continues: no gap, no duplicate.
 */
import { fetchEventsPage, fetchSeqBefore, type RequestOptions } from "./api-client";
import type { EventFilter, SwitchboardEvent } from "./protocol";

export type ReplayWindow = { kind: "last"; minutes: number } | { kind: "seq"; channel: string; seq: number } | { kind: "time"; from: string };

/** Per channel: the seq after which the window starts. */
export type ReplayCursors = Record<string, number>;

export interface ReplayPage {
  /** Oldest first within each channel. */
  events: SwitchboardEvent[];
  /** Last seq read per channel (where the next page, or live, continues). */
  cursors: ReplayCursors;
  /** Channels with nothing more to read. */
  done: string[];
}

export const REPLAY_PAGE_LIMIT = 500;

/** The starting cursors of a window over `channels`. A seq window covers its one channel only. */
export async function replayStart(window: ReplayWindow, channels: readonly string[], options: RequestOptions = {}, now = Date.now()): Promise<ReplayCursors> {
  if (window.kind === "seq") return { [window.channel]: Math.max(0, window.seq - 1) };
  const from = window.kind === "last" ? new Date(now - window.minutes * 60_000) : new Date(window.from);
  const seqs = await Promise.all(channels.map((c) => fetchSeqBefore(c, from, options)));
  return Object.fromEntries(channels.map((c, i) => [c, seqs[i]!]));
}

/** Reads the next page of every channel that is not done. */
export async function readReplayPage(cursors: ReplayCursors, done: readonly string[], filter: EventFilter | undefined, options: RequestOptions = {}): Promise<ReplayPage> {
  const open = Object.keys(cursors).filter((c) => !done.includes(c));
  const pages = await Promise.all(open.map((c) => fetchEventsPage(c, { after: cursors[c]!, limit: REPLAY_PAGE_LIMIT, filter }, options)));
  const next: ReplayCursors = { ...cursors };
  const nowDone = [...done];
  const events: SwitchboardEvent[] = [];
  open.forEach((channel, i) => {
    const page = pages[i]!;
    events.push(...page.events);
    // nextAfter covers filtered-out events too, so the cursor moves even when nothing matched.
    next[channel] = Math.max(next[channel]!, page.nextAfter, page.events.at(-1)?.seq ?? 0);
    if (!page.hasMore) nowDone.push(channel);
  });
  return { events, cursors: next, done: nowDone };
}

/** Index of the first event (ascending by ts) later than `ts`: how many have played by then. */
export function playedCount(ascending: readonly SwitchboardEvent[], ts: number): number {
  let low = 0;
  let high = ascending.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (Date.parse(ascending[mid]!.ts) <= ts) low = mid + 1;
    else high = mid;
  }
  return low;
}
