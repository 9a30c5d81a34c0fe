import type { SwitchboardEvent } from "../../lib/protocol";

export interface SequencerOptions {
  /** How long an event that arrived ahead of a missing seq waits before the hole is read from history. */
  holdMs: number;
  /** Held events beyond which the hole is read at once. */
  maxHeld: number;
  /** Reads committed events in (after, upTo] of the channel, ascending: all of them, or a first page. */
  fill: (after: number, upTo: number) => Promise<SwitchboardEvent[]>;
  deliver: (events: SwitchboardEvent[]) => void;
  onError: (err: unknown) => void;
}

/**
 * Releases one channel's events in seq order, each exactly once, whatever order and how many times
 * fanout hands them over. An event ahead of the next expected seq is held; if the missing ones do not
 * arrive within `holdMs` they are read from the history store, which has them, since fanout only ever
 * carries committed events.
 */
export class ChannelSequencer {
  private held = new Map<number, SwitchboardEvent>();
  /** Highest seq known to be committed. */
  private known: number;
  private timer: NodeJS.Timeout | null = null;
  private filling = false;
  private stopped = false;

  constructor(
    private lastSeq: number,
    private readonly options: SequencerOptions,
  ) {
    this.known = lastSeq;
  }

  /** The last seq released. */
  get released() {
    return this.lastSeq;
  }

  get heldCount() {
    return this.held.size;
  }

  offer(events: readonly SwitchboardEvent[]) {
    if (this.stopped) return;
    for (const e of events) {
      if (e.seq <= this.lastSeq) continue;
      this.held.set(e.seq, e);
      if (e.seq > this.known) this.known = e.seq;
    }
    this.release();
  }

  /** Says the channel has committed up to `headSeq`: whatever fanout lost on the way is read from history. */
  catchUp(headSeq: number) {
    if (this.stopped || headSeq <= this.known) return;
    this.known = headSeq;
    this.scheduleFill(0);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.held.clear();
  }

  private release() {
    const out: SwitchboardEvent[] = [];
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(next.seq);
      out.push(next);
      this.lastSeq = next.seq;
    }
    if (out.length) this.options.deliver(out);
    if (this.lastSeq >= this.known) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    } else {
      this.scheduleFill(this.held.size > this.options.maxHeld ? 0 : this.options.holdMs);
    }
  }

  private scheduleFill(delayMs: number) {
    if (this.stopped || this.filling) return;
    if (this.timer) {
      if (delayMs > 0) return; // a fill is already due
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fill();
    }, delayMs);
    this.timer.unref?.();
  }

  private fill() {
    const upTo = this.held.size > 0 ? Math.min(...this.held.keys()) - 1 : this.known;
    if (upTo <= this.lastSeq) return this.release();
    this.filling = true;
    this.options
      .fill(this.lastSeq, upTo)
      .then((events) => {
        this.filling = false;
        if (this.stopped) return;
        // Seqs up to `upTo` are committed; any the store no longer has were pruned and can never
        // arrive, so skip them rather than wait forever. `fill` may return only the first page of
        // the range: then the rest is read at once.
        const firstFound = events[0]?.seq ?? upTo + 1;
        if (firstFound > this.lastSeq + 1) this.lastSeq = firstFound - 1;
        this.offer(events);
        if (this.lastSeq < upTo) this.scheduleFill(0);
      })
      .catch((err: unknown) => {
        this.filling = false;
        this.options.onError(err);
        this.scheduleFill(Math.max(this.options.holdMs, 500));
      });
  }
}
