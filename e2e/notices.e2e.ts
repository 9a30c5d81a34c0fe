import { ADMIN_TOKEN, expect, signIn, test, uniqueTitle } from "./fixtures";

test("an admin publishes a notice and a viewer on another page sees it at once; the viewer cannot publish", async ({ browser, createViewerToken, baseURL }) => {
  const viewerToken = await createViewerToken();
  const admin = await browser.newContext({ baseURL });
  const viewer = await browser.newContext({ baseURL });
  try {
    const adminPage = await admin.newPage();
    const viewerPage = await viewer.newPage();
    await signIn(adminPage, ADMIN_TOKEN);
    await signIn(viewerPage, viewerToken);
    await expect(viewerPage.getByText("Signed in as viewer")).toBeVisible();
    // Viewers get no notice form.
    await expect(viewerPage.getByRole("heading", { name: "Latest notices" })).toBeVisible();
    await expect(viewerPage.getByRole("form", { name: "Publish a notice" })).toHaveCount(0);
    await viewerPage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Agents" }).click();
    await expect(viewerPage.getByRole("status", { name: "Connection status" })).toHaveText("Live");

    const title = uniqueTitle("Deploy freeze");
    const form = adminPage.getByRole("form", { name: "Publish a notice" });
    await form.getByLabel("Title").fill(title);
    await form.getByLabel("Message").fill("<b>No deploys</b> until 18:00");
    await form.getByLabel("Severity").selectOption("critical");
    await form.getByRole("button", { name: "Publish notice" }).click();
    await expect(form.getByText("Notice published.")).toBeVisible();

    const banner = viewerPage.getByRole("alert", { name: `Notice: ${title}` });
    await expect(banner).toBeVisible();
    // Text, never markup.
    await expect(banner).toContainText("<b>No deploys</b> until 18:00");
    await banner.getByRole("button", { name: `Dismiss notice ${title}` }).click();
    await expect(banner).toHaveCount(0);

    // It is in the system feed as well.
    await viewerPage.goto("/feed?channels=system");
    await expect(viewerPage.getByRole("grid", { name: "Live events" }).getByRole("row").filter({ hasText: title })).toBeVisible();

    // A forged publish with the viewer's session is refused.
    const forged = await viewerPage.request.post("/api/v1/channels/system/events", {
      data: { type: "system.notice", payload: { title: "forged", body: "", severity: "critical" } },
    });
    expect(forged.status()).toBe(403);
  } finally {
    await admin.close();
    await viewer.close();
  }
});
