// node --import tsx e2e/support/take-screenshots.ts – one screenshot of each main view into
// docs/screenshots/, from a production server with the demo fleet that has published ~30 s of events.
// Needs a production build (npx next build) and Chromium at /usr/bin/chromium.
import { chromium } from "@playwright/test";
import { waitFor } from "../../server/tests/support/services";
import { CHROMIUM_ARGS, startOwnServer, type OwnServer } from "./own-server";

const OUT = process.env.SCREENSHOT_DIR ?? "docs/screenshots";
/** What ~30 s of the demo fleet at 20 events/s published. */
const WARM_EVENTS = 600;

/** Events committed on every channel so far (the sum of the channels' last seqs). */
async function eventsPublished(url: string, token: string) {
  const res = await fetch(`${url}/api/v1/channels`, { headers: { Authorization: `Bearer ${token}` } });
  const { channels } = (await res.json()) as { channels: { lastSeq: number }[] };
  return channels.reduce((sum, c) => sum + c.lastSeq, 0);
}
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
let server: OwnServer | undefined;
try {
  server = await startOwnServer({ port: 3120, pgPort: 54344, env: { DEMO: "1", DEMO_RATE: "20" } });
  const { url, adminToken } = server;
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url, colorScheme: (process.env.COLOR_SCHEME as "dark" | "light") ?? "light" });
  const page = await context.newPage();
  await page.goto("/login");
  await page.screenshot({ path: `${OUT}/login.png` });
  // The demo fleet warms up until every view has something to show: about 30 s of events at 20/s.
  console.log(`demo fleet warming up to ${WARM_EVENTS} events…`);
  await waitFor(async () => (await eventsPublished(url, adminToken)) >= WARM_EVENTS, `${WARM_EVENTS} demo events`, 120_000, 500);
  await page.getByLabel("API token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/`);

  const shot = async (path: string, name: string, prepare?: () => Promise<void>) => {
    await page.goto(path);
    await page.getByRole("status", { name: "Connection status" }).filter({ hasText: "Live" }).waitFor();
    await prepare?.();
    await page.waitForTimeout(2_000);
    await page.screenshot({ path: `${OUT}/${name}.png` });
    console.log(`${OUT}/${name}.png`);
  };
  await shot("/", "overview");
  await shot("/feed", "feed", async () => {
    await page.waitForTimeout(1_000);
    await page.getByRole("grid", { name: "Live events" }).getByRole("row").nth(3).click();
  });
  await shot("/replay", "replay", async () => {
    await page.getByRole("button", { name: "Load replay" }).click();
    await page.getByRole("status", { name: "Replay status" }).filter({ hasText: "History loaded" }).waitFor();
  });
  await shot("/agents", "agents");
  const agent = await page.getByRole("table", { name: "Agents" }).getByRole("link").first().textContent();
  await shot(`/agents/${agent}`, "agent-timeline");
  await shot("/tasks", "tasks");
  await shot("/budget", "budget");
  await shot("/messages", "messages", async () => {
    await page.getByRole("navigation", { name: "Conversations" }).getByRole("link").first().click();
    await page.getByRole("list", { name: "Messages" }).waitFor();
  });
  await shot("/feed?channels=system", "notice-banner", async () => {
    await page.request.post("/api/v1/channels/system/events", {
      headers: { Authorization: `Bearer ${adminToken}` },
      data: { type: "system.notice", payload: { title: "Deploy freeze from 18:00", body: "Agents keep working; no new releases until tomorrow.", severity: "warning" } },
    });
    await page.getByRole("alert", { name: "Notice: Deploy freeze from 18:00" }).waitFor();
  });
} finally {
  await browser.close();
  await server?.stop();
}
