import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../lib/protocol";
import { api, connect, connected, startServerProcess, waitFor } from "./support/server-process";

describe("graceful shutdown", () => {
  it("SIGTERM while producers publish: every acknowledged event is stored, and subscribers are told to resume", async () => {
    const server = await startServerProcess({ database: "embedded" });
    try {
      const subscriber = connect(server, server.adminToken);
      await connected(subscriber);
      const closing: string[] = [];
      subscriber.on("closing", (notice) => closing.push(notice.code));
      subscriber.on("disconnect", (reason) => closing.push(`disconnect:${reason}`));
      await subscriber.emitWithAck("subscribe", { channel: "tasks" });

      const acknowledged = new Set<string>();
      let serverGone = false;
      const producers = Array.from({ length: 4 }, async (_, p) => {
        for (let i = 0; !serverGone && i < 10_000; i++) {
          try {
            const res = await fetch(`${server.url}/api/v1/channels/tasks/events`, {
              method: "POST",
              headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": "application/json" },
              body: JSON.stringify(Array.from({ length: 20 }, (_, k) => ({ type: "task.created", payload: { p, i, k } }))),
            });
            if (res.status === 201) for (const e of ((await res.json()) as { events: SwitchboardEvent[] }).events) acknowledged.add(e.id);
          } catch {
            serverGone = true;
          }
        }
      });
      // SIGTERM mid-stream: once the producers have had 20 batches acknowledged, while they go on.
      await waitFor(() => acknowledged.size >= 400, "400 acknowledged events before the stop", 30_000, 5);
      const acknowledgedBeforeStop = acknowledged.size;
      expect(await server.terminate()).toBe(0);
      serverGone = true;
      await Promise.all(producers);
      expect(acknowledgedBeforeStop).toBeGreaterThan(0);
      expect(closing).toEqual(["shutdown", "disconnect:io server disconnect"]);
      expect(server.output()).not.toContain("shutdown step failed");

      await server.restart();
      const stored = new Set<string>();
      for (let after = 0; ; ) {
        const page = await api(server, "GET", `/api/v1/channels/tasks/events?after=${after}&limit=1000`, { token: server.adminToken });
        const events = page.body.events as SwitchboardEvent[];
        for (const e of events) stored.add(e.id);
        if (!page.body.hasMore) break;
        after = page.body.nextAfter as number;
      }
      const lost = [...acknowledged].filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
