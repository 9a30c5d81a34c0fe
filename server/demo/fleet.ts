import type { Logger } from "../logger";
import { FleetModel, type FleetEvent } from "./fleet-model";

export interface DemoFleetOptions {
  /** The server's own base URL: the fleet publishes through the public HTTP API like any producer. */
  baseUrl: string;
  token: string;
  /** Events per second, all channels together. */
  rate: number;
  logger: Logger;
  seed?: number;
}

const TICK_MS = 100;

/** Runs the simulated fleet until stopped. A tick whose requests are still out is skipped, not queued. */
export function startDemoFleet(options: DemoFleetOptions) {
  const model = new FleetModel(options.seed);
  let owed = 0;
  let inFlight: Promise<void> | null = null;
  let failures = 0;

  const publishTick = async (batch: FleetEvent[]) => {
    const byChannel = new Map<string, FleetEvent["event"][]>();
    for (const { channel, event } of batch) byChannel.set(channel, [...(byChannel.get(channel) ?? []), event]);
    await Promise.all(
      [...byChannel].map(async ([channel, events]) => {
        const res = await fetch(`${options.baseUrl}/api/v1/channels/${channel}/events`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${options.token}` },
          body: JSON.stringify(events),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`publish to ${channel} answered ${res.status}: ${await res.text()}`);
      }),
    );
  };

  const timer = setInterval(() => {
    // Owe at most one second of events: a slow server slows the fleet instead of queueing a burst.
    owed = Math.min(owed + (options.rate * TICK_MS) / 1000, Math.max(options.rate, 1));
    if (inFlight || owed < 1) return;
    const count = Math.min(Math.floor(owed), 1000);
    owed -= count;
    const batch = Array.from({ length: count }, () => model.next());
    inFlight = publishTick(batch)
      .then(() => {
        failures = 0;
      })
      .catch((err: unknown) => {
        // Log the first failure of a run of them, not every tick.
        if (failures++ === 0) options.logger.warn({ err }, "demo fleet could not publish; retrying");
      })
      .finally(() => {
        inFlight = null;
      });
  }, TICK_MS);
  timer.unref();
  options.logger.info({ rate: options.rate, agents: model.agentNames.length }, "demo fleet started");

  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
