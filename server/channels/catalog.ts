import { CHANNEL_NAMES, type ChannelName, type Role } from "../../lib/protocol";
import { SwitchboardError } from "./errors";

/**
 * What happens when a subscriber falls behind by more than its backlog:
 * - `drop-oldest`: the oldest queued events are dropped and the subscriber gets one `gap` notice for
 *   the dropped seq range, so it can refill from history;
 * - `disconnect`: the subscriber's connection is closed with reason `slow_consumer`.
 */
export type BackpressurePolicy = "drop-oldest" | "disconnect";

export interface ChannelSettings {
  name: ChannelName;
  /** Roles allowed to publish. Viewers never publish. */
  publishers: readonly Role[];
  /** Newest events kept per channel; older ones are pruned in the background. */
  retention: number;
  /** Events queued per subscription before the backpressure policy applies. */
  maxBacklog: number;
  backpressure: BackpressurePolicy;
}

export interface CatalogDefaults {
  retention: number;
  maxBacklog: number;
  backpressure: BackpressurePolicy;
}

export type ChannelCatalog = ReadonlyMap<ChannelName, ChannelSettings>;

/** The five known channels, declared up front. */
export function createCatalog(defaults: CatalogDefaults): ChannelCatalog {
  const producers: readonly Role[] = ["admin", "publisher"];
  return new Map(
    CHANNEL_NAMES.map((name) => [
      name,
      { name, publishers: name === "system" ? (["admin"] as const) : producers, ...defaults },
    ]),
  );
}

export function getChannelOrThrow(catalog: ChannelCatalog, name: string): ChannelSettings {
  const settings = catalog.get(name as ChannelName);
  if (!settings) {
    throw new SwitchboardError(
      "unknown_channel",
      `Unknown channel "${name}". Known channels: ${[...catalog.keys()].join(", ")}.`,
    );
  }
  return settings;
}
