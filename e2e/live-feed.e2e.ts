import { ADMIN_TOKEN, eventRow, expect, signIn, test, uniqueName, uniqueTitle } from "./fixtures";

test("an operator watches events arrive in the live feed and narrows it to one agent, then one project", async ({ page, publishEvent }) => {
  const project = uniqueName("proj");
  const otherProject = uniqueName("other");
  const alpha = uniqueName("alpha");
  const beta = uniqueName("beta");
  await signIn(page, ADMIN_TOKEN);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Live feed" }).click();
  await expect(page).toHaveURL("/feed");
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");

  const alphaTitle = uniqueTitle("Alpha ships the parser");
  const betaTitle = uniqueTitle("Beta reviews the parser");
  const otherTitle = uniqueTitle("Alpha elsewhere");
  await publishEvent("tasks", { type: "task.created", agent: alpha, project, payload: { title: alphaTitle } });
  await expect(eventRow(page, alphaTitle)).toBeVisible();
  await expect(eventRow(page, alphaTitle)).toContainText(alpha);

  await publishEvent("messages", { type: "message.sent", agent: beta, project, payload: { from: beta, to: alpha, text: betaTitle } });
  await publishEvent("tasks", { type: "task.created", agent: alpha, project: otherProject, payload: { title: otherTitle } });
  await expect(eventRow(page, betaTitle)).toBeVisible();

  // The payload opens as text in the detail panel.
  await eventRow(page, alphaTitle).click();
  await expect(page.getByRole("complementary", { name: "Event details" }).getByLabel("Payload JSON")).toContainText(`"title": "${alphaTitle}"`);

  await page.getByRole("combobox", { name: "Agent" }).fill(alpha);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(`/feed?agent=${alpha}`);
  await expect(eventRow(page, alphaTitle)).toBeVisible();
  await expect(eventRow(page, otherTitle)).toBeVisible();
  await expect(eventRow(page, betaTitle)).toHaveCount(0);

  await page.getByRole("combobox", { name: "Agent" }).fill("");
  await page.getByRole("combobox", { name: "Project" }).fill(project);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(`/feed?project=${project}`);
  await expect(eventRow(page, alphaTitle)).toBeVisible();
  await expect(eventRow(page, betaTitle)).toBeVisible();
  await expect(eventRow(page, otherTitle)).toHaveCount(0);

  await page.reload();
  await expect(page.getByRole("combobox", { name: "Project" })).toHaveValue(project);
  await expect(eventRow(page, betaTitle)).toBeVisible();
  await expect(eventRow(page, otherTitle)).toHaveCount(0);

  // Channels and type prefixes: only the tasks channel's task.* events.
  await page.getByRole("group", { name: "Channels" }).getByLabel("messages").uncheck();
  await expect(page).toHaveURL(`/feed?project=${project}&channels=tasks,agents,budget,system`);
  await expect(eventRow(page, betaTitle)).toHaveCount(0);
  await expect(eventRow(page, alphaTitle)).toBeVisible();
});

test("pausing holds the rows still and counts what arrives meanwhile", async ({ page, publishEvent }) => {
  const agent = uniqueName("pauser");
  await signIn(page, ADMIN_TOKEN);
  await page.goto(`/feed?agent=${agent}`);
  await expect(page.getByRole("status", { name: "Connection status" })).toHaveText("Live");
  const first = uniqueTitle("Before the pause");
  await publishEvent("tasks", { type: "task.created", agent, project: "e2e", payload: { title: first } });
  await expect(eventRow(page, first)).toBeVisible();

  await page.getByRole("button", { name: "Pause" }).click();
  const during = uniqueTitle("During the pause");
  await publishEvent("tasks", { type: "task.created", agent, project: "e2e", payload: { title: during } });
  await publishEvent("tasks", { type: "task.created", agent, project: "e2e", payload: { title: `${during} again` } });
  await expect(page.getByText("2 new events")).toBeVisible();
  await expect(eventRow(page, during)).toHaveCount(0);

  await page.getByRole("button", { name: "Resume" }).click();
  await expect(eventRow(page, during)).toHaveCount(2);
});

test("a visitor without a session is sent to the login page", async ({ page }) => {
  await page.goto("/feed");

  await expect(page).toHaveURL("/login?next=%2Ffeed");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});
