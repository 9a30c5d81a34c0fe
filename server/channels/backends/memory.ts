import type { SwitchboardEvent } from "../../../lib/protocol";
import type { FanoutBackend, FanoutHandlers, FanoutStatus } from "../fanout";

export interface MemoryBusOptions {
  /**
   * Called for each batch before it is carried; returning true loses it for every node, as Redis
   * Pub/Sub may. For tests of what the history store repairs.
   */
  drop?: (events: readonly SwitchboardEvent[]) => boolean;
}

/**
 * The medium that in-process nodes share: what one node's `MemoryFanout` publishes, every other
 * started one receives, on a later turn of the event loop (as from a network).
 */
export class MemoryBus {
  private readonly nodes = new Set<MemoryFanout>();
  /** Batches lost so far (by `drop`). */
  dropped = 0;

  constructor(private readonly options: MemoryBusOptions = {}) {}

  join(node: MemoryFanout) {
    this.nodes.add(node);
  }

  leave(node: MemoryFanout) {
    this.nodes.delete(node);
  }

  carry(from: MemoryFanout, events: readonly SwitchboardEvent[]) {
    if (this.options.drop?.(events)) {
      this.dropped++;
      return;
    }
    // A copy per batch, as a network would deliver: no node can change what another one received.
    const batch = [...events];
    setImmediate(() => {
      for (const node of this.nodes) if (node !== from) node.receive(batch);
    });
  }
}

/**
 * In-process fanout. Without a bus it is a single node's: there are no other nodes to carry events
 * to (the hub delivers its own), and its status is `disabled`. With a shared `MemoryBus`, the hubs
 * of one process act as nodes of one cluster (tests).
 */
export class MemoryFanout implements FanoutBackend {
  private handlers: FanoutHandlers | null = null;

  constructor(private readonly bus?: MemoryBus) {}

  async start(handlers: FanoutHandlers) {
    this.handlers = handlers;
    this.bus?.join(this);
  }

  async stop() {
    this.bus?.leave(this);
    this.handlers = null;
  }

  async publish(events: readonly SwitchboardEvent[]) {
    this.bus?.carry(this, events);
  }

  status(): FanoutStatus {
    return this.bus ? "up" : "disabled";
  }

  /** Called by the bus. */
  receive(events: SwitchboardEvent[]) {
    this.handlers?.onEvents(events);
  }
}
