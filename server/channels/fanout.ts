import type { SwitchboardEvent } from "../../lib/protocol";

/**
 * Carries committed events from the node that committed them to the hubs of the other nodes (a node
 * delivers its own events directly).
 *
 * Contract: events published on any node reach the handler of every other started node; echoes back
 * to the publishing node are allowed. Delivery may reorder, repeat or lose events (a Redis outage
 * loses messages): the hub's sequencer restores order, drops repeats and reads holes from the history
 * store, so a backend need not be reliable, only fast.
 */
export interface FanoutBackend {
  start(onEvents: (events: SwitchboardEvent[]) => void): Promise<void>;
  stop(): Promise<void>;
  publish(events: SwitchboardEvent[]): Promise<void>;
  /** "up" | "down", or "disabled" for a single-node backend. */
  status(): "up" | "down" | "disabled";
}
