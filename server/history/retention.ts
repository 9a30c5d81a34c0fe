import type { ChannelCatalog } from "../channels/catalog";
import type { HubLogger } from "../channels/hub";
import type { HistoryStore } from "../channels/history-store";

/** Prunes every channel to its retention now and then, in the background. Returns a stopper. */
export function startRetention(store: HistoryStore, catalog: ChannelCatalog, intervalMs: number, logger: HubLogger) {
  let running: Promise<void> | null = null;
  const pruneAll = async () => {
    for (const settings of catalog.values()) {
      const removed = await store.prune(settings.name, settings.retention);
      if (removed > 0) logger.info({ channel: settings.name, removed }, "pruned old events");
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = pruneAll()
      .catch((err: unknown) => logger.warn({ err }, "retention pass failed; will retry"))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
