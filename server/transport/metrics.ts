import client from "prom-client";
import type { Hub, HubMetrics } from "../channels/hub";
import type { ConnectionBufferStats } from "./socket-gateway";

/**
 * Prometheus metrics for /metrics: the hub's counters plus gauges read from it at scrape time, and
 * the socket connections' unsent bytes (over all connections, no label per connection).
 */
export function createMetrics(getHub: () => Hub | null, getConnectionBuffers: () => ConnectionBufferStats | null = () => null) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "switchboard_process_" });
  const channel = ["channel"] as const;
  const published = new client.Counter({ name: "switchboard_events_published_total", help: "Events committed", labelNames: channel, registers: [registry] });
  const delivered = new client.Counter({ name: "switchboard_events_delivered_total", help: "Events written to subscriber sockets", labelNames: channel, registers: [registry] });
  const dropped = new client.Counter({ name: "switchboard_events_dropped_total", help: "Events dropped from slow subscribers' backlogs (each reported as a gap)", labelNames: channel, registers: [registry] });
  const fanoutLatency = new client.Histogram({
    name: "switchboard_publish_to_fanout_seconds",
    help: "From a publish being accepted to its event reaching subscriber backlogs on this node",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const dbWrite = new client.Histogram({
    name: "switchboard_db_write_seconds",
    help: "Duration of one group-commit transaction",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const batchSize = new client.Histogram({
    name: "switchboard_db_write_batch_events",
    help: "Events per group-commit transaction",
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [registry],
  });
  new client.Gauge({
    name: "switchboard_connections",
    help: "Open subscriber connections",
    registers: [registry],
    collect() {
      this.set(getHub()?.stats().connections ?? 0);
    },
  });
  new client.Gauge({
    name: "switchboard_subscriptions",
    help: "Open subscriptions",
    registers: [registry],
    collect() {
      this.set(getHub()?.stats().subscriptions ?? 0);
    },
  });
  new client.Gauge({
    name: "switchboard_backlog_events",
    help: "Events queued in subscriber backlogs, waiting for slow sockets",
    registers: [registry],
    collect() {
      this.set(getHub()?.stats().queuedEvents ?? 0);
    },
  });
  new client.Gauge({
    name: "switchboard_pending_writes",
    help: "Accepted events waiting for a group-commit transaction",
    registers: [registry],
    collect() {
      this.set(getHub()?.stats().pendingWrites ?? 0);
    },
  });
  // One read of every connection per scrape, shared by the three gauges below.
  let buffers: { at: number; stats: ConnectionBufferStats | null } = { at: -1, stats: null };
  const bufferStats = () => {
    const now = performance.now();
    if (now - buffers.at > 50) buffers = { at: now, stats: getConnectionBuffers() };
    return buffers.stats;
  };
  new client.Gauge({
    name: "switchboard_connection_unsent_bytes",
    help: "Bytes written to socket connections that their clients have not taken yet (engine buffer + transport + TCP), all connections together",
    registers: [registry],
    collect() {
      this.set(bufferStats()?.unsentBytes ?? 0);
    },
  });
  new client.Gauge({
    name: "switchboard_connection_unsent_bytes_max",
    help: "Unsent bytes of the socket connection that holds the most",
    registers: [registry],
    collect() {
      this.set(bufferStats()?.maxUnsentBytes ?? 0);
    },
  });
  new client.Gauge({
    name: "switchboard_connections_read_paused",
    help: "Socket connections over their soft buffer limit, whose requests are not being read until they drain",
    registers: [registry],
    collect() {
      this.set(bufferStats()?.readPaused ?? 0);
    },
  });
  const hubMetrics: HubMetrics = {
    published: (c, n) => published.inc({ channel: c }, n),
    delivered: (c, n) => delivered.inc({ channel: c }, n),
    dropped: (c, n) => dropped.inc({ channel: c }, n),
    publishToFanoutSeconds: (s) => fanoutLatency.observe(s),
    dbWrite: (events, seconds) => {
      dbWrite.observe(seconds);
      batchSize.observe(events);
    },
  };
  return { registry, hubMetrics };
}
