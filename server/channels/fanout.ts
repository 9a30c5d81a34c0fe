import type { SwitchboardEvent } from "../../lib/protocol";

/** Whether the bus reaches the other nodes now; `disabled` for a single node, which has none. */
export type FanoutStatus = "up" | "down" | "disabled";

/** What a started backend calls. */
export interface FanoutHandlers {
  /** A batch of committed events another node published (one channel, ascending seq as published). */
  onEvents(events: SwitchboardEvent[]): void;
  /**
   * The bus is back after a time it may have lost messages in (Redis restarted, a connection
   * dropped): the hub reads from the history store whatever was committed meanwhile.
   */
  onReconnect(): void;
}

/**
 * Carries committed events from the node that committed them to the hubs of the other nodes (a node
 * delivers its own events directly). Backends live in server/channels/backends/ and see nothing of
 * the transports; every one passes server/channels/fanout.contract.ts.
 *
 * Contract: a batch published on a started node reaches the `onEvents` of every other started node,
 * at most once, as long as the bus is up; echoes back to the publishing node are allowed. Delivery
 * may reorder or lose batches (Pub/Sub is at most once; a Redis outage loses every message sent
 * during it): the hub's sequencer restores order, drops repeats and reads holes from the history
 * store, on `onReconnect` and on an interval, so a backend need not be reliable, only fast.
 */
export interface FanoutBackend {
  /** Starts listening. Resolves once other nodes' batches reach `handlers`, or once the bus is given up on for now (status `down`; it keeps retrying). */
  start(handlers: FanoutHandlers): Promise<void>;
  /** Stops listening and releases the connections; `handlers` are not called afterwards. */
  stop(): Promise<void>;
  /** Sends committed events to the other nodes; rejects (fast) when the bus is down. */
  publish(events: readonly SwitchboardEvent[]): Promise<void>;
  status(): FanoutStatus;
}
