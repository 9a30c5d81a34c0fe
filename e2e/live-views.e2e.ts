import { ADMIN_TOKEN, expect, signIn, test, uniqueName } from "./fixtures";

test("the agents table follows heartbeats live, from idle to online, and adds a new agent", async ({ page, publishEvent }) => {
  const project = uniqueName("fleet");
  const known = uniqueName("known");
  const newcomer = uniqueName("newcomer");
  await publishEvent("agents", { type: "agent.hired", agent: known, project, payload: {} });

  await signIn(page, ADMIN_TOKEN);
  await page.goto("/agents");
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  const row = (name: string) => page.getByRole("table", { name: "Agents" }).getByRole("row").filter({ hasText: name });
  await expect(row(known)).toContainText("idle");

  await publishEvent("agents", { type: "agent.heartbeat", agent: known, project, payload: { status: "busy" } });
  await publishEvent("agents", { type: "agent.heartbeat", agent: newcomer, project, payload: { status: "idle" } });
  await expect(row(known)).toContainText("online");
  await expect(row(newcomer)).toContainText("idle");
  await expect(row(newcomer)).toContainText(project);
});

test("the overview's channel card counts a published event and shows its seq", async ({ page, publishEvent }) => {
  await signIn(page, ADMIN_TOKEN);
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  const card = page.getByRole("listitem", { name: "system channel" });
  const shownSeq = async () => Number((await card.getByTitle("last seq").innerText()).replace(/[^0-9]/g, ""));
  await expect(card.getByTitle("last seq")).toHaveText(/#\d/);

  const event = await publishEvent("system", { type: "system.e2e", payload: { note: uniqueName("ping") } });
  await expect.poll(shownSeq).toBeGreaterThanOrEqual(event.seq);
});

test("the budget page shows a warning as it is published", async ({ page, publishEvent }) => {
  const project = uniqueName("spender");
  const agent = uniqueName("buyer");
  await signIn(page, ADMIN_TOKEN);
  await page.goto("/budget");
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  await expect(page.getByRole("heading", { name: "Warnings" })).toBeVisible();

  await publishEvent("budget", { type: "budget.warning", agent, project, payload: { spent: 81, budget: 100 } });
  const warning = page.getByRole("table", { name: "Budget warnings" }).getByRole("row").filter({ hasText: agent });
  await expect(warning).toHaveCount(1);
  await expect(warning).toContainText(project);
});
