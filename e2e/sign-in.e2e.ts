import { ADMIN_TOKEN, expect, test } from "./fixtures";

test("a wrong token is refused with a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("API token").fill("sb_admin_this-token-does-not-exist");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.getByLabel("API token")).toHaveAccessibleDescription("That token is not valid.");
  await expect(page.getByText("That token is not valid.")).toBeVisible();
  await expect(page).toHaveURL("/login");
});

test("the login link the server prints signs in by itself and goes where the visitor was headed", async ({ page }) => {
  await page.goto(`/login?next=${encodeURIComponent("/?project=e2e")}#token=${ADMIN_TOKEN}`);

  await expect(page).toHaveURL("/?project=e2e");
  await expect(page.getByLabel("Project")).toHaveValue("e2e");
  await expect(page.getByText("Signed in as admin")).toBeVisible();
});

test("a next parameter pointing at another site is ignored", async ({ page }) => {
  await page.goto(`/login?next=${encodeURIComponent("//evil.example/steal")}`);
  await page.getByLabel("API token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page).toHaveURL("/");
});
