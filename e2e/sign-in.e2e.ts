import { ADMIN_TOKEN, expect, signIn, test } from "./fixtures";

test("a wrong token is refused with a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("API token").fill("sb_admin_this-token-does-not-exist");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.getByLabel("API token")).toHaveAccessibleDescription("That token is not valid.");
  await expect(page.getByText("That token is not valid.")).toBeVisible();
  await expect(page).toHaveURL("/login");
});

test("an operator signs in to the overview and signs out again", async ({ page }) => {
  await signIn(page, ADMIN_TOKEN);

  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  await expect(page.getByText("Signed in as admin")).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL("/login");
  await page.goto("/agents");
  await expect(page).toHaveURL("/login?next=%2Fagents");
});

test("the login link the server prints signs in by itself and goes where the visitor was headed", async ({ page }) => {
  await page.goto(`/login?next=${encodeURIComponent("/feed?project=e2e")}#token=${ADMIN_TOKEN}`);

  await expect(page).toHaveURL("/feed?project=e2e");
  await expect(page.getByRole("combobox", { name: "Project" })).toHaveValue("e2e");
  await expect(page.getByText("Signed in as admin")).toBeVisible();
});

test("a next parameter pointing at another site is ignored", async ({ page }) => {
  await page.goto(`/login?next=${encodeURIComponent("//evil.example/steal")}`);
  await page.getByLabel("API token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page).toHaveURL("/");
});
