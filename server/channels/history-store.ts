import type { SwitchboardEvent } from "../../lib/protocol";
import type { NormalizedFilter } from "./filter";

/**
 * An event accepted by the hub, before the store gives it a seq. `payloadBytes` is its payload's size
 * as stored (lib/payload-rules.ts), which a store may keep so that reads can count an answer's bytes
 * without printing every payload first; it is not part of the envelope.
 */
export type NewEvent = Omit<SwitchboardEvent, "seq"> & { payloadBytes?: number };

export interface ReadQuery {
  channel: string;
  filter?: NormalizedFilter;
  /** Only events with a greater seq. */
  after?: number;
  /** Only events with this seq or lower. */
  upTo?: number;
  limit: number;
  /** The newest `limit` matching events (still returned in ascending seq) instead of the oldest after `after`. */
  newest?: boolean;
  /**
   * Most bytes of event JSON the page may hold: the read stops before the event that would pass it
   * (`hasMore` then says so), but always returns at least one event when one matches. Each event
   * counts at most `eventJsonBytes` of it, so an answer of these events is never larger.
   */
  maxBytes?: number;
}

/**
 * Bytes of an event envelope's JSON besides its payload and its string fields (channel, type,
 * agent, project), counting a separating comma, the longest seq and `null` for a missing label:
 * `{"v":1,"id":"…36…","channel":"","seq":…16…,"type":"","ts":"…24…","agent":null,"project":null,"payload":}`.
 */
export const ENVELOPE_JSON_BYTES = 170;

/**
 * The most an event adds to a page's JSON: its payload as the store prints it plus the envelope.
 * Labels, types and channel names are ASCII that JSON never escapes, so this is an upper bound.
 */
export function eventJsonBytes(event: Omit<SwitchboardEvent, "seq">, payloadBytes = Buffer.byteLength(JSON.stringify(event.payload))) {
  return ENVELOPE_JSON_BYTES + event.channel.length + event.type.length + (event.agent?.length ?? 0) + (event.project?.length ?? 0) + payloadBytes;
}

export interface ReadResult {
  /** Ascending seq. */
  events: SwitchboardEvent[];
  /**
   * The channel's last committed seq, read before the events: every event returned has a seq at or
   * below it, and every event at or below it was committed when the read ran.
   */
  head: number;
  /**
   * More matching events exist beyond the page, in the direction of the read: after the last one for
   * an oldest-first read, before the first one for a `newest` read. With fewer events than `limit`,
   * the page stopped at `maxBytes`.
   */
  hasMore: boolean;
}

/**
 * A read whose events come as the text of their JSON array, for answers that pass history on as it
 * is: the database builds it, and the server neither decodes the rows nor encodes them again.
 */
export interface EncodedReadResult {
  /** `[…]`: each element the JSON of one event envelope, ascending seq. */
  eventsJson: string;
  count: number;
  /** Seq of the last event in `eventsJson`; null when there is none. */
  lastSeq: number | null;
  head: number;
  hasMore: boolean;
}

/** `read` turned into `readEncoded`'s answer: for stores that hold events as objects. */
export function encodeReadResult(read: ReadResult): EncodedReadResult {
  return {
    eventsJson: JSON.stringify(read.events),
    count: read.events.length,
    lastSeq: read.events.at(-1)?.seq ?? null,
    head: read.head,
    hasMore: read.hasMore,
  };
}

/**
 * The system of record for events.
 *
 * Contract (every implementation passes server/history/history-store.contract.ts):
 * - `append` is atomic: every event of the call is committed, or none is, and it resolves only after
 *   the commit. Each channel's seqs start at 1, follow the array order and never skip.
 * - Commit order equals seq order per channel: when an event with seq n is visible, so is every
 *   event of that channel with a lower seq (that has not been pruned).
 * - `read` never returns an event above the `head` it reports.
 */
export interface HistoryStore {
  /** Connects and makes sure every channel has a counter. */
  start(channels: readonly string[]): Promise<void>;
  stop(): Promise<void>;
  append(events: readonly NewEvent[]): Promise<SwitchboardEvent[]>;
  read(query: ReadQuery): Promise<ReadResult>;
  /** The same read as `read`, with the events as JSON text. */
  readEncoded(query: ReadQuery): Promise<EncodedReadResult>;
  /** The last seq of the channel whose event is older than `ts` (0 if none): where a replay from `ts` starts. */
  seqBefore(channel: string, ts: Date): Promise<number>;
  /** Last committed seq of every channel. */
  heads(): Promise<Map<string, number>>;
  /** Deletes all but the newest `keep` events of a channel; returns how many went. */
  prune(channel: string, keep: number): Promise<number>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
}
