import type { SwitchboardEvent } from "../../../lib/protocol";
import type { FanoutBackend } from "../fanout";

/** Single node: there are no other nodes to carry events to (the hub delivers its own). */
export class MemoryFanout implements FanoutBackend {
  async start(_onEvents: (events: SwitchboardEvent[]) => void) {}

  async stop() {}

  async publish(_events: SwitchboardEvent[]) {}

  status(): ReturnType<FanoutBackend["status"]> {
    return "disabled";
  }
}
