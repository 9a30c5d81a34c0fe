import type { SwitchboardEvent } from "../lib/protocol";
import { waitFor } from "../server/tests/support/services";
import { expect, test, uniqueName } from "./fixtures";
import { startOwnServer } from "./support/own-server";

/**
 * Publishes one event after another until stopped, each once the previous one is answered; a refused
 * or failed publish (server down) is not retried, and the next waits until the server answers again.
 */
function steadyPublisher(BASE: string, ADMIN_TOKEN: string, agent: string) {
  let running = true;
  let n = 0;
  const counts = { acknowledged: 0, failed: 0 };
  const serverAnswers = () => fetch(`${BASE}/api/v1/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
  const loop = (async () => {
    while (running) {
      n++;
      const ok = await fetch(`${BASE}/api/v1/channels/tasks/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ type: "task.created", agent, project: "e2e-restart", payload: { title: `Event ${n}` } }),
        signal: AbortSignal.timeout(2_000),
      }).then((r) => r.status === 201, () => false);
      if (ok) counts.acknowledged++;
      else {
        counts.failed++;
        await waitFor(async () => !running || (await serverAnswers()), "the server to answer again", 110_000);
      }
    }
  })();
  return {
    counts,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

test("the feed catches up with nothing missing after the server is killed and restarted mid-stream", async ({ page }, testInfo) => {
  testInfo.setTimeout(120_000);
  const server = await startOwnServer({ port: 3102, pgPort: 54343 });
  const BASE = server.url;
  const ADMIN_TOKEN = server.adminToken;
  try {
    const agent = uniqueName("restart");
    // This server is not the project's baseURL: sign in by hand.
    await page.goto(`${BASE}/login`);
    await page.getByLabel("API token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${BASE}/`);
    await page.goto(`${BASE}/feed?agent=${agent}`);
    const status = page.getByRole("status", { name: "Connection status" });
    await expect(status).toHaveText("Live");
    const grid = page.getByRole("grid", { name: "Live events" });

    const publisher = steadyPublisher(BASE, ADMIN_TOKEN, agent);
    // Mid-stream: the feed shows live events and the producer is at it when the server is killed.
    await expect.poll(() => publisher.counts.acknowledged, { timeout: 20_000 }).toBeGreaterThanOrEqual(15);
    await expect(grid.getByRole("row").nth(1)).toBeVisible();
    await server.kill();
    await expect(status).toHaveText(/Reconnecting|Offline/);
    // The producer's stream was cut: a publish failed while the server was down.
    await expect.poll(() => publisher.counts.failed, { timeout: 20_000 }).toBeGreaterThan(0);
    await server.restart();
    const atRestart = publisher.counts.acknowledged;
    await expect.poll(() => publisher.counts.acknowledged, { timeout: 20_000 }).toBeGreaterThanOrEqual(atRestart + 15);
    await publisher.stop();
    await expect(status).toHaveText("Live", { timeout: 20_000 });

    const response = await fetch(`${BASE}/api/v1/channels/tasks/events?after=0&limit=1000&agent=${agent}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { events } = (await response.json()) as { events: SwitchboardEvent[] };
    expect(events.length).toBeGreaterThan(20);
    // Every committed event once: as many rows as the history holds, the newest on top.
    await expect(grid).toHaveAttribute("aria-rowcount", String(events.length + 1), { timeout: 15_000 });
    const newest = events.at(-1)!;
    await expect(grid.getByRole("row").nth(1)).toContainText(String(newest.payload.title));
  } finally {
    await server.stop();
  }
});
