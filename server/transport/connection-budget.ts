/** What a connection's budget reads and steers; the socket sink (socket-sink.ts) implements it over engine.io. */
export interface BudgetedConnection {
  /** Bytes written to the connection that the client has not taken yet. */
  unsentBytes(): number;
  /** Stops reading the client's requests (pauses the TCP socket where the transport has one). */
  pauseReading(): void;
  resumeReading(): void;
  /** Called once, when the connection went past the hard limit: close it as a slow consumer. */
  overflow(unsent: number): void;
}

export interface BudgetLimits {
  /** Past this many unsent + reserved bytes, requests wait and live events are not written. */
  softBytes: number;
  /** Past this many unsent bytes, the connection is closed. */
  hardBytes: number;
  /** Requests parsed while the connection is over its soft limit that may wait; beyond, they are refused. */
  maxQueued: number;
}

/** Releases a request's reservation once its answer has been written (or it produced none). */
export type Release = () => void;

/**
 * One connection's memory budget for everything the server writes to it. Unsent bytes are measured,
 * not counted, so answers, acks, pings and live events all count. A request reserves its largest
 * possible answer while it runs, so requests admitted together cannot overshoot: with every answer at
 * most its reservation and requests admitted only while their reservation fits under the soft limit
 * (or, when nothing else is reserved, while the connection is under it), a client that never reads
 * holds at most soft + one reservation, which the hard limit (validated ≥ soft + MAX_ANSWER_BYTES)
 * leaves room for. Over the soft limit the connection stops being read, requests already parsed wait
 * in a short queue (beyond it they are refused), and the live pump gets no room.
 */
export class ConnectionBudget {
  private reserved = 0;
  private readonly queue: { bytes: number; run: (release: Release) => void }[] = [];
  private paused = false;
  private closed = false;

  constructor(
    private readonly limits: BudgetLimits,
    private readonly conn: BudgetedConnection,
  ) {}

  get isPaused() {
    return this.paused;
  }

  get reservedBytes() {
    return this.reserved;
  }

  get queued() {
    return this.queue.length;
  }

  /** Bytes the connection takes before it reaches its soft limit (≤ 0: none). */
  room(unsent = this.conn.unsentBytes()): number {
    return this.limits.softBytes - unsent - this.reserved;
  }

  /**
   * A parsed request that reserves `bytes` for its answer: runs now when the connection is under its
   * soft limit and nothing waits before it, else waits in the queue, or is refused (`false`) when the
   * queue is full. `run` must call its release exactly once, after the answer was written.
   */
  admit(bytes: number, run: (release: Release) => void): boolean {
    if (this.closed) return true; // nothing more is answered on a closed connection
    if (this.queue.length === 0 && this.fits(bytes)) {
      this.start(bytes, run);
      if (this.room() <= 0) this.pause();
      return true;
    }
    if (this.queue.length >= this.limits.maxQueued) return false;
    this.queue.push({ bytes, run });
    this.pause();
    return true;
  }

  /** Whether writing `bytes` more now would take the connection past its hard limit. */
  wouldOverflow(bytes: number): boolean {
    return this.conn.unsentBytes() + bytes > this.limits.hardBytes;
  }

  /**
   * Call whenever unsent bytes may have changed: after an answer was written, and when the transport
   * finished a write. Closes a connection past its hard limit; otherwise starts waiting requests
   * while there is room, and reads again once none wait.
   */
  check(): void {
    if (this.closed) return;
    const unsent = this.conn.unsentBytes();
    if (unsent > this.limits.hardBytes) {
      this.close();
      this.conn.overflow(unsent);
      return;
    }
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes)) {
      const next = this.queue.shift()!;
      this.start(next.bytes, next.run);
      if (this.closed) return;
    }
    if (this.queue.length === 0 && this.room() > 0) {
      if (this.paused) {
        this.paused = false;
        this.conn.resumeReading();
      }
    } else {
      this.pause();
    }
  }

  /** The connection is gone: drop what waits, run nothing more. */
  close() {
    this.closed = true;
    this.queue.length = 0;
  }

  /**
   * Whether a request reserving `bytes` may start: when its whole reservation fits under the soft
   * limit, or when nothing else is reserved and the connection is under it (so one always can).
   */
  private fits(bytes: number): boolean {
    const room = this.room();
    return room > bytes || (this.reserved === 0 && room > 0);
  }

  private start(bytes: number, run: (release: Release) => void) {
    this.reserved += bytes;
    let released = false;
    run(() => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
      this.check();
    });
  }

  private pause() {
    if (this.paused) return;
    this.paused = true;
    this.conn.pauseReading();
  }
}
