import { ADMIN_TOKEN, expect, test, uniqueTitle } from "./fixtures";

test("an operator signs in, watches events arrive and narrows the feed to one agent", async ({ page, publishEvent }) => {
  await page.goto("/login");
  await page.getByLabel("API token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page).toHaveURL("/");
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  await expect(page.getByText("Signed in as admin")).toBeVisible();

  const feed = page.getByRole("table", { name: "Live events" });
  const alphaTitle = uniqueTitle("Alpha ships the parser");
  const betaTitle = uniqueTitle("Beta reviews the parser");
  const rowWith = (title: string) => feed.getByRole("row").filter({ hasText: title });

  await publishEvent("tasks", { type: "task.created", agent: "e2e-alpha", project: "e2e", payload: { title: alphaTitle } });
  await expect(rowWith(alphaTitle)).toBeVisible();
  await expect(rowWith(alphaTitle)).toContainText("e2e-alpha");

  await publishEvent("tasks", { type: "task.created", agent: "e2e-beta", project: "e2e", payload: { title: betaTitle } });
  await expect(rowWith(betaTitle)).toBeVisible();

  await page.getByLabel("Agent").fill("e2e-alpha");
  await page.getByRole("button", { name: "Apply" }).click();

  await expect(page).toHaveURL("/?agent=e2e-alpha");
  await expect(rowWith(alphaTitle)).toBeVisible();
  await expect(rowWith(betaTitle)).toHaveCount(0);

  await page.reload();

  await expect(page.getByLabel("Agent")).toHaveValue("e2e-alpha");
  await expect(rowWith(alphaTitle)).toBeVisible();
  await expect(rowWith(betaTitle)).toHaveCount(0);
});

test("a visitor without a session is sent to the login page", async ({ page }) => {
  await page.goto("/");

  await expect(page).toHaveURL("/login?next=%2F");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});
