import type { SwitchboardEvent } from "../lib/protocol";
import { expect, test, uniqueName } from "./fixtures";
import { ownServer } from "./support/own-server";



/** Publishes an event every 40 ms until stopped; refused or failed publishes (server down) are not retried. */
function steadyPublisher(BASE: string, ADMIN_TOKEN: string, agent: string) {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      n++;
      await fetch(`${BASE}/api/v1/channels/tasks/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ type: "task.created", agent, project: "e2e-restart", payload: { title: `Event ${n}` } }),
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

test("the feed catches up with nothing missing after the server is killed and restarted mid-stream", async ({ page }, testInfo) => {
  testInfo.setTimeout(120_000);
  const server = ownServer({ port: 3102, pgPort: 54343 });
  const BASE = server.url;
  const ADMIN_TOKEN = server.adminToken;
  try {
    await server.start();
    const agent = uniqueName("restart");
    // This server is not the project's baseURL: sign in by hand.
    await page.goto(`${BASE}/login`);
    await page.getByLabel("API token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${BASE}/`);
    await page.goto(`${BASE}/feed?agent=${agent}`);
    const status = page.getByRole("status", { name: "Connection status" });
    await expect(status).toHaveText("Live");

    const publisher = steadyPublisher(BASE, ADMIN_TOKEN, agent);
    await page.waitForTimeout(1_500);
    await server.kill("SIGKILL");
    await expect(status).toHaveText(/Reconnecting|Offline/);
    await page.waitForTimeout(1_000);
    await server.start();
    await page.waitForTimeout(1_500);
    await publisher.stop();
    await expect(status).toHaveText("Live", { timeout: 20_000 });

    const response = await fetch(`${BASE}/api/v1/channels/tasks/events?after=0&limit=1000&agent=${agent}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { events } = (await response.json()) as { events: SwitchboardEvent[] };
    expect(events.length).toBeGreaterThan(20);
    const grid = page.getByRole("grid", { name: "Live events" });
    // Every committed event once: as many rows as the history holds, the newest on top.
    await expect(grid).toHaveAttribute("aria-rowcount", String(events.length + 1), { timeout: 15_000 });
    const newest = events.at(-1)!;
    await expect(grid.getByRole("row").nth(1)).toContainText(String(newest.payload.title));
  } finally {
    await server.stop();
  }
});
