import type { SwitchboardEvent } from "../../lib/protocol";
import { SwitchboardError, isSwitchboardError } from "./errors";
import type { NewEvent } from "./history-store";

export interface GroupCommitOptions {
  /** Most events written in one transaction. */
  maxBatch: number;
  /** Most events waiting for a transaction; beyond it publishes are refused with `unavailable`. */
  maxPending: number;
  /** Called with each transaction's size and duration (for metrics). */
  onCommit?: (events: number, seconds: number) => void;
}

interface Waiting {
  events: readonly NewEvent[];
  resolve: (events: SwitchboardEvent[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Groups concurrent appends into one transaction. One transaction is in flight at a time, so commits
 * (and with them the order events are handed to fanout) follow seq order. Publishes that arrive while a
 * transaction runs wait for the next one together; each caller's promise settles only after its own
 * events are committed, or rejects and nothing of its call is stored.
 */
export class GroupCommitter {
  private queue: Waiting[] = [];
  private pending = 0;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly write: (events: readonly NewEvent[]) => Promise<SwitchboardEvent[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  get pendingEvents() {
    return this.pending;
  }

  append(events: readonly NewEvent[]): Promise<SwitchboardEvent[]> {
    if (this.closed) {
      return Promise.reject(new SwitchboardError("unavailable", "The server is shutting down; retry on another node.", { retryAfterSeconds: 1 }));
    }
    if (this.pending + events.length > this.options.maxPending) {
      return Promise.reject(
        new SwitchboardError("unavailable", "Ingest is saturated: too many events are waiting to be written. Retry shortly.", {
          retryAfterSeconds: 1,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.pending += events.length;
      this.running ??= this.drain().finally(() => {
        this.running = null;
      });
    });
  }

  /** Refuses new appends and waits for every accepted one to settle. */
  async close() {
    this.closed = true;
    while (this.running) await this.running;
  }

  private async drain() {
    while (this.queue.length > 0) {
      const batch: Waiting[] = [];
      let size = 0;
      while (this.queue.length > 0 && (batch.length === 0 || size + this.queue[0]!.events.length <= this.options.maxBatch)) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.events.length;
      }
      try {
        await this.commit(batch);
      } finally {
        this.pending -= size;
      }
    }
  }

  /**
   * Writes the calls of `batch` in one transaction and settles them. When the store refuses the
   * batch for its values (`invalid_request`: a data error, which would fail again however often it
   * is retried), one call's bad event must not cost the others theirs: the batch is split in halves,
   * each written on its own, the first half first, down to the single calls that carry a refused
   * event. So the others commit, still in queue order (seqs follow arrival), and only the culprits
   * are refused; k culprits among n calls cost about 2·k·log2(n) extra transactions. Any other
   * failure refuses every call of the (sub)batch it hit.
   */
  private async commit(batch: Waiting[]): Promise<void> {
    const started = performance.now();
    let committed: SwitchboardEvent[];
    try {
      committed = await this.write(batch.flatMap((w) => w.events));
    } catch (err) {
      const refusal = isSwitchboardError(err)
        ? err
        : // The store classifies its own errors; anything else is taken for a store that cannot be reached.
          new SwitchboardError("unavailable", "The event store could not commit; nothing was stored. Retry shortly.", {
            retryAfterSeconds: 2,
            cause: err,
          });
      if (refusal.code === "invalid_request" && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.commit(batch.slice(0, half));
        await this.commit(batch.slice(half));
        return;
      }
      for (const w of batch) w.reject(refusal);
      return;
    }
    this.options.onCommit?.(committed.length, (performance.now() - started) / 1000);
    let offset = 0;
    for (const w of batch) {
      w.resolve(committed.slice(offset, offset + w.events.length));
      offset += w.events.length;
    }
  }
}
